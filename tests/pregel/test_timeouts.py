"""Step timeouts (``graph.step_timeout``) and async node run timeouts (``add_node(timeout=)``)."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, TypedDict

import pytest

from stategraph.errors import NodeTimeoutError
from stategraph.graph import START, StateGraph
from stategraph.types import RetryPolicy


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
