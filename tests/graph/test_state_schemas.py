"""State schemas and how they become channels (api_spec.md §2.1, §3, §18.2–4, 14–16).

TypedDict, dataclass, pydantic and ``__root__`` states; reducers, ``Overwrite``; input, output
and node input ("private") schemas; managed values; what a node's return value writes.
"""


import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Optional, TypedDict

import pydantic
import pytest

from stategraph.channels import EphemeralValue, Topic
from stategraph.constants import START
from stategraph.errors import InvalidUpdateError
from stategraph.graph import StateGraph
from stategraph.managed import IsLastStep, RemainingSteps
from stategraph.types import Command, Overwrite

CONCURRENT_UPDATE = (
    "At key 'k': Can receive only one value per step. Use an Annotated key to handle "
    "multiple values."
)


class State(TypedDict):
    x: Annotated[list, operator.add]


def fan_out(builder: StateGraph, *names: str) -> StateGraph:
    for name in names:
        builder.add_edge(START, name)
    return builder


# ---------------------------------------------------------------------------- TypedDict


def test_plain_keys_are_absent_until_written_and_reducer_keys_start_empty() -> None:
    class S(TypedDict):
        items: Annotated[list, operator.add]
        count: Annotated[int, operator.add]
        name: str

    seen: list[dict[str, Any]] = []

    def look(state: S) -> dict[str, Any]:
        seen.append(dict(state))
        return {"count": 1}

    graph = StateGraph(S).add_node("look", look).add_edge(START, "look").compile()
    assert graph.invoke({}) == {"items": [], "count": 1}
    assert seen == [{"items": [], "count": 0}]


def test_unknown_keys_in_input_and_node_returns_are_dropped() -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: {"x": ["a"], "stranger": 1})
        .add_edge(START, "a")
        .compile()
    )
    assert graph.invoke({"x": [], "also_unknown": 2}) == {"x": ["a"]}


def test_empty_input_dict_is_valid() -> None:
    graph = StateGraph(State).add_node("a", lambda s: {"x": ["a"]}).add_edge(START, "a").compile()
    assert graph.invoke({}) == {"x": ["a"]}


def test_node_returning_none_writes_nothing() -> None:
    graph = StateGraph(State).add_node("a", lambda s: None).add_edge(START, "a").compile()
    assert graph.invoke({"x": ["in"]}) == {"x": ["in"]}


def test_node_returning_a_non_dict_is_an_invalid_update() -> None:
    graph = StateGraph(State).add_node("a", lambda s: "oops").add_edge(START, "a").compile()
    with pytest.raises(InvalidUpdateError, match="Expected dict, got oops") as caught:
        graph.invoke({"x": []})
    assert "INVALID_GRAPH_NODE_RETURN_VALUE" in str(caught.value)


# ---------------------------------------------------------------------------- reducer initial values


def test_abstract_and_optional_reducer_types() -> None:
    from collections.abc import Sequence

    class S(TypedDict):
        seq: Annotated[Sequence, operator.add]
        maybe: Annotated[Optional[list], operator.add]

    graph = StateGraph(S).add_node("a", lambda s: {"seq": ["a"]}).add_edge(START, "a").compile()
    assert graph.invoke({}) == {"seq": ["a"]}
    assert graph.invoke({"maybe": ["first"]}) == {"seq": ["a"], "maybe": ["first"]}


def test_required_markers_inside_annotated_do_not_hide_the_value_type() -> None:
    from typing_extensions import NotRequired, Required

    from stategraph.channels import DeltaChannel

    def extend(current: list, batches: list) -> list:
        return current + [item for batch in batches for item in batch]

    class S(TypedDict):
        log: Annotated[NotRequired[list], DeltaChannel(extend)]
        tags: Annotated[Required[list], operator.add]

    graph = (
        StateGraph(S)
        .add_node("a", lambda s: {"log": ["a"], "tags": ["t"]})
        .add_edge(START, "a")
        .compile()
    )
    assert graph.channels["log"].ValueType is list
    assert graph.channels["tags"].ValueType is list
    # Both start from an empty list: the reducers never see None.
    assert graph.invoke({}) == {"log": ["a"], "tags": ["t"]}


def test_custom_reducer_folds_writes() -> None:
    def keep_max(left: int, right: int) -> int:
        return max(left, right)

    class S(TypedDict):
        best: Annotated[int, keep_max]

    graph = fan_out(
        StateGraph(S).add_node("a", lambda s: {"best": 3}).add_node("b", lambda s: {"best": 9}),
        "a",
        "b",
    ).compile()
    assert graph.invoke({"best": 5}) == {"best": 9}


def test_reducer_with_the_wrong_arity_fails_at_construction() -> None:
    def one(a: list) -> list:
        return a

    class S(TypedDict):
        x: Annotated[list, one]

    with pytest.raises(ValueError, match=r"Invalid reducer signature\. Expected \(a, b\) -> c\. Got \(a"):
        StateGraph(S)


def test_annotated_channel_instance_is_used_as_is() -> None:
    class S(TypedDict):
        log: Annotated[list, Topic(str, accumulate=True)]

    graph = fan_out(
        StateGraph(S).add_node("a", lambda s: {"log": "a"}).add_node("b", lambda s: {"log": ["b1", "b2"]}),
        "a",
        "b",
    ).compile()
    assert graph.invoke({"log": "in"}) == {"log": ["in", "a", "b1", "b2"]}


def test_annotated_channel_class_is_instantiated_with_the_type() -> None:
    class S(TypedDict):
        x: Annotated[list, operator.add]
        flash: Annotated[str, EphemeralValue]

    def b(state: S) -> dict[str, Any]:
        return {"x": [state.get("flash", "cleared")]}

    graph = (
        StateGraph(S)
        .add_node("a", lambda s: {"flash": "hot"})
        .add_node("b", b)
        .add_node("c", b)
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", "c")
        .compile()
    )
    assert graph.invoke({"x": []})["x"] == ["hot", "cleared"]


# ---------------------------------------------------------------------------- Overwrite


@pytest.mark.parametrize(
    "overwrite",
    [
        pytest.param(Overwrite(["z"]), id="Overwrite"),
        pytest.param({"__overwrite__": ["z"]}, id="dict"),
    ],
)
def test_overwrite_from_a_node_bypasses_the_reducer(overwrite: Any) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: {"x": overwrite})
        .add_edge(START, "a")
        .compile()
    )
    assert graph.invoke({"x": ["old"]}) == {"x": ["z"]}


def test_two_nodes_overwriting_one_key_in_a_step_is_an_error() -> None:
    graph = fan_out(
        StateGraph(State)
        .add_node("a", lambda s: {"x": Overwrite(["a"])})
        .add_node("b", lambda s: {"x": Overwrite(["b"])}),
        "a",
        "b",
    ).compile()
    with pytest.raises(InvalidUpdateError, match="Can receive only one Overwrite value per super-step."):
        graph.invoke({"x": []})


# ---------------------------------------------------------------------------- concurrent LastValue writes


class Plain(TypedDict):
    k: str


def test_two_nodes_writing_a_plain_key_in_one_step_is_an_invalid_update() -> None:
    graph = fan_out(
        StateGraph(Plain).add_node("alpha", lambda s: {"k": "a"}).add_node("beta", lambda s: {"k": "b"}),
        "alpha",
        "beta",
    ).compile()
    with pytest.raises(InvalidUpdateError) as caught:
        graph.invoke({"k": "start"})
    message = str(caught.value)
    assert message.startswith(CONCURRENT_UPDATE)
    assert "INVALID_CONCURRENT_GRAPH_UPDATE" in message


def test_concurrent_write_error_names_the_writers_and_the_fix() -> None:
    graph = fan_out(
        StateGraph(Plain).add_node("alpha", lambda s: {"k": "a"}).add_node("beta", lambda s: {"k": "b"}),
        "alpha",
        "beta",
    ).compile()
    with pytest.raises(InvalidUpdateError) as caught:
        graph.invoke({"k": "start"})
    message = str(caught.value)
    assert message.startswith(CONCURRENT_UPDATE)
    assert "alpha" in message and "beta" in message
    assert "Annotated[" in message or "reducer" in message


def test_one_node_writing_a_plain_key_twice_is_an_invalid_update() -> None:
    graph = (
        StateGraph(Plain)
        .add_node("a", lambda s: [Command(update={"k": "1"}), Command(update={"k": "2"})])
        .add_edge(START, "a")
        .compile()
    )
    with pytest.raises(InvalidUpdateError) as caught:
        graph.invoke({"k": "start"})
    assert str(caught.value).startswith(CONCURRENT_UPDATE)


def test_writes_of_one_key_in_different_steps_are_fine() -> None:
    graph = (
        StateGraph(Plain)
        .add_node("a", lambda s: {"k": s["k"] + "a"})
        .add_node("b", lambda s: {"k": s["k"] + "b"})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    assert graph.invoke({"k": "-"}) == {"k": "-ab"}


# ---------------------------------------------------------------------------- dataclass state


@dataclass
class DCState:
    x: Annotated[list, operator.add] = field(default_factory=list)
    label: str = "none"


def test_dataclass_state_reaches_nodes_as_an_instance() -> None:
    seen: list[Any] = []

    def node(state: DCState) -> dict[str, Any]:
        seen.append(state)
        return {"x": ["n"], "label": "set"}

    graph = StateGraph(DCState).add_node("n", node).add_edge(START, "n").compile()
    result = graph.invoke({"x": ["in"]})
    assert isinstance(seen[0], DCState)
    assert seen[0].x == ["in"]
    assert result == {"x": ["in", "n"], "label": "set"}


def test_dataclass_state_v2_output_is_an_instance() -> None:
    graph = StateGraph(DCState).add_node("n", lambda s: {"label": "set"}).add_edge(START, "n").compile()
    result = graph.invoke({"x": ["in"]}, version="v2")
    assert result.value == DCState(x=["in"], label="set")


def test_returning_a_dataclass_instance_writes_every_field() -> None:
    graph = (
        StateGraph(DCState)
        .add_node("n", lambda s: DCState(x=["n"], label="from-instance"))
        .add_edge(START, "n")
        .compile()
    )
    assert graph.invoke({"x": ["in"]}) == {"x": ["in", "n"], "label": "from-instance"}


# ---------------------------------------------------------------------------- pydantic state


class PState(pydantic.BaseModel):
    items: Annotated[list, operator.add] = []
    count: int = 0
    note: Optional[str] = None


def test_pydantic_state_reaches_nodes_as_a_model() -> None:
    seen: list[Any] = []

    def node(state: PState) -> dict[str, Any]:
        seen.append(state)
        return {"count": state.count + 1}

    graph = StateGraph(PState).add_node("n", node).add_edge(START, "n").compile()
    assert graph.invoke({"count": 1}) == {"items": [], "count": 2}
    assert isinstance(seen[0], PState)


def test_pydantic_validation_error_happens_before_the_node_runs() -> None:
    ran: list[bool] = []

    def node(state: PState) -> None:
        ran.append(True)

    graph = StateGraph(PState).add_node("n", node).add_edge(START, "n").compile()
    with pytest.raises(pydantic.ValidationError):
        graph.invoke({"count": "not a number"})
    assert ran == []


def test_returning_a_model_instance_overwrites_fields_with_non_none_defaults() -> None:
    graph = (
        StateGraph(PState)
        .add_node("n", lambda s: PState(count=5))
        .add_edge(START, "n")
        .compile()
    )
    # items (default []) is written again, so the reducer appends nothing new;
    # note (default None, never set) is skipped.
    assert graph.invoke({"items": ["in"], "note": "kept"}) == {
        "items": ["in"],
        "count": 5,
        "note": "kept",
    }


def test_pydantic_state_v2_output_is_a_model() -> None:
    graph = StateGraph(PState).add_node("n", lambda s: {"count": 3}).add_edge(START, "n").compile()
    result = graph.invoke({}, version="v2")
    assert isinstance(result.value, PState)
    assert result.value.count == 3


# ---------------------------------------------------------------------------- __root__


def test_schema_without_fields_is_a_single_root_channel() -> None:
    graph = StateGraph(int).add_node("double", lambda n: n * 2).add_edge(START, "double").compile()
    assert graph.invoke(21) == 42
    assert list(graph.stream(21, stream_mode="updates")) == [{"double": 42}]


def test_root_reducer_schema() -> None:
    graph = (
        StateGraph(Annotated[list, operator.add])
        .add_node("a", lambda items: ["a"])
        .add_edge(START, "a")
        .compile()
    )
    assert graph.invoke(["in"]) == ["in", "a"]


def test_a_typeddict_with_only_a_root_key_is_a_root_state_with_that_key_s_reducer() -> None:
    class RootLog(TypedDict):
        __root__: Annotated[list, operator.add]

    seen: list[Any] = []

    def step(items: list) -> list:
        seen.append(items)
        return ["step"]

    graph = StateGraph(RootLog).add_node("step", step).add_edge(START, "step").compile()
    assert graph.invoke(["in"]) == ["in", "step"]
    assert seen == [["in"]]
    assert list(graph.stream(["in"], stream_mode="updates")) == [{"step": ["step"]}]


# ---------------------------------------------------------------------------- input / output schemas


class Full(TypedDict):
    question: str
    scratch: str
    answer: str


class In(TypedDict):
    question: str


class Out(TypedDict):
    answer: str


def io_graph() -> Any:
    def think(state: Full) -> dict[str, Any]:
        return {"scratch": "thinking about " + state["question"]}

    def reply(state: Full) -> dict[str, Any]:
        return {"answer": state["scratch"].upper()}

    return (
        StateGraph(Full, input_schema=In, output_schema=Out)
        .add_node("think", think)
        .add_node("reply", reply)
        .add_edge(START, "think")
        .add_edge("think", "reply")
        .compile()
    )


def test_invoke_returns_only_output_schema_keys() -> None:
    assert io_graph().invoke({"question": "q"}) == {"answer": "THINKING ABOUT Q"}


def test_input_keys_outside_the_input_schema_are_dropped() -> None:
    assert io_graph().invoke({"question": "q", "scratch": "injected", "answer": "early"}) == {
        "answer": "THINKING ABOUT Q"
    }


def test_stream_values_shows_every_state_channel() -> None:
    chunks = list(io_graph().stream({"question": "q"}, stream_mode="values"))
    assert chunks[-1] == {
        "question": "q",
        "scratch": "thinking about q",
        "answer": "THINKING ABOUT Q",
    }


def test_a_key_redeclared_with_a_different_reducer_is_rejected() -> None:
    class A(TypedDict):
        k: Annotated[list, operator.add]

    class B(TypedDict):
        k: Annotated[int, operator.mul]

    with pytest.raises(ValueError, match="Channel 'k' already exists with a different type"):
        StateGraph(A, input_schema=B)


def test_a_plain_redeclaration_of_a_reducer_key_is_ignored() -> None:
    class In2(TypedDict):
        x: list

    graph = (
        StateGraph(State, input_schema=In2)
        .add_node("a", lambda s: {"x": ["a"]})
        .add_edge(START, "a")
        .compile()
    )
    assert graph.invoke({"x": ["in"]}) == {"x": ["in", "a"]}


@pytest.mark.parametrize("kind", ["input_schema", "output_schema"])
def test_managed_values_are_not_allowed_in_input_or_output_schemas(kind: str) -> None:
    class WithManaged(TypedDict):
        x: Annotated[list, operator.add]
        remaining: RemainingSteps

    with pytest.raises(ValueError, match="Invalid managed channels detected in"):
        StateGraph(State, **{kind: WithManaged})


# ---------------------------------------------------------------------------- private state


class Private(TypedDict):
    secret: str


def test_node_input_schema_declares_private_channels() -> None:
    def writer(state: State) -> dict[str, Any]:
        return {"secret": "s3cret", "x": ["w"]}

    def reader(state: Private) -> dict[str, Any]:
        return {"x": [f"read {state['secret']}"]}

    graph = (
        StateGraph(State)
        .add_node("writer", writer)
        .add_node("reader", reader)
        .add_edge(START, "writer")
        .add_edge("writer", "reader")
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["w", "read s3cret"]}
    values = list(graph.stream({"x": []}, stream_mode="values"))
    assert values[-1] == {"x": ["w", "read s3cret"], "secret": "s3cret"}


def test_explicit_node_input_schema_limits_what_the_node_reads() -> None:
    seen: list[dict[str, Any]] = []

    def reader(state: Any) -> None:
        seen.append(dict(state))

    graph = (
        StateGraph(State)
        .add_node("w", lambda s: {"secret": "s", "x": ["w"]})
        .add_node("reader", reader, input_schema=Private)
        .add_edge(START, "w")
        .add_edge("w", "reader")
        .compile()
    )
    graph.invoke({"x": []})
    assert seen == [{"secret": "s"}]


# ---------------------------------------------------------------------------- managed values


class Managed(TypedDict):
    x: Annotated[list, operator.add]
    remaining: RemainingSteps
    last: IsLastStep


def record_managed(name: str) -> Any:
    def node(state: Managed) -> dict[str, Any]:
        return {"x": [(name, state["remaining"], state["last"])]}

    return node


def test_remaining_steps_counts_down_from_the_recursion_limit() -> None:
    graph = (
        StateGraph(Managed)
        .add_node("a", record_managed("a"))
        .add_node("b", record_managed("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    assert graph.invoke({"x": []}, {"recursion_limit": 10}) == {
        "x": [("a", 9, False), ("b", 8, False)]
    }


def test_is_last_step_is_true_on_the_last_allowed_superstep() -> None:
    graph = (
        StateGraph(Managed)
        .add_node("a", record_managed("a"))
        .add_node("b", record_managed("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    assert graph.invoke({"x": []}, {"recursion_limit": 3})["x"] == [("a", 2, False), ("b", 1, True)]


def test_default_recursion_limit_shows_in_remaining_steps() -> None:
    graph = (
        StateGraph(Managed)
        .add_node("a", record_managed("a"))
        .add_node("b", record_managed("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    assert graph.invoke({"x": []})["x"][1] == ("b", 10005, False)


def test_managed_keys_are_never_written_nor_output() -> None:
    graph = (
        StateGraph(Managed)
        .add_node("a", lambda s: {"remaining": 1000, "x": ["a"]})
        .add_node("b", record_managed("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    result = graph.invoke({"x": []}, {"recursion_limit": 10})
    assert result == {"x": ["a", ("b", 8, False)]}


def test_a_root_state_node_may_return_several_updates_at_once() -> None:
    import operator as op

    from stategraph.types import Command

    graph = (
        StateGraph(Annotated[list, op.add])
        .add_node("both", lambda s: [Command(update=["a"]), ["b"]])
        .add_node("after", lambda s: ["c"])
        .add_edge(START, "both")
        .add_edge("both", "after")
        .compile()
    )
    assert graph.invoke([]) == ["a", "b", "c"]
    assert list(graph.stream([], stream_mode="updates")) == [{"both": [["a"], ["b"]]}, {"after": ["c"]}]
