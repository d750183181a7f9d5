"""Node error handlers: a failed task's error goes to its node's handler, in the same step.

Mixed into ``PregelLoop``. When a task of a node registered with ``error_handler=`` fails (after
its retries, and not by bubbling up an interrupt or a parent command), its writes become
``(__error__, error)`` and ``(__error_source_node__, node)``, saved before the handler runs, and a
handler task is scheduled in the same step with the failed task's input and ``error:
NodeError``. The handler's writes are applied like the node's would have been; the run goes on.
A resumed run finds the marker among the checkpoint's pending writes and runs the handler, not
the node, again.
"""

from __future__ import annotations

from typing import Any

from stategraph._constants import ERROR, ERROR_SOURCE_NODE, PUSH
from stategraph.errors import NodeError
from stategraph.pregel._node import Task, task_id
from stategraph.pregel._persist import path_str
from stategraph.pregel._stream import task_start_payload

HANDLER_PATH_KIND = "node_error_handler"


class ErrorHandlerMixin:
    """``PregelLoop``'s routing of failures to error-handler nodes."""

    def route_failure_to_handler(self, task: Task) -> bool:
        """Hand ``task``'s error to its node's error handler; False if it has none."""
        error = task.error
        if error is None or task.node.error_handler is None:
            return False
        task.error = None
        task.writes[:] = [(ERROR, error), (ERROR_SOURCE_NODE, task.name)]
        self._save_writes(task.id, list(task.writes), path_str(task.path))
        handler = self._error_handler_task(task, error)
        self.tasks[handler.id] = handler
        self.scheduled_handlers.append(handler)
        if self.out.wants("tasks") or self.out.wants("debug"):
            self.out.push_task("task", task_start_payload(handler), self.step)
        return True

    def take_error_handlers(self) -> list[Task]:
        """The handler tasks scheduled since the last call (the driver runs them next)."""
        handlers, self.scheduled_handlers = self.scheduled_handlers, []
        return handlers

    def _resume_handled_failures(self, tasks: list[Task]) -> None:
        """Tasks whose failure a previous run routed to a handler: done; their handlers join
        ``tasks`` (and run, unless their own writes were saved too)."""
        errors: dict[str, Any] = {}
        marked: list[str] = []
        for tid, channel, value in self.pending_writes:
            if channel == ERROR:
                errors[tid] = value
            elif channel == ERROR_SOURCE_NODE:
                marked.append(tid)
        if not marked:
            return
        by_id = {task.id: task for task in tasks}
        for tid in marked:
            failed = by_id.get(tid)
            if failed is None or failed.node.error_handler is None:
                continue
            error = _as_exception(errors.get(tid))
            failed.done = True
            failed.writes[:] = [(ERROR, error), (ERROR_SOURCE_NODE, failed.name)]
            handler = self._error_handler_task(failed, error)
            tasks.append(handler)
            self.tasks[handler.id] = handler

    def _error_handler_task(self, failed: Task, error: BaseException) -> Task:
        name = failed.node.error_handler
        node = self.graph.nodes[name]
        id = task_id(
            self.checkpoint_id, self.checkpoint_ns, self.step, name, PUSH, HANDLER_PATH_KIND, failed.id
        )
        path = (*failed.path[:3], HANDLER_PATH_KIND, False)
        handler = Task(id, name, path, failed.input, node, (PUSH,), self._task_namespace(name, id))
        handler.node_error = NodeError(failed.name, error)
        return handler


def is_handled_failure(task: Task) -> bool:
    """Whether ``task`` failed and its error went to a handler (its writes are only markers)."""
    return any(channel == ERROR_SOURCE_NODE for channel, _ in task.writes)


def _as_exception(value: Any) -> BaseException:
    # Stored errors read back as their repr() text: the handler still gets an exception.
    return value if isinstance(value, BaseException) else Exception(str(value))
