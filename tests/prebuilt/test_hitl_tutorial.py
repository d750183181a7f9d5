"""LangGraph's human-in-the-loop tutorial, as the tutorial writes it, with the stategraph prefix.

The model is scripted and the search canned; everything else is the tutorial's code.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict

from stategraph.checkpoint.memory import MemorySaver
from stategraph.graph import START, StateGraph
from stategraph.graph.message import add_messages
from stategraph.prebuilt import ToolNode, tools_condition
from stategraph.testing import ScriptedChatModel, canned_search_tool, tool_call
from stategraph.types import Command, interrupt

USER_INPUT = "I need some expert guidance for building an AI agent. Could you request assistance for me?"
HUMAN_RESPONSE = (
    "We, the experts are here to help! We'd recommend you check out LangGraph to build your agent."
    " It's much more reliable and extensible than simple autonomous agents."
)
FINAL_ANSWER = "Great news: the experts recommend LangGraph for building your agent."


def build_tutorial_graph() -> Any:
    class State(TypedDict):
        messages: Annotated[list, add_messages]

    graph_builder = StateGraph(State)

    @tool
    def human_assistance(query: str) -> str:
        """Request assistance from a human."""
        human_response = interrupt({"query": query})
        return human_response["data"]

    search = canned_search_tool(name="tavily_search")  # the tutorial: TavilySearch(max_results=2)
    tools = [search, human_assistance]
    llm = ScriptedChatModel(
        [tool_call("human_assistance", {"query": "Expert guidance for building an AI agent?"}), FINAL_ANSWER]
    )
    llm_with_tools = llm.bind_tools(tools)

    def chatbot(state: State) -> dict[str, Any]:
        message = llm_with_tools.invoke(state["messages"])
        # Because we will be interrupting during tool execution,
        # we disable parallel tool calling to avoid repeating any
        # tool invocations when we resume.
        assert len(message.tool_calls) <= 1
        return {"messages": [message]}

    graph_builder.add_node("chatbot", chatbot)

    tool_node = ToolNode(tools=tools)
    graph_builder.add_node("tools", tool_node)

    graph_builder.add_conditional_edges(
        "chatbot",
        tools_condition,
    )
    graph_builder.add_edge("tools", "chatbot")
    graph_builder.add_edge(START, "chatbot")

    memory = MemorySaver()
    return graph_builder.compile(checkpointer=memory)


CONFIG = {"configurable": {"thread_id": "1"}}


def last_messages(events: list[dict[str, Any]]) -> list[Any]:
    return [event["messages"][-1] for event in events if "messages" in event]


def test_first_stream_stops_with_the_tool_call_pending() -> None:
    graph = build_tutorial_graph()
    events = list(graph.stream({"messages": [{"role": "user", "content": USER_INPUT}]}, CONFIG, stream_mode="values"))
    last = last_messages(events)[-1]
    assert isinstance(last, AIMessage) and last.tool_calls[0]["name"] == "human_assistance"
    snapshot = graph.get_state(CONFIG)
    assert snapshot.next == ("tools",)
    (pending,) = snapshot.interrupts
    assert pending.value == {"query": "Expert guidance for building an AI agent?"}


def test_resumed_stream_yields_the_humans_answer_then_the_final_message() -> None:
    graph = build_tutorial_graph()
    list(graph.stream({"messages": [{"role": "user", "content": USER_INPUT}]}, CONFIG, stream_mode="values"))
    human_command = Command(resume={"data": HUMAN_RESPONSE})
    events = list(graph.stream(human_command, CONFIG, stream_mode="values"))
    shown = last_messages(events)
    tool_message = next(m for m in shown if isinstance(m, ToolMessage))
    assert tool_message.content == HUMAN_RESPONSE and tool_message.name == "human_assistance"
    assert shown[-1].content == FINAL_ANSWER and isinstance(shown[-1], AIMessage)
    assert shown.index(tool_message) < len(shown) - 1
    assert graph.get_state(CONFIG).next == ()


async def test_the_tutorial_with_astream() -> None:
    graph = build_tutorial_graph()
    first = [e async for e in graph.astream({"messages": [{"role": "user", "content": USER_INPUT}]}, CONFIG, stream_mode="values")]
    assert last_messages(first)[-1].tool_calls
    assert (await graph.aget_state(CONFIG)).next == ("tools",)
    resumed = [e async for e in graph.astream(Command(resume={"data": HUMAN_RESPONSE}), CONFIG, stream_mode="values")]
    shown = last_messages(resumed)
    assert any(isinstance(m, ToolMessage) and m.content == HUMAN_RESPONSE for m in shown)
    assert shown[-1].content == FINAL_ANSWER


def test_messages_mode_streams_tokens_and_the_tool_message() -> None:
    graph = build_tutorial_graph()
    list(graph.stream({"messages": [{"role": "user", "content": USER_INPUT}]}, CONFIG, stream_mode="values"))
    items = list(graph.stream(Command(resume={"data": HUMAN_RESPONSE}), CONFIG, stream_mode="messages"))
    nodes = [metadata["langgraph_node"] for _, metadata in items]
    assert nodes[0] == "tools" and set(nodes[1:]) == {"chatbot"}
    assert isinstance(items[0][0], ToolMessage) and items[0][0].content == HUMAN_RESPONSE
    tokens = [message for message, _ in items[1:]]
    assert all(isinstance(token, AIMessageChunk) for token in tokens) and len(tokens) > 3
    assert "".join(token.content for token in tokens) == FINAL_ANSWER


@pytest.mark.parametrize("answer", ["short", "a longer answer with several words"])
def test_the_humans_answer_is_what_the_tool_returns(answer: str) -> None:
    graph = build_tutorial_graph()
    graph.invoke({"messages": [{"role": "user", "content": USER_INPUT}]}, CONFIG)
    result = graph.invoke(Command(resume={"data": answer}), CONFIG)
    assert [m.content for m in result["messages"] if isinstance(m, ToolMessage)] == [answer]
