"""Running a task: a node body that raises ``asyncio.CancelledError`` itself fails like any other
node; a task the run cancels is not a failure of its own."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from stategraph.errors import NodeCancelledError
from stategraph.graph import END, START, StateGraph
from stategraph.types import RetryPolicy


class S(TypedDict, total=False):
    vals: Annotated[list, operator.add]


def _two_branches(ok: Any, boom: Any, **boom_options: Any) -> Any:
    return (
        StateGraph(S)
        .add_node("ok", ok)
        .add_node("boom", boom, **boom_options)
        .add_edge(START, "ok")
        .add_edge(START, "boom")
        .add_edge("ok", END)
        .add_edge("boom", END)
        .compile()
    )


async def test_an_async_node_raising_cancelled_error_fails_the_run() -> None:
    async def ok(state: S) -> dict:
        return {"vals": ["ok"]}

    async def boom(state: S) -> dict:
        raise asyncio.CancelledError("raised by the node")

    with pytest.raises(NodeCancelledError, match="Node 'boom' raised asyncio.CancelledError") as raised:
        await _two_branches(ok, boom).ainvoke({"vals": []})
    assert raised.value.node == "boom"
    assert isinstance(raised.value.__cause__, asyncio.CancelledError)


def test_a_sync_node_raising_cancelled_error_fails_the_run_and_is_retried_as_a_failure() -> None:
    attempts: list[int] = []

    def boom(state: S) -> dict:
        attempts.append(1)
        raise asyncio.CancelledError()

    graph = _two_branches(
        lambda state: {"vals": ["ok"]},
        boom,
        retry_policy=RetryPolicy(max_attempts=2, initial_interval=0, jitter=False, retry_on=NodeCancelledError),
    )
    with pytest.raises(NodeCancelledError):
        graph.invoke({"vals": []})
    assert len(attempts) == 2


async def test_a_sibling_cancelled_because_a_node_failed_is_not_reported_as_cancelled() -> None:
    started = asyncio.Event()

    async def slow(state: S) -> dict:
        started.set()
        await asyncio.sleep(5)
        return {"vals": ["slow"]}

    async def boom(state: S) -> dict:
        await started.wait()
        raise ValueError("boom failed")

    with pytest.raises(ValueError, match="boom failed"):
        await _two_branches(slow, boom).ainvoke({"vals": []})


async def test_a_run_cancelled_by_its_caller_is_cancelled_not_failed() -> None:
    started = asyncio.Event()

    async def slow(state: S) -> dict:
        started.set()
        await asyncio.sleep(5)
        return {"vals": ["slow"]}

    graph = _two_branches(slow, slow)
    run = asyncio.ensure_future(graph.ainvoke({"vals": []}))
    await started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
