"""The superstep engine (api_spec.md §4, §5.1–5.3, §13.1, §18; transcripts A.1, A.2, A.6).

Most behaviours are checked on both drivers: the ``run`` fixture invokes a graph with
``invoke`` or with ``ainvoke`` (in a fresh event loop), so each test body is written once.
"""

import asyncio
import operator
import random
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Optional, TypedDict

import pytest

from stategraph.config import get_config, get_stream_writer
from stategraph.constants import END, START
from stategraph.errors import GraphRecursionError, ParentCommand
from stategraph.graph import StateGraph
from stategraph.runtime import Runtime, get_runtime
from stategraph.types import Command, RetryPolicy, Send

WAIT_SECONDS = 5.0  # upper bound for event waits; never reached when the engine is right


class State(TypedDict):
    x: Annotated[list, operator.add]


def append(name: str) -> Callable[[Any], dict[str, Any]]:
    def node(state: Any) -> dict[str, Any]:
        return {"x": [name]}

    node.__name__ = name
    return node


Runner = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    """``run(graph, input, config=None, **kwargs)`` through invoke or ainvoke."""

    def call(graph: Any, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        if request.param == "sync":
            return graph.invoke(input, config, **kwargs)
        return asyncio.run(graph.ainvoke(input, config, **kwargs))

    return call


def chain(*names: str) -> StateGraph:
    builder = StateGraph(State)
    previous = START
    for name in names:
        builder.add_node(name, append(name)).add_edge(previous, name)
        previous = name
    return builder


# ---------------------------------------------------------------------------- supersteps


def test_a_chain_runs_one_node_per_step_in_order(run: Runner) -> None:
    assert run(chain("a", "b", "c").compile(), {"x": []}) == {"x": ["a", "b", "c"]}


def test_nodes_of_one_step_read_the_state_from_the_start_of_the_step(run: Runner) -> None:
    seen: dict[str, list[Any]] = {}

    def look(name: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            seen[name] = list(state["x"])
            return {"x": [name]}

        return node

    graph = (
        StateGraph(State)
        .add_node("a", look("a"))
        .add_node("b", look("b"))
        .add_node("c", look("c"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge("a", "c")
        .compile()
    )
    run(graph, {"x": ["in"]})
    assert seen == {"a": ["in"], "b": ["in"], "c": ["in", "a", "b"]}


def test_empty_plain_keys_are_omitted_from_node_input(run: Runner) -> None:
    class S(TypedDict):
        x: Annotated[list, operator.add]
        maybe: str

    seen: list[dict[str, Any]] = []

    def node(state: S) -> dict[str, Any]:
        seen.append(dict(state))
        return {"x": ["n"]}

    graph = StateGraph(S).add_node("n", node).add_edge(START, "n").compile()
    run(graph, {"x": []})
    assert seen == [{"x": []}]


def test_a_node_reruns_only_when_its_trigger_is_written_again(run: Runner) -> None:
    counts = {"loop": 0, "after": 0}

    def loop(state: State) -> dict[str, Any]:
        counts["loop"] += 1
        return {"x": [f"loop{counts['loop']}"]}

    def again(state: State) -> str:
        return "loop" if len(state["x"]) < 3 else "after"

    def after(state: State) -> dict[str, Any]:
        counts["after"] += 1
        return {"x": ["after"]}

    graph = (
        StateGraph(State)
        .add_node("loop", loop)
        .add_node("after", after)
        .add_edge(START, "loop")
        .add_conditional_edges("loop", again, ["loop", "after"])
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["loop1", "loop2", "loop3", "after"]}
    assert counts == {"loop": 3, "after": 1}


# ---------------------------------------------------------------------------- deterministic write order (A.1)


def test_parallel_writes_fold_in_node_name_order_not_completion_order(run: Runner) -> None:
    # zeta finishes first, then mid, then alpha; the result is still alphabetical.
    zeta_done = threading.Event()
    mid_done = threading.Event()

    def zeta(state: State) -> dict[str, Any]:
        zeta_done.set()
        return {"x": ["zeta"]}

    def mid(state: State) -> dict[str, Any]:
        zeta_done.wait(WAIT_SECONDS)
        mid_done.set()
        return {"x": ["mid"]}

    def alpha(state: State) -> dict[str, Any]:
        mid_done.wait(WAIT_SECONDS)
        return {"x": ["alpha"]}

    builder = StateGraph(State)
    for node in (zeta, alpha, mid):
        builder.add_node(node.__name__, node).add_edge(START, node.__name__)
    assert run(builder.compile(), {"x": []}) == {"x": ["alpha", "mid", "zeta"]}


def test_pull_tasks_fold_before_send_tasks_which_fold_by_index(run: Runner) -> None:
    def aa(state: dict[str, Any]) -> dict[str, Any]:
        return {"x": [f"aa(push {state['i']})"]}

    def route(state: State) -> list[Any]:
        return [Send("aa", {"i": i}) for i in range(12)] + ["zz", "mm"]

    graph = (
        StateGraph(State)
        .add_node("aa", aa)
        .add_node("zz", lambda s: {"x": ["zz(pull)"]})
        .add_node("mm", lambda s: {"x": ["mm(pull)"]})
        .add_conditional_edges(START, route)
        .compile()
    )
    assert run(graph, {"x": []}) == {
        "x": ["mm(pull)", "zz(pull)", *[f"aa(push {i})" for i in range(12)]]
    }


# ---------------------------------------------------------------------------- Send (A.2)


def test_send_map_reduce(run: Runner) -> None:
    def w(packet: dict[str, Any]) -> dict[str, Any]:
        return {"x": [packet["y"] + "!"]}

    graph = (
        StateGraph(State)
        .add_node("w", w)
        .add_conditional_edges(START, lambda s: [Send("w", {"x": [i], "y": str(i)}) for i in range(3)])
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["0!", "1!", "2!"]}


def test_send_map_reduce_streams_one_update_per_packet(stream: Runner) -> None:
    def w(packet: dict[str, Any]) -> dict[str, Any]:
        return {"x": [packet["y"] + "!"]}

    graph = (
        StateGraph(State)
        .add_node("w", w)
        .add_conditional_edges(START, lambda s: [Send("w", {"x": [i], "y": str(i)}) for i in range(3)])
        .compile()
    )
    chunks = stream(graph, {"x": []}, stream_mode="updates")
    assert sorted(chunks, key=repr) == [{"w": {"x": ["0!"]}}, {"w": {"x": ["1!"]}}, {"w": {"x": ["2!"]}}]


def test_a_send_to_an_unknown_node_is_ignored(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_conditional_edges(START, lambda s: [Send("ghost", {}), "a"])
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a"]}


# ---------------------------------------------------------------------------- Command


def test_command_goto_routes_and_update_writes(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(update={"x": ["a"]}, goto="b"))
        .add_node("b", append("b"))
        .add_node("c", append("c"))
        .add_edge(START, "a")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b"]}


def test_command_goto_accepts_lists_sends_and_end(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(goto=["b", Send("c", {"x": []}), END]))
        .add_node("b", append("b"))
        .add_node("c", append("c"))
        .add_edge(START, "a")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["b", "c"]}


def test_static_edge_and_command_goto_both_fire(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(update={"x": ["a"]}, goto="c"))
        .add_node("b", append("b"))
        .add_node("c", append("c"))
        .add_edge(START, "a")
        .add_edge("a", "b")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b", "c"]}


def test_command_update_as_pairs_may_repeat_a_reducer_key(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(update=[("x", ["1"]), ("x", ["2"])]))
        .add_edge(START, "a")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["1", "2"]}


def test_a_list_of_commands_applies_each(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: [Command(update={"x": ["1"]}), Command(goto="b")])
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["1", "b"]}


def test_command_goto_an_unknown_node_is_ignored(run: Runner) -> None:
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(update={"x": ["a"]}, goto="ghost"))
        .add_edge(START, "a")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a"]}


def test_command_parent_returned_in_the_root_graph_raises_parent_command(run: Runner) -> None:
    # As LangGraph: the command leaves invoke() for whoever called the root graph.
    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(graph=Command.PARENT, goto="a"))
        .add_edge(START, "a")
        .compile()
    )
    with pytest.raises(ParentCommand) as raised:
        run(graph, {"x": []})
    assert raised.value.args[0].goto == "a"


# ---------------------------------------------------------------------------- conditional edge timing


def test_branch_sees_its_nodes_writes_but_not_its_siblings(run: Runner) -> None:
    seen: list[Any] = []

    def route(state: dict[str, Any]) -> str:
        seen.append(list(state["x"]))
        return END

    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_conditional_edges("a", route)
        .compile()
    )
    run(graph, {"x": ["in"]})
    assert seen == [["in", "a"]]


def test_branch_input_includes_extra_keys_of_the_nodes_return(run: Runner) -> None:
    seen: list[dict[str, Any]] = []

    def route(state: dict[str, Any]) -> str:
        seen.append(dict(state))
        return state["hint"]

    graph = (
        StateGraph(State)
        .add_node("a", lambda s: {"x": ["a"], "hint": "b"})
        .add_node("b", append("b"))
        .add_edge(START, "a")
        .add_conditional_edges("a", route)
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b"]}
    assert seen == [{"x": ["a"], "hint": "b"}]


# ---------------------------------------------------------------------------- joins, fan-in, defer


def uneven(builder: StateGraph) -> StateGraph:
    """START -> a -> ... and START -> b -> b2 -> ...: branches of unequal length."""
    return (
        builder.add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_node("b2", append("b2"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge("b", "b2")
    )


def test_waiting_edge_runs_the_target_once_after_all_sources(run: Runner) -> None:
    graph = uneven(StateGraph(State)).add_node("c", append("c")).add_edge(["a", "b2"], "c").compile()
    assert run(graph, {"x": []}) == {"x": ["a", "b", "b2", "c"]}


def test_non_join_fan_in_runs_the_target_once_per_step_a_source_ran(run: Runner) -> None:
    graph = (
        uneven(StateGraph(State))
        .add_node("c", append("c"))
        .add_edge("a", "c")
        .add_edge("b2", "c")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b", "b2", "c", "c"]}


def test_deferred_node_runs_once_when_the_graph_would_otherwise_finish(run: Runner) -> None:
    graph = (
        uneven(StateGraph(State))
        .add_node("c", append("c"), defer=True)
        .add_edge("a", "c")
        .add_edge("b2", "c")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b", "b2", "c"]}


def test_join_barrier_resets_after_the_target_runs(run: Runner) -> None:
    def join(state: State) -> dict[str, Any]:
        return {"x": ["join"]}

    def again(state: State) -> Any:
        return ["a", "b"] if state["x"].count("join") < 2 else END

    graph = (
        StateGraph(State)
        .add_node("a", append("a"))
        .add_node("b", append("b"))
        .add_node("join", join)
        .add_edge(START, "a")
        .add_edge(START, "b")
        .add_edge(["a", "b"], "join")
        .add_conditional_edges("join", again, ["a", "b", END])
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b", "join", "a", "b", "join"]}


def test_join_waits_across_steps_even_if_one_source_runs_twice(run: Runner) -> None:
    # a runs at steps 1 and 2 (a self-loop), b only at step 3: the join fires once, after b.
    def a(state: State) -> dict[str, Any]:
        return {"x": ["a"]}

    def a_again(state: State) -> str:
        return "a" if state["x"].count("a") < 2 else END

    graph = (
        StateGraph(State)
        .add_node("a", a)
        .add_node("b0", append("b0"))
        .add_node("b1", append("b1"))
        .add_node("b", append("b"))
        .add_node("c", append("c"))
        .add_edge(START, "a")
        .add_edge(START, "b0")
        .add_edge("b0", "b1")
        .add_edge("b1", "b")
        .add_conditional_edges("a", a_again, ["a", END])
        .add_edge(["a", "b"], "c")
        .compile()
    )
    assert run(graph, {"x": []}) == {"x": ["a", "b0", "a", "b1", "b", "c"]}


# ---------------------------------------------------------------------------- recursion limit (A.6)


def counted_chain(n: int) -> tuple[Any, list[str]]:
    ran: list[str] = []
    builder = StateGraph(State)
    previous = START
    for i in range(n):
        name = f"n{i}"

        def node(state: State, name: str = name) -> dict[str, Any]:
            ran.append(name)
            return {"x": [name]}

        builder.add_node(name, node).add_edge(previous, name)
        previous = name
    return builder.compile(), ran


@pytest.mark.parametrize(("n", "limit"), [(1, 2), (2, 3), (5, 6), (1, 10)])
def test_a_chain_of_n_nodes_succeeds_when_n_is_below_the_limit(run: Runner, n: int, limit: int) -> None:
    graph, ran = counted_chain(n)
    assert run(graph, {"x": []}, {"recursion_limit": limit}) == {"x": [f"n{i}" for i in range(n)]}


@pytest.mark.parametrize(("n", "limit"), [(2, 2), (1, 1), (3, 3), (5, 2)])
def test_a_chain_needing_more_supersteps_than_the_limit_fails_after_the_extra_step(
    run: Runner, n: int, limit: int
) -> None:
    graph, ran = counted_chain(n)
    with pytest.raises(GraphRecursionError) as caught:
        run(graph, {"x": []}, {"recursion_limit": limit})
    # START is superstep 0; supersteps 1..limit run nodes, so min(n, limit) nodes ran.
    assert ran == [f"n{i}" for i in range(min(n, limit))]
    message = str(caught.value)
    assert message.startswith(
        f"Recursion limit of {limit} reached without hitting a stop condition. You can "
        "increase the limit by setting the `recursion_limit` config key."
    )
    assert "GRAPH_RECURSION_LIMIT" in message


def test_graph_recursion_error_is_a_recursion_error() -> None:
    assert issubclass(GraphRecursionError, RecursionError)


def test_an_endless_loop_stops_at_the_recursion_limit(run: Runner) -> None:
    ran: list[int] = []

    def spin(state: State) -> dict[str, Any]:
        ran.append(1)
        return {"x": ["spin"]}

    graph = StateGraph(State).add_node("spin", spin).add_edge(START, "spin").add_edge("spin", "spin").compile()
    with pytest.raises(GraphRecursionError):
        run(graph, {"x": []}, {"recursion_limit": 5})
    assert len(ran) == 5


@pytest.mark.parametrize("limit", [0, -1])
def test_recursion_limit_must_be_at_least_one(run: Runner, limit: int) -> None:
    graph, _ = counted_chain(1)
    with pytest.raises(ValueError, match="recursion_limit must be at least 1"):
        run(graph, {"x": []}, {"recursion_limit": limit})


# ---------------------------------------------------------------------------- concurrency


def fan_out_graph(names: list[str], node: Callable[[str], Any]) -> Any:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, node(name)).add_edge(START, name)
    return builder.compile()


def test_sync_nodes_of_a_step_run_concurrently() -> None:
    # Each node waits for the other to start: run one after the other, they would time out.
    a_started = threading.Event()
    b_started = threading.Event()

    def a(state: State) -> dict[str, Any]:
        a_started.set()
        assert b_started.wait(WAIT_SECONDS), "b never ran while a was running"
        return {"x": ["a"]}

    def b(state: State) -> dict[str, Any]:
        b_started.set()
        assert a_started.wait(WAIT_SECONDS), "a never ran while b was running"
        return {"x": ["b"]}

    graph = StateGraph(State).add_node("a", a).add_node("b", b).add_edge(START, "a").add_edge(START, "b").compile()
    assert graph.invoke({"x": []}) == {"x": ["a", "b"]}


async def test_async_nodes_of_a_step_run_concurrently() -> None:
    a_started = asyncio.Event()
    b_started = asyncio.Event()

    async def a(state: State) -> dict[str, Any]:
        a_started.set()
        await asyncio.wait_for(b_started.wait(), WAIT_SECONDS)
        return {"x": ["a"]}

    async def b(state: State) -> dict[str, Any]:
        b_started.set()
        await asyncio.wait_for(a_started.wait(), WAIT_SECONDS)
        return {"x": ["b"]}

    graph = StateGraph(State).add_node("a", a).add_node("b", b).add_edge(START, "a").add_edge(START, "b").compile()
    assert await graph.ainvoke({"x": []}) == {"x": ["a", "b"]}


def test_max_concurrency_bounds_parallel_sync_tasks() -> None:
    lock = threading.Lock()
    state = {"running": 0, "peak": 0}
    pairs = threading.Barrier(2, timeout=WAIT_SECONDS)  # proves two run at once

    def node(name: str) -> Any:
        def body(s: State) -> dict[str, Any]:
            with lock:
                state["running"] += 1
                state["peak"] = max(state["peak"], state["running"])
            try:
                pairs.wait()
            finally:
                with lock:
                    state["running"] -= 1
            return {"x": [name]}

        return body

    names = [f"n{i}" for i in range(6)]
    graph = fan_out_graph(names, node)
    assert graph.invoke({"x": []}, {"max_concurrency": 2}) == {"x": names}
    assert state["peak"] == 2


async def test_max_concurrency_bounds_parallel_async_tasks() -> None:
    state = {"running": 0, "peak": 0}

    def node(name: str) -> Any:
        async def body(s: State) -> dict[str, Any]:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
            for _ in range(5):
                await asyncio.sleep(0.001)
            state["running"] -= 1
            return {"x": [name]}

        return body

    names = [f"n{i}" for i in range(6)]
    graph = fan_out_graph(names, node)
    assert await graph.ainvoke({"x": []}, {"max_concurrency": 2}) == {"x": names}
    assert state["peak"] == 2


# ---------------------------------------------------------------------------- failures


def test_node_exception_propagates_unchanged_with_a_task_note(run: Runner) -> None:
    class Boom(Exception):
        pass

    def boom(state: State) -> None:
        raise Boom("kaboom")

    graph = StateGraph(State).add_node("boom", boom).add_edge(START, "boom").compile()
    with pytest.raises(Boom, match="kaboom") as caught:
        run(graph, {"x": []})
    notes = getattr(caught.value, "__notes__", [])
    assert any(
        note.startswith("During task with name 'boom' and id '") and note.endswith("'")
        for note in notes
    ), notes


async def test_a_failing_async_task_cancels_its_running_siblings() -> None:
    slow_started = asyncio.Event()
    cancelled: list[str] = []

    async def boom(state: State) -> None:
        await asyncio.wait_for(slow_started.wait(), WAIT_SECONDS)
        raise KeyError("boom")

    async def slow(state: State) -> dict[str, Any]:
        slow_started.set()
        try:
            await asyncio.sleep(WAIT_SECONDS * 10)
        except asyncio.CancelledError:
            cancelled.append("slow")
            raise
        return {"x": ["slow"]}

    graph = (
        StateGraph(State)
        .add_node("boom", boom)
        .add_node("slow", slow)
        .add_edge(START, "boom")
        .add_edge(START, "slow")
        .compile()
    )
    with pytest.raises(KeyError):
        await asyncio.wait_for(graph.ainvoke({"x": []}), WAIT_SECONDS)
    for _ in range(3):
        await asyncio.sleep(0)
    assert cancelled == ["slow"]


def test_a_failed_step_does_not_continue_to_later_steps(run: Runner) -> None:
    ran: list[str] = []

    def after(state: State) -> dict[str, Any]:
        ran.append("after")
        return {}

    def boom(state: State) -> None:
        raise KeyError("boom")

    graph = (
        StateGraph(State)
        .add_node("boom", boom)
        .add_node("ok", append("ok"))
        .add_node("after", after)
        .add_edge(START, "boom")
        .add_edge(START, "ok")
        .add_edge("ok", "after")
        .compile()
    )
    with pytest.raises(KeyError):
        run(graph, {"x": []})
    assert ran == []


# ---------------------------------------------------------------------------- retry (§13.1)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``time.sleep`` delay asked for (nothing actually sleeps)."""
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", lambda seconds: recorded.append(seconds))
    return recorded


def flaky(error: BaseException, failures: int, attempts: list[int]) -> Any:
    def node(state: State) -> dict[str, Any]:
        attempts.append(len(attempts) + 1)
        if len(attempts) <= failures:
            raise error
        return {"x": ["ok"]}

    return node


def retry_graph(node: Any, policy: Any) -> Any:
    return StateGraph(State).add_node("flaky", node, retry_policy=policy).add_edge(START, "flaky").compile()


def test_retry_policy_retries_until_success(sleeps: list[float]) -> None:
    attempts: list[int] = []
    policy = RetryPolicy(max_attempts=3, jitter=False)
    graph = retry_graph(flaky(ConnectionError("down"), 2, attempts), policy)
    assert graph.invoke({"x": []}) == {"x": ["ok"]}
    assert attempts == [1, 2, 3]


def test_retry_policy_gives_up_after_max_attempts(sleeps: list[float]) -> None:
    attempts: list[int] = []
    graph = retry_graph(flaky(ConnectionError("down"), 99, attempts), RetryPolicy(jitter=False))
    with pytest.raises(ConnectionError):
        graph.invoke({"x": []})
    assert attempts == [1, 2, 3]


def test_retry_sleeps_follow_the_backoff_and_the_cap(sleeps: list[float]) -> None:
    attempts: list[int] = []
    policy = RetryPolicy(
        initial_interval=0.5, backoff_factor=2.0, max_interval=1.5, max_attempts=5, jitter=False
    )
    graph = retry_graph(flaky(ConnectionError("down"), 99, attempts), policy)
    with pytest.raises(ConnectionError):
        graph.invoke({"x": []})
    assert attempts == [1, 2, 3, 4, 5]
    assert sleeps == [0.5, 1.0, 1.5, 1.5]


def test_retry_jitter_adds_up_to_one_absolute_second(
    sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: (low + high) / 4)
    attempts: list[int] = []
    policy = RetryPolicy(initial_interval=0.01, backoff_factor=10.0, max_attempts=3, jitter=True)
    graph = retry_graph(flaky(ConnectionError("down"), 2, attempts), policy)
    graph.invoke({"x": []})
    assert sleeps == pytest.approx([0.01 + 0.25, 0.1 + 0.25])


@pytest.mark.parametrize(
    "error",
    [ValueError("v"), TypeError("t"), KeyError("k"), ZeroDivisionError("z"), RuntimeError("r"), OSError("o")],
    ids=lambda e: type(e).__name__,
)
def test_default_retry_on_does_not_retry_programming_errors(sleeps: list[float], error: Exception) -> None:
    attempts: list[int] = []
    graph = retry_graph(flaky(error, 99, attempts), RetryPolicy(jitter=False))
    with pytest.raises(type(error)):
        graph.invoke({"x": []})
    assert attempts == [1]
    assert sleeps == []


def test_default_retry_on_retries_other_exceptions(sleeps: list[float]) -> None:
    class Transient(Exception):
        pass

    attempts: list[int] = []
    graph = retry_graph(flaky(Transient(), 1, attempts), RetryPolicy(jitter=False))
    assert graph.invoke({"x": []}) == {"x": ["ok"]}
    assert attempts == [1, 2]


@pytest.mark.parametrize(
    "retry_on",
    [KeyError, (IndexError, KeyError), lambda exc: isinstance(exc, KeyError)],
    ids=["class", "sequence", "predicate"],
)
def test_retry_on_accepts_a_class_a_sequence_or_a_predicate(sleeps: list[float], retry_on: Any) -> None:
    attempts: list[int] = []
    graph = retry_graph(flaky(KeyError("k"), 1, attempts), RetryPolicy(jitter=False, retry_on=retry_on))
    assert graph.invoke({"x": []}) == {"x": ["ok"]}
    assert attempts == [1, 2]


def test_the_first_matching_policy_of_a_sequence_applies(sleeps: list[float]) -> None:
    attempts: list[int] = []
    policies = [
        RetryPolicy(retry_on=IndexError, max_attempts=5, jitter=False),
        RetryPolicy(retry_on=KeyError, max_attempts=2, initial_interval=0.25, jitter=False),
    ]
    graph = retry_graph(flaky(KeyError("k"), 99, attempts), policies)
    with pytest.raises(KeyError):
        graph.invoke({"x": []})
    assert attempts == [1, 2]
    assert sleeps == [0.25]


def test_no_retry_policy_means_one_attempt(sleeps: list[float]) -> None:
    attempts: list[int] = []
    graph = retry_graph(flaky(ConnectionError("down"), 99, attempts), None)
    with pytest.raises(ConnectionError):
        graph.invoke({"x": []})
    assert attempts == [1]


def test_each_retry_starts_with_no_writes_from_the_failed_attempt(sleeps: list[float]) -> None:
    calls: list[int] = []

    def node(state: State) -> Any:
        calls.append(1)
        if len(calls) == 1:
            return Command(update={"x": ["first"]}, goto="explode")
        return {"x": ["second"]}

    def explode(state: State) -> None:
        return None

    # The failure happens in the branch that runs after the body, once the body's writes exist.
    def route(state: State) -> str:
        if len(calls) == 1:
            raise ConnectionError("branch failed")
        return END

    graph = (
        StateGraph(State)
        .add_node("n", node, retry_policy=RetryPolicy(jitter=False))
        .add_node("explode", explode)
        .add_edge(START, "n")
        .add_conditional_edges("n", route)
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["second"]}
    assert len(calls) == 2


def test_set_node_defaults_retry_policy_applies_to_nodes_without_one(sleeps: list[float]) -> None:
    attempts: list[int] = []
    graph = (
        StateGraph(State)
        .set_node_defaults(retry_policy=RetryPolicy(max_attempts=2, jitter=False))
        .add_node("flaky", flaky(ConnectionError("down"), 1, attempts))
        .add_edge(START, "flaky")
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["ok"]}
    assert attempts == [1, 2]


async def test_async_retry_counts_attempts() -> None:
    attempts: list[int] = []

    async def node(state: State) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("down")
        return {"x": ["ok"]}

    policy = RetryPolicy(initial_interval=0.001, max_attempts=3, jitter=False)
    graph = retry_graph(node, policy)
    assert await graph.ainvoke({"x": []}) == {"x": ["ok"]}
    assert len(attempts) == 3


async def test_async_value_error_is_not_retried() -> None:
    attempts: list[int] = []

    async def node(state: State) -> dict[str, Any]:
        attempts.append(1)
        raise ValueError("bad")

    graph = retry_graph(node, RetryPolicy(initial_interval=0.001, jitter=False))
    with pytest.raises(ValueError, match="bad"):
        await graph.ainvoke({"x": []})
    assert attempts == [1]


def test_runtime_execution_info_counts_attempts_from_one(sleeps: list[float]) -> None:
    seen: list[int] = []

    def node(state: State, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime.execution_info.node_attempt)
        if len(seen) < 3:
            raise ConnectionError("down")
        return {"x": ["ok"]}

    retry_graph(node, RetryPolicy(jitter=False)).invoke({"x": []})
    assert seen == [1, 2, 3]


# ---------------------------------------------------------------------------- injection and accessors


def test_node_receives_its_config_by_keyword(run: Runner) -> None:
    seen: list[dict[str, Any]] = []

    def node(state: State, config) -> dict[str, Any]:
        seen.append(config)
        return {"x": ["n"]}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    run(graph, {"x": []}, {"configurable": {"user": "u1"}, "metadata": {"m": 1}})
    config = seen[0]
    assert config["configurable"]["user"] == "u1"
    assert config["metadata"]["langgraph_node"] == "n"
    assert config["metadata"]["langgraph_step"] == 1
    assert config["metadata"]["langgraph_triggers"] == ("branch:to:n",)
    assert config["metadata"]["m"] == 1
    assert config["configurable"]["checkpoint_ns"].startswith("n:")


def test_keyword_only_injection_works_too(run: Runner) -> None:
    seen: list[Any] = []

    def node(state: State, *, config, runtime) -> dict[str, Any]:
        seen.append((config["metadata"]["langgraph_node"], isinstance(runtime, Runtime)))
        return {}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    run(graph, {"x": []})
    assert seen == [("n", True)]


def test_get_config_inside_a_node_returns_the_task_config(run: Runner) -> None:
    seen: list[str] = []

    def node(state: State) -> dict[str, Any]:
        seen.append(get_config()["metadata"]["langgraph_node"])
        return {}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    run(graph, {"x": []})
    assert seen == ["n"]


def test_get_config_outside_a_run_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="Called get_config outside of a runnable context"):
        get_config()


def test_writer_and_get_stream_writer_emit_custom_chunks(stream: Runner) -> None:
    def node(state: State, writer) -> dict[str, Any]:
        writer({"from": "writer"})
        get_stream_writer()({"from": "get_stream_writer"})
        get_runtime().stream_writer({"from": "runtime"})
        return {}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert stream(graph, {"x": []}, stream_mode="custom") == [
        {"from": "writer"},
        {"from": "get_stream_writer"},
        {"from": "runtime"},
    ]


def test_writer_is_a_no_op_when_custom_is_not_streamed(run: Runner) -> None:
    def node(state: State, writer) -> dict[str, Any]:
        writer({"ignored": True})
        return {"x": ["n"]}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert run(graph, {"x": []}) == {"x": ["n"]}


def test_store_is_injected_from_compile(run: Runner) -> None:
    from stategraph.store.memory import InMemoryStore

    store = InMemoryStore()
    seen: list[Any] = []

    def node(state: State, store) -> dict[str, Any]:
        seen.append(store)
        return {}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile(store=store)
    run(graph, {"x": []})
    assert seen == [store]


@dataclass
class Ctx:
    user: str
    lang: str = "en"


def test_context_dict_is_coerced_to_the_dataclass_context_schema(run: Runner) -> None:
    seen: list[Any] = []

    def node(state: State, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime.context)
        seen.append(get_runtime().context)
        return {}

    graph = StateGraph(State, context_schema=Ctx).add_node("n", node).add_edge(START, "n").compile()
    run(graph, {"x": []}, context={"user": "ada"})
    assert seen == [Ctx(user="ada"), Ctx(user="ada")]


def test_context_is_passed_through_without_a_class_schema(run: Runner) -> None:
    seen: list[Any] = []

    def node(state: State, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime.context)
        return {}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    run(graph, {"x": []}, context={"user": "ada"})
    assert seen == [{"user": "ada"}]


def test_subgraph_inherits_the_parents_context(run: Runner) -> None:
    seen: list[Any] = []

    def inner(state: State, runtime: Runtime) -> dict[str, Any]:
        seen.append(runtime.context)
        return {}

    child = StateGraph(State, context_schema=Ctx).add_node("inner", inner).add_edge(START, "inner").compile()
    parent = StateGraph(State, context_schema=Ctx).add_node("child", child).add_edge(START, "child").compile()
    run(parent, {"x": []}, context={"user": "ada"})
    assert seen == [Ctx(user="ada")]


# ---------------------------------------------------------------------------- sync node in async run


async def test_sync_nodes_work_under_ainvoke() -> None:
    thread_ids: list[int] = []

    def node(state: State) -> dict[str, Any]:
        thread_ids.append(threading.get_ident())
        return {"x": ["sync"]}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert await graph.ainvoke({"x": []}) == {"x": ["sync"]}
    assert thread_ids and thread_ids[0] != threading.get_ident()


# ---------------------------------------------------------------------------- batch


def echo_graph() -> Any:
    def node(state: State) -> dict[str, Any]:
        if state["x"] == ["bad"]:
            raise KeyError("bad input")
        return {"x": ["done"]}

    return StateGraph(State).add_node("n", node).add_edge(START, "n").compile()


def test_batch_returns_results_in_input_order() -> None:
    inputs = [{"x": [str(i)]} for i in range(8)]
    assert echo_graph().batch(inputs) == [{"x": [str(i), "done"]} for i in range(8)]


def test_batch_with_return_exceptions_puts_the_error_in_place() -> None:
    results = echo_graph().batch([{"x": ["1"]}, {"x": ["bad"]}, {"x": ["3"]}], return_exceptions=True)
    assert results[0] == {"x": ["1", "done"]}
    assert isinstance(results[1], KeyError)
    assert results[2] == {"x": ["3", "done"]}


def test_batch_without_return_exceptions_raises() -> None:
    with pytest.raises(KeyError):
        echo_graph().batch([{"x": ["1"]}, {"x": ["bad"]}])


def test_batch_accepts_one_config_per_input() -> None:
    def node(state: State, config) -> dict[str, Any]:
        return {"x": [config["configurable"]["tag"]]}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    configs = [{"configurable": {"tag": "first"}}, {"configurable": {"tag": "second"}}]
    assert graph.batch([{"x": []}, {"x": []}], configs) == [{"x": ["first"]}, {"x": ["second"]}]


async def test_abatch_returns_results_in_input_order() -> None:
    inputs = [{"x": [str(i)]} for i in range(8)]
    assert await echo_graph().abatch(inputs) == [{"x": [str(i), "done"]} for i in range(8)]


async def test_abatch_with_return_exceptions_puts_the_error_in_place() -> None:
    results = await echo_graph().abatch([{"x": ["bad"]}, {"x": ["2"]}], return_exceptions=True)
    assert isinstance(results[0], KeyError)
    assert results[1] == {"x": ["2", "done"]}


async def test_abatch_without_return_exceptions_raises() -> None:
    with pytest.raises(KeyError):
        await echo_graph().abatch([{"x": ["1"]}, {"x": ["bad"]}])


def test_batch_of_nothing_is_empty() -> None:
    assert echo_graph().batch([]) == []


class Pair(TypedDict):
    a: int
    b: int


@pytest.mark.parametrize("reads_only_new_values", [False, True])
def test_a_saver_gets_every_value_unless_it_reads_only_the_new_ones(reads_only_new_values: bool) -> None:
    from stategraph.checkpoint.memory import InMemorySaver

    class Recording(InMemorySaver):
        def put_step(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any, writes: Any = ()) -> Any:
            puts.append((sorted(checkpoint["channel_values"]), sorted(new_versions)))
            return super().put_step(config, checkpoint, metadata, new_versions, writes)

    Recording.reads_only_new_values = reads_only_new_values
    puts: list[tuple[list[str], list[str]]] = []
    graph = (
        StateGraph(Pair)
        .add_node("set_b", lambda state: {"b": 2})
        .add_edge(START, "set_b")
        .compile(checkpointer=Recording())
    )
    config = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"a": 1, "b": 0}, config) == {"a": 1, "b": 2}
    last_values, last_new = puts[-1]
    assert last_new == ["b"]
    assert last_values == (["b"] if reads_only_new_values else ["a", "b"])
    assert graph.get_state(config).values == {"a": 1, "b": 2}
