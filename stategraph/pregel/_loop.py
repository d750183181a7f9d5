"""The superstep loop, without I/O: plan → (tasks run elsewhere) → apply writes → checkpoint.

``PregelLoop`` holds one run's channels and versions. The sync and async drivers
(``_runner.py``) call ``start``, then ``tick``/``task_done``/``after_tick`` per step, and
``finish``; after each call they carry out the checkpointer calls queued in ``outbox`` and
deliver the stream events the loop pushed. Everything derived from the graph was computed at
compile time; each step touches only what changed.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Optional, Sequence

from stategraph._context import TaskContext
from stategraph.channels.base import MISSING
from stategraph.checkpoint._capabilities import saver_capabilities
from stategraph.checkpoint._ids import new_checkpoint_id
from stategraph.checkpoint._types import CHECKPOINT_FORMAT_VERSION
from stategraph._constants import CONFIG_KEY_NODE_FINISHED, ERROR, INTERRUPT, PREVIOUS, RESUME, START
from stategraph.errors import ErrorCode, GraphRecursionError, create_error_message
from stategraph.pregel._apply import WriteTarget, apply_writes
from stategraph.pregel._error_handlers import ErrorHandlerMixin, is_handled_failure
from stategraph.pregel._input import InputMixin
from stategraph.pregel._node import Task
from stategraph.pregel._node_cache import NodeCacheMixin
from stategraph.pregel._persist import (
    PersistMixin,
    path_str,
    with_finished_marker,
    run_checkpoint_config,
    with_pending_sends,
)
from stategraph.pregel._plan import PlanMixin
from stategraph.pregel._read import read_channels, read_fresh
from stategraph.pregel._scratchpad import ResumeInbox, TaskScratchpad
from stategraph.pregel._stream import StreamOut, task_result_payload, task_start_payload, updates_payload
from stategraph.runtime import ExecutionInfo, Runtime, server_info_of
from stategraph.types import Interrupt, interrupt_id


def _int_next_version(current: Any) -> int:
    return 1 if current is None else current + 1

class PregelLoop(InputMixin, PlanMixin, PersistMixin, ErrorHandlerMixin, NodeCacheMixin):
    """One run of a compiled graph on one thread (or one subgraph invocation)."""

    def __init__(
        self,
        graph: Any,
        *,
        config: dict[str, Any],
        checkpointer: Any,
        store: Any,
        cache: Any,
        context: Any,
        out: StreamOut,
        durability: str,
        interrupt_before: Sequence[str] | str,
        interrupt_after: Sequence[str] | str,
        output_keys: str | Sequence[str],
        stream_keys: str | Sequence[str],
        checkpoint_ns: str,
        resuming: Optional[bool],
        inbox: Optional[ResumeInbox],
        parent_runtime: Optional[Runtime],
        control: Any = None,
    ) -> None:
        self.graph = graph
        self.config = config
        configurable = config.get("configurable") or {}
        self.configurable = configurable
        self.node_finished: Optional[Callable[[str], Any]] = configurable.get(CONFIG_KEY_NODE_FINISHED)
        self.checkpointer = checkpointer
        self.checkpointer_reads_only_new_values = (
            checkpointer is not None and saver_capabilities(checkpointer).reads_only_new_values
        )
        self.store = store
        self.cache = cache
        self.out = out
        self.durability = durability
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.output_keys = output_keys
        self.output_key_set = frozenset((output_keys,) if isinstance(output_keys, str) else output_keys)
        self.stream_keys = stream_keys
        self.stream_key_set = frozenset((stream_keys,) if isinstance(stream_keys, str) else stream_keys)
        # A single streamed channel (a run's str output_keys, __root__ graphs, entrypoints):
        # updates carry its raw value.
        self.stream_single = stream_keys if isinstance(stream_keys, str) else None
        self.checkpoint_ns = checkpoint_ns
        self.is_nested = bool(checkpoint_ns)
        # Lifecycle events for stategraph.callbacks: (kind, status, checkpoint_id, interrupts).
        self.lifecycle: list[tuple[str, str, str, tuple[Any, ...]]] = []
        self.run_id: Any = None  # the graph run's callback run id, when callbacks are active
        self.resuming_hint = resuming
        # Whether subgraphs started by this step continue their saved runs: only in the first
        # step of a run that resumes (a retried attempt sets it for its own task).
        self.subgraphs_resume = False
        self.inbox = inbox if inbox is not None else ResumeInbox()
        thread_id = configurable.get("thread_id")
        # A thread id of another type (a UUID) is saved and shown as its string, as in LangGraph.
        self.thread_id = thread_id if thread_id is None or isinstance(thread_id, str) else str(thread_id)
        self.checkpoint_map: dict[str, str] = dict(configurable.get("checkpoint_map") or {})
        # The checkpoint this run starts from when named: a root run's checkpoint_id (or, given
        # a subgraph's config, the root's entry in its checkpoint_map); a subgraph's own entry.
        if self.is_nested:
            self.requested_checkpoint_id = self.checkpoint_map.get(checkpoint_ns)
        elif configurable.get("checkpoint_ns"):
            self.requested_checkpoint_id = self.checkpoint_map.get("")
        else:
            self.requested_checkpoint_id = configurable.get("checkpoint_id")
        # A run addressed at a checkpoint the thread has moved past (set when loading): its
        # finished tasks run again instead of handing back their saved writes, as in LangGraph.
        self.addressed_superseded = False
        self.reruns_finished = False  # set by start(): a replay reruns finished tasks
        # Shared by every subgraph run of a replay (see ``SubgraphReplay``); None otherwise.
        self.replay: Any = None
        recursion_limit = config.get("recursion_limit", graph.recursion_limit)
        if recursion_limit < 1:
            raise ValueError("recursion_limit must be at least 1")
        self.recursion_limit = recursion_limit

        runtime = parent_runtime or Runtime()
        self.runtime = runtime.override(
            context=context if context is not None else runtime.context,
            store=store,
            stream_writer=self._custom_writer if out.wants("custom") else _no_op,
            control=control if control is not None else runtime.control,
            server_info=server_info_of(configurable) or runtime.server_info,
        )

        self.next_version: Callable[[Any], Any] = (
            (lambda current: checkpointer.get_next_version(current, None))
            if checkpointer is not None
            else _int_next_version
        )
        self.outbox: list[tuple[Any, ...]] = []
        self.scheduled_handlers: list[Task] = []  # error-handler tasks the driver runs next
        self.tasks: dict[str, Task] = {}
        self.status = "pending"
        self.interrupts: list[Interrupt] = []
        self.output: Any = None
        # Whether a "values" chunk of output_keys would have been streamed by now: as in
        # LangGraph, a run that never wrote its output channels (nor resumed) outputs None.
        self.output_seen = False
        self.step = 0
        self.stop = 0
        self.pending_writes: list[tuple[str, str, Any]] = []
        self.unsaved_versions: dict[str, Any] = {}
        self.checkpoint_saved = True
        self.checkpoint_id = ""
        self.checkpoint_ts = ""
        self.checkpoint_config: dict[str, Any] = {}
        self.parent_config: Optional[dict[str, Any]] = None
        self.metadata_base: dict[str, Any] = {}
        self.run_metadata = config.get("metadata") or {}
        self.updated: Optional[set[str]] = None
        self.loaded_source: Optional[str] = None
        # Chat models called inside nodes find callbacks through LangChain's own context
        # variable; set it only when someone listens and LangChain is loaded at all.
        self.refresh_callbacks()
        self.checkpoint_metadata: dict[str, Any] = {}
        self._pending_updated: set[str] = set()
        self._pending_previous: dict[str, Any] = {}
        # The config of the newest checkpoint the saver holds: the parent of the next one saved.
        self.saved_config: dict[str, Any] = {}
        self.target: WriteTarget
        self._calls: Any = None
        self.is_async_run = False  # set by the async driver
        self.event_loop: Any = None  # the async run's event loop (set by the async driver)
        self._exit_call_writes: list[tuple[str, list[tuple[str, Any]], str]] = []
        # exit durability: a Command's update, kept for the checkpoint it was made on
        self._exit_null_writes: Optional[tuple[dict[str, Any], list[tuple[str, Any]]]] = None

    def refresh_callbacks(self) -> None:
        """Decide once per run whether LangChain callbacks are in play."""
        from stategraph.pregel._callbacks import callbacks_active, langchain_config_var

        self.callbacks_enabled = callbacks_active(self.config)
        self.langchain_config_var = langchain_config_var() if self.callbacks_enabled else None

    # ------------------------------------------------------------------ loading and input

    def load(self, saved: Any) -> None:
        """Restore channels, versions and pending writes from a ``CheckpointTuple`` (or None)."""
        graph = self.graph
        if saved is None:
            values: dict[str, Any] = {}
            versions: dict[str, Any] = {}
            seen: dict[str, dict[str, Any]] = {}
            step = -1
            self.checkpoint_id = ""
            self.pending_writes = []
            self.updated = None
            self.checkpoint_config = {}
        else:
            checkpoint = saved.checkpoint
            values = checkpoint.get("channel_values") or {}
            versions = dict(checkpoint.get("channel_versions") or {})
            if checkpoint.get("v", CHECKPOINT_FORMAT_VERSION) < CHECKPOINT_FORMAT_VERSION and (
                checkpoint.get("pending_sends")
            ):
                values = with_pending_sends(checkpoint, values, versions)
            seen = {k: dict(v) for k, v in (checkpoint.get("versions_seen") or {}).items()}
            metadata = saved.metadata or {}
            step = metadata.get("step", -2) + 1
            self.loaded_source = metadata.get("source")
            self.checkpoint_metadata = dict(metadata)
            self.checkpoint_id = checkpoint["id"]
            self.checkpoint_ts = checkpoint.get("ts", "")
            self.pending_writes = list(saved.pending_writes or [])
            updated = checkpoint.get("updated_channels")
            self.updated = set(updated) if updated is not None else None
            loaded = saved.config["configurable"]
            self.checkpoint_config = run_checkpoint_config(
                loaded["thread_id"],
                loaded.get("checkpoint_ns", ""),
                loaded["checkpoint_id"],
                loaded.get("checkpoint_map"),
            )
            self.parent_config = saved.parent_config
        self.saved_config = self.checkpoint_config
        channels = {
            name: spec.from_checkpoint(values.get(name, MISSING))
            for name, spec in graph.channels.items()
        }
        self.channels = channels
        previous = channels.get(PREVIOUS)
        if previous is not None and previous.is_available():
            self.runtime = self.runtime.override(previous=previous.get())
        self.versions = versions
        self.seen = seen
        self.target = WriteTarget(
            channels, versions, seen, graph.trigger_to_nodes, self.next_version, graph.finishing
        )
        self.step = step
        self.stop = step + self.recursion_limit + 1
        if self.checkpointer is not None:
            from stategraph.checkpoint.base import get_checkpoint_metadata

            # The enclosing graphs' checkpoints (a subgraph's config may name its own too).
            parents = (
                {ns: cid for ns, cid in self.checkpoint_map.items() if ns != self.checkpoint_ns}
                if self.is_nested
                else {}
            )
            base = get_checkpoint_metadata(self.config, {"parents": parents})
            # LangGraph's key order: source, step, parents, then the run's own keys.
            self.metadata_base = {k: v for k, v in base.items() if k not in ("source", "step")}
        if saved is None:
            self.checkpoint_id = new_checkpoint_id(-2) if self.checkpointer else ""

    # ------------------------------------------------------------------ the superstep

    def tick(self) -> list[Task] | None:
        """Plan the next step. Returns the tasks to execute, or None when the run stops."""
        tasks = self._plan()
        if self.out.wants("checkpoints") or self.out.wants("debug"):
            self._emit_checkpoint(tasks)  # also the last one, where a run stops
        if self.step > self.stop:
            self.status = "out_of_steps"
            return None
        if not tasks:
            self.status = "done"
            return None
        self.tasks = {task.id: task for task in tasks}
        if self.pending_writes:
            self._resume_handled_failures(tasks)
            self._reattach_pending_writes(tasks)
        if self.interrupt_before and self._breakpoint_hit(self.interrupt_before, tasks):
            self.status = "interrupt_before"
            self._stop_at_breakpoint()
            self.lifecycle.append(("interrupt", "interrupt_before", self.checkpoint_id, ()))
            return None
        # A drain stops before the next step, but a breakpoint there comes first: the run that
        # resumes the drained one would pass it.
        control = self.runtime.control
        if control is not None and control.drain_requested:
            self.status = "draining"
            return None
        if self.out.wants("tasks") or self.out.wants("debug"):
            for task in tasks:
                if not task.node.hidden:
                    self.out.push_task("task", task_start_payload(task), self.step)
        if self.cache is not None:
            self._read_cache(tasks)
        runnable = []
        for task in tasks:
            if task.done:
                if (
                    task.writes
                    and not task.node.hidden
                    and self.out.wants("updates")
                    and not is_handled_failure(task)
                ):
                    payload = updates_payload(task, self.stream_key_set, self.stream_single)
                    if payload is not None:
                        self.out.push("updates", {**payload, "__metadata__": {"cached": True}})
            else:
                runnable.append(task)
        return runnable

    # ------------------------------------------------------------------ running tasks

    def task_context(self, task: Task) -> TaskContext:
        """What the task's code sees through get_config(), interrupt() and the injectables."""
        resume_values = task.resume_values
        if self.inbox.by_interrupt_id:
            # The answer to the task's next interrupt (older ids: all of a task's were its first).
            by_id = self.inbox.by_interrupt_id
            mapped = by_id.get(interrupt_id(task.ns, len(resume_values)), MISSING)
            if mapped is MISSING:
                mapped = by_id.get(interrupt_id(task.ns), MISSING)
            if mapped is not MISSING:
                resume_values = [*resume_values, mapped]
        writes = task.writes

        def record(channel: str, value: Any) -> None:
            writes[:] = [w for w in writes if w[0] != channel]
            writes.append((channel, value))

        scratchpad = TaskScratchpad(task.ns, list(resume_values), self.inbox, record)
        scratchpad.task_id = task.id
        scratchpad.task_path = task.path
        scratchpad.calls = self.calls
        runtime = self.runtime
        if self.graph.needs_execution_info:
            runtime = runtime.override(
                execution_info=ExecutionInfo(
                    checkpoint_id=self.checkpoint_id,
                    checkpoint_ns=task.ns,
                    task_id=task.id,
                    thread_id=self.thread_id,
                    run_id=str(self.config.get("run_id")) if self.config.get("run_id") else None,
                    node_attempt=1,
                    node_first_attempt_time=time.time(),
                )
            )
        if self.out.messages_handler is not None:
            self.out.messages_handler.on_task_start(self._task_config(task, runtime)["metadata"], task.input)
        context = TaskContext(
            lambda: self._task_config(task, runtime),
            runtime,
            scratchpad,
            writes.extend,
            lambda: read_fresh(self.channels, self.stream_keys, writes),
        )
        context.node_error = task.node_error
        return context

    def _task_config(self, task: Task, runtime: Runtime) -> dict[str, Any]:
        if task.config is not None:
            return task.config
        config = self.config
        node = task.node
        metadata = {
            **self.run_metadata,
            **node.metadata,
            "langgraph_step": self.step,
            "langgraph_node": task.name,
            "langgraph_triggers": task.triggers,
            "langgraph_path": task.path,
            "langgraph_checkpoint_ns": task.ns,
        }
        configurable = {
            **self.configurable,
            "checkpoint_ns": task.ns,
            "checkpoint_map": {**self.checkpoint_map, self.checkpoint_ns: self.checkpoint_id},
            "__pregel_task_id": task.id,
            "__pregel_checkpointer": self.checkpointer,
            "__pregel_runtime": runtime,
            "__pregel_resuming": self.subgraphs_resume,
            "__pregel_inbox": self.inbox,
            "__pregel_replay": self.replay,
            "__pregel_stream": self.out.child_target(),
            "__pregel_durability": self.durability,
            "__pregel_store": self.store,
            "__pregel_cache": self.cache,
        }
        configurable.pop("checkpoint_id", None)
        task_config = {
            **config,
            "metadata": metadata,
            "configurable": configurable,
            "run_name": task.name,
            "tags": [*(config.get("tags") or ()), *node.tags],
        }
        task.config = task_config
        return task_config

    def task_done(self, task: Task) -> None:
        """Record a finished task (success, interrupt or error): save its writes, stream them."""
        task.done = True
        if task.error is not None:
            if not self.route_failure_to_handler(task):
                self._save_writes(task.id, [(ERROR, task.error)], path_str(task.path))
                if not task.node.hidden and (self.out.wants("tasks") or self.out.wants("debug")):
                    self.out.push_task("task_result", task_result_payload(task, self.graph), self.step)
            return
        if task.paused:
            return
        writes = task.writes
        if task.interrupts:
            saved = [w for w in writes if w[0] == RESUME]
            saved.append((INTERRUPT, list(task.interrupts)))
            self._save_writes(task.id, saved, path_str(task.path))
            if self.out.wants("updates"):  # each interrupted task reports its own, as it stops
                self.out.push("updates", {"__interrupt__": task.interrupts})
            if self.out.wants("tasks") or self.out.wants("debug"):
                self.out.push_task("task_result", task_result_payload(task, self.graph), self.step)
            return
        graph = self.graph
        # Messages exist only once langchain-core is imported: the bare engine never imports it.
        if graph.message_channels or (graph.delta_channels and "langchain_core" in sys.modules):
            from stategraph.graph._message import ensure_message_ids

            ensure_message_ids(
                writes,
                graph.message_channels,
                copy=task.name == START,
                dict_channels=graph.delta_channels,
            )
        self._save_writes(task.id, with_finished_marker(writes), path_str(task.path))
        if self.cache is not None and task.node.cache_policy is not None:
            self.write_cache(task)
        if task.node.hidden:
            return
        if self.node_finished is not None:
            self.node_finished(task.name)
        out = self.out
        if out.wants("updates"):
            payload = updates_payload(task, self.stream_key_set, self.stream_single)
            if payload is not None:
                out.push("updates", payload)
        if out.wants("tasks") or out.wants("debug"):
            out.push_task("task_result", task_result_payload(task, self.graph), self.step)
        if out.messages_handler is not None:
            out.messages_handler.on_task_end(self._task_config(task, self.runtime)["metadata"], _writes_output(task))

    def after_tick(self, tasks: list[Task]) -> None:
        """Apply the step's writes, save its checkpoint, and check breakpoints after it."""
        all_tasks = list(self.tasks.values())
        interrupted = [task for task in all_tasks if task.interrupts or task.paused]
        if interrupted:
            for task in interrupted:
                self.interrupts.extend(task.interrupts)
            self.status = "interrupted"
            self.lifecycle.append(("interrupt", "pending", self.checkpoint_id, tuple(self.interrupts)))
            # Tasks stopped by a subgraph's breakpoint have no interrupt to report: only the
            # outermost graph says it stopped.
            if self.out.wants("updates") and not (self.interrupts or self.is_nested):
                self.out.push("updates", {"__interrupt__": ()})
            return
        updated, changed = apply_writes(self.target, all_tasks)
        self.updated = updated
        self.pending_writes = []
        self.subgraphs_resume = False
        if not self.output_seen and not self.output_key_set.isdisjoint(changed):
            self.output_seen = True
        if self.out.wants("values") and not self.stream_key_set.isdisjoint(changed):
            self.out.push("values", self._read_stream_values())
        self._save_checkpoint("loop", updated, changed)
        self.step += 1
        self.tasks = {}
        if self.interrupt_after and any(
            (self.interrupt_after == "*" and not t.node.hidden) or t.name in self.interrupt_after
            for t in all_tasks
        ):
            self.status = "interrupt_after"
            if self.out.wants("checkpoints") or self.out.wants("debug"):
                self._emit_checkpoint(self._plan())  # the checkpoint the run stops on
            self._stop_at_breakpoint()
            self.lifecycle.append(("interrupt", "interrupt_after", self.checkpoint_id, ()))

    # ------------------------------------------------------------------ finishing

    def finish(self) -> None:
        """Compute the run's output; queue the last saves (``exit`` durability)."""
        if self.status == "interrupted":
            successful = [
                t for t in self.tasks.values() if t.done and not (t.interrupts or t.paused) and t.error is None
            ]
            self._flush_exit_durability()
            if successful:
                apply_writes(self.target, successful)
            # A run stopped by interrupt() streams its values, changed or not.
            if not self.output_seen:
                self.output_seen = isinstance(self._read_output_now(), dict)
            if self.out.wants("values"):
                values = self._read_stream_values()
                if isinstance(values, dict) and self.interrupts:
                    self.out.push("values", {**values, "__interrupt__": tuple(self.interrupts)})
                elif isinstance(values, dict) and not self.stream_key_set.isdisjoint(
                    {channel for task in successful for channel, _ in task.writes}
                ):
                    # Stopped at a subgraph's breakpoint: as LangGraph, the values are streamed
                    # when the step's finished tasks changed them.
                    self.out.push("values", values)
        else:
            self._flush_exit_durability()
        if self.status == "draining":
            from stategraph.errors import GraphDrained

            raise GraphDrained(self.runtime.control.reason or "shutdown")
        if self.status == "out_of_steps":
            raise GraphRecursionError(
                create_error_message(
                    message=f"Recursion limit of {self.recursion_limit} reached without hitting a "
                    "stop condition. You can increase the limit by setting the `recursion_limit` "
                    "config key.",
                    error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                )
            )
        self.output = self._read_output()

    def fail(self) -> None:
        """The run raised: make sure what completed is saved (``exit`` durability)."""
        self._flush_exit_durability()

    def _read_output(self) -> Any:
        return self._read_output_now() if self.output_seen else None

    def _read_output_now(self) -> Any:
        try:
            return read_channels(self.channels, self.output_keys)
        except Exception:
            return None

    def _read_stream_values(self) -> Any:
        try:
            return read_channels(self.channels, self.stream_keys)
        except Exception:
            return None

    # ------------------------------------------------------------------ functional calls

    @property
    def calls(self) -> Any:
        if self._calls is None:
            from stategraph.pregel._calls import CallRunner

            self._calls = CallRunner(self)
        return self._calls

    # ------------------------------------------------------------------ custom stream

    def _custom_writer(self, chunk: Any) -> None:
        self.out.push("custom", chunk)

def _no_op(_: Any) -> None:
    return None

def _writes_output(task: Task) -> Any:
    return [value for key, value in task.writes]

