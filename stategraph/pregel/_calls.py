"""Functional ``@task`` calls: tasks started by a running task, next to it, in the same step.

A call gets a deterministic id (the caller's id and how many calls it made before), so when
the caller re-runs after an interrupt or a crash, calls that had finished resolve at once from
their saved result instead of running again.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any, Optional

from stategraph._context import TaskContext
from stategraph.channels.base import MISSING
from stategraph._constants import ERROR, INTERRUPT, NS_END, NS_SEP, PUSH, RESUME, RETURN
from stategraph.errors import GraphInterrupt, SerializationError
from stategraph.pregel._node import PregelNode, Task, task_id
from stategraph.pregel._runner import arun_task, run_task
from stategraph.pregel._stream import task_result_payload, task_start_payload, updates_payload


def _check_storable(saver: Any, name: str, what: str, value: Any) -> None:
    """A durable task's inputs and result must survive a restart: fail now, naming the task."""
    serde = getattr(saver, "serde", None)
    if serde is None:
        return
    try:
        serde.dumps_typed(value)
    except Exception as error:
        raise SerializationError(
            f"Task '{name}': its {what} cannot be stored by the checkpointer ({error}). Durable "
            "tasks take and return values the checkpointer can save: builtins, dataclasses and "
            "pydantic models of registered types, LangChain messages."
        ) from error


class CallRunner:
    """Runs the ``@task`` calls of one loop and saves each result as it completes."""

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self.pool: Optional[ThreadPoolExecutor] = None
        # Calls still running: a step ends only once they have finished and saved their result,
        # even when the caller stopped waiting for them (it was interrupted or failed).
        self.running: set[Any] = set()
        self.saved: dict[str, dict[str, Any]] = {}
        for tid, channel, value in loop.pending_writes:
            self.saved.setdefault(tid, {})[channel] = value

    def _task(self, caller: TaskContext, node: PregelNode, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Task:
        loop = self.loop
        scratchpad = caller.scratchpad
        index = scratchpad.next_call_index()
        parent_id = scratchpad.task_id
        id = task_id(loop.checkpoint_id, loop.checkpoint_ns, loop.step, node.name, "call", parent_id, str(index))
        if loop.checkpointer is not None:
            _check_storable(loop.checkpointer, node.name, "arguments", (args, kwargs))
        # LangGraph's path of a call: (PUSH, the caller's path, the call's index, True).
        path = (PUSH, scratchpad.task_path, index, True)
        # Nested under the caller's namespace, as LangGraph's: a call's interrupts, subgraphs
        # and streamed events belong to the task that made it.
        namespace = f"{scratchpad.namespace}{NS_SEP}{node.name}{NS_END}{id}"
        task = Task(id, node.name, path, (args, kwargs), node, (PUSH,), namespace)
        if loop.callbacks_enabled:
            task.caller_callbacks = caller.config.get("callbacks")
        resume = self.saved.get(id, {}).get(RESUME)
        if resume is not None:
            task.resume_values = list(resume)
        return task

    def _saved_result(self, task: Task) -> Any:
        saved = self.saved.get(task.id)
        if saved is not None and RETURN in saved:
            return saved[RETURN]
        return MISSING

    def _cached_result(self, task: Task) -> Any:
        loop = self.loop
        key = loop.cache_key(task)
        if key is None:
            return MISSING
        found = loop.cache.get([key])
        if key not in found:
            return MISSING
        task.writes = list(found[key])
        if loop.out.wants("updates"):
            loop.out.push("updates", {**updates_payload(task, frozenset()), "__metadata__": {"cached": True}})
        return self._outcome(task)

    def _start(self, task: Task) -> None:
        out = self.loop.out
        if out.wants("tasks") or out.wants("debug"):
            out.push_task("task", task_start_payload(task), self.loop.step)

    def _finish(self, task: Task) -> list[tuple[str, Any]]:
        """The writes to save for a finished call, and its stream events."""
        loop = self.loop
        if loop.out.wants("tasks") or loop.out.wants("debug"):
            loop.out.push_task("task_result", task_result_payload(task, loop.graph), loop.step)
        if task.error is not None:
            return [(ERROR, task.error)]
        if task.paused:
            return []
        if task.interrupts:
            return [w for w in task.writes if w[0] == RESUME] + [(INTERRUPT, list(task.interrupts))]
        if loop.checkpointer is not None:
            _check_storable(loop.checkpointer, task.name, "result", self._outcome(task))
        if loop.out.wants("updates"):
            loop.out.push("updates", updates_payload(task, frozenset()))
        if loop.cache is not None and task.node.cache_policy is not None:
            loop.write_cache(task)
        return [w for w in task.writes if w[0] in (RETURN, RESUME)]

    def _outcome(self, task: Task) -> Any:
        if task.error is not None:
            raise task.error
        if task.interrupts or task.paused:
            raise GraphInterrupt(task.interrupts)
        for key, value in task.writes:
            if key == RETURN:
                return value
        return None

    # -------------------------------------------------------------- sync

    def call(self, caller: TaskContext, node: PregelNode, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future:
        task = self._task(caller, node, args, kwargs)
        future: Future = Future()
        saved = self._saved_result(task)
        if saved is not MISSING:
            self._start(task)  # as LangGraph's debug stream: the call is shown, its result reused
        else:
            saved = self._cached_result(task)
        if saved is not MISSING:
            future.set_result(saved)
            return future
        if self.pool is None:
            self.pool = ThreadPoolExecutor(
                max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="stategraph-task"
            )
        context = contextvars.copy_context()
        self._start(task)

        def execute() -> None:
            try:
                run_task(self.loop, task, self.loop.task_context(task))
                writes = self._finish(task)
                self.loop.save_call_writes(task, writes)
                future.set_result(self._outcome(task))
            except BaseException as error:
                future.set_exception(error)

        self.running.add(future)
        future.add_done_callback(self.running.discard)
        self.pool.submit(context.run, execute)
        return future

    def settle(self) -> None:
        """Wait for every call still running (and the calls those start)."""
        while self.running:
            wait_all(list(self.running))

    # -------------------------------------------------------------- async

    def acall(self, caller: TaskContext, node: PregelNode, args: tuple[Any, ...], kwargs: dict[str, Any]) -> asyncio.Future:
        task = self._task(caller, node, args, kwargs)
        running = asyncio.get_running_loop()
        saved = self._saved_result(task)
        if saved is not MISSING:
            self._start(task)  # as LangGraph's debug stream: the call is shown, its result reused
        else:
            saved = self._cached_result(task)
        if saved is not MISSING:
            done = running.create_future()
            done.set_result(saved)
            return done

        self._start(task)

        async def execute() -> Any:
            await arun_task(self.loop, task, self.loop.task_context(task))
            writes = self._finish(task)
            await self.loop.asave_call_writes(task, writes)
            return self._outcome(task)

        future = asyncio.ensure_future(execute())
        self.running.add(future)
        future.add_done_callback(self.running.discard)
        return future

    async def asettle(self) -> None:
        while self.running:
            # Exceptions are the caller's to see through its own future; here they are only
            # collected, so an abandoned call's failure is not reported as never retrieved.
            await asyncio.gather(*self.running, return_exceptions=True)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False)
