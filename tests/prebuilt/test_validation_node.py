"""ValidationNode (api_spec §10.4): validate tool calls without running tools."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel, field_validator

from stategraph.prebuilt import ValidationNode


class Answer(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def only_37(cls, v: int) -> int:
        if v != 37:
            raise ValueError("Only 37 is allowed")
        return v


@tool
def lookup(city: str) -> str:
    """Look a city up."""
    return city


def pick(a: int, b: str) -> None:
    """A function used only for its signature."""


def ai(*calls: tuple[str, dict, str]) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": n, "args": a, "id": i, "type": "tool_call"} for n, a, i in calls])


def test_valid_calls_become_json_of_the_validated_arguments() -> None:
    out = ValidationNode([Answer, lookup, pick]).invoke(
        {"messages": [ai(("Answer", {"value": 37}, "1"), ("lookup", {"city": "Paris"}, "2"), ("pick", {"a": "3", "b": "x"}, "3"))]}
    )
    messages = out["messages"]
    assert [json.loads(m.content) for m in messages] == [{"value": 37}, {"city": "Paris"}, {"a": 3, "b": "x"}]
    assert [(m.name, m.tool_call_id) for m in messages] == [("Answer", "1"), ("lookup", "2"), ("pick", "3")]


def test_invalid_call_becomes_an_error_message_marked_is_error() -> None:
    (message,) = ValidationNode([Answer]).invoke([ai(("Answer", {"value": 1}, "1"))])
    assert message.additional_kwargs == {"is_error": True}
    assert "Only 37 is allowed" in message.content
    assert message.content.endswith("\n\nRespond after fixing all validation errors.")


def test_custom_format_error() -> None:
    node = ValidationNode([Answer], format_error=lambda error, call, schema: f"fix {call['id']} for {schema.__name__}")
    (message,) = node.invoke([ai(("Answer", {"value": 1}, "9"))])
    assert message.content == "fix 9 for Answer"


def test_last_message_must_be_an_ai_message() -> None:
    with pytest.raises(ValueError, match="Last message is not an AIMessage"):
        ValidationNode([Answer]).invoke([HumanMessage("hi")])
    with pytest.raises(ValueError, match="No message found in input"):
        ValidationNode([Answer]).invoke({"messages": []})


def test_unsupported_schema_is_rejected() -> None:
    with pytest.raises(ValueError, match="Unsupported input to ValidationNode"):
        ValidationNode([42])  # type: ignore[list-item]


def test_default_name_is_validation() -> None:
    assert ValidationNode([Answer]).get_name() == "validation"
