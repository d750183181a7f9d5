"""ToolNode inside a graph: the graph's state, store and runtime reach the tools."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict

from stategraph.graph import START, StateGraph
from stategraph.graph.message import add_messages
from stategraph.prebuilt import InjectedState, InjectedStore, ToolNode, ToolRuntime
from stategraph.store.memory import InMemoryStore
from stategraph.types import Send


class State(TypedDict):
    messages: Annotated[list, add_messages]
    user: str


@tool
def whoami(user: Annotated[str, InjectedState("user")]) -> str:
    """Who is asking."""
    return user


@tool
def remember(fact: str, store: Annotated[Any, InjectedStore()]) -> str:
    """Store a fact."""
    store.put(("facts",), "last", {"fact": fact})
    return "stored"


@tool
def context_reader(runtime: ToolRuntime) -> str:
    """Reads the run context."""
    return f"{runtime.context['team']}:{runtime.state['user']}"


def calls(*pairs: tuple[str, dict[str, Any]]) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": n, "args": a, "id": str(i), "type": "tool_call"} for i, (n, a) in enumerate(pairs)])


def graph_with(node: ToolNode, **compile_kwargs: Any) -> Any:
    builder = StateGraph(State, context_schema=dict)
    builder.add_node("tools", node)
    builder.add_edge(START, "tools")
    return builder.compile(**compile_kwargs)


def test_state_store_and_context_reach_the_tools() -> None:
    store = InMemoryStore()
    graph = graph_with(ToolNode([whoami, remember, context_reader]), store=store)
    result = graph.invoke(
        {"messages": [calls(("whoami", {}), ("remember", {"fact": "f"}), ("context_reader", {}))], "user": "ada"},
        context={"team": "blue"},
    )
    assert [m.content for m in result["messages"] if isinstance(m, ToolMessage)] == ["ada", "stored", "blue:ada"]
    assert store.get(("facts",), "last").value == {"fact": "f"}


def test_injected_store_without_a_compiled_store_fails_with_the_fix() -> None:
    graph = graph_with(ToolNode([remember]))
    with pytest.raises(ValueError, match="compile your graph with a store"):
        graph.invoke({"messages": [calls(("remember", {"fact": "f"}))], "user": "ada"})


async def test_async_graph_runs_the_tools() -> None:
    graph = graph_with(ToolNode([whoami]))
    result = await graph.ainvoke({"messages": [calls(("whoami", {}))], "user": "bob"})
    assert result["messages"][-1].content == "bob"


def test_tool_calls_sent_without_state_read_the_graph_state() -> None:
    builder = StateGraph(State)
    builder.add_node("plan", lambda state: {})
    builder.add_node("tools", ToolNode([whoami]))
    builder.add_edge(START, "plan")
    builder.add_conditional_edges(
        "plan", lambda state: [Send("tools", [{"name": "whoami", "args": {}, "id": "9", "type": "tool_call"}])]
    )
    result = builder.compile().invoke({"messages": [], "user": "carol"})
    assert result["messages"][-1].content == "carol"
