"""The running task, as seen from code inside a node (``get_config``, ``interrupt``, ...).

One context variable holds the task's ``TaskContext``; the runner sets it around each task.
Threads and asyncio tasks inherit it through ``contextvars`` copies.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from stategraph.pregel._scratchpad import TaskScratchpad
    from stategraph.runtime import Runtime

current_task: ContextVar[TaskContext | None] = ContextVar("stategraph_task", default=None)


class TaskContext:
    """What a running task exposes to the code it calls.

    The config dict is built on first use: most nodes never ask for it.
    """

    __slots__ = (
        "_config",
        "_make_config",
        "runtime",
        "scratchpad",
        "write",
        "read_state",
        "node_error",
        "trace_run",
        "trace_output",
    )

    def __init__(
        self,
        make_config: Callable[[], dict[str, Any]],
        runtime: Runtime,
        scratchpad: TaskScratchpad,
        write: Callable[[list[tuple[str, Any]]], None] | None = None,
        read_state: Callable[[], Any] | None = None,
    ) -> None:
        self._config: dict[str, Any] | None = None
        self._make_config = make_config
        self.runtime = runtime
        self.scratchpad = scratchpad
        # Adds writes [(channel, value)] to the running task, applied with its others.
        self.write = write or _no_write
        # The graph state as this task sees it (step start plus its own writes).
        self.read_state = read_state or dict
        # For an error handler: the NodeError it handles (injected as ``error``).
        self.node_error: Any = None
        # The node's run when callbacks listen (its branches report as its children).
        self.trace_run: Any = None
        # What the node returned, for its run's outputs (set only while a run is traced).
        self.trace_output: Any = None

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = self._make_config()
        return self._config


def _no_write(writes: list[tuple[str, Any]]) -> None:
    raise RuntimeError("This task cannot take extra writes.")


def require_task(caller: str) -> TaskContext:
    context = current_task.get()
    if context is None:
        # LangGraph's wording: its helpers all fail in get_config().
        raise RuntimeError(
            f"Called get_config outside of a runnable context. {caller}() only works inside a "
            "node, task or entrypoint while a graph is running."
        )
    return context


def current_scratchpad(caller: str) -> TaskScratchpad:
    return require_task(caller).scratchpad
