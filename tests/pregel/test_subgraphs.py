"""Subgraphs under a parent's checkpointer: breakpoints that stop the parent, subgraphs run from
inside a node's function, their snapshots and what ``exit`` durability keeps of them."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from stategraph.graph import START, StateGraph
from stategraph.types import Command, interrupt


class Inner(TypedDict):
    log: Annotated[str, operator.add]


class Outer(TypedDict):
    log: Annotated[str, operator.add]


def thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def breakpoint_graph(saver: Any) -> Any:
    """inner (a subgraph stopping before its second node) in parallel with side, then after."""
    inner = (
        StateGraph(Inner)
        .add_node("first", lambda s: {"log": "1"})
        .add_node("second", lambda s: {"log": "2"})
        .add_edge(START, "first")
        .add_edge("first", "second")
        .compile(interrupt_before=["second"])
    )
    return (
        StateGraph(Outer)
        .add_node("inner", inner)
        .add_node("side", lambda s: {"log": "s"})
        .add_node("after", lambda s: {"log": "a"})
        .add_edge(START, "inner")
        .add_edge(START, "side")
        .add_edge(["inner", "side"], "after")
        .compile(checkpointer=saver)
    )


def test_a_subgraph_breakpoint_stops_the_parent_and_resuming_goes_on(checkpointer: Any) -> None:
    graph = breakpoint_graph(checkpointer)
    # The parallel node's update is kept; the stop has no interrupt value to report.
    assert graph.invoke({"log": ""}, thread()) == {"log": "s"}
    assert graph.get_state(thread()).next == ("inner",)
    assert graph.invoke(None, thread()) == {"log": "12sa"}


def test_only_the_outermost_graph_reports_a_subgraph_breakpoint(checkpointer: Any) -> None:
    graph = breakpoint_graph(checkpointer)
    chunks = list(graph.stream({"log": ""}, thread(), stream_mode="updates", subgraphs=True))
    stops = [(ns, chunk) for ns, chunk in chunks if "__interrupt__" in chunk]
    assert stops == [((), {"__interrupt__": ()})]
    # The side node is not run again on resume: its writes were saved with the stopped step.
    resumed = list(graph.stream(None, thread(), stream_mode="updates"))
    assert [next(iter(chunk)) for chunk in resumed] == ["side", "inner", "after"]
    assert resumed[0]["__metadata__"] == {"cached": True}


def test_a_subgraph_run_inside_a_node_function_is_the_tasks_state(checkpointer: Any) -> None:
    def ask(state: Inner) -> dict[str, str]:
        return {"log": interrupt("more?")}

    sub = StateGraph(Inner).add_node(ask).add_edge(START, "ask").compile(checkpointer=True)

    def delegate(state: Outer) -> dict[str, str]:
        return {"log": sub.invoke({"log": state["log"]})["log"]}

    graph = StateGraph(Outer).add_node(delegate).add_edge(START, "delegate").compile(checkpointer=checkpointer)
    graph.invoke({"log": "x"}, thread())
    snapshot = graph.get_state(thread(), subgraphs=True)
    assert snapshot.tasks[0].state.values == {"log": "x"}
    assert snapshot.tasks[0].state.next == ("ask",)
    assert graph.invoke(Command(resume="y"), thread()) == {"log": "xxy"}


def test_a_subgraph_checkpoints_history_names_its_parents_checkpoints(checkpointer: Any) -> None:
    inner = StateGraph(Inner).add_node("step", lambda s: {"log": "i"}).add_edge(START, "step").compile()
    graph = StateGraph(Outer).add_node("inner", inner).add_edge(START, "inner").compile(checkpointer=checkpointer)
    graph.invoke({"log": ""}, thread())
    namespaces = {
        saved.config["configurable"]["checkpoint_ns"] for saved in checkpointer.list(thread())
    } - {""}
    (namespace,) = namespaces
    history = list(graph.get_state_history({"configurable": {"thread_id": "t", "checkpoint_ns": namespace}}))
    assert history
    for snapshot in history:
        mapping = snapshot.config["configurable"]["checkpoint_map"]
        assert set(mapping) == {"", namespace}
        assert mapping[namespace] == snapshot.config["configurable"]["checkpoint_id"]


def test_exit_durability_keeps_nothing_of_a_finished_subgraph_run(checkpointer: Any) -> None:
    inner = (
        StateGraph(Inner)
        .add_node("a", lambda s: {"log": "a"})
        .add_node("b", lambda s: {"log": "b"})
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile(checkpointer=checkpointer)
    )
    graph = StateGraph(Outer).add_node("inner", inner).add_edge(START, "inner").compile(checkpointer=checkpointer)
    assert graph.invoke({"log": ""}, thread(), durability="exit") == {"log": "ab"}
    saved = list(checkpointer.list(thread()))
    assert [s.config["configurable"]["checkpoint_ns"] for s in saved] == [""]


def test_each_interrupted_task_reports_its_own_interrupts(checkpointer: Any) -> None:
    graph = (
        StateGraph(Outer)
        .add_node("a", lambda s: {"log": interrupt("a")})
        .add_node("b", lambda s: {"log": interrupt("b")})
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile(checkpointer=checkpointer)
    )
    stops = [c["__interrupt__"] for c in graph.stream({"log": ""}, thread(), stream_mode="updates")]
    assert sorted(tuple(i.value for i in stop) for stop in stops) == [("a",), ("b",)]


def leaf(name: str) -> Any:
    return StateGraph(Inner).add_node("work", lambda s: {"log": name}).add_edge(START, "work").compile()


def test_get_subgraphs_matches_a_namespace_segment_by_segment() -> None:
    review = leaf("r")
    research = StateGraph(Inner).add_node("review", review).add_edge(START, "review").compile()
    research_review = leaf("rr")
    parent = (
        StateGraph(Outer)
        .add_node("research", research)
        .add_node("research_review", research_review)
        .add_edge(START, "research")
        .add_edge(START, "research_review")
        .compile()
    )
    assert list(parent.get_subgraphs()) == [("research", research), ("research_review", research_review)]
    assert list(parent.get_subgraphs(namespace="research_review")) == [("research_review", research_review)]
    assert list(parent.get_subgraphs(namespace="research|review", recurse=True)) == [("research|review", review)]
    assert list(parent.get_subgraphs(namespace="research|review")) == []  # nested: needs recurse
    assert [n for n, _ in parent.get_subgraphs(recurse=True)] == ["research", "research|review", "research_review"]


def test_a_subgraph_a_node_invokes_undeclared_is_read_with_the_parent_but_not_updated(checkpointer: Any) -> None:
    hidden = {"graph": leaf("x")}

    def tools(state: Outer) -> dict[str, str]:
        hidden["graph"].invoke({"log": "in"})  # a subscript: not detected as a subgraph
        return {"log": "done"}

    parent = StateGraph(Outer).add_node("tools", tools).add_edge(START, "tools").compile(checkpointer=checkpointer)
    namespaces = [ns for ns, _ in parent.stream({"log": ""}, thread(), subgraphs=True) if ns]
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": namespaces[0][0]}}
    assert parent.get_state(config).values == {"log": "inx"}
    assert [s.values for s in parent.get_state_history(config)] == [{"log": "inx"}, {"log": "in"}, {"log": ""}]
    import pytest

    with pytest.raises(ValueError, match="Subgraph tools not found"):
        parent.update_state(config, {"log": "edit"})


def _nested_breakpoint_graph(saver: Any) -> Any:
    class K(TypedDict):
        key: str

    inner = StateGraph(K)
    inner.add_node("g1", lambda s: {"key": s["key"] + " here"})
    inner.add_node("g2", lambda s: {"key": s["key"] + " there"})
    inner.add_edge(START, "g1").add_edge("g1", "g2")
    middle = StateGraph(K).add_node("c1", inner.compile(interrupt_before=["g2"])).add_edge(START, "c1")
    outer = StateGraph(K).add_node("p1", lambda s: {"key": "hi " + s["key"]})
    outer.add_node("child", middle.compile()).add_edge(START, "p1").add_edge("p1", "child")
    return outer.compile(checkpointer=saver)


def test_a_nested_breakpoint_streams_no_values_its_step_did_not_change() -> None:
    from stategraph.checkpoint.memory import InMemorySaver

    graph = _nested_breakpoint_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert list(graph.stream({"key": "v"}, config, stream_mode="values")) == [{"key": "v"}, {"key": "hi v"}]
    assert list(graph.stream(None, config, stream_mode="values")) == [{"key": "hi v"}, {"key": "hi v here there"}]


def test_the_node_finished_hook_hears_every_finished_node_subgraphs_included() -> None:
    from stategraph.checkpoint.memory import InMemorySaver

    graph = _nested_breakpoint_graph(InMemorySaver())
    finished: list[str] = []
    config = {"configurable": {"thread_id": "t", "__pregel_node_finished": finished.append}}
    list(graph.stream({"key": "v"}, config))
    assert finished == ["p1", "g1"]
    list(graph.stream(None, config))
    assert finished == ["p1", "g1", "g2", "c1", "child"]
