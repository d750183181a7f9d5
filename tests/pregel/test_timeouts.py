"""Step timeouts (``graph.step_timeout``) and async node run and idle timeouts (``add_node(timeout=)``)."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, TypedDict

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
