"""tools_condition (api_spec §10.2): route on the last message only."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from stategraph.prebuilt import tools_condition

CALLING = AIMessage("", tool_calls=[{"name": "search", "args": {}, "id": "1", "type": "tool_call"}])


def test_last_message_with_tool_calls_routes_to_tools() -> None:
    assert tools_condition({"messages": [HumanMessage("hi"), CALLING]}) == "tools"


def test_last_message_without_tool_calls_ends() -> None:
    assert tools_condition({"messages": [HumanMessage("hi"), AIMessage("answer")]}) == "__end__"


def test_only_the_last_message_counts() -> None:
    assert tools_condition({"messages": [CALLING, ToolMessage("r", tool_call_id="1")]}) == "__end__"


def test_list_and_object_states_and_custom_key() -> None:
    class State:
        chat = [CALLING]

    assert tools_condition([CALLING]) == "tools"
    assert tools_condition(State(), messages_key="chat") == "tools"
    assert tools_condition({"chat": [CALLING]}, messages_key="chat") == "tools"


def test_no_messages_raises() -> None:
    with pytest.raises(ValueError, match="No messages found in input state to tool_edge"):
        tools_condition({"messages": []})
