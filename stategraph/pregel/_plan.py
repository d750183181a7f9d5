"""Planning: which tasks run in the next superstep, and breakpoints before them.

Mixed into ``PregelLoop``. Reads channel versions and what each node has already seen; no
I/O, so a checkpoint always yields the same plan (and the same task ids).
"""

from __future__ import annotations

from typing import Sequence

from stategraph._constants import (
    ERROR,
    ERROR_SOURCE_NODE,
    INTERRUPT,
    NO_WRITES,
    NS_END,
    NS_SEP,
    PULL,
    PUSH,
    RESUME,
    TASKS,
)
from stategraph.pregel._node import PregelNode, Task, task_id
from stategraph.pregel._read import read_channels
from stategraph.types import Send

# Pending writes that do not count as a task's successful result.
SUCCESS_SKIP = frozenset({ERROR, INTERRUPT, RESUME, ERROR_SOURCE_NODE})


class PlanMixin:
    """``PregelLoop``'s planning methods."""

    def _plan(self, for_discard: bool = False) -> list[Task]:
        graph = self.graph
        channels = self.channels
        versions = self.versions
        seen = self.seen
        step = self.step
        tasks: list[Task] = []
        tasks_channel = channels.get(TASKS)
        if tasks_channel is not None and tasks_channel.is_available():
            for index, packet in enumerate(tasks_channel.get()):
                node = graph.nodes.get(packet.node)
                if node is None:
                    continue
                tasks.append(self._push_task(node, packet, index, step, for_discard))
        updated = self.updated
        if updated is None:
            candidates = graph.node_names
        else:
            names: set[str] = set()
            trigger_to_nodes = graph.trigger_to_nodes
            for channel in updated:
                names.update(trigger_to_nodes.get(channel, ()))
            candidates = sorted(names)
        for name in candidates:
            node = graph.nodes[name]
            node_seen = seen.get(name)
            fired = False
            for trigger in node.triggers:
                version = versions.get(trigger)
                if version is None or not channels[trigger].is_available():
                    continue
                if node_seen is None or (last := node_seen.get(trigger)) is None or version > last:
                    fired = True
                    break
            if not fired:
                continue
            if for_discard:
                task = Task("", name, (PULL, name), None, node, node.triggers, "")
            else:
                task = self._pull_task(node, step)
                if task is None:
                    continue
            tasks.append(task)
        return tasks

    def _task_namespace(self, name: str, id: str) -> str:
        own = f"{name}{NS_END}{id}"
        return f"{self.checkpoint_ns}{NS_SEP}{own}" if self.checkpoint_ns else own

    def _pull_task(self, node: PregelNode, step: int) -> Task | None:
        try:
            value = read_channels(self.channels, node.reads)
        except Exception:
            return None  # e.g. a __root__ graph whose value is still empty
        if node.managed:
            value = {**value, **{k: m.compute(step, self.stop) for k, m in node.managed.items()}}
        if node.mapper is not None:
            value = node.mapper(value)
        id = task_id(
            self.checkpoint_id, self.checkpoint_ns, step, node.name, PULL, *node.triggers
        )
        return Task(id, node.name, (PULL, node.name), value, node, node.triggers, self._task_namespace(node.name, id))

    def _push_task(
        self, node: PregelNode, packet: Send, index: int, step: int, for_discard: bool
    ) -> Task:
        value = packet.arg  # a Send's argument reaches the node as given, never coerced
        id = task_id(self.checkpoint_id, self.checkpoint_ns, step, node.name, PUSH, str(index))
        task = Task(
            id, node.name, (PUSH, index, False), value, node, (PUSH,), self._task_namespace(node.name, id)
        )
        task.timeout = getattr(packet, "timeout", None)
        return task


    def _reattach_pending_writes(self, tasks: list[Task]) -> None:
        by_id = {task.id: task for task in tasks}
        for tid, channel, value in self.pending_writes:
            task = by_id.get(tid)
            if task is None:
                continue
            if channel == RESUME:
                task.resume_values = list(value)
            elif channel not in SUCCESS_SKIP and not self.reruns_finished:
                task.done = task.restored = True
                if channel != NO_WRITES:
                    task.writes.append((channel, value))

    def _breakpoint_hit(self, nodes: Sequence[str] | str, tasks: Sequence[Task]) -> bool:
        last_resume = self.seen.get(INTERRUPT, {})
        if not any(
            (last := last_resume.get(name)) is None or version > last
            for name, version in self.versions.items()
        ):
            return False
        return any(
            (nodes == "*" and not task.node.hidden) or task.name in nodes for task in tasks
        )

    def _stop_at_breakpoint(self) -> None:
        # As in LangGraph, only the outermost graph reports a breakpoint: a subgraph's stops
        # its parent's task, which reports it in turn.
        if self.out.wants("updates") and not self.is_nested:
            self.out.push("updates", {"__interrupt__": ()})
