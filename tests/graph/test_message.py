"""add_messages (api_spec §11.1), MessagesState and push_message."""

from __future__ import annotations

import typing
import uuid

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from stategraph.graph.message import (
    REMOVE_ALL_MESSAGES,
    MessagesState,
    add_messages,
    push_message,
)


def test_right_message_with_a_new_id_is_appended() -> None:
    left = [HumanMessage("hi", id="1")]
    right = [AIMessage("hello", id="2")]
    assert add_messages(left, right) == [HumanMessage("hi", id="1"), AIMessage("hello", id="2")]


def test_right_message_with_an_existing_id_replaces_it_in_place() -> None:
    left = [HumanMessage("hi", id="1"), AIMessage("x", id="2"), HumanMessage("bye", id="3")]
    result = add_messages(left, [AIMessage("edited", id="2")])
    assert [m.content for m in result] == ["hi", "edited", "bye"]


def test_spec_example_ai_message_replaces_human_message_with_same_id() -> None:
    assert add_messages([HumanMessage("hi", id="1")], [AIMessage("x", id="1")]) == [AIMessage("x", id="1")]


def test_single_messages_are_wrapped_in_lists() -> None:
    result = add_messages(HumanMessage("a", id="1"), AIMessage("b", id="2"))
    assert [m.id for m in result] == ["1", "2"]


def test_messages_without_ids_get_uuid4_ids_on_both_sides() -> None:
    left = [HumanMessage("a")]
    right = [AIMessage("b")]
    result = add_messages(left, right)
    for message in result:
        assert uuid.UUID(message.id).version == 4
    # the objects themselves were given the ids
    assert left[0].id == result[0].id and right[0].id == result[1].id


def test_strings_tuples_and_dicts_are_coerced_to_messages() -> None:
    result = add_messages(
        [],
        [
            "plain",
            ("user", "tuple"),
            ("assistant", "from ai"),
            {"role": "system", "content": "sys"},
            {"role": "tool", "content": "out", "tool_call_id": "c1"},
            {"type": "human", "content": "typed", "id": "h1"},
        ],
    )
    kinds = [type(m) for m in result]
    assert kinds == [HumanMessage, HumanMessage, AIMessage, SystemMessage, ToolMessage, HumanMessage]
    assert result[-1].id == "h1"


def test_openai_style_tool_calls_in_dicts_become_tool_calls() -> None:
    (message,) = add_messages(
        [],
        [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": 1}'}}
                ],
            }
        ],
    )
    assert message.tool_calls == [{"name": "search", "args": {"q": 1}, "id": "c1", "type": "tool_call"}]


def test_developer_role_becomes_a_marked_system_message() -> None:
    (message,) = add_messages([], [{"role": "developer", "content": "be brief"}])
    assert isinstance(message, SystemMessage)
    assert message.additional_kwargs.get("__openai_role__") == "developer"


def test_unknown_role_raises_value_error() -> None:
    with pytest.raises(ValueError):
        add_messages([], [("wizard", "abracadabra")])


def test_chunks_become_full_messages() -> None:
    (message,) = add_messages([], [AIMessageChunk("partial", id="c")])
    assert type(message) is AIMessage
    assert message.content == "partial" and message.id == "c"


def test_remove_message_deletes_by_id() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    assert add_messages(left, [RemoveMessage(id="1")]) == [AIMessage("b", id="2")]


def test_remove_message_with_unknown_id_raises() -> None:
    with pytest.raises(ValueError, match=r"Attempting to delete a message with an ID that doesn't exist \('nope'\)"):
        add_messages([HumanMessage("a", id="1")], [RemoveMessage(id="nope")])


def test_remove_dict_role_deletes_by_id() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    assert [m.id for m in add_messages(left, [{"role": "remove", "id": "2", "content": ""}])] == ["1"]


def test_later_message_with_removed_id_cancels_the_removal() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    result = add_messages(left, [RemoveMessage(id="1"), HumanMessage("a again", id="1")])
    assert [(m.id, m.content) for m in result] == [("1", "a again"), ("2", "b")]


def test_remove_all_keeps_only_what_follows_the_last_marker() -> None:
    left = [HumanMessage("a", id="1"), AIMessage("b", id="2")]
    right = [
        HumanMessage("dropped", id="3"),
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        HumanMessage("kept", id="4"),
        RemoveMessage(id=REMOVE_ALL_MESSAGES),
        AIMessage("last", id="5"),
    ]
    assert [m.id for m in add_messages(left, right)] == ["5"]
    assert REMOVE_ALL_MESSAGES == "__remove_all__"


def test_merge_does_not_mutate_the_left_list() -> None:
    left = [HumanMessage("a", id="1")]
    add_messages(left, [AIMessage("b", id="2")])
    assert len(left) == 1


def test_calling_with_only_one_side_raises() -> None:
    with pytest.raises(ValueError, match="Must specify non-null arguments for both 'left' and 'right'"):
        add_messages([HumanMessage("a")])
    with pytest.raises(ValueError, match="Only received: 'right'"):
        add_messages(None, [HumanMessage("a")])


def test_called_with_only_format_returns_a_configured_reducer() -> None:
    reducer = add_messages(format="langchain-openai")
    result = reducer(
        [],
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "1234"}},
                ],
                "id": "u1",
            }
        ],
    )
    assert result[0].content[1] == {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,1234"}}
    assert result[0].id == "u1"


def test_unknown_format_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Unrecognized format"):
        add_messages(format="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unrecognized format"):
        add_messages([], [], format="xml")  # type: ignore[arg-type]


def test_long_history_merge_keeps_order_and_replaces_by_id() -> None:
    left = [HumanMessage(str(i), id=str(i)) for i in range(2000)]
    right = [AIMessage("new", id="new"), HumanMessage("edited", id="1000")]
    result = add_messages(left, right)
    assert len(result) == 2001
    assert result[1000].content == "edited" and result[-1].id == "new"


def test_messages_state_is_a_typed_dict_with_an_add_messages_key() -> None:
    hints = typing.get_type_hints(MessagesState, include_extras=True)
    assert list(hints) == ["messages"]
    assert add_messages in hints["messages"].__metadata__


def test_push_message_outside_a_graph_names_the_problem() -> None:
    with pytest.raises(RuntimeError, match="push_message"):
        push_message(AIMessage("x", id="1"))


def test_messages_state_graph_merges_node_replies_by_id() -> None:
    from stategraph.graph import START, StateGraph

    builder = StateGraph(MessagesState)
    builder.add_node("bot", lambda state: {"messages": [("assistant", "first"), AIMessage("edited", id="h")]})
    builder.add_edge(START, "bot")
    result = builder.compile().invoke({"messages": [HumanMessage("hi", id="h")]})
    assert [(m.type, m.content) for m in result["messages"]] == [("ai", "edited"), ("ai", "first")]


def test_message_graph_is_deprecated_but_works() -> None:
    from stategraph.graph.message import MessageGraph

    with pytest.warns(DeprecationWarning, match="MessageGraph is deprecated"):
        builder = MessageGraph()
    builder.add_node("chatbot", lambda state: [("assistant", "Hello!")])
    builder.set_entry_point("chatbot")
    builder.set_finish_point("chatbot")
    result = builder.compile().invoke([("user", "Hi there.")])
    assert [(m.type, m.content) for m in result] == [("human", "Hi there."), ("ai", "Hello!")]


def test_message_helpers_are_served_from_stategraph_graph() -> None:
    import stategraph.graph as graph_module

    assert graph_module.add_messages is add_messages
    assert graph_module.MessagesState is MessagesState


def test_messages_a_node_writes_carry_their_ids_in_the_updates_stream() -> None:
    from langchain_core.messages import AIMessage

    from stategraph.graph import START, MessagesState, StateGraph

    graph = (
        StateGraph(MessagesState)
        .add_node("talk", lambda state: {"messages": [AIMessage("hello")]})
        .add_edge(START, "talk")
        .compile()
    )
    ids_when_streamed = []
    final = None
    for mode, payload in graph.stream({"messages": [("user", "hi")]}, stream_mode=["updates", "values"]):
        if mode == "updates":  # read now: the step's reducer has not run yet
            ids_when_streamed.append(payload["talk"]["messages"][0].id)
        else:
            final = payload
    assert ids_when_streamed[0] is not None
    assert final is not None and final["messages"][-1].id == ids_when_streamed[0]
