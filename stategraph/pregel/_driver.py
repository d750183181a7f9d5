"""The two drivers of a run: sync (threads) and async (asyncio).

They differ only where I/O happens: loading the checkpoint, executing tasks, and carrying out
the checkpointer calls the loop queued in its outbox. Each yields stream events as they come.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import queue
import threading
import time
import weakref
from collections import deque
from contextlib import aclosing
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Generator, Iterator, Optional

from stategraph.checkpoint._capabilities import (
    acall_put_writes,
    call_put_writes,
    saver_capabilities,
)
from stategraph.errors import is_invalid_resume
from stategraph.pregel._group_writer import group_writer
from stategraph.pregel._lifecycle import adeliver, deliver, graph_handlers
from stategraph.pregel._loop import PregelLoop
from stategraph.pregel._node import Task
from stategraph.pregel._persist import latest_config, moved_past
from stategraph.pregel._runner import arun_task, run_task

_WAKE = object()


def _default_workers() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


_writers: weakref.WeakKeyDictionary[Any, ThreadPoolExecutor] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _saver_writer(saver: Any) -> ThreadPoolExecutor:
    """One long-lived writer thread per saver: saves stay in order, runs start no threads."""
    with _writers_lock:
        writer = _writers.get(saver)
        if writer is None:
            writer = _writers[saver] = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="stategraph-saver"
            )
        return writer


class SyncSaverCalls:
    """Carries out queued checkpointer calls: inline (``sync``) or on the saver's writer thread
    (which, for a saver with ``put_batch``, commits what queued up meanwhile together).

    A run whose steps no one sees before it ends (``invoke`` without callbacks) may ``hold``
    the calls of a flush that only engine bookkeeping follows; they go out with the next
    flush, which is always made before a task starts, or, at the end, on the run's own
    thread, together with any of its calls the writer has not begun: the run waits for those
    anyway, and storing them here spares two thread hand-offs and a commit.
    """

    __slots__ = ("saver", "background", "grouped", "futures", "may_hold", "held")

    def __init__(self, saver: Any, durability: str, may_hold: bool = False) -> None:
        self.saver = saver
        self.background: Optional[ThreadPoolExecutor] = None
        self.grouped = False  # on the saver's group writer
        self.futures: deque[Any] = deque()
        self.held: list[tuple[Any, ...]] = []
        self.may_hold = False
        if saver is not None and durability == "async" and not getattr(saver, "is_in_process", False):
            if saver_capabilities(saver).commits_batches:
                self.grouped = True
                self.may_hold = may_hold
            else:
                self.background = _saver_writer(saver)

    def flush(self, loop: PregelLoop, hold: bool = False) -> None:
        outbox = loop.outbox
        if not outbox and not (self.held and not hold):
            return
        loop.outbox = []
        if self.grouped:
            self.held.extend(outbox)
            if hold and self.may_hold:
                return
            outbox, self.held = _batched(self.saver, self.held), []
            self.futures.append(group_writer(self.saver).submit(outbox))
            self._raise_finished_errors()
            return
        outbox = _batched(self.saver, outbox)
        if self.background is None:
            if len(outbox) > 1 and saver_capabilities(self.saver).commits_batches:
                self.saver.put_batch(outbox)
                return
            for call in outbox:
                _call_saver(self.saver, call)
        else:
            for call in outbox:
                self.futures.append(self.background.submit(_call_saver, self.saver, call))
            self._raise_finished_errors()

    def _raise_finished_errors(self) -> None:
        # Calls finish in order: only the oldest ones can be done.
        futures = self.futures
        while futures and futures[0].done():
            futures.popleft().result()

    def close(self) -> None:
        held = self.held
        if held:
            self.held = []
            writer = group_writer(self.saver)
            while self.futures:
                taken = writer.reclaim(self.futures[-1])
                if taken is None:
                    break
                self.futures.pop()
                held[:0] = taken
        for future in self.futures:
            future.result()
        if held:
            self.saver.put_batch(_batched(self.saver, held))


def _batched(saver: Any, outbox: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Fold task writes followed by a checkpoint into one atomic ``put_step`` call.

    The step's checkpoint and the writes of the tasks that produced it then land in one
    transaction (and cost one commit).
    """
    if len(outbox) < 2 or not saver_capabilities(saver).commits_steps:
        return outbox
    from stategraph.checkpoint.base import TaskWrites

    calls: list[tuple[Any, ...]] = []
    waiting: list[tuple[Any, ...]] = []
    for call in outbox:
        if call[0] == "writes":
            waiting.append(call)
            continue
        if waiting:
            writes = [
                TaskWrites(tid, list(items), path, cfg["configurable"].get("checkpoint_id"))
                for _, cfg, items, tid, path in waiting
            ]
            calls.append(("step", *call[1:], writes))
            waiting = []
        else:
            calls.append(call)
    calls.extend(waiting)
    return calls


def _call_saver(saver: Any, call: tuple[Any, ...]) -> None:
    kind = call[0]
    if kind == "put":
        _, config, checkpoint, metadata, new_versions = call
        saver.put(config, checkpoint, metadata, new_versions)
    elif kind == "step":
        _, config, checkpoint, metadata, new_versions, writes = call
        saver.put_step(config, checkpoint, metadata, new_versions, writes)
    else:
        _, config, writes, task_id, path = call
        call_put_writes(saver, config, writes, task_id, path)


async def _acall_saver(saver: Any, call: tuple[Any, ...]) -> None:
    kind = call[0]
    if kind == "put":
        _, config, checkpoint, metadata, new_versions = call
        await saver.aput(config, checkpoint, metadata, new_versions)
    elif kind == "step":
        _, config, checkpoint, metadata, new_versions, writes = call
        await saver.aput_step(config, checkpoint, metadata, new_versions, writes)
    else:
        _, config, writes, task_id, path = call
        await acall_put_writes(saver, config, writes, task_id, path)


def _load_sync(loop: PregelLoop, saver: Any) -> Any:
    if saver is None:
        return None
    config, before = loop.checkpoint_lookup()
    if before is None:
        saved = saver.get_tuple(config)
        if saved is not None and loop.requested_checkpoint_id and not loop.is_nested:
            loop.addressed_superseded = moved_past(saved, saver.get_tuple(latest_config(config)))
        return saved
    bound = {"configurable": {"checkpoint_id": before}}
    return next(iter(saver.list(config, before=bound, limit=1)), None)


async def _load_async(loop: PregelLoop, saver: Any) -> Any:
    if saver is None:
        return None
    config, before = loop.checkpoint_lookup()
    if before is None:
        saved = await saver.aget_tuple(config)
        if saved is not None and loop.requested_checkpoint_id and not loop.is_nested:
            loop.addressed_superseded = moved_past(saved, await saver.aget_tuple(latest_config(config)))
        return saved
    async for saved in saver.alist(config, before={"configurable": {"checkpoint_id": before}}, limit=1):
        return saved
    return None


def _raise_task_error(tasks: list[Task]) -> None:
    for task in tasks:
        if task.error is not None:
            raise task.error


def drive_sync(
    loop: PregelLoop,
    saver: Any,
    input: Any,
    events: deque,
    wake: "queue.SimpleQueue[Any]",
    eager: bool,
    unseen: bool = False,
) -> Iterator[Any]:
    """Run ``loop`` to the end on this thread, yielding events as they are produced.

    ``unseen``: the caller looks at no event before the run ends (``invoke``).
    """
    handlers = graph_handlers(loop.config)
    calls = SyncSaverCalls(saver, loop.durability, may_hold=unseen and not handlers)
    pool: Optional[ThreadPoolExecutor] = None
    try:
        try:
            saved = _load_sync(loop, saver)
            loop.load(saved)
            loop.start(input)
            calls.flush(loop, hold=True)
            deliver(loop, handlers, loop.run_id)
            while events:
                yield events.popleft()
            while True:
                tasks = loop.tick()
                calls.flush(loop, hold=tasks is None)  # sent before any task starts
                while events:
                    yield events.popleft()
                if tasks is None:
                    break
                wave = tasks
                while wave:
                    if len(wave) == 1 and not eager and loop.graph.step_timeout is None:
                        # A lone task's writes are saved with the step's checkpoint, atomically.
                        task = wave[0]
                        run_task(loop, task, loop.task_context(task))
                        loop.task_done(task)
                        if task.error is not None or task.interrupts or task.paused:
                            calls.flush(loop, hold=True)
                        while events:
                            yield events.popleft()
                    else:
                        if pool is None:
                            workers = loop.config.get("max_concurrency") or _default_workers()
                            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stategraph")
                        handled = yield from _execute_in_threads(loop, wave, pool, calls, events, wake, eager)
                        if handled:
                            tasks = [*tasks, *handled]
                    wave = loop.take_error_handlers()
                    if wave:
                        calls.flush(loop)  # failures are saved before their handlers run
                        tasks = [*tasks, *wave]
                if loop._calls is not None:
                    loop._calls.settle()
                _raise_task_error(tasks)
                loop.after_tick(tasks)
                calls.flush(loop, hold=True)
                while events:
                    yield events.popleft()
                if loop.status != "pending":
                    break
            loop.finish()
            calls.flush(loop, hold=True)
            deliver(loop, handlers, loop.run_id)
            while events:
                yield events.popleft()
        except BaseException:
            loop.fail()
            calls.flush(loop, hold=True)
            raise
    finally:
        if pool is not None:
            pool.shutdown(wait=False)
        if loop._calls is not None:
            loop._calls.close()
        calls.close()


def _execute_in_threads(
    loop: PregelLoop,
    tasks: list[Task],
    pool: ThreadPoolExecutor,
    calls: SyncSaverCalls,
    events: deque,
    wake: "queue.SimpleQueue[Any]",
    eager: bool,
) -> Generator[Any, None, list[Task]]:
    """Run ``tasks`` concurrently; tasks are taken from a shared queue by pool threads (and by
    this thread, unless it must stay free to stream events eagerly). Returns the error handlers
    it started along the way."""
    waiting = deque(tasks)
    failed = threading.Event()
    bubbled: list[BaseException] = []

    def run_next() -> bool:
        """Run one waiting task on this thread; False when none is left to run."""
        if failed.is_set():
            return False
        try:
            task = waiting.popleft()
        except IndexError:
            return False
        try:
            contextvars.copy_context().run(run_task, loop, task, loop.task_context(task))
        except BaseException as error:  # GraphBubbleUp from a task
            bubbled.append(error)
            failed.set()
        wake.put(task)
        return True

    def work() -> None:
        while run_next():
            pass

    remaining = len(tasks)
    finished: set[int] = set()
    started: list[Task] = []  # error handlers started during the step

    def settle(item: Any) -> Iterator[Any]:
        """Record a finished task (or stream what a wake-up brought), then stream its events."""
        nonlocal remaining
        if item is not _WAKE and id(item) not in finished:
            finished.add(id(item))
            remaining -= 1
            loop.task_done(item)
            handlers = [] if failed.is_set() else loop.take_error_handlers()
            calls.flush(loop)  # a failure is saved before its handler runs
            if handlers:
                # As in LangGraph, a handler runs as soon as its task has failed, beside the
                # step's other tasks, which may be waiting for what it does.
                started.extend(handlers)
                remaining += len(handlers)
                waiting.extend(handlers)
                for _ in handlers:
                    pool.submit(work)
            # A failed task does not stop its siblings (as in LangGraph's sync runner): their
            # writes are saved, so a retry of the step does not run them again.
            if failed.is_set():
                # Tasks not yet started are dropped; running ones are awaited so their writes land.
                remaining -= len(waiting)
                waiting.clear()
        while events:
            yield events.popleft()

    max_concurrency = loop.config.get("max_concurrency") or _default_workers()
    # This thread joins in unless it must stay free: to stream eagerly or to enforce a timeout.
    joins_in = not eager and loop.graph.step_timeout is None
    helpers = min(len(tasks) - joins_in, max_concurrency - joins_in)
    for _ in range(max(helpers, 0)):
        pool.submit(work)
    if joins_in:
        # Between its own tasks, this thread reports every task finished so far: a task's
        # update is streamed when it finishes, not when this thread's share is done.
        while run_next():
            while True:
                try:
                    item = wake.get_nowait()
                except queue.Empty:
                    break
                yield from settle(item)
    step_timeout = loop.graph.step_timeout
    deadline = None if step_timeout is None else time.monotonic() + step_timeout
    while remaining:
        try:
            item = wake.get(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            failed.set()
            waiting.clear()
            raise TimeoutError("Timed out") from None
        yield from settle(item)
    if bubbled:
        raise bubbled[0]
    return started


async def drive_async(
    loop: PregelLoop, saver: Any, input: Any, events: deque, wake: asyncio.Event, eager: bool
) -> AsyncIterator[Any]:
    """Run ``loop`` to the end on the running event loop, yielding events as produced."""
    background: list[asyncio.Task[Any]] = []
    chain: list[Optional[asyncio.Task[Any]]] = [None]
    loop.is_async_run = True
    loop.event_loop = asyncio.get_running_loop()

    async def flush() -> None:
        outbox = loop.outbox
        if not outbox or saver is None:
            loop.outbox = []
            return
        loop.outbox = []
        outbox = _batched(saver, outbox)
        if loop.durability == "async" and not getattr(saver, "is_in_process", False):
            previous = chain[0]

            async def ordered(calls: list[Any] = outbox, before: Any = previous) -> None:
                if before is not None:
                    await before
                for call in calls:
                    await _acall_saver(saver, call)

            chain[0] = asyncio.ensure_future(ordered())
            background.append(chain[0])
        else:
            for call in outbox:
                await _acall_saver(saver, call)

    handlers = graph_handlers(loop.config)
    try:
        try:
            saved = await _load_async(loop, saver)
            loop.load(saved)
            loop.start(input)
            await flush()
            await adeliver(loop, handlers, loop.run_id)
            while events:
                yield events.popleft()
            while True:
                tasks = loop.tick()
                await flush()
                while events:
                    yield events.popleft()
                if tasks is None:
                    break
                wave = tasks
                while wave:
                    if len(wave) == 1 and not eager and loop.graph.step_timeout is None:
                        task = wave[0]
                        await arun_task(loop, task, loop.task_context(task))
                        loop.task_done(task)
                        if task.error is not None or task.interrupts or task.paused:
                            await flush()
                        while events:
                            yield events.popleft()
                    else:
                        handled: list[Task] = []
                        # Closed with the run's stream: a consumer that stops reading cancels
                        # the running nodes before its aclose() returns.
                        async with aclosing(_execute_concurrently(loop, wave, flush, events, wake, handled)) as step:
                            async for event in step:
                                yield event
                        tasks = [*tasks, *handled] if handled else tasks
                    wave = loop.take_error_handlers()
                    if wave:
                        await flush()  # failures are saved before their handlers run
                        tasks = [*tasks, *wave]
                if loop._calls is not None:
                    await loop._calls.asettle()
                _raise_task_error(tasks)
                loop.after_tick(tasks)
                await flush()
                while events:
                    yield events.popleft()
                if loop.status != "pending":
                    break
            loop.finish()
            await flush()
            await adeliver(loop, handlers, loop.run_id)
            while events:
                yield events.popleft()
        except BaseException:
            loop.fail()
            await flush()
            raise
    finally:
        if background:
            await asyncio.gather(*background)


async def _execute_concurrently(
    loop: PregelLoop,
    tasks: list[Task],
    flush: Any,
    events: deque,
    wake: asyncio.Event,
    started: list[Task],
) -> AsyncIterator[Any]:
    """Run ``tasks`` concurrently; the error handlers started along the way join ``started``."""
    limit = loop.config.get("max_concurrency")
    semaphore = asyncio.Semaphore(limit) if limit else None

    async def run(task: Task) -> Task:
        if semaphore is None:
            await arun_task(loop, task, loop.task_context(task))
        else:
            async with semaphore:
                await arun_task(loop, task, loop.task_context(task))
        return task

    running = {asyncio.ensure_future(run(task)) for task in tasks}
    step_timeout = loop.graph.step_timeout
    deadline = None if step_timeout is None else time.monotonic() + step_timeout
    try:
        while running:
            waiter = asyncio.ensure_future(wake.wait())
            done, _ = await asyncio.wait(
                running | {waiter},
                return_when=asyncio.FIRST_COMPLETED,
                timeout=None if deadline is None else max(0.0, deadline - time.monotonic()),
            )
            if not done:
                waiter.cancel()
                raise TimeoutError("Timed out")
            if waiter not in done:
                waiter.cancel()
            wake.clear()
            while events:
                yield events.popleft()
            for future in done:
                if future is waiter:
                    continue
                running.discard(future)
                task = future.result()
                loop.task_done(task)
                handlers = loop.take_error_handlers()
                await flush()  # a failure is saved before its handler runs
                for handler in handlers:  # at once, beside the step's other tasks
                    started.append(handler)
                    running.add(asyncio.ensure_future(run(handler)))
                while events:
                    yield events.popleft()
                # An invalid resume answer is raised once the others finish: a task answered in
                # the same resume is not cut off after its side effects, to run them again.
                if task.error is not None and not is_invalid_resume(task.error):
                    for other in running:
                        other.cancel()
                    await asyncio.gather(*running, return_exceptions=True)
                    running = set()
                    break
    finally:
        for future in running:
            future.cancel()
        if running:
            # Wait for them to stop: a consumer that closes the stream (or a failure) finds the
            # nodes cancelled, not still running, when the stream is closed.
            await asyncio.gather(*running, return_exceptions=True)
