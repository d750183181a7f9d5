"""Details of LangGraph 1.2.24's observable output that programs and UIs may depend on.

Each expected value here was recorded from LangGraph running the same graph.
"""

import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.errors import InvalidUpdateError
from stategraph.graph import START, StateGraph
from stategraph.types import Command, StateUpdate, interrupt


class S(TypedDict):
    items: Annotated[list, operator.add]
    plain: str


def add(name: str, plain: str | None = None) -> Any:
    def node(state: S) -> dict[str, Any]:
        update: dict[str, Any] = {"items": [name]}
        if plain is not None:
            update["plain"] = plain
        return update

    return node


def thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def test_a_failed_task_reports_its_error_in_the_tasks_stream() -> None:
    def boom(state: S) -> dict[str, Any]:
        raise ValueError("kaboom")

    graph = StateGraph(S).add_node("boom", boom).add_edge(START, "boom").compile()
    seen: list[Any] = []
    with pytest.raises(ValueError):
        for chunk in graph.stream({"items": []}, stream_mode="tasks"):
            seen.append(chunk)
    result = seen[-1]
    assert sorted(result) == ["error", "id", "interrupts", "name", "result"]
    assert isinstance(result["error"], ValueError) and str(result["error"]) == "kaboom"
    assert (result["name"], result["result"], result["interrupts"]) == ("boom", {}, [])


def test_output_keys_filter_the_updates_stream() -> None:
    graph = (
        StateGraph(S)
        .add_node("a", add("a", "A"))
        .add_node("b", add("b"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    chunks = list(graph.stream({"items": [], "plain": ""}, stream_mode="updates", output_keys=["plain"]))
    assert chunks == [{"a": {"plain": "A"}}, {"b": None}]


def ask_graph(saver: InMemorySaver) -> Any:
    def ask(state: S) -> dict[str, Any]:
        return {"plain": interrupt("ok?")}

    return StateGraph(S).add_node("ask", ask).add_edge(START, "ask").compile(checkpointer=saver)


def test_a_resumed_run_first_shows_the_checkpoint_it_resumes_with_its_metadata_and_interrupt() -> None:
    graph = ask_graph(InMemorySaver())
    config = thread("resume-debug")
    [pending] = graph.invoke({"items": []}, config)["__interrupt__"]
    first = next(iter(graph.stream(Command(resume="yes"), config, stream_mode="checkpoints")))
    assert first["metadata"] == {"source": "loop", "step": 0, "parents": {}}
    assert list(first["metadata"]) == ["source", "step", "parents"]
    assert list(first["config"]["configurable"]) == ["checkpoint_ns", "thread_id", "checkpoint_id"]
    [task] = first["tasks"]
    assert task["interrupts"] == ({"value": "ok?", "id": pending.id, "response_schema": None},)


def test_checkpoint_payloads_and_snapshots_keep_langgraphs_key_order() -> None:
    graph = StateGraph(S).add_node("a", add("a")).add_edge(START, "a").compile(checkpointer=InMemorySaver())
    config = thread("order")
    payloads = list(graph.stream({"items": []}, config, stream_mode="checkpoints"))
    assert [list(p["config"]["configurable"]) for p in payloads] == [["checkpoint_ns", "thread_id", "checkpoint_id"]] * 3
    snapshot = graph.get_state(config)
    assert list(snapshot.metadata) == ["source", "step", "parents"]
    assert list(snapshot.config["configurable"]) == ["thread_id", "checkpoint_ns", "checkpoint_id"]
    returned = graph.update_state(config, {"plain": "x"})
    assert list(returned["configurable"]) == ["thread_id", "checkpoint_ns", "checkpoint_id"]


def test_a_subgraphs_checkpoints_name_every_enclosing_checkpoint() -> None:
    inner = StateGraph(S).add_node("sub", add("sub")).add_edge(START, "sub").compile()
    outer = StateGraph(S).add_node("child", inner).add_edge(START, "child").compile(checkpointer=InMemorySaver())
    chunks = list(outer.stream({"items": []}, thread("maps"), stream_mode="checkpoints", subgraphs=True))
    nested = [payload for namespace, payload in chunks if namespace]
    assert nested
    for payload in nested:
        configurable = payload["config"]["configurable"]
        checkpoint_map = configurable["checkpoint_map"]
        assert list(checkpoint_map) == ["", configurable["checkpoint_ns"]]
        assert checkpoint_map[configurable["checkpoint_ns"]] == configurable["checkpoint_id"]


def test_a_snapshot_lists_next_nodes_in_the_order_they_were_added() -> None:
    graph = (
        StateGraph(S)
        .add_node("zeta", add("z"))
        .add_node("alpha", add("a"))
        .add_edge(START, "zeta")
        .add_edge(START, "alpha")
        .compile(checkpointer=InMemorySaver(), interrupt_before=["zeta", "alpha"])
    )
    config = thread("next-order")
    graph.invoke({"items": []}, config)
    snapshot = graph.get_state(config)
    assert snapshot.next == ("zeta", "alpha")
    assert [t.name for t in snapshot.tasks] == ["zeta", "alpha"]


def test_a_task_answered_and_finished_no_longer_lists_its_interrupt() -> None:
    def asks(name: str) -> Any:
        def node(state: S) -> dict[str, Any]:
            return {"items": [f"{name}:{interrupt(name)}"]}

        return node

    graph = (
        StateGraph(S)
        .add_node("p1", asks("p1"))
        .add_node("p2", asks("p2"))
        .add_edge(START, "p1")
        .add_edge(START, "p2")
        .compile(checkpointer=InMemorySaver())
    )
    config = thread("partial")
    pending = {i.value: i for i in graph.invoke({"items": []}, config)["__interrupt__"]}
    graph.invoke(Command(resume={pending["p1"].id: "yes"}), config)
    snapshot = graph.get_state(config)
    by_name = {t.name: t for t in snapshot.tasks}
    assert by_name["p1"].interrupts == () and by_name["p1"].result == {"items": ["p1:yes"]}
    assert snapshot.interrupts == (pending["p2"],)


def test_the_state_of_a_thread_with_no_checkpoint() -> None:
    graph = StateGraph(S).add_node("a", add("a")).add_edge(START, "a").compile(checkpointer=InMemorySaver())
    snapshot = graph.get_state(thread("never-used"))
    assert (snapshot.values, snapshot.next, snapshot.config) == ({}, (), thread("never-used"))


def test_bulk_update_state_rejects_empty_input_as_langgraph_does() -> None:
    graph = StateGraph(S).add_node("a", add("a")).add_edge(START, "a").compile(checkpointer=InMemorySaver())
    config = thread("bulk")
    graph.invoke({"items": []}, config)
    with pytest.raises(ValueError, match="^No supersteps provided"):
        graph.bulk_update_state(config, [])
    with pytest.raises(ValueError, match="^No updates provided"):
        graph.bulk_update_state(config, [[]])
    with pytest.raises(InvalidUpdateError, match="^as_node is required when applying multiple updates"):
        graph.bulk_update_state(config, [[StateUpdate({"plain": "x"}), StateUpdate({"plain": "y"})]])


def test_a_parents_node_cache_does_not_reach_its_subgraphs() -> None:
    from stategraph.cache.memory import InMemoryCache
    from stategraph.types import CachePolicy

    runs: list[int] = []

    def expensive(state: S) -> dict[str, Any]:
        runs.append(1)
        return {"items": ["x"]}

    inner = StateGraph(S).add_node("expensive", expensive, cache_policy=CachePolicy()).add_edge(START, "expensive").compile()
    outer = StateGraph(S).add_node("inner", inner).add_edge(START, "inner").compile(cache=InMemoryCache())
    outer.invoke({"items": []})
    outer.invoke({"items": []})
    assert len(runs) == 2


def test_retry_policy_defaults_to_default_retry_on() -> None:
    from stategraph.types import RetryPolicy, default_retry_on

    assert RetryPolicy().retry_on is default_retry_on
