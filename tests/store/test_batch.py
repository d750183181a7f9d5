"""AsyncBatchedBaseStore: concurrent async calls share one batch; sync calls cross threads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from stategraph.errors import StoreIndexNotConfiguredError
from stategraph.store.base import GetOp, Op, PutOp, Result
from stategraph.store.base.batch import AsyncBatchedBaseStore
from stategraph.store.memory import InMemoryStore


class RecordingBatchedStore(AsyncBatchedBaseStore):
    """An in-memory store behind the batching base; remembers each batch it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = InMemoryStore()
        self.batches: list[list[Op]] = []

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self.batches.append(ops)
        return await self.inner.abatch(ops)


async def test_calls_made_in_one_loop_tick_run_as_one_batch() -> None:
    store = RecordingBatchedStore()
    store.inner.put(("users",), "a", {"v": 1})
    store.inner.put(("users",), "b", {"v": 2})

    found = await asyncio.gather(
        store.aget(("users",), "a"),
        store.aget(("users",), "b"),
        store.asearch(("users",)),
        store.alist_namespaces(),
    )

    assert len(store.batches) == 1
    assert [item.value for item in found[:2]] == [{"v": 1}, {"v": 2}]
    assert sorted(item.key for item in found[2]) == ["a", "b"]
    assert found[3] == [("users",)]


async def test_equal_reads_run_once_and_only_the_last_put_to_a_key_runs() -> None:
    store = RecordingBatchedStore()
    store.inner.put(("users",), "a", {"v": 0})

    first, second, *_ = await asyncio.gather(
        store.aget(("users",), "a"),
        store.aget(("users",), "a"),
        store.aput(("users",), "k", {"v": 1}),
        store.aput(("users",), "k", {"v": 2}),
    )

    [batch] = store.batches
    assert batch.count(GetOp(("users",), "a")) == 1
    assert [op.value for op in batch if isinstance(op, PutOp)] == [{"v": 2}]
    assert first == second and first is not None and first.value == {"v": 0}
    assert (await store.aget(("users",), "k")).value == {"v": 2}


async def test_equal_searches_with_a_filter_run_once() -> None:
    store = RecordingBatchedStore()
    store.inner.put(("users",), "a", {"v": 2, "tags": ["x"]})
    store.inner.put(("users",), "b", {"v": 3})

    first, second, other = await asyncio.gather(
        store.asearch(("users",), filter={"v": 2, "tags": ["x"]}),
        store.asearch(("users",), filter={"tags": ["x"], "v": 2}),  # the same, keys reordered
        store.asearch(("users",), filter={"v": 3}),
    )

    [batch] = store.batches
    assert len(batch) == 2
    assert [item.key for item in first] == [item.key for item in second] == ["a"]
    assert [item.key for item in other] == ["b"]


async def test_a_bad_call_in_a_shared_batch_fails_only_its_caller() -> None:
    store = RecordingBatchedStore()
    store.inner.put(("docs",), "a", {"text": "hello"})

    good, bad = await asyncio.gather(
        store.aget(("docs",), "a"),
        store.asearch(("docs",), query="hello"),
        return_exceptions=True,
    )

    assert not isinstance(good, BaseException) and good.value == {"text": "hello"}
    assert isinstance(bad, StoreIndexNotConfiguredError)


async def test_sync_calls_from_another_thread_run_on_the_stores_loop() -> None:
    store = RecordingBatchedStore()

    await asyncio.to_thread(store.put, ("users",), "a", {"v": 1})
    item = await asyncio.to_thread(store.get, ("users",), "a")

    assert item is not None and item.value == {"v": 1}


async def test_sync_calls_on_the_loop_thread_are_refused_with_the_fix() -> None:
    store = RecordingBatchedStore()

    with pytest.raises(asyncio.InvalidStateError, match=r"await store\.aget"):
        store.get(("users",), "a")


def test_creating_one_outside_an_event_loop_explains_where_to_create_it() -> None:
    with pytest.raises(RuntimeError, match="inside a running event loop"):
        RecordingBatchedStore()
