"""A run's input: new input, a ``Command`` (goto, update, resume), or ``None`` to resume.

Mixed into ``PregelLoop``; decides whether the run resumes a saved thread, applies input
and null-task writes, and checks that a resume answers something that is waiting.
"""

from __future__ import annotations

from typing import Any

from stategraph.channels.base import MISSING
from stategraph.constants import INPUT, INTERRUPT, NULL_TASK_ID, PULL, RESUME, TASKS
from stategraph.errors import EmptyInputError, InvalidUpdateError, ResumeError
from stategraph.pregel._apply import apply_writes
from stategraph.pregel._node import PregelNode, Task
from stategraph.pregel._scratchpad import ResumeInbox
from stategraph.types import Command, Interrupt, Send


def is_interrupt_id_map(value: Any) -> bool:
    """A resume value keyed by interrupt ids (32 lowercase hex characters each)."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(
            isinstance(key, str) and len(key) == 32 and all(c in "0123456789abcdef" for c in key)
            for key in value
        )
    )


INPUT_NODE = PregelNode(name=INPUT, triggers=(), reads=(), call=None, hidden=True)


def input_task(writes: list[tuple[str, Any]]) -> Task:
    """The anonymous task that carries input and null-task writes."""
    task = Task(NULL_TASK_ID, INPUT, (PULL, INPUT), None, INPUT_NODE, (), INPUT)
    task.writes = writes
    return task


class InputMixin:
    """``PregelLoop.start`` and what it needs."""

    def start(self, input: Any) -> None:
        """Handle the run's input: new input, a ``Command``, or ``None`` to resume."""
        graph = self.graph
        has_state = bool(self.versions)
        null_writes = [(c, v) for tid, c, v in self.pending_writes if tid == NULL_TASK_ID]
        if isinstance(input, Command):
            if input.graph == Command.PARENT:
                raise InvalidUpdateError(
                    "There is no parent graph. Command(graph=Command.PARENT) was given as the "
                    "input of a root graph; return it from a node inside a subgraph instead."
                )
            self._check_command(input)
            writes = self._command_writes(input)
            if writes:
                self._save_writes(NULL_TASK_ID, writes, "")
                null_writes.extend(writes)
        for channel, value in null_writes:
            if channel == RESUME and not isinstance(input, Command):
                self.inbox = ResumeInbox(value) if not is_interrupt_id_map(value) else ResumeInbox(
                    MISSING, value
                )
        applied_null = [(c, v) for c, v in null_writes if c != RESUME]
        if applied_null:
            self._apply_null_writes(applied_null)

        resuming = self._is_resuming(input, has_state)
        if resuming:
            self.seen[INTERRUPT] = dict(self.versions)
            explicit_id = self.configurable.get("checkpoint_id") and not self.is_nested
            if explicit_id and not (isinstance(input, Command) and input.resume is not None):
                self.pending_writes = [
                    w for w in self.pending_writes if w[1] not in (RESUME, INTERRUPT)
                ]
                if self.loaded_source not in ("update", "fork"):
                    self._save_checkpoint("fork", set(), dict(self.versions))
                    self.step += 1
            if self.out.wants("values"):
                self.out.push("values", self._read_stream_values())
        elif input is not None and not isinstance(input, Command):
            input_writes = graph.map_input(input)
            if not input_writes:
                raise EmptyInputError(f"Received no input for {graph.input_channels}")
            discarded = self._plan(for_discard=True)
            if discarded:
                apply_writes(self.target, discarded)
            self.pending_writes = []
            updated, changed = apply_writes(self.target, [input_task(input_writes)])
            self.updated = updated
            self._save_checkpoint("input", updated, changed)
            self.step += 1
        elif not isinstance(input, Command):
            raise EmptyInputError(
                f"Received no input for {graph.input_channels}. The thread has no saved state to "
                "resume: pass the graph's input, or check the config's thread_id."
            )

    def _is_resuming(self, input: Any, has_state: bool) -> bool:
        if self.resuming_hint is not None:
            return self.resuming_hint and has_state
        if not has_state:
            return False
        return input is None or isinstance(input, Command)

    def _check_command(self, command: Command) -> None:
        if (
            command.update is None
            and command.resume is None
            and not command.goto
        ):
            raise EmptyInputError(
                "Received empty Command input. Give the Command an update=, goto= or resume=; "
                "to continue a thread without changes, invoke with None."
            )
        if command.resume is None:
            return
        if self.checkpointer is None:
            raise RuntimeError(
                "Cannot use Command(resume=...) without checkpointer. The graph was compiled "
                "without one, so there is no saved run to resume. Fix: compile with "
                "checkpointer=InMemorySaver() (SqliteSaver for a durable thread), then pass "
                'config={"configurable": {"thread_id": "..."}} on every call.'
            )
        pending = self._pending_interrupts()
        if not pending:
            raise ResumeError(
                f"Cannot resume thread '{self.thread_id}': it has no pending interrupt. "
                "Command(resume=...) answers an interrupt() that is waiting; check the thread_id, "
                "or call get_state(config).interrupts to see what the thread is waiting for. To "
                "continue a thread paused at a breakpoint, invoke with None."
            )
        if is_interrupt_id_map(command.resume):
            unknown = set(command.resume) - {i.id for i in pending}
            if unknown:
                raise ResumeError(
                    f"Cannot resume: no pending interrupt has id {sorted(unknown)[0]!r}. Pending "
                    f"interrupt ids: {sorted({i.id for i in pending})}."
                )
            self.inbox = ResumeInbox(MISSING, dict(command.resume))
        else:
            if len({i.id for i in pending}) > 1:
                raise ResumeError(
                    "When there are multiple pending interrupts, you must specify the interrupt "
                    "id when resuming. Pass Command(resume={interrupt_id: value, ...}) with the "
                    f"ids of get_state(config).interrupts: {sorted({i.id for i in pending})}."
                )
            self.inbox = ResumeInbox(command.resume)

    def _pending_interrupts(self) -> list[Interrupt]:
        found: list[Interrupt] = []
        for tid, channel, value in self.pending_writes:
            if channel == INTERRUPT and tid != NULL_TASK_ID:
                found.extend(value)
        return found

    def _command_writes(self, command: Command) -> list[tuple[str, Any]]:
        writes: list[tuple[str, Any]] = []
        goto = command.goto
        targets = [goto] if isinstance(goto, (str, Send)) else list(goto or ())
        for target in targets:
            if isinstance(target, Send):
                writes.append((TASKS, target))
            elif target != "__end__":
                writes.append((f"branch:to:{target}", None))
        if command.resume is not None and not is_interrupt_id_map(command.resume):
            writes.append((RESUME, command.resume))
        if command.update is not None:
            writes.extend(self.graph.map_command_update(command))
        return writes

    def _apply_null_writes(self, writes: list[tuple[str, Any]]) -> None:
        updated, changed = apply_writes(self.target, [input_task(writes)])
        self.updated = (self.updated or set()) | updated if self.updated is not None else None
        self.unsaved_versions.update(changed)
