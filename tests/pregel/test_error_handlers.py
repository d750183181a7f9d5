"""Node error handlers (api_spec.md §2.2, §2.7, §13.4; transcript A.9).

Each behaviour runs on the sync and the async driver, and with the in-memory and the SQLite
checkpointer where persistence matters.
"""

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional, TypedDict

import pytest

from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.constants import END, START
from stategraph.errors import GraphBuildError, NodeError
from stategraph.graph import StateGraph
from stategraph.types import Command, RetryPolicy


class State(TypedDict):
    x: Annotated[list, operator.add]


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "handlers.sqlite")) as sqlite:
            yield sqlite


def boom(state: State) -> dict[str, Any]:
    raise ValueError("kaboom")


def after(state: State) -> dict[str, Any]:
    return {"x": ["after"]}


def recover(state: State, error: NodeError) -> Command:
    return Command(update={"x": [f"handled {error.node}: {error.error}"]}, goto="after")


def transcript_graph(checkpointer: Any = None) -> Any:
    return (
        StateGraph(State)
        .add_node("boom", boom, error_handler=recover)
        .add_node("after", after)
        .add_edge(START, "boom")
        .compile(checkpointer=checkpointer)
    )


def test_a9_the_handler_recovers_and_routes_on(stream: Callable[..., list[Any]], saver: Any) -> None:
    config = {"configurable": {"thread_id": "a9"}}
    chunks = stream(transcript_graph(saver), {"x": []}, config, stream_mode="updates")
    assert chunks == [
        {"__error_handler__boom": {"x": ["handled boom: kaboom"]}},
        {"after": {"x": ["after"]}},
    ]
    graph = transcript_graph(saver)
    assert graph.get_state(config).values == {"x": ["handled boom: kaboom", "after"]}
    # The failure is on record: the step's checkpoint lists boom's error.
    failed_step = [s for s in graph.get_state_history(config) if s.next == ("boom",)][0]
    assert [(t.name, t.error) for t in failed_step.tasks] == [("boom", "ValueError('kaboom')")]


def test_the_handler_gets_the_failed_nodes_input_and_the_exception_itself(
    stream: Callable[..., list[Any]],
) -> None:
    seen: list[Any] = []
    raised = KeyError("missing")

    def fails(state: State) -> dict[str, Any]:
        raise raised

    def handler(state: State, error: NodeError) -> dict[str, Any]:
        seen.append((state, error.node, error.error))
        return {"x": ["recovered"]}

    graph = (
        StateGraph(State)
        .add_node("fails", fails, error_handler=handler)
        .add_edge(START, "fails")
        .compile()
    )
    assert stream(graph, {"x": ["in"]}, stream_mode="values")[-1] == {"x": ["in", "recovered"]}
    assert seen == [({"x": ["in"]}, "fails", raised)]


def test_the_handler_runs_only_once_retries_are_exhausted(
    stream: Callable[..., list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    attempts: list[int] = []

    def flaky(state: State) -> dict[str, Any]:
        attempts.append(1)
        raise ConnectionError("down")

    def handler(state: State, error: NodeError) -> dict[str, Any]:
        return {"x": [f"gave up after {len(attempts)}"]}

    graph = (
        StateGraph(State)
        .add_node(
            "flaky",
            flaky,
            retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.0, jitter=False),
            error_handler=handler,
        )
        .add_edge(START, "flaky")
        .compile()
    )
    assert stream(graph, {"x": []}, stream_mode="updates") == [
        {"__error_handler__flaky": {"x": ["gave up after 3"]}}
    ]


def test_a_handler_that_raises_fails_the_run(stream: Callable[..., list[Any]]) -> None:
    def broken(state: State, error: NodeError) -> dict[str, Any]:
        raise RuntimeError(f"handler failed on {error.error}")

    graph = StateGraph(State).add_node("boom", boom, error_handler=broken).add_edge(START, "boom").compile()
    with pytest.raises(RuntimeError, match="handler failed on kaboom"):
        stream(graph, {"x": []})


def test_nodes_without_a_handler_still_fail_the_run(stream: Callable[..., list[Any]]) -> None:
    graph = (
        StateGraph(State)
        .add_node("boom", boom)
        .add_node("other", after, error_handler=recover)
        .add_edge(START, "boom")
        .compile()
    )
    with pytest.raises(ValueError, match="kaboom"):
        stream(graph, {"x": []})


def test_a_sibling_of_the_failed_node_keeps_its_update_and_all_lands_in_one_step(
    stream: Callable[..., list[Any]], saver: Any
) -> None:
    def handler(state: State, error: NodeError) -> dict[str, Any]:
        return {"x": ["handled"]}

    graph = (
        StateGraph(State)
        .add_node("boom", boom, error_handler=handler)
        .add_node("sibling", after)
        .add_edge(START, "boom")
        .add_edge(START, "sibling")
        .compile(checkpointer=saver)
    )
    config = {"configurable": {"thread_id": "siblings"}}
    updates = stream(graph, {"x": []}, config, stream_mode="updates")
    assert sorted(next(iter(chunk)) for chunk in updates) == ["__error_handler__boom", "sibling"]
    assert sorted(graph.get_state(config).values["x"]) == ["after", "handled"]
    steps = [s.metadata["step"] for s in graph.get_state_history(config)]
    assert steps == [1, 0, -1]  # input, the step with the failure and its handler, nothing else


def test_resuming_runs_the_handler_again_never_the_failed_node(saver: Any) -> None:
    node_runs: list[int] = []
    handler_runs: list[int] = []
    fixed = {"yet": False}

    def fails(state: State) -> dict[str, Any]:
        node_runs.append(1)
        raise ValueError("kaboom")

    def handler(state: State, error: NodeError) -> dict[str, Any]:
        handler_runs.append(1)
        if not fixed["yet"]:
            raise RuntimeError("handler crashed")
        return {"x": [f"handled {error.node}: {error.error}"]}

    graph = (
        StateGraph(State)
        .add_node("fails", fails, error_handler=handler)
        .add_edge(START, "fails")
        .compile(checkpointer=saver)
    )
    config = {"configurable": {"thread_id": "resume"}}
    with pytest.raises(RuntimeError, match="handler crashed"):
        graph.invoke({"x": []}, config)
    fixed["yet"] = True
    out = graph.invoke(None, config)
    assert node_runs == [1]
    assert handler_runs == [1, 1]
    # Stored errors read back as their text; the handler still receives an exception.
    assert out == {"x": ["handled fails: ValueError('kaboom')"]}


def test_node_defaults_give_a_handler_to_regular_nodes_only(stream: Callable[..., list[Any]]) -> None:
    handled: list[str] = []

    def fallback(state: State, error: NodeError) -> dict[str, Any]:
        handled.append(error.node)
        if error.node == "second":
            raise RuntimeError("the default handler is not applied to itself")
        return {"x": [f"default handled {error.node}"]}

    def own(state: State, error: NodeError) -> dict[str, Any]:
        return {"x": ["own handler"]}

    def second(state: State) -> dict[str, Any]:
        raise ValueError("again")

    builder = (
        StateGraph(State)
        .set_node_defaults(error_handler=fallback)
        .add_node("boom", boom)
        .add_node("second", second, error_handler=own)
        .add_edge(START, "boom")
        .add_edge(START, "second")
    )
    graph = builder.compile()
    updates = stream(graph, {"x": []}, stream_mode="updates")
    assert sorted(updates, key=str) == [
        {"__default_error_handler__": {"x": ["default handled boom"]}},
        {"__error_handler__second": {"x": ["own handler"]}},
    ]
    assert handled == ["boom"]
    assert set(builder.nodes) == {"boom", "second", "__error_handler__second", "__default_error_handler__"}


def test_the_tasks_stream_shows_the_handler_task(stream: Callable[..., list[Any]]) -> None:
    events = stream(transcript_graph(), {"x": []}, stream_mode="tasks")
    handler_events = [e for e in events if e["name"] == "__error_handler__boom"]
    assert [sorted(e) for e in handler_events] == [
        ["id", "input", "name", "triggers"],
        ["error", "id", "interrupts", "name", "result"],
    ]
    assert handler_events[0]["triggers"] == ("__pregel_push",)
    assert handler_events[1]["error"] is None
    assert handler_events[1]["result"] == {"x": ["handled boom: kaboom"]}
    failed = [e for e in events if e["name"] == "boom" and "error" in e]
    assert failed == []  # the failed task's result is never reported: its handler's is


def test_error_is_injected_only_when_annotated_node_error() -> None:
    received: list[Any] = []

    def plain(state: State, error: Any = "not injected") -> dict[str, Any]:
        received.append(error)
        return {}

    def optional(state: State, error: Optional[NodeError] = None) -> dict[str, Any]:
        received.append(error)
        return {}

    graph = (
        StateGraph(State)
        .add_node("plain", plain)
        .add_node("optional", optional)
        .add_edge(START, "plain")
        .add_edge("plain", "optional")
        .add_edge("optional", END)
        .compile()
    )
    graph.invoke({"x": []})
    assert received == ["not injected", None]  # a regular node gets error=None


def test_a_handler_that_is_not_callable_is_refused() -> None:
    with pytest.raises(GraphBuildError, match="error_handler for '__error_handler__n' must be"):
        StateGraph(State).add_node("n", after, error_handler="oops")
    with pytest.raises(GraphBuildError, match=r"set_node_defaults\(error_handler=...\) must be"):
        StateGraph(State).set_node_defaults(error_handler=42)


def test_default_timeout_applies_to_async_nodes_only() -> None:
    async def slow(state: State) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"x": ["late"]}

    builder = (
        StateGraph(State)
        .set_node_defaults(timeout=0.05)
        .add_node("quick", after)
        .add_node("slow", slow)
        .add_edge(START, "quick")
        .add_edge("quick", "slow")
    )
    graph = builder.compile()  # the sync node is left without a timeout, not refused
    assert builder.nodes["quick"].timeout is None
    from stategraph.errors import NodeTimeoutError

    with pytest.raises(NodeTimeoutError):
        asyncio.run(graph.ainvoke({"x": []}))


def test_a_handler_runs_as_soon_as_its_node_fails_beside_the_steps_other_nodes() -> None:
    import threading

    handled = threading.Event()

    def handler(state: State, error: NodeError) -> dict[str, Any]:
        handled.set()
        return {"x": ["handled"]}

    def sibling(state: State) -> dict[str, Any]:
        # Finishes only once the failed node's handler has run: a handler started after the
        # whole step would never come.
        return {"x": [f"sibling saw the handler: {handled.wait(5)}"]}

    graph = (
        StateGraph(State)
        .add_node("boom", boom, error_handler=handler)
        .add_node("sibling", sibling)
        .add_edge(START, "boom")
        .add_edge(START, "sibling")
        .compile(checkpointer=InMemorySaver())
    )
    out = graph.invoke({"x": []}, {"configurable": {"thread_id": "t"}})
    assert sorted(out["x"]) == ["handled", "sibling saw the handler: True"]


async def test_an_async_handler_runs_as_soon_as_its_node_fails_beside_the_steps_other_nodes() -> None:
    handled = asyncio.Event()

    async def handler(state: State, error: NodeError) -> dict[str, Any]:
        handled.set()
        return {"x": ["handled"]}

    async def sibling(state: State) -> dict[str, Any]:
        try:
            await asyncio.wait_for(handled.wait(), 5)
        except asyncio.TimeoutError:
            return {"x": ["sibling saw the handler: False"]}
        return {"x": ["sibling saw the handler: True"]}

    async def aboom(state: State) -> dict[str, Any]:
        raise ValueError("kaboom")

    graph = (
        StateGraph(State)
        .add_node("boom", aboom, error_handler=handler)
        .add_node("sibling", sibling)
        .add_edge(START, "boom")
        .add_edge(START, "sibling")
        .compile(checkpointer=InMemorySaver())
    )
    out = await graph.ainvoke({"x": []}, {"configurable": {"thread_id": "t"}})
    assert sorted(out["x"]) == ["handled", "sibling saw the handler: True"]


def test_a_default_handler_cannot_take_the_name_of_a_node_of_the_graph() -> None:
    builder = (
        StateGraph(State)
        .set_node_defaults(error_handler=lambda state, error: {"x": ["handled"]})
        .add_node("__default_error_handler__", after)
        .add_edge(START, "__default_error_handler__")
    )
    with pytest.raises(GraphBuildError, match="`__default_error_handler__` already exists"):
        builder.compile()


def test_a_graph_with_a_default_handler_compiles_again() -> None:
    def handle(state: State, error: NodeError) -> dict[str, Any]:
        return {"x": ["handled"]}

    builder = (
        StateGraph(State)
        .set_node_defaults(error_handler=handle)
        .add_node("boom", boom)
        .add_edge(START, "boom")
    )
    builder.compile()
    assert builder.compile().invoke({"x": []}) == {"x": ["handled"]}
