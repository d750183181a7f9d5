"""StreamMessagesHandler: what stream_mode="messages" emits (api_spec §5.5), without the engine."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult

from stategraph._constants import PUSH
from stategraph.pregel._messages import StreamMessagesHandler, graph_namespace
from stategraph.testing import ScriptedChatModel
from stategraph.types import Command

Emitted = list[tuple[tuple[str, ...], tuple[Any, dict[str, Any]]]]


def task_metadata(ns: str = "chat:tid-1", node: str = "chat", **extra: Any) -> dict[str, Any]:
    return {
        "langgraph_step": 1,
        "langgraph_node": node,
        "langgraph_triggers": ("branch:to:chat",),
        "langgraph_path": ("__pregel_pull", node),
        "langgraph_checkpoint_ns": ns,
        "checkpoint_ns": ns,
        **extra,
    }


def make_handler(subgraphs: bool = False, parent_ns: tuple[str, ...] | None = None) -> tuple[StreamMessagesHandler, Emitted]:
    emitted: Emitted = []
    handler = StreamMessagesHandler(lambda ns, item: emitted.append((ns, item)), subgraphs, parent_ns=parent_ns)
    return handler, emitted


def config_for(handler: StreamMessagesHandler, metadata: dict[str, Any], tags: list[str] | None = None) -> dict[str, Any]:
    return {"callbacks": [handler], "metadata": metadata, "tags": tags or []}


class NonStreamingModel(BaseChatModel):
    """A chat model without _stream: only on_llm_end reports its message."""

    reply_id: str | None = "fixed"

    @property
    def _llm_type(self) -> str:
        return "non-streaming"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("whole answer", id=self.reply_id))])


def test_model_invoke_streams_each_token_with_task_and_model_metadata() -> None:
    handler, emitted = make_handler()
    model = ScriptedChatModel(["hello there friend"])
    result = model.invoke("hi", config_for(handler, task_metadata(user_key=1), tags=["mine"]))
    chunks = [item[0] for _, item in emitted]
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert "".join(chunk.content for chunk in chunks) == "hello there friend"
    assert {ns for ns, _ in emitted} == {()}
    metadata = emitted[0][1][1]
    assert metadata["langgraph_node"] == "chat" and metadata["user_key"] == 1
    assert metadata["ls_provider"] == "stategraph-testing" and metadata["ls_model_name"] == "scripted"
    assert metadata["tags"] == ["mine"]
    # the final message shares the chunks' id, so it is not emitted a second time
    assert all(chunk.id == result.id for chunk in chunks)


def test_final_message_of_a_non_streaming_model_is_emitted_once() -> None:
    handler, emitted = make_handler()
    NonStreamingModel().invoke("hi", config_for(handler, task_metadata()))
    assert [item[0].content for _, item in emitted] == ["whole answer"]


def test_messages_without_ids_get_uuid_ids() -> None:
    handler, emitted = make_handler()
    handler.on_task_end(task_metadata(), {"messages": [AIMessage("no id")]})
    (message, _), = [item for _, item in emitted]
    assert message.id and len(message.id) == 36


def test_nostream_tag_silences_a_model_call() -> None:
    handler, emitted = make_handler()
    ScriptedChatModel(["quiet please"]).invoke("hi", config_for(handler, task_metadata(), tags=["nostream"]))
    assert emitted == []


def test_model_called_outside_a_task_is_not_streamed() -> None:
    handler, emitted = make_handler()
    ScriptedChatModel(["x"]).invoke("hi", {"callbacks": [handler], "metadata": {"other": 1}})
    assert emitted == []


def test_subgraph_messages_are_dropped_unless_subgraphs_is_set() -> None:
    nested = task_metadata(ns="child:t1|inner:t2", node="inner")
    handler, emitted = make_handler(subgraphs=False)
    ScriptedChatModel(["from the subgraph"]).invoke("hi", config_for(handler, nested))
    handler.on_task_end(nested, {"messages": [AIMessage("out", id="o1")]})
    assert emitted == []

    handler, emitted = make_handler(subgraphs=True)
    ScriptedChatModel(["from the subgraph"]).invoke("hi", config_for(handler, nested))
    assert emitted and {ns for ns, _ in emitted} == {("child:t1",)}


def test_parent_namespace_is_streamed_without_subgraphs() -> None:
    nested = task_metadata(ns="child:t1|inner:t2", node="inner")
    handler, emitted = make_handler(subgraphs=False, parent_ns=("child:t1",))
    handler.on_task_end(nested, [AIMessage("out", id="o1")])
    assert [ns for ns, _ in emitted] == [("child:t1",)]


def test_graph_namespace_drops_the_task_segment_and_enclosing_task_calls() -> None:
    assert graph_namespace({"langgraph_checkpoint_ns": "node:1"}) == ()
    assert graph_namespace({"langgraph_checkpoint_ns": "a:1|b:2"}) == ("a:1",)
    call_path = (PUSH, ("__pregel_pull", "entry"), 0, True)
    assert graph_namespace({"langgraph_checkpoint_ns": "entry:1|step:2", "langgraph_path": call_path}) == ()
    send_path = (PUSH, ("__pregel_pull", "entry"), 0, False)
    assert graph_namespace({"langgraph_checkpoint_ns": "a:1|b:2", "langgraph_path": send_path}) == ("a:1",)


def test_input_messages_are_not_re_emitted_from_the_output() -> None:
    handler, emitted = make_handler()
    old = HumanMessage("question", id="h1")
    handler.on_task_start(task_metadata(), {"messages": [old]})
    handler.on_task_end(task_metadata(), {"messages": [old, AIMessage("answer", id="a1")]})
    assert [item[0].id for _, item in emitted] == ["a1"]


def test_streamed_model_message_is_not_re_emitted_from_the_output() -> None:
    handler, emitted = make_handler()
    metadata = task_metadata()
    reply = ScriptedChatModel(["token stream"]).invoke("hi", config_for(handler, metadata))
    count = len(emitted)
    handler.on_task_end(metadata, {"messages": [reply]})
    assert len(emitted) == count


@pytest.mark.parametrize(
    "output",
    [
        Command(update={"messages": [ToolMessage("r", tool_call_id="c", id="t1")]}),
        [Command(update={"messages": [ToolMessage("r", tool_call_id="c", id="t1")]}), {"other": 1}],
        [ToolMessage("r", tool_call_id="c", id="t1")],
        [[ToolMessage("r", tool_call_id="c", id="t1")]],  # the values the task wrote
        ToolMessage("r", tool_call_id="c", id="t1"),
        Command(update=[("messages", [ToolMessage("r", tool_call_id="c", id="t1")])]),
    ],
)
def test_output_messages_are_found_in_every_output_shape(output: Any) -> None:
    handler, emitted = make_handler()
    handler.on_task_end(task_metadata(), output)
    assert [item[0].id for _, item in emitted] == ["t1"]
    assert emitted[0][1][1]["langgraph_node"] == "chat"


def test_pushed_message_is_emitted_even_when_seen() -> None:
    handler, emitted = make_handler()
    message = AIMessage("pushed", id="p1")
    handler.on_task_end(task_metadata(), [message])
    handler.on_message_pushed(task_metadata(), message)
    assert [item[0].id for _, item in emitted] == ["p1", "p1"]


async def test_async_model_calls_stream_tokens_too() -> None:
    handler, emitted = make_handler()
    await ScriptedChatModel(["async tokens here"]).ainvoke("hi", config_for(handler, task_metadata()))
    assert "".join(item[0].content for _, item in emitted) == "async tokens here"


# -- through the engine ------------------------------------------------------------------------

from typing import Annotated

from typing_extensions import TypedDict

from stategraph.graph import START, StateGraph
from stategraph.graph.message import add_messages, push_message


class ChatState(TypedDict):
    messages: Annotated[list, add_messages]


def nested_graph() -> Any:
    model = ScriptedChatModel(["parent says hi", "child speaks"])
    sub = StateGraph(ChatState)
    sub.add_node("inner", lambda s: {"messages": [model.invoke(s["messages"])]})
    sub.add_edge(START, "inner")
    builder = StateGraph(ChatState)
    builder.add_node("chat", lambda s: {"messages": [model.invoke(s["messages"]), AIMessage("extra", id="x1")]})
    builder.add_node("child", sub.compile())
    builder.add_edge(START, "chat")
    builder.add_edge("chat", "child")
    return builder.compile()


def test_graph_streams_tokens_then_new_output_messages_but_not_the_input() -> None:
    items = list(nested_graph().stream({"messages": [("user", "hi")]}, stream_mode="messages"))
    chat = [(type(m).__name__, m.content) for m, md in items if md["langgraph_node"] == "chat"]
    assert "".join(content for kind, content in chat if kind == "AIMessageChunk") == "parent says hi"
    assert ("AIMessage", "extra") in chat
    assert all(m.content != "hi" for m, _ in items)


def test_subgraph_tokens_need_subgraphs_true() -> None:
    flat = list(nested_graph().stream({"messages": [("user", "hi")]}, stream_mode="messages"))
    # without subgraphs, the child's message arrives whole, from the parent's 'child' node
    assert [(m.content, md["langgraph_node"]) for m, md in flat if md["langgraph_node"] != "chat"] == [
        ("child speaks", "child")
    ]
    nested = list(nested_graph().stream({"messages": [("user", "hi")]}, stream_mode="messages", subgraphs=True))
    inner = [(ns, m) for ns, (m, md) in nested if md["langgraph_node"] == "inner"]
    assert inner and all(len(ns) == 1 and ns[0].startswith("child:") for ns, _ in inner)
    assert "".join(m.content for _, m in inner) == "child speaks"


def test_push_message_streams_immediately() -> None:
    def node(state: ChatState) -> dict[str, Any]:
        push_message(AIMessage("pushed!", id="p1"), state_key=None)
        return {}

    builder = StateGraph(ChatState)
    builder.add_node("p", node)
    builder.add_edge(START, "p")
    items = list(builder.compile().stream({"messages": []}, stream_mode="messages"))
    assert [(m.content, md["langgraph_node"]) for m, md in items] == [("pushed!", "p")]


def test_push_message_requires_an_id() -> None:
    def node(state: ChatState) -> dict[str, Any]:
        push_message(AIMessage("no id"))
        return {}

    builder = StateGraph(ChatState)
    builder.add_node("p", node)
    builder.add_edge(START, "p")
    with pytest.raises(ValueError, match="Message ID is required"):
        builder.compile().invoke({"messages": []})


def test_push_message_also_writes_to_state() -> None:
    def node(state: ChatState) -> dict[str, Any]:
        push_message(AIMessage("pushed!", id="p1"))
        return {}

    builder = StateGraph(ChatState)
    builder.add_node("p", node)
    builder.add_edge(START, "p")
    assert [m.id for m in builder.compile().invoke({"messages": []})["messages"]] == ["p1"]


def test_a_message_a_subgraph_node_returns_streams_from_inside_the_subgraph() -> None:
    from langchain_core.messages import AIMessage

    from stategraph.graph import START, MessagesState, StateGraph

    inner = (
        StateGraph(MessagesState)
        .add_node("plain", lambda state: {"messages": [AIMessage("from inside", id="inside-1")]})
        .add_edge(START, "plain")
        .compile()
    )
    outer = StateGraph(MessagesState).add_node("sub", inner).add_edge(START, "sub").compile()
    chunks = list(outer.stream({"messages": [("user", "hi")]}, stream_mode="messages", subgraphs=True))
    [(namespace, (message, metadata))] = [c for c in chunks if c[1][0].id == "inside-1"]
    assert namespace[0].startswith("sub:")
    assert (message.content, metadata["langgraph_node"]) == ("from inside", "plain")
    assert metadata["ls_integration"] == "langgraph"
