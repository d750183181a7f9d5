"""What a checkpoint's pending writes say of each task of its step: finished, failed, waiting.

Read by ``get_state`` and by the ``checkpoints`` stream.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from stategraph._constants import ERROR, ERROR_SOURCE_NODE, INTERRUPT, NULL_TASK_ID, RESUME

__all__ = ["NOT_STARTED", "TaskStatus", "task_statuses"]


class TaskStatus(NamedTuple):
    """What a checkpoint's pending writes say of one task."""

    output: list[tuple[str, Any]]  # its writes (a finished task has at least one)
    interrupts: tuple[Any, ...]  # the interrupts it raised, answered or not
    error: Any


NOT_STARTED = TaskStatus([], (), None)
_CONTROL_WRITES = frozenset({ERROR, ERROR_SOURCE_NODE, INTERRUPT, RESUME})


def task_statuses(pending_writes: Any) -> dict[str, TaskStatus]:
    output: dict[str, list[tuple[str, Any]]] = {}
    interrupts: dict[str, list[Any]] = {}
    errors: dict[str, Any] = {}
    for tid, channel, value in pending_writes:
        if tid == NULL_TASK_ID:
            continue  # input to the step, not a task's doing
        output.setdefault(tid, [])
        if channel == INTERRUPT:
            interrupts.setdefault(tid, []).extend(value if isinstance(value, (list, tuple)) else [value])
        elif channel == ERROR:
            errors.setdefault(tid, value)
        elif channel not in _CONTROL_WRITES:
            output[tid].append((channel, value))
    return {
        tid: TaskStatus(writes, tuple(interrupts.get(tid, ())), errors.get(tid))
        for tid, writes in output.items()
    }
