"""A run's input: new input, a ``Command`` (goto, update, resume), or ``None`` to resume.

Mixed into ``PregelLoop``; decides whether the run resumes a saved thread, applies input
and null-task writes, and checks that a resume answers something that is waiting.
"""

from __future__ import annotations

from typing import Any

from stategraph.channels.base import MISSING
from stategraph.checkpoint._types import WRITES_IDX_MAP
from stategraph._constants import (
    CONFIG_KEY_STRICT_RESUME,
    ERROR,
    ERROR_SOURCE_NODE,
    INPUT,
    INTERRUPT,
    NULL_TASK_ID,
    PULL,
    RESUME,
    TASKS,
)
from stategraph.errors import EmptyInputError, InvalidUpdateError, ResumeError, UnknownInterruptError
from stategraph.pregel._apply import apply_writes
from stategraph.pregel._node import PregelNode, Task
from stategraph.pregel._persist import SubgraphReplay
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
        resumes = isinstance(input, Command) and input.resume is not None
        time_traveling = self._is_time_traveling(resumes)
        # A replay reruns the tasks that finished there (a fork gives them new ids; a replay in
        # place of an update checkpoint must not hand their saved writes back either).
        self.reruns_finished = time_traveling or self.addressed_superseded
        if time_traveling:
            # Replaying an old checkpoint: its saved answers (the tasks' and the run-wide one)
            # are stale, so every interrupt() fires again instead of returning them.
            self.pending_writes = [w for w in self.pending_writes if w[1] != RESUME]
        null_writes = [(c, v) for tid, c, v in self.pending_writes if tid == NULL_TASK_ID]
        resuming = self._is_resuming(input, has_state)
        # A replay of an old checkpoint starts a branch of its own at a fork checkpoint, which
        # carries the Command's writes in its values: stored on the old checkpoint, they would
        # be applied again by every later run from it. A checkpoint made by update_state is
        # already a fork, unless the thread has moved past it (then it has other children).
        forks = (
            resuming
            and time_traveling
            and (self.loaded_source not in ("update", "fork") or self.addressed_superseded)
        )
        if isinstance(input, Command):
            if input.graph == Command.PARENT:
                raise InvalidUpdateError(
                    "There is no parent graph. Command(graph=Command.PARENT) was given as the "
                    "input of a root graph; return it from a node inside a subgraph instead."
                )
            self._check_command(input)
            writes = self._command_writes(input)
            if writes:
                # The thread's earlier Command writes stay: savers key a write by its position,
                # so they are saved again ahead of these, and the answer (keyed by its channel)
                # goes last, where it never displaces an update.
                writes.sort(key=lambda w: w[0] in WRITES_IDX_MAP)
                if not forks:
                    kept = [(c, v) for c, v in null_writes if c not in WRITES_IDX_MAP]
                    self._save_writes(NULL_TASK_ID, kept + writes, "")
                null_writes.extend(writes)
        for channel, value in null_writes:
            if channel == RESUME and not isinstance(input, Command):
                self.inbox = ResumeInbox(value) if not is_interrupt_id_map(value) else ResumeInbox(
                    MISSING, value
                )
        applied_null = [(c, v) for c, v in null_writes if c != RESUME]
        if applied_null:
            self._apply_null_writes(applied_null)

        self.subgraphs_resume = bool(self.resuming_hint) if self.is_nested else resuming
        if resuming:
            self.lifecycle.append(("resume", "input", self.checkpoint_id, ()))
            # The first step of a resumed run considers every node, as LangGraph's does: the
            # saved checkpoint's updated channels need not name what triggers a deferred node.
            self.updated = None
            self.seen[INTERRUPT] = dict(self.versions)
            replayed_id, replayed_parent = self.checkpoint_id, self.parent_config
            if forks:
                # The fork has a new id, hence new task ids: the old interrupts are stale.
                self.pending_writes = [w for w in self.pending_writes if w[1] != INTERRUPT]
                self._save_checkpoint("fork", set(), dict(self.versions))
                self.step += 1
            if time_traveling and not self.is_nested:
                # Subgraphs replay from their state as of the replayed step. A fork made by
                # update_state came after that step: its parent bounds them.
                bound = replayed_id
                if self.loaded_source in ("update", "fork") and replayed_parent:
                    bound = replayed_parent["configurable"].get("checkpoint_id") or bound
                self.replay = SubgraphReplay(bound)
            self.output_seen = True
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

    def _is_time_traveling(self, resumes: bool) -> bool:
        """Whether this run replays a checkpoint named explicitly (not answering an interrupt).

        A root run names it with ``checkpoint_id``; a subgraph with its own namespace in the
        ``checkpoint_map`` (a config taken from ``get_state(subgraphs=True)``).
        """
        if self.is_nested:
            return self.checkpoint_ns in self.checkpoint_map
        return bool(self.requested_checkpoint_id) and not resumes

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
        if not pending and self._nothing_to_resume(command):
            raise ResumeError(
                f"Cannot resume thread '{self.thread_id}': it has no pending interrupt. "
                "Command(resume=...) answers an interrupt() that is waiting; check the thread_id, "
                "or call get_state(config).interrupts to see what the thread is waiting for. To "
                "continue a thread paused at a breakpoint, invoke with None."
            )
        strict = self._strict_resume()
        if is_interrupt_id_map(command.resume) or (strict and command.resume == {}):
            pending_ids = sorted({i.id for i in pending})
            if strict and not command.resume:
                raise UnknownInterruptError(
                    "The resume map names no interrupt. Pass Command(resume={interrupt_id: "
                    f"value, ...}}) with ids of get_state(config).interrupts: {pending_ids}.",
                    reason="empty_map",
                    pending_ids=pending_ids,
                )
            unknown = sorted(set(command.resume) - set(pending_ids))
            if unknown and strict:
                raise UnknownInterruptError(
                    f"Unknown or already-consumed interrupt: {unknown[0]}. Pending interrupt "
                    f"ids: {pending_ids}; nothing was written, so they can still be answered.",
                    reason="not_pending",
                    interrupt_ids=unknown,
                    pending_ids=pending_ids,
                )
            # Without strict mode, as in LangGraph, an id that is not pending answers nothing:
            # the run goes on and the interrupts it does not answer are raised again.
            self.inbox = ResumeInbox(MISSING, dict(command.resume))
        else:
            pending_ids = sorted({i.id for i in pending})
            if len(pending_ids) > 1:
                message = (
                    "When there are multiple pending interrupts, you must specify the interrupt "
                    "id when resuming. Pass Command(resume={interrupt_id: value, ...}) with the "
                    f"ids of get_state(config).interrupts: {pending_ids}."
                )
                if strict:
                    raise UnknownInterruptError(message, reason="ambiguous", pending_ids=pending_ids)
                raise ResumeError(message)
            self.inbox = ResumeInbox(command.resume)

    def _strict_resume(self) -> bool:
        # Nested runs inherit the parent's configurable; a resume at a superseded checkpoint
        # reruns finished tasks, whose earlier output makes their interrupts look answered.
        return (
            bool(self.configurable.get(CONFIG_KEY_STRICT_RESUME))
            and not self.is_nested
            and not self.addressed_superseded
        )

    def _pending_interrupts(self) -> list[Interrupt]:
        """The interrupts still waiting: the latest of each task that has not finished since."""
        interrupts: dict[str, list[Interrupt]] = {}
        finished: set[str] = set()
        for tid, channel, value in self.pending_writes:
            if tid == NULL_TASK_ID:
                continue
            if channel == INTERRUPT:
                interrupts[tid] = list(value)
            elif channel not in (ERROR, ERROR_SOURCE_NODE, RESUME) and not self.addressed_superseded:
                # At a checkpoint the thread moved past, finished tasks run again: their
                # interrupts wait once more.
                finished.add(tid)
        return [i for tid, found in interrupts.items() if tid not in finished for i in found]

    def _nothing_to_resume(self, command: Command) -> bool:
        """A resume value with nothing waiting is refused only where no run could follow: on a
        thread with no checkpoint, or a finished one (LangGraph continues any other run, the
        value kept for the next interrupt())."""
        if not self.versions:
            return True
        if command.goto or command.update is not None:
            return False
        return not self._plan(for_discard=True)

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
