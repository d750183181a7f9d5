"""Running tasks: one attempt loop (retries, interrupts, parent commands) for sync and async.

The step pipeline is written once in ``_attempt_outcome``; ``run_task`` and ``arun_task``
differ only in how they call the node body and how they sleep between retries.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import replace
from typing import Any, Optional

from stategraph._context import TaskContext, current_task
from stategraph._constants import NS_END, NS_SEP, RESUME
from stategraph.errors import (
    GraphBubbleUp,
    GraphInterrupt,
    NodeCancelledError,
    ParentCommand,
)
from stategraph.pregel._callbacks import (
    aend_task_run,
    astart_task_run,
    end_task_run,
    langchain_config_var,
    start_task_run,
)
from stategraph.pregel._node import Task
from stategraph.pregel._read import read_fresh
from stategraph.pregel._timeout import run_with_timeout, watch_progress
from stategraph.types import Command, RetryPolicy

logger = logging.getLogger("stategraph.pregel")


def _matching_policy(policies: Any, error: BaseException) -> Optional[RetryPolicy]:
    if not policies:
        return None
    if isinstance(policies, RetryPolicy):
        policies = (policies,)
    for policy in policies:
        if policy.should_retry(error):
            return policy
    return None


def _strip_task_ids(namespace: str) -> str:
    return NS_SEP.join(part.split(NS_END)[0] for part in namespace.split(NS_SEP))


def _own_parent_command(task: Task, command: Command) -> bool:
    target = command.graph
    return target in (task.ns, task.name) or (
        target is not None and _strip_task_ids(target) == _strip_task_ids(task.ns)
    )


def _write(loop: Any, task: Task, returned: Any) -> None:
    node = task.node
    if node.write is None:
        return
    channels = loop.channels

    def read(keys: Any, writes: Any) -> Any:
        return read_fresh(channels, keys, writes)

    task.writes.extend(node.write(returned, task, read))


async def _awrite(loop: Any, task: Task, returned: Any) -> None:
    node = task.node
    writer = node.write
    if writer is None:
        return
    context = current_task.get()
    traced = context is not None and context.trace_run is not None  # branch runs are awaited
    awrite = getattr(writer, "awrite", None)
    if awrite is None or (not traced and not getattr(writer, "is_async", False)):
        _write(loop, task, returned)
        return
    channels = loop.channels

    def read(keys: Any, writes: Any) -> Any:
        return read_fresh(channels, keys, writes)

    task.writes.extend(await awrite(returned, task, read))


def _on_parent_command(loop: Any, task: Task, error: ParentCommand) -> None:
    """A ``Command(graph=PARENT)`` raised by this task's node or by a subgraph it ran."""
    command = error.command
    if command.graph == Command.PARENT:
        # Addressed to the task that ran this graph: its namespace, without the counter
        # that numbers the task's 2nd, 3rd... subgraph run.
        # As LangGraph, a root graph's node raises it out of invoke() too (addressed to "").
        parts = loop.checkpoint_ns.split(NS_SEP) if loop.is_nested else []
        while len(parts) > 1 and parts[-1].isdigit():
            parts.pop()
        raise ParentCommand(replace(command, graph=NS_SEP.join(parts)))
    if _own_parent_command(task, command):
        _write(loop, task, replace(command, graph=None))
        return
    raise error


def _start_attempt(task: Task, attempt: int, context: TaskContext) -> None:
    if attempt > 1:
        task.writes[:] = [w for w in task.writes if w[0] == RESUME]
        if task.config is not None:
            # A retried attempt continues the subgraphs its failed attempt started.
            task.config["configurable"]["__pregel_resuming"] = True
        info = context.runtime.execution_info
        if info is not None:
            context.runtime = context.runtime.override(execution_info=replace(info, node_attempt=attempt))


def _failed(task: Task, error: BaseException, attempt: int, policies: Any) -> Optional[float]:
    """Record a failed attempt; return seconds to wait before retrying, or None to give up."""
    policy = _matching_policy(policies, error)
    if policy is not None and attempt < policy.max_attempts:
        return policy.interval_seconds(attempt)
    error.add_note(f"During task with name '{task.name}' and id '{task.id}'")
    task.error = error
    return None


def run_task(loop: Any, task: Task, context: TaskContext) -> None:
    """Run one task to completion (success, interrupt or error) on this thread."""
    if loop.callbacks_enabled and not task.node.hidden:
        payload, recorded = _traced_input(task)
        run = start_task_run(context.config, task.name, payload, loop.step, task.caller_callbacks, recorded)
        context.trace_run = run
        try:
            _run_task(loop, task, context)
        except BaseException as error:
            end_task_run(run, None, error)
            raise
        output, recorded = _traced_output(task, context)
        end_task_run(run, output, task.error or _interrupt_error(task), recorded)
        return
    _run_task(loop, task, context)


def _traced_input(task: Task) -> tuple[Any, Any]:
    """A node run's input for callback handlers, and what tracers record of it (None: the
    same; a TracePolicy's ``process_inputs`` applies to tracers only, as in LangGraph)."""
    value = task.input
    if task.is_call:
        value = _bound_arguments(task)  # a @task call: its arguments by name, as LangGraph's
    policy = task.node.trace_policy
    if policy is not None and policy.process_inputs is not None:
        return value, _processed(policy.process_inputs, value, task)
    return value, None


def _bound_arguments(task: Task) -> Any:
    args, kwargs = task.input
    try:
        bound = inspect.signature(task.node.call.action).bind(*args, **kwargs)
    except (TypeError, ValueError, AttributeError):
        return task.input
    bound.apply_defaults()
    return dict(bound.arguments)


def _traced_output(task: Task, context: TaskContext) -> tuple[Any, Any]:
    # The run's outputs are what the node returned (a Command, None, ...), as in LangGraph.
    output = context.trace_output
    policy = task.node.trace_policy
    if policy is not None and policy.process_outputs is not None:
        return output, _processed(policy.process_outputs, output, task)
    return output, None


def _processed(processor: Any, value: Any, task: Task) -> Any:
    # What a trace records must never stop the run: a failing processor records the value as is.
    try:
        return processor(value)
    except Exception:  # noqa: BLE001 - logged, and the untransformed value traced
        logger.warning(
            "TracePolicy processor of node %r failed; tracing the value as is.",
            task.name,
            exc_info=True,
        )
        return value


def _interrupt_error(task: Task) -> Optional[BaseException]:
    return GraphInterrupt(task.interrupts) if task.interrupts or task.paused else None


def _run_task(loop: Any, task: Task, context: TaskContext) -> None:
    node = task.node
    policies = node.retry_policy or loop.graph.retry_policy
    attempt = 0
    while True:
        attempt += 1
        _start_attempt(task, attempt, context)
        context.scratchpad.reset_attempt()
        token = current_task.set(context)
        lc_var = loop.langchain_config_var
        lc_token = lc_var.set(context.config) if lc_var is not None else None
        try:
            try:
                returned = node.call(task.input, context) if node.call is not None else task.input
                if context.trace_run is not None:
                    context.trace_output = returned
                _write(loop, task, returned)
            except ParentCommand as error:
                _on_parent_command(loop, task, error)
            return
        except GraphInterrupt as interrupt:
            task.interrupts = interrupt.interrupts
            task.paused = not interrupt.interrupts
            return
        except GraphBubbleUp:
            raise
        except asyncio.CancelledError as cancelled:  # nothing cancels a sync body but itself
            delay = _failed(task, _node_cancelled(task, cancelled), attempt, policies)
            if delay is None:
                return
        except Exception as error:
            delay = _failed(task, error, attempt, policies)
            if delay is None:
                return
        finally:
            current_task.reset(token)
            if lc_token is not None:
                lc_var.reset(lc_token)
        time.sleep(delay)


async def arun_task(loop: Any, task: Task, context: TaskContext) -> None:
    """Run one task to completion on the event loop (sync bodies go to a worker thread)."""
    if loop.callbacks_enabled and not task.node.hidden:
        payload, recorded = _traced_input(task)
        run = await astart_task_run(
            context.config, task.name, payload, loop.step, task.caller_callbacks, recorded
        )
        context.trace_run = run
        try:
            await _arun_task(loop, task, context)
        except BaseException as error:
            await aend_task_run(run, None, error)
            raise
        output, recorded = _traced_output(task, context)
        await aend_task_run(run, output, task.error or _interrupt_error(task), recorded)
        return
    await _arun_task(loop, task, context)


async def _arun_task(loop: Any, task: Task, context: TaskContext) -> None:
    node = task.node
    policies = node.retry_policy or loop.graph.retry_policy
    timeout = (task.timeout or node.timeout) if node.call is not None else None
    clock = watch_progress(context, timeout) if timeout is not None and timeout.idle_timeout else None
    lc_var = loop.langchain_config_var
    if lc_var is None and clock is not None and timeout.refresh_on == "auto":
        lc_var = langchain_config_var()  # model and tool events inside the node are progress
    attempt = 0
    while True:
        attempt += 1
        _start_attempt(task, attempt, context)
        context.scratchpad.reset_attempt()
        token = current_task.set(context)
        lc_token = lc_var.set(context.config) if lc_var is not None else None
        try:
            try:
                if node.call is None:
                    returned = task.input
                elif timeout is not None:
                    returned = await run_with_timeout(
                        node.name, timeout, node.call.acall(task.input, context), clock
                    )
                else:
                    returned = await node.call.acall(task.input, context)
                returned = await _resolve_awaitable_runnable(returned, task, context)
                if context.trace_run is not None:
                    context.trace_output = returned
                await _awrite(loop, task, returned)
            except ParentCommand as error:
                _on_parent_command(loop, task, error)
            return
        except GraphInterrupt as interrupt:
            task.interrupts = interrupt.interrupts
            task.paused = not interrupt.interrupts
            return
        except GraphBubbleUp:
            raise
        except asyncio.CancelledError as cancelled:
            running = asyncio.current_task()
            if running is None or running.cancelling():
                raise  # the run is stopping this task (a sibling failed, the caller gave up)
            # The body raised it itself: a failure of the node like any other, as in LangGraph.
            delay = _failed(task, _node_cancelled(task, cancelled), attempt, policies)
            if delay is None:
                return
        except Exception as error:
            delay = _failed(task, error, attempt, policies)
            if delay is None:
                return
        finally:
            current_task.reset(token)
            if lc_token is not None:
                lc_var.reset(lc_token)
        await asyncio.sleep(delay)


def _node_cancelled(task: Task, cancelled: BaseException) -> NodeCancelledError:
    error = NodeCancelledError(task.name)
    error.__cause__ = cancelled
    return error


async def _resolve_awaitable_runnable(returned: Any, task: Task, context: TaskContext) -> Any:
    if asyncio.iscoroutine(returned):
        return await returned
    return returned


__all__ = ["arun_task", "run_task", "time"]
