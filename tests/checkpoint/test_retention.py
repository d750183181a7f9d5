"""Retention (``prune``, thread TTL, the sweeper), run on every backend.

The contract is ``BaseCheckpointSaver.prune``'s docstring. Lists are grown by appending the
same objects, as ``add_messages`` does, so the savers store them as delta chains and pruning
has to rewrite the kept versions as snapshots.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Optional

import pytest

from stategraph.checkpoint.base import Checkpoint

from .conftest import BACKENDS, SaverDriver, make_checkpoint, open_saver, thread_config


async def grow_thread(
    saver: SaverDriver,
    turns: int,
    thread_id: str = "thread-1",
    ns: str = "",
    *,
    start: Optional[tuple[dict[str, Any], Checkpoint]] = None,
) -> list[dict[str, Any]]:
    """``turns`` checkpoints, each appending one message (the same objects, so stored as
    deltas) and counting; returns their configs."""
    config, previous = start if start else (thread_config(thread_id, ns), None)
    messages = list(previous["channel_values"]["messages"]) if previous else []
    configs = []
    for turn in range(turns):
        messages = messages + [{"role": "user", "content": f"{thread_id}/{ns} turn {turn}"}]
        checkpoint, versions = make_checkpoint(
            saver.saver, {"messages": messages, "turn": turn}, previous, step=turn
        )
        config = await saver.put(config, checkpoint, {"source": "loop", "step": turn}, versions)
        configs.append(config)
        previous = checkpoint
    return configs


def latest_config(thread_id: str = "thread-1", ns: str = "") -> dict[str, Any]:
    return thread_config(thread_id, ns)


def contents(found: Any) -> list[str]:
    return [message["content"] for message in found.checkpoint["channel_values"]["messages"]]


# -- keep_latest -------------------------------------------------------------------------------


async def test_keep_latest_reads_back_the_latest_checkpoint_as_before_but_without_parent(
    saver: SaverDriver,
) -> None:
    configs = await grow_thread(saver, 40)
    await saver.put_writes(configs[-1], [("messages", "pending"), ("__interrupt__", "ask")], "t1")
    before = await saver.get_tuple(latest_config())
    await saver.prune(["thread-1"], strategy="keep_latest")
    after = await saver.get_tuple(latest_config())
    assert after.config == before.config == configs[-1]
    assert after.checkpoint == before.checkpoint
    assert after.metadata == before.metadata
    assert after.pending_writes == before.pending_writes
    assert before.parent_config == configs[-2]
    assert after.parent_config is None
    assert len(after.checkpoint["channel_values"]["messages"]) == 40


async def test_keep_latest_leaves_one_checkpoint_to_list(saver: SaverDriver) -> None:
    configs = await grow_thread(saver, 5)
    await saver.prune(["thread-1"])  # keep_latest is the default
    listed = await saver.list(thread_config())
    assert [item.config for item in listed] == [configs[-1]]
    assert listed[0].parent_config is None


async def test_keep_latest_deletes_the_older_checkpoints(saver: SaverDriver) -> None:
    configs = await grow_thread(saver, 5)
    await saver.prune(["thread-1"], strategy="keep_latest")
    for config in configs[:-1]:
        assert await saver.get_tuple(config) is None
    assert (await saver.get_tuple(configs[-1])).checkpoint["id"] == configs[-1][
        "configurable"
    ]["checkpoint_id"]


async def test_keep_latest_keeps_a_value_last_written_several_checkpoints_ago(
    saver: SaverDriver,
) -> None:
    # The latest checkpoint points at a version of "messages" (a delta) that an older
    # checkpoint wrote; only "turn" changed since.
    configs = await grow_thread(saver, 12)
    previous = await saver.get(configs[-1])
    config = configs[-1]
    for step in range(3):
        checkpoint, versions = make_checkpoint(saver.saver, {"turn": 100 + step}, previous)
        config = await saver.put(config, checkpoint, {}, versions)
        previous = checkpoint
    await saver.prune(["thread-1"], strategy="keep_latest")
    found = await saver.get_tuple(latest_config())
    assert len(contents(found)) == 12
    assert contents(found)[-1] == "thread-1/ turn 11"
    assert found.checkpoint["channel_values"]["turn"] == 102


async def test_keep_latest_of_a_forked_history_keeps_the_newest_branch(saver: SaverDriver) -> None:
    trunk = await grow_thread(saver, 6)
    fork_point = await saver.get(trunk[2])
    branch = await grow_thread(saver, 4, start=(trunk[2], fork_point))
    await saver.prune(["thread-1"], strategy="keep_latest")
    found = await saver.get_tuple(latest_config())
    assert found.config == branch[-1]
    assert contents(found) == [f"thread-1/ turn {i}" for i in (0, 1, 2, 0, 1, 2, 3)]
    assert [item.config for item in await saver.list(thread_config())] == [branch[-1]]


async def test_keep_latest_keeps_the_latest_checkpoint_of_every_namespace(
    saver: SaverDriver,
) -> None:
    root = await grow_thread(saver, 4, ns="")
    child = await grow_thread(saver, 6, ns="child:1")
    await saver.prune(["thread-1"], strategy="keep_latest")
    listed = await saver.list({"configurable": {"thread_id": "thread-1"}})
    assert sorted(item.config["configurable"]["checkpoint_id"] for item in listed) == sorted(
        [root[-1]["configurable"]["checkpoint_id"], child[-1]["configurable"]["checkpoint_id"]]
    )
    assert len(contents(await saver.get_tuple(latest_config(ns="child:1")))) == 6
    assert len(contents(await saver.get_tuple(latest_config(ns="")))) == 4


async def test_keep_latest_leaves_other_threads_alone(saver: SaverDriver) -> None:
    await grow_thread(saver, 3, "thread-1")
    others = await grow_thread(saver, 3, "thread-2")
    await saver.put_writes(others[0], [("x", 1)], "task")
    await saver.prune(["thread-1"], strategy="keep_latest")
    listed = await saver.list(thread_config("thread-2"))
    assert [item.config for item in listed] == others[::-1]
    assert listed[-1].pending_writes == [("task", "x", 1)]


async def test_a_pruned_thread_continues_from_its_kept_checkpoint(saver: SaverDriver) -> None:
    configs = await grow_thread(saver, 10)
    await saver.prune(["thread-1"], strategy="keep_latest")
    kept = await saver.get_tuple(latest_config())
    more = await grow_thread(saver, 3, start=(kept.config, kept.checkpoint))
    found = await saver.get_tuple(latest_config())
    assert found.config == more[-1]
    assert found.parent_config == more[-2]
    assert len(contents(found)) == 13
    history = await saver.list(thread_config())
    assert [item.config for item in history] == [*more[::-1], configs[-1]]
    assert [len(contents(item)) for item in history] == [13, 12, 11, 10]


async def test_a_fork_from_the_kept_checkpoint_and_writes_to_it_work(saver: SaverDriver) -> None:
    configs = await grow_thread(saver, 8)
    await saver.prune(["thread-1"], strategy="keep_latest")
    kept = await saver.get_tuple(configs[-1])
    await saver.put_writes(kept.config, [("messages", "late")], "task-2")
    branch_a = await grow_thread(saver, 1, start=(kept.config, kept.checkpoint))
    branch_b = await grow_thread(saver, 2, start=(kept.config, kept.checkpoint))
    assert len(contents(await saver.get_tuple(branch_a[-1]))) == 9
    assert len(contents(await saver.get_tuple(branch_b[-1]))) == 10
    assert (await saver.get_tuple(configs[-1])).pending_writes == [("task-2", "messages", "late")]


async def test_pruning_twice_changes_nothing_more(saver: SaverDriver) -> None:
    await grow_thread(saver, 20)
    await saver.prune(["thread-1"], strategy="keep_latest")
    once = await saver.get_tuple(latest_config())
    await saver.prune(["thread-1"], strategy="keep_latest")
    twice = await saver.get_tuple(latest_config())
    assert twice == once


# -- delete ------------------------------------------------------------------------------------


async def test_delete_removes_the_threads_in_every_namespace(saver: SaverDriver) -> None:
    await grow_thread(saver, 3, "thread-1", "")
    await grow_thread(saver, 2, "thread-1", "child:1")
    await grow_thread(saver, 2, "thread-2")
    kept = await grow_thread(saver, 2, "thread-3")
    await saver.prune(["thread-1", "thread-2"], strategy="delete")
    assert await saver.list({"configurable": {"thread_id": "thread-1"}}) == []
    assert await saver.get_tuple(latest_config("thread-2")) is None
    assert [item.config for item in await saver.list(None)] == kept[::-1]


# -- arguments ---------------------------------------------------------------------------------


async def test_a_string_is_one_thread_id(saver: SaverDriver) -> None:
    await grow_thread(saver, 2, "ab")
    for thread_id in ("a", "b"):
        await grow_thread(saver, 2, thread_id)
    await saver.prune("ab", strategy="delete")
    assert await saver.get_tuple(latest_config("ab")) is None
    assert await saver.get_tuple(latest_config("a")) is not None
    assert await saver.get_tuple(latest_config("b")) is not None


async def test_an_unknown_strategy_is_refused_before_anything_is_deleted(
    saver: SaverDriver,
) -> None:
    configs = await grow_thread(saver, 3)
    with pytest.raises(ValueError, match="Unknown prune strategy 'keep_last'.*'keep_latest'"):
        await saver.prune(["thread-1"], strategy="keep_last")
    assert [item.config for item in await saver.list(thread_config())] == configs[::-1]


async def test_threads_with_nothing_stored_are_skipped(saver: SaverDriver) -> None:
    configs = await grow_thread(saver, 2)
    await saver.prune(["nobody", "thread-1", "nobody-either"], strategy="keep_latest")
    await saver.prune([], strategy="delete")
    assert [item.config for item in await saver.list(None)] == [configs[-1]]


# -- thread TTL --------------------------------------------------------------------------------


class FakeClock:
    """Seconds since the epoch, moved by the test; ``watch()`` then signals the next call."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.called = threading.Event()
        self._watching = False

    def __call__(self) -> float:
        if self._watching:
            self.called.set()
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += 60 * minutes

    def watch(self) -> None:
        self.called.clear()
        self._watching = True


@pytest.fixture(params=BACKENDS)
def open_with_ttl(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[..., Any]:
    """``open_with_ttl(ttl)`` opens this backend's saver with ``ttl`` and a ``FakeClock``."""

    def opener(ttl: Optional[dict[str, Any]], clock: FakeClock) -> Any:
        return open_saver(request.param, tmp_path, ttl=ttl, clock=clock)

    return opener


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def ttl_saver(
    open_with_ttl: Callable[..., Any], clock: FakeClock
) -> AsyncIterator[SaverDriver]:
    async with open_with_ttl({"default_ttl": 10}, clock) as driver:
        yield driver


async def test_a_thread_reads_as_absent_once_its_ttl_has_passed_since_the_last_write(
    ttl_saver: SaverDriver, clock: FakeClock
) -> None:
    await grow_thread(ttl_saver, 2, "idle")
    clock.advance(9.9)
    await grow_thread(ttl_saver, 1, "busy")
    assert await ttl_saver.get_tuple(latest_config("idle")) is not None
    clock.advance(10)
    assert await ttl_saver.get_tuple(latest_config("idle")) is None
    assert await ttl_saver.get_tuple(latest_config("busy")) is None
    assert await ttl_saver.list(None) == []


async def test_put_writes_renews_a_thread(ttl_saver: SaverDriver, clock: FakeClock) -> None:
    configs = await grow_thread(ttl_saver, 1)
    clock.advance(8)
    await ttl_saver.put_writes(configs[-1], [("x", 1)], "task")
    clock.advance(8)
    assert (await ttl_saver.list(thread_config()))[0].pending_writes == [("task", "x", 1)]


async def test_reads_push_the_expiry_back_by_default(
    ttl_saver: SaverDriver, clock: FakeClock
) -> None:
    await grow_thread(ttl_saver, 1, "read-by-get")
    await grow_thread(ttl_saver, 1, "read-by-list")
    for _ in range(3):
        clock.advance(6)
        assert await ttl_saver.get_tuple(latest_config("read-by-get")) is not None
        assert len(await ttl_saver.list(thread_config("read-by-list"))) == 1
    clock.advance(10)
    assert await ttl_saver.get_tuple(latest_config("read-by-get")) is None


async def test_reads_leave_the_expiry_alone_without_refresh_on_read(
    open_with_ttl: Callable[..., Any], clock: FakeClock
) -> None:
    async with open_with_ttl({"default_ttl": 10, "refresh_on_read": False}, clock) as saver:
        await grow_thread(saver, 1)
        clock.advance(6)
        assert await saver.get_tuple(latest_config()) is not None
        assert len(await saver.list(None)) == 1
        clock.advance(6)
        assert await saver.get_tuple(latest_config()) is None


async def test_sweep_ttl_deletes_the_expired_threads_and_counts_them(
    ttl_saver: SaverDriver, clock: FakeClock
) -> None:
    await grow_thread(ttl_saver, 3, "old-1")
    await grow_thread(ttl_saver, 1, "old-2", "child:1")
    clock.advance(5)
    fresh = await grow_thread(ttl_saver, 1, "fresh")
    clock.advance(6)
    assert await ttl_saver.sweep_ttl() == 2
    assert await ttl_saver.sweep_ttl() == 0
    assert [item.config for item in await ttl_saver.list(None)] == fresh


async def test_a_write_to_an_expired_thread_starts_it_anew(
    ttl_saver: SaverDriver, clock: FakeClock
) -> None:
    await grow_thread(ttl_saver, 3)
    clock.advance(11)
    fresh = await grow_thread(ttl_saver, 1)
    listed = await ttl_saver.list(thread_config())
    assert [item.config for item in listed] == fresh
    assert contents(listed[0]) == ["thread-1/ turn 0"]


async def test_keep_latest_leaves_the_expiry_as_it_was(
    ttl_saver: SaverDriver, clock: FakeClock
) -> None:
    await grow_thread(ttl_saver, 4)
    clock.advance(8)
    await ttl_saver.prune(["thread-1"], strategy="keep_latest")
    clock.advance(1)
    assert await ttl_saver.sweep_ttl() == 0
    clock.advance(1.5)
    assert await ttl_saver.sweep_ttl() == 1


async def test_without_a_ttl_nothing_expires(
    open_with_ttl: Callable[..., Any], clock: FakeClock
) -> None:
    async with open_with_ttl(None, clock) as saver:
        configs = await grow_thread(saver, 1)
        clock.advance(10**6)
        assert await saver.sweep_ttl() == 0
        assert (await saver.get_tuple(latest_config())).config == configs[-1]


async def test_the_background_sweeper_deletes_expired_threads_until_stopped(
    open_with_ttl: Callable[..., Any], clock: FakeClock
) -> None:
    ttl = {"default_ttl": 10, "sweep_interval_minutes": 0.0005}  # a sweep every 30 ms
    async with open_with_ttl(ttl, clock) as driver:
        saver = driver.saver
        await grow_thread(driver, 2, "expired")
        clock.advance(11)
        clock.watch()  # from here on only the sweeper reads the clock
        started = saver.start_ttl_sweeper()
        if inspect.iscoroutine(started):
            await started
        assert await asyncio.to_thread(clock.called.wait, 10)
        stopped = saver.stop_ttl_sweeper(5)
        assert (await stopped) if inspect.iscoroutine(stopped) else stopped
        clock._watching = False
        assert await driver.sweep_ttl() == 0  # the sweeper got there first
        assert await driver.list(None) == []
