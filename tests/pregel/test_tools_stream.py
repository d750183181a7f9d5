"""``stream_mode="tools"``: tool-call lifecycle events (payloads recorded from LangGraph 1.2.24)."""

import asyncio
from typing import Any

from langchain_core.tools import tool

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.graph import START, MessagesState, StateGraph
from stategraph.prebuilt import ToolNode, ToolRuntime, tools_condition
from stategraph.testing import ScriptedChatModel, tool_call
from stategraph.types import Command, interrupt


@tool
def add(a: int, b: int, runtime: ToolRuntime) -> int:
    """Add two integers."""
    runtime.emit_output_delta({"partial": a})
    return a + b


@tool
def fail(x: int) -> int:
    """Always fails."""
    raise ValueError("nope")


@tool
def ask_human(question: str) -> str:
    """Ask a person."""
    return str(interrupt(question))


def agent_graph(script: list[Any], tools: list[Any], checkpointer: Any = None) -> Any:
    model = ScriptedChatModel(script).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    return (
        StateGraph(MessagesState)
        .add_node("agent", agent)
        .add_node("tools", ToolNode(tools, handle_tool_errors=True))
        .add_edge(START, "agent")
        .add_conditional_edges("agent", tools_condition)
        .add_edge("tools", "agent")
        .compile(checkpointer=checkpointer)
    )


def without_output(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "output"}


def test_started_delta_finished_and_error_events() -> None:
    script = [tool_call("add", {"a": 1, "b": 2}, id="c1"), tool_call("fail", {"x": 1}, id="c2"), "done"]
    events = list(agent_graph(script, [add, fail]).stream({"messages": [("user", "go")]}, stream_mode="tools"))
    assert [without_output(e) for e in events] == [
        {"event": "tool-started", "tool_call_id": "c1", "tool_name": "add", "input": {"a": 1, "b": 2}},
        {"event": "tool-output-delta", "tool_call_id": "c1", "delta": {"partial": 1}},
        {"event": "tool-finished", "tool_call_id": "c1"},
        {"event": "tool-started", "tool_call_id": "c2", "tool_name": "fail", "input": {"x": 1}},
        {"event": "tool-error", "tool_call_id": "c2", "message": "nope"},
    ]
    finished = events[2]["output"]
    assert (finished.content, finished.tool_call_id) == ("3", "c1") and finished.id is not None


def test_async_runs_report_the_same_events() -> None:
    script = [tool_call("add", {"a": 4, "b": 5}, id="c1"), "done"]
    graph = agent_graph(script, [add])

    async def collect() -> list[Any]:
        return [e async for e in graph.astream({"messages": [("user", "go")]}, stream_mode="tools")]

    assert [e["event"] for e in asyncio.run(collect())] == ["tool-started", "tool-output-delta", "tool-finished"]


def test_a_tool_paused_by_an_interrupt_reports_no_error_and_runs_again_on_resume() -> None:
    script = [tool_call("ask_human", {"question": "colour?"}, id="h1"), "thanks"]
    graph = agent_graph(script, [ask_human], InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    first = list(graph.stream({"messages": [("user", "go")]}, config, stream_mode="tools"))
    assert [e["event"] for e in first] == ["tool-started"]
    second = list(graph.stream(Command(resume="blue"), config, stream_mode="tools"))
    assert [e["event"] for e in second] == ["tool-started", "tool-finished"]
    assert second[1]["output"].content == "blue"


def test_tools_of_a_subgraph_are_streamed_with_subgraphs_true_under_its_namespace() -> None:
    inner = agent_graph([tool_call("add", {"a": 1, "b": 1}, id="s1"), "done"], [add])
    outer = StateGraph(MessagesState).add_node("inner", inner).add_edge(START, "inner").compile()
    assert list(outer.stream({"messages": [("user", "go")]}, stream_mode="tools")) == []
    inner = agent_graph([tool_call("add", {"a": 1, "b": 1}, id="s1"), "done"], [add])
    outer = StateGraph(MessagesState).add_node("inner", inner).add_edge(START, "inner").compile()
    chunks = list(outer.stream({"messages": [("user", "go")]}, stream_mode="tools", subgraphs=True))
    assert [(len(ns), ns[0].split(":")[0], e["event"]) for ns, e in chunks] == [
        (1, "inner", "tool-started"),
        (1, "inner", "tool-output-delta"),
        (1, "inner", "tool-finished"),
    ]


def test_emit_output_delta_does_nothing_when_tools_are_not_streamed() -> None:
    graph = agent_graph([tool_call("add", {"a": 2, "b": 3}, id="c1"), "done"], [add])
    out = graph.invoke({"messages": [("user", "go")]})
    assert out["messages"][2].content == "5"


@tool
def echo(text: str) -> str:
    """Echo the text."""
    return text


def one_node(node: Any) -> Any:
    return StateGraph(MessagesState).add_node(node).add_edge(START, node.__name__).compile()


def test_a_graph_a_node_streams_itself_sends_its_events_to_that_node() -> None:
    def uses_echo(state: MessagesState) -> dict[str, Any]:
        echo.invoke({"text": "hi"})
        return {}

    child = one_node(uses_echo)
    received: list[Any] = []

    def streams_child(state: MessagesState) -> dict[str, Any]:
        received.extend(child.stream({"messages": []}, stream_mode="tools"))
        return {}

    parent_parts = list(one_node(streams_child).stream({"messages": []}, stream_mode="tools"))
    assert parent_parts == []  # the child's events are its consumer's, not the parent's
    assert [part["event"] for part in received] == ["tool-started", "tool-finished"]


def test_events_of_a_task_call_in_a_subgraph_stream_under_the_subgraph() -> None:
    from stategraph.func import task

    @task
    def call_echo() -> None:
        echo.invoke({"text": "hi"})

    def node(state: MessagesState) -> dict[str, Any]:
        call_echo().result()
        return {}

    parent = StateGraph(MessagesState).add_node("sub", one_node(node)).add_edge(START, "sub").compile()
    parts = list(parent.stream({"messages": []}, stream_mode="tools", subgraphs=True))
    assert [(tuple(s.split(":")[0] for s in ns), part["event"]) for ns, part in parts] == [
        (("sub",), "tool-started"),
        (("sub",), "tool-finished"),
    ]
