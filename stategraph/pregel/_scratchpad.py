"""Per-task bookkeeping for ``interrupt()``: which answers this task has, which it used."""

from __future__ import annotations

import threading

import xxhash
from typing import Any, Callable

from stategraph.channels.base import MISSING
from stategraph._constants import RESUME


class ResumeInbox:
    """The run-wide answer given with ``Command(resume=...)``.

    A single value is taken by the first ``interrupt()`` that asks (once); a map answers each
    interrupt by its id.
    """

    __slots__ = ("_value", "by_interrupt_id", "_lock", "taken")

    def __init__(self, value: Any = MISSING, by_interrupt_id: dict[str, Any] | None = None) -> None:
        self._value = value
        self.by_interrupt_id = by_interrupt_id or {}
        self._lock = threading.Lock()
        self.taken = False

    def take(self) -> tuple[bool, Any]:
        with self._lock:
            if self._value is MISSING:
                return False, None
            value, self._value = self._value, MISSING
            self.taken = True
            return True, value


class TaskScratchpad:
    """State of one task execution that ``interrupt()`` and functional calls read and write."""

    __slots__ = (
        "namespace",
        "_interrupt_id",
        "resume_values",
        "_interrupt_counter",
        "_inbox",
        "_record_write",
        "call_counter",
        "subgraph_counter",
        "task_id",
        "task_path",
        "calls",
    )

    def __init__(
        self,
        namespace: str,
        resume_values: list[Any],
        inbox: ResumeInbox,
        record_write: Callable[[str, Any], None],
    ) -> None:
        self.namespace = namespace
        self._interrupt_id: str | None = None
        self.resume_values = resume_values
        self._interrupt_counter = -1
        self._inbox = inbox
        self._record_write = record_write
        self.call_counter = 0
        self.subgraph_counter = 0
        self.task_id = ""
        self.task_path: tuple[Any, ...] = ()  # the path of the task, which its @task calls extend
        self.calls: Any = None  # the loop's CallRunner, for @task calls made by this task

    @property
    def interrupt_id(self) -> str:
        """The id shared by every interrupt this task raises: a hash of its namespace."""
        if self._interrupt_id is None:
            self._interrupt_id = xxhash.xxh3_128_hexdigest(self.namespace.encode())
        return self._interrupt_id

    def reset_attempt(self) -> None:
        """A retried attempt asks its interrupts and makes its calls from the start again."""
        self._interrupt_counter = -1
        self.call_counter = 0
        self.subgraph_counter = 0

    def next_interrupt_index(self) -> int:
        self._interrupt_counter += 1
        return self._interrupt_counter

    def take_global_resume(self) -> tuple[bool, Any]:
        return self._inbox.take()

    def save_resume_values(self) -> None:
        self._record_write(RESUME, list(self.resume_values))

    def next_call_index(self) -> int:
        index = self.call_counter
        self.call_counter += 1
        return index
