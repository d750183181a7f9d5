"""``AsyncBatchedBaseStore``: a store whose concurrent async calls share one ``abatch``.

Every ``aget``/``asearch``/``aput``/``adelete``/``alist_namespaces`` queues its operation;
a worker task on the store's event loop takes everything queued in the same loop tick,
drops duplicate reads and superseded writes, and runs it as one ``abatch``. Subclasses
implement only ``abatch``. The sync methods hand their batch to that loop, so they work
from other threads (sync nodes of an async run) and refuse to run on the loop itself.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Coroutine, Iterable
from typing import Any, Optional, TypeVar, Union, cast

from stategraph.store._base import NOT_PROVIDED, BaseStore, IndexArg, NotProvided
from stategraph.store._item import Item, SearchItem
from stategraph.store._ops import (
    GetOp,
    ListNamespacesOp,
    NamespacePath,
    Op,
    PutOp,
    Result,
    SearchOp,
)

__all__ = ["AsyncBatchedBaseStore", "run_on_loop"]

T = TypeVar("T")
_Queued = tuple["asyncio.Future[Result]", Op]


def run_on_loop(
    store: object, loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]
) -> T:
    """Run ``coroutine`` on ``loop`` from another thread and wait for its result.

    Refuses when called on ``loop`` itself, where waiting would deadlock.
    """
    try:
        running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        name = type(store).__name__
        raise asyncio.InvalidStateError(
            f"Synchronous calls to {name} detected in the main event loop. This can lead to "
            "deadlocks or performance issues. Please use the asynchronous interface for main "
            "thread operations: replace store.get(...) with await store.aget(...) (likewise "
            "search, put, delete, list_namespaces, batch)."
        )
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()


class AsyncBatchedBaseStore(BaseStore):
    """Base of asyncio stores that coalesce concurrent calls; create it inside a running loop."""

    def __init__(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{type(self).__name__} must be created inside a running event loop (it runs "
                "its batches there). Create it in async code, e.g. inside "
                "`async with ...from_conn_string(...)`, or use a sync store in sync code."
            ) from None
        self._aqueue: asyncio.Queue[_Queued] = asyncio.Queue()
        self._task: Optional[asyncio.Task[None]] = None
        self._ensure_task()

    def __del__(self) -> None:
        task = getattr(self, "_task", None)
        try:
            if task is not None:
                task.cancel()
        except RuntimeError:  # the loop is already closed
            pass

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(_run_batches(self._aqueue, weakref.ref(self)))

    async def _enqueue(self, op: Op) -> Result:
        self._ensure_task()
        future: asyncio.Future[Result] = self._loop.create_future()
        self._aqueue.put_nowait((future, op))
        return await future

    # -- async: queued -------------------------------------------------------------------

    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: Optional[bool] = None
    ) -> Optional[Item]:
        return cast(Optional[Item], await self._enqueue(self._get_op(namespace, key, refresh_ttl)))

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: Optional[str] = None,
        filter: Optional[dict[str, Any]] = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: Optional[bool] = None,
    ) -> list[SearchItem]:
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return cast(list[SearchItem], await self._enqueue(op))

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        index: IndexArg = None,
        *,
        ttl: Union[float, None, NotProvided] = NOT_PROVIDED,
    ) -> None:
        await self._enqueue(self._put_op(namespace, key, value, index, ttl))

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        await self._enqueue(PutOp(tuple(namespace), str(key), None))

    async def alist_namespaces(
        self,
        *,
        prefix: Optional[NamespacePath] = None,
        suffix: Optional[NamespacePath] = None,
        max_depth: Optional[int] = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        op = self._list_op(prefix, suffix, max_depth, limit, offset)
        return cast(list[tuple[str, ...]], await self._enqueue(op))

    # -- sync: handed to the loop ------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return run_on_loop(self, self._loop, self.abatch(list(ops)))


def dedupe_ops(ops: list[Op]) -> tuple[list[Op], list[int]]:
    """The operations to run, and for each queued op the index of the result it gets.

    Equal reads run once; of several puts to one key only the last runs, and every one of
    them gets its (None) result.
    """
    unique: list[Op] = []
    reads: dict[Any, int] = {}
    puts: dict[tuple[tuple[str, ...], str], int] = {}
    listen: list[int] = []
    for op in ops:
        if isinstance(op, PutOp):
            put_key = (tuple(op.namespace), op.key)
            if put_key in puts:
                unique[puts[put_key]] = op
            else:
                puts[put_key] = len(unique)
                unique.append(op)
            listen.append(puts[put_key])
            continue
        read_key = _hashable(op)
        if read_key is not None and read_key in reads:
            listen.append(reads[read_key])
            continue
        if read_key is not None:
            reads[read_key] = len(unique)
        listen.append(len(unique))
        unique.append(op)
    return unique, listen


def _hashable(op: Op) -> Optional[Any]:
    """A key equal for equal reads (None for writes and unhashable reads)."""
    if not isinstance(op, (GetOp, SearchOp, ListNamespacesOp)):
        return None
    if isinstance(op, SearchOp) and op.filter is not None:
        try:  # a filter is a dict: compare it by its canonical JSON
            frozen = json.dumps(op.filter, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            return None
        return (op._replace(filter=None), frozen)
    try:
        hash(op)
    except TypeError:
        return None
    return op


async def _run_batches(
    queue: asyncio.Queue[_Queued], store_ref: weakref.ReferenceType[AsyncBatchedBaseStore]
) -> None:
    # Holds the store only weakly between batches, so an unused store can be collected.
    while True:
        first = await queue.get()
        queued = [first]
        while not queue.empty():
            queued.append(queue.get_nowait())
        queued = [(future, op) for future, op in queued if not future.done()]
        if not queued:
            continue
        store = store_ref()
        if store is None:
            return
        try:
            await _run_one_batch(store, queued)
        finally:
            del store


async def _run_one_batch(store: AsyncBatchedBaseStore, queued: list[_Queued]) -> None:
    unique, listen = dedupe_ops([op for _, op in queued])
    try:
        results = await store.abatch(unique)
    except Exception as error:
        if len(unique) == 1:
            for future, _ in queued:
                _settle(future, error=error)
            return
        # A failed batch wrote nothing (one transaction), so each call runs again alone:
        # one bad call (say a query on a store without an index) fails only its caller.
        results = []
        errors: dict[int, Exception] = {}
        for position, op in enumerate(unique):
            try:
                results.append((await store.abatch([op]))[0])
            except Exception as alone:
                results.append(None)
                errors[position] = alone
        for (future, _), position in zip(queued, listen):
            _settle(future, result=results[position], error=errors.get(position))
        return
    for (future, _), position in zip(queued, listen):
        _settle(future, result=results[position])


def _settle(
    future: asyncio.Future[Result], *, result: Result = None, error: Optional[Exception] = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
