"""ScriptedChatModel: replies from a script, streamed in chunks, tools remembered."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from stategraph.testing import ScriptedChatModel, split_into_chunks, tool_call


@tool
def search(query: str) -> str:
    """Search the web."""
    return f"results for {query}"


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_text_reply_is_an_ai_message() -> None:
    reply = ScriptedChatModel(["hello"]).invoke("hi")
    assert isinstance(reply, AIMessage) and reply.content == "hello" and reply.tool_calls == []


def test_replies_are_used_in_order() -> None:
    model = ScriptedChatModel(["one", "two"])
    assert [model.invoke("a").content, model.invoke("b").content] == ["one", "two"]


def test_tool_call_reply_carries_the_call_with_an_id() -> None:
    reply = ScriptedChatModel([tool_call("search", {"query": "paris"})]).invoke("hi")
    (call,) = reply.tool_calls
    assert call["name"] == "search" and call["args"] == {"query": "paris"} and call["id"]
    assert reply.response_metadata["finish_reason"] == "tool_calls"


def test_list_reply_mixes_text_and_several_tool_calls() -> None:
    reply = ScriptedChatModel([["Let me look.", tool_call("search", {"query": "a"}), tool_call("add", {"a": 1, "b": 2}, id="mine")]]).invoke("hi")
    assert reply.content == "Let me look."
    assert [c["name"] for c in reply.tool_calls] == ["search", "add"]
    assert reply.tool_calls[1]["id"] == "mine"
    assert len({c["id"] for c in reply.tool_calls}) == 2


def test_plain_dict_tool_call_spec_is_accepted() -> None:
    reply = ScriptedChatModel([{"name": "search", "args": {"query": "x"}}]).invoke("hi")
    assert reply.tool_calls[0]["name"] == "search"


def test_ai_message_reply_is_copied_so_the_script_is_not_mutated() -> None:
    scripted = AIMessage("canned", id="fixed-id")
    model = ScriptedChatModel([scripted], cycle=True)
    first = model.invoke("a")
    first.content = "changed"
    assert model.invoke("b").content == "canned"
    assert first.id == "fixed-id"


def test_callable_reply_sees_the_conversation() -> None:
    model = ScriptedChatModel([lambda messages: f"you said {messages[-1].content}"])
    assert model.invoke([HumanMessage("ping")]).content == "you said ping"


def test_callable_reply_can_return_a_tool_call() -> None:
    model = ScriptedChatModel([lambda messages: tool_call("search", {"query": messages[-1].content})])
    assert model.invoke("weather").tool_calls[0]["args"] == {"query": "weather"}


def test_running_out_of_replies_names_how_many_were_scripted() -> None:
    model = ScriptedChatModel(["one", "two"])
    model.invoke("a")
    model.invoke("b")
    with pytest.raises(IndexError, match="scripted with 2 replies and this is call 3.*cycle=True"):
        model.invoke("c")


def test_cycle_restarts_the_script() -> None:
    model = ScriptedChatModel(["one", "two"], cycle=True)
    assert [model.invoke(str(i)).content for i in range(5)] == ["one", "two", "one", "two", "one"]
    assert model.remaining is None


def test_calls_records_each_conversation() -> None:
    model = ScriptedChatModel(["one", "two"])
    model.invoke("first")
    model.invoke([HumanMessage("second"), AIMessage("x"), HumanMessage("third")])
    assert [[m.content for m in call] for call in model.calls] == [["first"], ["second", "x", "third"]]
    assert model.remaining == 0


def test_malformed_reply_is_rejected_when_the_script_is_built() -> None:
    with pytest.raises(ValueError, match="Scripted reply #2"):
        ScriptedChatModel(["fine", 42])
    with pytest.raises(ValueError, match="args a dict"):
        ScriptedChatModel([{"name": "search", "args": "not a dict"}])


def test_stream_yields_several_chunks_that_add_up_to_the_reply() -> None:
    model = ScriptedChatModel(["the quick brown fox"])
    chunks = list(model.stream("hi"))
    assert len(chunks) >= 4
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(c.content for c in chunks) == "the quick brown fox"
    assert len({c.id for c in chunks}) == 1


def test_streamed_tool_call_arrives_as_tool_call_chunks() -> None:
    model = ScriptedChatModel([tool_call("search", {"query": "long enough query"})])
    chunks = list(model.stream("hi"))
    assert sum(1 for c in chunks if c.tool_call_chunks) >= 2
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.tool_calls[0]["args"] == {"query": "long enough query"}


def test_invoke_and_stream_agree_on_the_message() -> None:
    spec = ["Looking.", tool_call("add", {"a": 1, "b": 2})]
    invoked = ScriptedChatModel([spec]).invoke("hi")
    chunks = list(ScriptedChatModel([spec]).stream("hi"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.content == invoked.content and total.tool_calls == invoked.tool_calls
    assert total.id == invoked.id


def test_split_into_chunks_keeps_whitespace() -> None:
    chunks = split_into_chunks(AIMessage("a  b\nc", id="m"))
    assert "".join(c.content for c in chunks) == "a  b\nc"
    assert chunks[-1].chunk_position == "last"


def test_ids_are_deterministic_for_the_same_conversation() -> None:
    first = ScriptedChatModel([tool_call("search", {"query": "q"})]).invoke("same input")
    second = ScriptedChatModel([tool_call("search", {"query": "q"})]).invoke("same input")
    other = ScriptedChatModel([tool_call("search", {"query": "q"})]).invoke("different input")
    assert first.id == second.id and first.tool_calls[0]["id"] == second.tool_calls[0]["id"]
    assert first.id != other.id and first.tool_calls[0]["id"] != other.tool_calls[0]["id"]


def test_bind_tools_returns_a_binding_that_remembers_the_tools() -> None:
    bound = ScriptedChatModel(["ok"]).bind_tools([search, add])
    names = [t["function"]["name"] for t in bound.kwargs["tools"]]  # type: ignore[attr-defined]
    assert names == ["search", "add"]
    assert bound.invoke("hi").content == "ok"


def test_tool_call_to_an_unbound_tool_is_an_error() -> None:
    bound = ScriptedChatModel([tool_call("weather", {})]).bind_tools([search])
    with pytest.raises(ValueError, match=r"calls tool\(s\) \['weather'\] but the model was bound to \['search'\]"):
        bound.invoke("hi")


def test_tool_name_check_can_be_turned_off() -> None:
    bound = ScriptedChatModel([tool_call("weather", {})], check_tool_names=False).bind_tools([search])
    assert bound.invoke("hi").tool_calls[0]["name"] == "weather"


def test_unbound_model_does_not_check_tool_names() -> None:
    assert ScriptedChatModel([tool_call("anything", {})]).invoke("hi").tool_calls[0]["name"] == "anything"


def test_bound_and_unbound_model_share_the_script() -> None:
    model = ScriptedChatModel(["one", "two"])
    bound = model.bind_tools([search])
    assert [bound.invoke("a").content, model.invoke("b").content] == ["one", "two"]


def test_with_structured_output_parses_a_scripted_tool_call() -> None:
    class Weather(BaseModel):
        city: str
        degrees: int

    model = ScriptedChatModel([tool_call("Weather", {"city": "Paris", "degrees": 22})])
    assert model.with_structured_output(Weather).invoke("hi") == Weather(city="Paris", degrees=22)


async def test_async_invoke_and_stream() -> None:
    model = ScriptedChatModel(["async one", "async two words"])
    assert (await model.ainvoke("a")).content == "async one"
    chunks = [chunk async for chunk in model.astream("b")]
    assert "".join(c.content for c in chunks) == "async two words" and len(chunks) >= 3


def test_tool_message_in_conversation_changes_the_ids() -> None:
    model = ScriptedChatModel(["a", "a"])
    first = model.invoke([HumanMessage("q")])
    second = model.invoke([HumanMessage("q"), AIMessage("", tool_calls=[tool_call("search", {}, id="c")]), ToolMessage("r", tool_call_id="c")])
    assert first.id != second.id

