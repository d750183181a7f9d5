"""JSON Schemas of a compiled graph's input, output and context (recorded from LangGraph)."""

import operator
from dataclasses import dataclass, field
from typing import Annotated, Optional, TypedDict, Union

from pydantic import BaseModel

from stategraph.graph import START, StateGraph


class S(TypedDict):
    items: Annotated[list, operator.add]
    plain: str
    n: Optional[int]


class Ctx(TypedDict):
    user: str


STATE_SCHEMA = {
    "properties": {
        "items": {"items": {}, "title": "Items", "type": "array"},
        "plain": {"title": "Plain", "type": "string"},
        "n": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "N"},
    },
    "required": ["items", "plain", "n"],
    "title": "S",
    "type": "object",
}


def compiled(schema: type, **kwargs: type) -> StateGraph:
    return StateGraph(schema, **kwargs).add_node("a", lambda state: {}).add_edge(START, "a").compile()


def test_a_typeddict_state_gives_its_own_schema() -> None:
    graph = compiled(S, context_schema=Ctx)
    assert graph.get_input_jsonschema() == STATE_SCHEMA
    assert graph.get_output_jsonschema() == STATE_SCHEMA
    assert graph.get_context_jsonschema() == {
        "properties": {"user": {"title": "User", "type": "string"}},
        "required": ["user"],
        "title": "Ctx",
        "type": "object",
    }
    assert compiled(S).get_context_jsonschema() is None


def test_a_pydantic_state_gives_the_models_schema() -> None:
    class P(BaseModel):
        x: int = 1

    assert compiled(P).get_input_jsonschema() == {
        "properties": {"x": {"default": 1, "title": "X", "type": "integer"}},
        "title": "P",
        "type": "object",
    }


def test_a_dataclass_state_gives_a_model_named_after_the_graph() -> None:
    @dataclass
    class D:
        a: int
        b: list = field(default_factory=list)

    schema = compiled(D).get_input_jsonschema()
    assert schema["title"] == "LangGraphInput"
    assert schema["required"] == ["a"]
    assert schema["properties"]["b"] == {"default": [], "items": {}, "title": "B", "type": "array"}


def test_a_dataclass_field_that_may_be_none_is_not_required() -> None:
    @dataclass
    class D:
        a: int
        b: Optional[int]
        c: Annotated[Union[str, None], "note"]
        d: str = field(default=...)  # an Ellipsis default stays required, as pydantic's

    schema = compiled(D).get_input_jsonschema()
    assert sorted(schema["required"]) == ["a", "d"]
    assert set(schema["properties"]) == {"a", "b", "c", "d"}


def test_a_root_state_gives_a_root_model_of_its_value_without_the_reducer() -> None:
    builder = StateGraph(Annotated[list[int], operator.add])  # type: ignore[arg-type]
    builder.add_node("a", lambda values: [1]).add_edge(START, "a")
    graph = builder.compile()
    for schema, title in ((graph.get_input_jsonschema(), "LangGraphInput"), (graph.get_output_jsonschema(), "LangGraphOutput")):
        assert schema == {"default": None, "items": {"type": "integer"}, "title": title, "type": "array"}
