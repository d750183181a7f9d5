"""What a node's ``Runtime`` carries from outside the run: a server's assistant, graph and user,
a runtime object a server seeded, and a drain requested right before a breakpoint."""

from __future__ import annotations

from typing import Any, TypedDict

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.graph import END, START, StateGraph
from stategraph.runtime import RunControl, Runtime, ServerInfo
from stategraph.store.memory import InMemoryStore


class State(TypedDict, total=False):
    first: str
    second: str


def capturing(seen: dict[str, Any]) -> Any:
    def node(state: State, runtime: Runtime) -> State:
        seen.update(server_info=runtime.server_info, context=runtime.context, store=runtime.store)
        return {"first": "done"}

    return StateGraph(State).add_node("node", node).add_edge(START, "node").add_edge("node", END).compile()


class User:
    identity = "ada"


def test_server_info_comes_from_the_configurable_a_server_sets() -> None:
    seen: dict[str, Any] = {}
    user = User()
    capturing(seen).invoke(
        {}, {"configurable": {"assistant_id": "a-1", "graph_id": "g", "langgraph_auth_user": user}}
    )
    assert seen["server_info"] == ServerInfo(assistant_id="a-1", graph_id="g", user=user)

    capturing(seen).invoke({}, {"configurable": {"graph_id": "g", "langgraph_auth_user": {"no": "identity"}}})
    assert seen["server_info"] == ServerInfo(assistant_id="", graph_id="g", user=None)

    capturing(seen).invoke({})
    assert seen["server_info"] is None


def test_an_object_seeded_in_the_runtime_slot_lends_its_context_and_store() -> None:
    store = InMemoryStore()

    class ServerRuntime:
        context = {"tenant": "t1"}

        def __init__(self) -> None:
            self.store = store

    seen: dict[str, Any] = {}
    assert capturing(seen).invoke({}, {"configurable": {"__pregel_runtime": ServerRuntime()}}) == {"first": "done"}
    assert seen["context"] == {"tenant": "t1"}
    assert seen["store"] is store


def test_a_drain_right_before_a_breakpoint_stops_at_the_breakpoint() -> None:
    ran: list[str] = []

    def first(state: State, runtime: Runtime) -> State:
        runtime.control.request_drain("rollout")
        return {"first": "done"}

    def second(state: State) -> State:
        ran.append("second")
        return {"second": "done"}

    graph = (
        StateGraph(State)
        .add_node("first", first)
        .add_node("second", second)
        .add_edge(START, "first")
        .add_edge("first", "second")
        .compile(checkpointer=InMemorySaver(), interrupt_before=["second"])
    )
    config = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({}, config, control=RunControl()) == {"first": "done"}
    assert graph.get_state(config).next == ("second",)
    assert graph.invoke(None, config) == {"first": "done", "second": "done"}
    assert ran == ["second"]
