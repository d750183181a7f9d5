"""Step timeouts (``graph.step_timeout``) and async node run and idle timeouts (``add_node(timeout=)``)."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.config import get_stream_writer
from stategraph.errors import NodeTimeoutError
from stategraph.graph import START, StateGraph
from stategraph.runtime import Runtime
from stategraph.types import RetryPolicy, TimeoutPolicy


class S(TypedDict):
    x: Annotated[list, operator.add]


def test_sync_step_over_its_timeout_raises_timed_out() -> None:
    release = threading.Event()

    def slow(state: S) -> dict[str, list[str]]:
        release.wait(2)
        return {"x": ["slow"]}

    graph = StateGraph(S).add_node(slow).add_edge(START, "slow").compile()
    graph.step_timeout = 0.05
    try:
        with pytest.raises(TimeoutError, match="Timed out"):
            graph.invoke({"x": []})
    finally:
        release.set()
    graph.step_timeout = 5
    assert graph.invoke({"x": []}) == {"x": ["slow"]}


def test_async_step_over_its_timeout_raises_timed_out() -> None:
    async def slow(state: S) -> dict[str, list[str]]:
        await asyncio.sleep(2)
        return {"x": ["slow"]}

    graph = StateGraph(S).add_node("slow", slow).add_edge(START, "slow").compile()
    graph.step_timeout = 0.05
    with pytest.raises(TimeoutError, match="Timed out"):
        asyncio.run(graph.ainvoke({"x": []}))


def test_async_node_run_timeout_raises_node_timeout_error_and_is_retried() -> None:
    attempts: list[int] = []

    async def sometimes_slow(state: S) -> dict[str, list[str]]:
        attempts.append(1)
        if len(attempts) == 1:
            await asyncio.sleep(2)
        return {"x": ["done"]}

    graph = (
        StateGraph(S)
        .add_node(
            "n",
            sometimes_slow,
            timeout=0.05,
            retry_policy=RetryPolicy(max_attempts=2, initial_interval=0.0, jitter=False),
        )
        .add_edge(START, "n")
        .compile()
    )
    assert asyncio.run(graph.ainvoke({"x": []})) == {"x": ["done"]}
    assert len(attempts) == 2

    never = StateGraph(S).add_node("n", lambda s: asyncio.sleep(1), timeout=0.01)
    with pytest.raises(ValueError, match="Node timeouts are only supported for async nodes"):
        never.add_edge(START, "n").compile()


def test_node_timeout_error_names_the_node() -> None:
    async def slow(state: S) -> dict[str, list[str]]:
        await asyncio.sleep(1)
        return {}

    graph = StateGraph(S).add_node("sleepy", slow, timeout=0.02).add_edge(START, "sleepy").compile()
    with pytest.raises(NodeTimeoutError, match="sleepy"):
        asyncio.run(graph.ainvoke({"x": []}))


# --- idle timeouts: no progress for idle_timeout seconds ---------------------------------------

IDLE = 0.15
TICK = 0.04  # well under IDLE: a node that shows progress every TICK never idles out


def idle_graph(node, policy: TimeoutPolicy, **kwargs):  # type: ignore[no-untyped-def]
    return StateGraph(S).add_node("worker", node, timeout=policy, **kwargs).add_edge(START, "worker").compile()


def test_a_node_that_shows_no_progress_times_out_as_idle() -> None:
    async def silent(state: S) -> dict[str, list[str]]:
        await asyncio.sleep(2)
        return {"x": ["late"]}

    graph = idle_graph(silent, TimeoutPolicy(idle_timeout=IDLE))
    with pytest.raises(NodeTimeoutError, match="worker") as raised:
        asyncio.run(graph.ainvoke({"x": []}))
    assert raised.value.kind == "idle"
    assert raised.value.idle_timeout == IDLE
    assert IDLE <= raised.value.elapsed < 1.0


def test_custom_stream_output_counts_as_progress() -> None:
    async def chatty(state: S) -> dict[str, list[str]]:
        writer = get_stream_writer()
        for i in range(8):  # 8 * TICK is well past IDLE
            await asyncio.sleep(TICK)
            writer({"tick": i})
        return {"x": ["finished"]}

    graph = idle_graph(chatty, TimeoutPolicy(idle_timeout=IDLE))
    assert asyncio.run(graph.ainvoke({"x": []})) == {"x": ["finished"]}
    # Under refresh_on="heartbeat" only heartbeats count: the same node idles out.
    strict = idle_graph(chatty, TimeoutPolicy(idle_timeout=IDLE, refresh_on="heartbeat"))
    with pytest.raises(NodeTimeoutError):
        asyncio.run(strict.ainvoke({"x": []}))


def test_heartbeats_keep_a_node_alive_in_either_mode() -> None:
    async def beating(state: S, runtime: Runtime) -> dict[str, list[str]]:
        for _ in range(8):
            await asyncio.sleep(TICK)
            runtime.heartbeat()
        return {"x": ["alive"]}

    for refresh_on in ("auto", "heartbeat"):
        graph = idle_graph(beating, TimeoutPolicy(idle_timeout=IDLE, refresh_on=refresh_on))
        assert asyncio.run(graph.ainvoke({"x": []})) == {"x": ["alive"]}


def test_langchain_runs_inside_the_node_count_as_progress() -> None:
    from langchain_core.runnables import RunnableLambda

    step = RunnableLambda(lambda value: value + 1)

    async def working(state: S) -> dict[str, list[str]]:
        total = 0
        for _ in range(8):
            await asyncio.sleep(TICK)
            total = await step.ainvoke(total)
        return {"x": [f"total {total}"]}

    graph = idle_graph(working, TimeoutPolicy(idle_timeout=IDLE))
    assert asyncio.run(graph.ainvoke({"x": []})) == {"x": ["total 8"]}


def test_an_idle_attempt_is_retried_and_its_writes_are_dropped() -> None:
    attempts: list[int] = []

    async def stalls_once(state: S) -> dict[str, list[str]]:
        attempts.append(1)
        push = get_stream_writer()
        push("started")
        if len(attempts) == 1:
            await asyncio.sleep(2)
        return {"x": [f"attempt {len(attempts)}"]}

    graph = idle_graph(
        stalls_once,
        TimeoutPolicy(idle_timeout=IDLE),
        retry_policy=RetryPolicy(max_attempts=2, initial_interval=0.0, jitter=False),
    )
    assert asyncio.run(graph.ainvoke({"x": []})) == {"x": ["attempt 2"]}
    assert len(attempts) == 2


# -- what timeout= accepts, and where a timeout cannot apply ----------------------------------

from datetime import timedelta  # noqa: E402

from langchain_core.runnables import RunnableLambda, RunnableParallel  # noqa: E402

from stategraph.channels import EphemeralValue, LastValue  # noqa: E402
from stategraph.func import entrypoint, task  # noqa: E402
from stategraph.graph import END  # noqa: E402
from stategraph.pregel import NodeBuilder, Pregel  # noqa: E402
from stategraph.types import Send  # noqa: E402


def test_a_timeout_is_seconds_a_timedelta_or_a_policy_coerced_to_seconds() -> None:
    policy = TimeoutPolicy(idle_timeout=timedelta(milliseconds=50))
    assert policy.idle_timeout == timedelta(milliseconds=50)  # kept as given
    assert TimeoutPolicy.coerce(policy) == TimeoutPolicy(idle_timeout=0.05)
    assert TimeoutPolicy.coerce(2) == TimeoutPolicy(run_timeout=2.0)
    assert TimeoutPolicy.coerce(timedelta(seconds=3)) == TimeoutPolicy(run_timeout=3.0)
    coerced = TimeoutPolicy(run_timeout=1.5)
    assert TimeoutPolicy.coerce(coerced) is coerced
    assert TimeoutPolicy.coerce(None) is None
    assert Send("n", {}, timeout=1) == Send("n", {}, timeout=TimeoutPolicy(run_timeout=1.0))
    assert repr(Send("n", 1, timeout=1)) == (
        "Send(node='n', arg=1, timeout=TimeoutPolicy(run_timeout=1.0, idle_timeout=None, refresh_on='auto'))"
    )


@pytest.mark.parametrize(
    "declare",
    [
        lambda: task(timeout=0),
        lambda: entrypoint(timeout=0),
        lambda: NodeBuilder().set_timeout(0),
        lambda: Send("slow", {}, timeout=0),
        lambda: StateGraph(S).add_node("slow", lambda state: state, timeout=timedelta(0)),
        lambda: TimeoutPolicy(idle_timeout=-1),
    ],
    ids=["task", "entrypoint", "node_builder", "send", "add_node", "policy"],
)
def test_a_timeout_that_is_not_positive_fails_where_it_is_given(declare: Any) -> None:
    with pytest.raises(ValueError, match="must be greater than 0"):
        declare()


def _pregel_with(body: Any) -> Pregel:
    return Pregel(
        nodes={
            "slow": NodeBuilder()
            .subscribe_only("input")
            .do(body)
            .set_timeout(TimeoutPolicy(idle_timeout=0.05))
            .write_to("output")
        },
        channels={"input": EphemeralValue(int), "output": LastValue(object)},
        input_channels="input",
        output_channels="output",
    )


def _sync_add(value: int) -> int:
    return value + 1


async def _async_add(value: int) -> int:
    return value + 1


@pytest.mark.parametrize(
    "body",
    [
        _sync_add,
        RunnableLambda(_sync_add),
        RunnableLambda(_sync_add).with_config(tags=["wrapped"]),
        RunnableParallel(sync=RunnableLambda(_sync_add), async_=RunnableLambda(_async_add)),
    ],
    ids=["function", "lambda", "bound_lambda", "parallel_with_a_sync_branch"],
)
def test_a_low_level_node_with_a_timeout_needs_an_async_body(body: Any) -> None:
    with pytest.raises(ValueError, match="only supported for async nodes.*Node 'slow' is sync"):
        _pregel_with(body)


async def test_an_async_runnable_body_is_timed_through_its_ainvoke() -> None:
    async def slow(value: int) -> int:
        await asyncio.sleep(1)
        return value

    assert await _pregel_with(RunnableLambda(_async_add)).ainvoke(1) == 2
    assert await _pregel_with(RunnableLambda(_async_add).with_config(tags=["t"])).ainvoke(1) == 2
    with pytest.raises(NodeTimeoutError):
        await _pregel_with(RunnableLambda(slow)).ainvoke(1)


def test_a_state_graph_node_with_a_timeout_needs_an_async_body() -> None:
    builder = StateGraph(S).add_node("slow", RunnableLambda(lambda state: state), timeout=1)
    builder.add_edge(START, "slow")
    with pytest.raises(ValueError, match="only supported for async nodes.*Node 'slow' is sync"):
        builder.compile()


async def test_a_sends_timeout_replaces_its_nodes() -> None:
    async def slow(state: S) -> dict[str, list[str]]:
        await asyncio.sleep(0.3)
        return {"x": ["slow"]}

    builder = StateGraph(S).add_node("slow", slow, timeout=TimeoutPolicy(idle_timeout=2))
    builder.add_conditional_edges(
        START, lambda state: [Send("slow", state, timeout=TimeoutPolicy(idle_timeout=0.05))]
    )
    builder.add_edge("slow", END)
    with pytest.raises(NodeTimeoutError) as raised:
        await builder.compile().ainvoke({"x": []})
    assert (raised.value.node, raised.value.kind, raised.value.idle_timeout) == ("slow", "idle", 0.05)
