"""Persistence of a run: the checkpoints and pending writes the loop asks its saver to store.

Mixed into ``PregelLoop``. Builds checkpoints and queues saver calls in the loop's outbox
(the drivers carry them out); nothing here does I/O, except saving functional task results,
which happens at once from the thread that ran the task.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from typing import Any, Optional

from stategraph.channels.base import MISSING
from stategraph.checkpoint._capabilities import acall_put_writes, call_put_writes
from stategraph.checkpoint._ids import new_checkpoint_id
from stategraph._constants import ERROR, INTERRUPT, NO_WRITES, NS_END, NULL_TASK_ID, RESUME, TASKS
from stategraph.pregel._node import Task
from stategraph.types import Send


class SubgraphReplay:
    """A replay's bound for its subgraphs: the first run of each subgraph (by namespace
    without task ids) loads its latest checkpoint older than the replayed one; later runs of
    it in the same replay (a loop) load their latest, which the replay itself wrote."""

    __slots__ = ("checkpoint_id", "_visited", "_lock")

    def __init__(self, checkpoint_id: str) -> None:
        self.checkpoint_id = checkpoint_id
        self._visited: set[str] = set()
        self._lock = threading.Lock()

    def first_visit(self, checkpoint_ns: str) -> bool:
        stable = checkpoint_ns.rsplit(NS_END, 1)[0]
        with self._lock:
            if stable in self._visited:
                return False
            self._visited.add(stable)
            return True


def with_finished_marker(writes: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """A finished task's writes as saved: with only answers among them (or none), a marker
    that it finished, so a resume does not run it again."""
    if all(channel == RESUME for channel, _ in writes):
        return [*writes, (NO_WRITES, None)]
    return writes


def path_str(path: tuple[Any, ...]) -> str:
    return "~".join(path_str(part) if isinstance(part, tuple) else str(part) for part in path)


def run_checkpoint_config(
    thread_id: str, checkpoint_ns: str, checkpoint_id: str, checkpoint_map: dict[str, str] | None = None
) -> dict[str, Any]:
    """A run's config for one of its checkpoints, keys in LangGraph's order (as its
    checkpoints and debug streams show them)."""
    configurable: dict[str, Any] = {"checkpoint_ns": checkpoint_ns, "thread_id": thread_id}
    if checkpoint_map:
        configurable["checkpoint_map"] = checkpoint_map
    configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def latest_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config of the thread's latest checkpoint in the same namespace."""
    configurable = {k: v for k, v in config["configurable"].items() if k != "checkpoint_id"}
    return {**config, "configurable": configurable}


def moved_past(saved: Any, latest: Any) -> bool:
    """Whether the thread has a checkpoint newer than ``saved`` (``latest`` is its newest)."""
    return latest is not None and latest.checkpoint["id"] != saved.checkpoint["id"]


class PersistMixin:
    """``PregelLoop``'s checkpointing methods."""

    def checkpoint_lookup(self) -> tuple[dict[str, Any], Optional[str]]:
        """The config that names the checkpoint this run starts from, and, when a subgraph
        first runs during a replay of its parent, the id it must load the latest checkpoint
        before (its state as of the replayed step)."""
        configurable = {"thread_id": self.thread_id, "checkpoint_ns": self.checkpoint_ns}
        if self.requested_checkpoint_id:
            configurable["checkpoint_id"] = self.requested_checkpoint_id
            return {"configurable": configurable}, None
        replay = self.replay
        if self.is_nested and replay is not None and replay.first_visit(self.checkpoint_ns):
            # Start over from that state with the parent's input, as a fresh invocation would.
            self.resuming_hint = None
            return {"configurable": configurable}, replay.checkpoint_id
        return {"configurable": configurable}, None

    def _flush_exit_durability(self) -> None:
        if self.durability != "exit" or self.checkpointer is None:
            return
        if self.status == "done" and NS_END in self.checkpoint_ns:
            # As in LangGraph: a subgraph run that finished under a task's namespace is never
            # read again (its parent saves the task's writes), so nothing of it is saved.
            return
        if not self.checkpoint_saved:
            self._queue_put(force=True)
        for task in self.tasks.values():
            if task.done and not task.restored:  # a restored task's writes are saved already
                writes = self._storable(self._task_saved_writes(task))
                if writes:
                    self.outbox.append(("writes", self.checkpoint_config, writes, task.id, path_str(task.path)))
        for tid, writes, path in self._exit_call_writes:
            self.outbox.append(("writes", self.checkpoint_config, writes, tid, path))
        self._exit_call_writes = []
        if self._exit_null_writes is not None:
            config, writes = self._exit_null_writes
            self._exit_null_writes = None
            if config is self.checkpoint_config and writes:
                self.outbox.append(("writes", config, self._storable(writes), NULL_TASK_ID, ""))

    def _task_saved_writes(self, task: Task) -> list[tuple[str, Any]]:
        if task.error is not None:
            return [(ERROR, task.error)]
        if task.paused:
            return []
        if task.interrupts:
            return [w for w in task.writes if w[0] == RESUME] + [(INTERRUPT, list(task.interrupts))]
        return with_finished_marker(task.writes)

    def _save_checkpoint(self, source: str, updated: set[str], changed: dict[str, Any]) -> None:
        if self.checkpointer is None:
            return
        self.unsaved_versions.update(changed)
        previous_config = self.checkpoint_config
        self.checkpoint_id = new_checkpoint_id(self.step)
        self.checkpoint_ts = datetime.datetime.now(datetime.timezone.utc).isoformat()
        # With exit durability the checkpoints in between are never saved: the one saved at the
        # end descends from the last one the saver holds.
        if self.durability == "exit":
            previous_config = self.saved_config
            # As LangGraph's, the debug stream names no parent: none was saved during this run.
            self.parent_config = None
        else:
            self.parent_config = previous_config or None
        self.checkpoint_config = run_checkpoint_config(
            self.thread_id,
            self.checkpoint_ns,
            self.checkpoint_id,
            {**self.checkpoint_map, self.checkpoint_ns: self.checkpoint_id}
            if self.is_nested and self.checkpoint_map
            else None,
        )
        self.checkpoint_metadata = {"source": source, "step": self.step, **self.metadata_base}
        self._pending_updated = updated
        self._pending_previous = previous_config
        self.checkpoint_saved = False
        if self.durability != "exit":
            self._queue_put()

    def _queue_put(self, force: bool = False) -> None:
        checkpoint = self.current_checkpoint()
        metadata = self.checkpoint_metadata
        parent = self._pending_previous if self._pending_previous else {
            "configurable": {"thread_id": self.thread_id, "checkpoint_ns": self.checkpoint_ns}
        }
        if self.is_nested and self.checkpoint_map:
            parent = {"configurable": {**parent["configurable"], "checkpoint_map": self.checkpoint_map}}
        versions = self.versions
        # A value is stored under its version once: a channel emptied since its version was
        # recorded (an edge trigger consumed before an exit-durability save) is not saved, and
        # its stored value, which older checkpoints read, is left as it is.
        new_versions = {k: v for k, v in self.unsaved_versions.items() if versions.get(k) == v}
        self.outbox.append(("put", parent, checkpoint, metadata, new_versions))
        self.saved_config = self.checkpoint_config
        self.unsaved_versions = {}
        self.checkpoint_saved = True

    def current_checkpoint(self) -> dict[str, Any]:
        values = {}
        channels = self.channels
        # Values of unchanged channels are left out for savers that would not read them.
        names = self.unsaved_versions if self.checkpointer_reads_only_new_values else self.versions
        for name in names:
            channel = channels.get(name)
            if channel is not None:
                value = channel.checkpoint()
                if value is not MISSING:
                    values[name] = value
        untracked = self.graph.untracked_channels
        if untracked and isinstance(values.get(TASKS), list):  # Sends carrying untracked values
            values[TASKS] = [_without_untracked(packet, untracked) for packet in values[TASKS]]
        return {
            "v": 4,
            "id": self.checkpoint_id,
            "ts": self.checkpoint_ts,
            "channel_values": values,
            "channel_versions": dict(self.versions),
            "versions_seen": {node: dict(seen) for node, seen in self.seen.items()},
            "updated_channels": sorted(self._pending_updated) if self._pending_updated else None,
        }

    def _save_writes(self, tid: str, writes: list[tuple[str, Any]], path: str) -> None:
        if self.checkpointer is None:
            return
        if self.durability == "exit":
            if tid == NULL_TASK_ID:
                # Saved at exit if the run stops on this checkpoint (the answer is not: the
                # tasks' own saved answers carry it), as LangGraph's.
                self._exit_null_writes = (self.checkpoint_config, [w for w in writes if w[0] != RESUME])
            return
        self.outbox.append(("writes", self.checkpoint_config, self._storable(writes), tid, path))

    def _storable(self, writes: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The writes as saved: untracked channels' values are never checkpointed."""
        untracked = self.graph.untracked_channels
        if not untracked:
            return writes
        return [
            (c, _without_untracked(v, untracked) if c == TASKS else v)
            for c, v in writes
            if c not in untracked
        ]

    def _emit_checkpoint(self, tasks: list[Task]) -> None:
        if self.checkpointer is None or not self.checkpoint_id:
            return
        from stategraph.pregel._stream import checkpoint_payload

        self.out.push_checkpoint(checkpoint_payload(self, tasks), self.step - 1)

    def save_call_writes(self, task: Task, writes: list[tuple[str, Any]]) -> None:
        """A finished ``@task`` call is saved at once, from the thread that ran it."""
        if self.checkpointer is None or not writes:
            return
        if self.durability == "exit":
            self._exit_call_writes.append((task.id, writes, path_str(task.path)))
            return
        if self.event_loop is not None and not _on_loop(self.event_loop):
            # A sync call inside an async run saves through the async saver, on the run's event
            # loop: an async-only saver's sync methods need a loop that is free (its own may
            # not be running at all).
            asyncio.run_coroutine_threadsafe(
                acall_put_writes(self.checkpointer, self.checkpoint_config, writes, task.id, path_str(task.path)),
                self.event_loop,
            ).result()
            return
        call_put_writes(self.checkpointer, self.checkpoint_config, writes, task.id, path_str(task.path))

    async def asave_call_writes(self, task: Task, writes: list[tuple[str, Any]]) -> None:
        if self.checkpointer is None or not writes:
            return
        if self.durability == "exit":
            self._exit_call_writes.append((task.id, writes, path_str(task.path)))
            return
        await acall_put_writes(
            self.checkpointer, self.checkpoint_config, writes, task.id, path_str(task.path)
        )


def with_pending_sends(
    checkpoint: Any, values: dict[str, Any], versions: dict[str, Any]
) -> dict[str, Any]:
    """The values of a checkpoint of format 3 or older with its ``pending_sends`` moved into
    the TASKS channel that format 4 keeps them in; ``versions`` (the loop's own copy) gets the
    channel's version. The saved values stay as read."""
    versions[TASKS] = max(versions.values()) if versions else 1
    return {**values, TASKS: list(checkpoint["pending_sends"])}


def _without_untracked(packet: Any, untracked: frozenset[str]) -> Any:
    """A ``Send`` whose state argument holds untracked channels' values, stored without them
    (they are never checkpointed), as LangGraph stores it."""
    if not isinstance(packet, Send) or not isinstance(packet.arg, dict):
        return packet
    if untracked.isdisjoint(packet.arg):
        return packet
    return Send(packet.node, {k: v for k, v in packet.arg.items() if k not in untracked}, timeout=packet.timeout)


def _on_loop(event_loop: Any) -> bool:
    try:
        return asyncio.get_running_loop() is event_loop
    except RuntimeError:
        return False
