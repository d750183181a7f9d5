"""What a node's return value writes: state updates, Command routing, edges and branches.

Built once per node at compile time; run after the node body, inside its task.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from stategraph._context import current_task
from stategraph._constants import END, ROOT, START, TASKS
from stategraph.errors import ErrorCode, InvalidUpdateError, ParentCommand, create_error_message
from stategraph.graph._schema import fields_of_object
from stategraph.pregel._call import NodeCall
from stategraph.pregel._callbacks import abranch_run, aend_run, branch_run, end_run
from stategraph.types import Command, Send

logger = logging.getLogger("stategraph")


def _goto_writes(goto: Any) -> list[tuple[str, Any]]:
    targets = [goto] if isinstance(goto, (str, Send)) else list(goto or ())
    writes: list[tuple[str, Any]] = []
    for target in targets:
        if isinstance(target, Send):
            if target.node == END:
                raise InvalidUpdateError("Cannot send a packet to the END node")
            writes.append((TASKS, target))
        elif target != END:
            writes.append((f"branch:to:{target}", None))
    return writes


class UpdateWriter:
    """Maps a node's return value to ``(channel, value)`` writes."""

    __slots__ = ("keys", "root", "node")

    def __init__(self, keys: frozenset[str], root: bool, node: str) -> None:
        self.keys = keys
        self.root = root
        self.node = node

    def __call__(self, value: Any) -> list[tuple[str, Any]]:
        if value is None:
            return []
        if isinstance(value, Command):
            return self._command(value)
        if isinstance(value, (list, tuple)) and any(isinstance(v, Command) for v in value):
            # Several updates at once: each Command's, and (root state) each other item.
            writes: list[tuple[str, Any]] = []
            for item in value:
                writes.extend(self(item))
            return writes
        if self.root:
            return [(ROOT, value)]
        if isinstance(value, dict):
            keys = self.keys
            return [(k, v) for k, v in value.items() if k in keys]
        fields = fields_of_object(value)
        if fields is not None:
            return [(k, v) for k, v in fields.items() if k in self.keys]
        raise InvalidUpdateError(
            create_error_message(
                message=f"Expected dict, got {value}. Node '{self.node}' must return a dict "
                "of state keys to update (or None, a Command, or an instance of the state class).",
                error_code=ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
            )
        )

    def _command(self, command: Command) -> list[tuple[str, Any]]:
        if command.graph == Command.PARENT:
            raise ParentCommand(command)
        writes: list[tuple[str, Any]] = []
        if command.update is not None:
            if self.root and not isinstance(command.update, dict):
                writes.append((ROOT, command.update))
            else:
                keys = self.keys
                writes.extend((k, v) for k, v in command._update_as_tuples() if k in keys or k == ROOT)
        writes.extend(_goto_writes(command.goto))
        return writes


@dataclass
class Branch:
    """A conditional edge: ``path`` picks the next node(s) from the state after ``source``."""

    path: Callable[..., Any]
    ends: Optional[dict[Any, str]] = None
    input_schema: Any = None
    name: str = "condition"
    call: Optional[NodeCall] = field(default=None, repr=False)
    reads: Any = None
    mapper: Optional[Callable[[Any], Any]] = None

    def destinations(self, result: Any) -> list[tuple[str, Any]]:
        results = result if isinstance(result, (list, tuple)) else [result]
        if self.ends is not None:
            destinations = [r if isinstance(r, Send) else self.ends[r] for r in results]
        else:
            destinations = list(results)
        if any(d is None or d == START for d in destinations):
            raise ValueError(
                f"Branch did not return a valid destination (got {result!r}). Branch "
                f"'{self.name}' must return a node name, END, a Send, or a list of them."
            )
        return _goto_writes(destinations)

    @property
    def is_async(self) -> bool:
        return self.call is not None and self.call.is_async

    @property
    def run_name(self) -> str:
        """The name of the branch's run in traces: its path function's (LangGraph's too)."""
        path = self.path
        if callable(getattr(path, "get_name", None)):
            return path.get_name()
        return getattr(path, "__name__", type(path).__name__)


class NodeWriter:
    """Everything a node writes after its body ran, in LangGraph's order.

    State updates and Command routing first, then static edges and join barriers, then one
    write per conditional branch (which sees the node's own updates, not its siblings').
    """

    __slots__ = ("update", "static", "branches", "is_async", "state_keys")

    def __init__(
        self,
        update: Optional[UpdateWriter],
        static: Sequence[tuple[str, Any]],
        branches: Sequence[Branch],
        state_keys: frozenset[str],
    ) -> None:
        self.update = update
        self.static = list(static)
        self.branches = list(branches)
        self.is_async = any(b.is_async for b in branches)
        self.state_keys = state_keys

    def __call__(self, returned: Any, task: Any, read: Callable[[Any, Any], Any]) -> list[tuple[str, Any]]:
        writes = self.update(returned) if self.update is not None else []
        if self.static:
            writes.extend(self.static)
        for index, branch in enumerate(self.branches):
            value = self._branch_input(branch, returned, task, writes, read)
            context = current_task.get()
            node_run = context.trace_run if context is not None else None
            run = branch_run(node_run, index, branch.run_name, value) if node_run is not None else None
            try:
                result = branch.call(value, context) if branch.call is not None else branch.path(value)  # type: ignore[arg-type]
                if inspect.isawaitable(result):
                    raise TypeError(
                        f"Branch '{branch.name}' is async and cannot run in a synchronous invocation. "
                        "Use ainvoke()/astream(), or make the path function a plain def."
                    )
            except BaseException as error:
                end_run(run, error=error)
                raise
            end_run(run, result)
            writes.extend(branch.destinations(result))
        return writes

    async def awrite(self, returned: Any, task: Any, read: Callable[[Any, Any], Any]) -> list[tuple[str, Any]]:
        writes = self.update(returned) if self.update is not None else []
        if self.static:
            writes.extend(self.static)
        for index, branch in enumerate(self.branches):
            value = self._branch_input(branch, returned, task, writes, read)
            context = current_task.get()
            node_run = context.trace_run if context is not None else None
            run = await abranch_run(node_run, index, branch.run_name, value) if node_run is not None else None
            try:
                if branch.call is not None:
                    result = await branch.call.acall(value, context)  # type: ignore[arg-type]
                else:
                    result = branch.path(value)
                if inspect.isawaitable(result):
                    result = await result
            except BaseException as error:
                await aend_run(run, error=error)
                raise
            await aend_run(run, result)
            writes.extend(branch.destinations(result))
        return writes

    def _branch_input(self, branch: Branch, returned: Any, task: Any, writes: Any, read: Any) -> Any:
        value = read(branch.reads, writes)
        if branch.mapper is not None:
            value = branch.mapper(value)
        # Keys the node returned beyond the state reach the branch too, while the state is
        # still a dict (a pydantic or dataclass state has nowhere to put them).
        if (
            branch.input_schema is None
            and isinstance(returned, dict)
            and isinstance(value, dict)
        ):
            extras = {k: v for k, v in returned.items() if k not in self.state_keys}
            if extras:
                value = {**extras, **value}
        return value
