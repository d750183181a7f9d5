"""Commit: apply the writes of a step's tasks to the channels, in a fixed order.

Pure: no I/O. Given the same tasks and writes it always produces the same channel values and
versions, whatever order the tasks finished in.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Mapping

from stategraph.channels.base import MISSING, BaseChannel
from stategraph._constants import PULL, RESERVED_WRITES
from stategraph.errors import InvalidUpdateError
from stategraph.pregel._node import Task

logger = logging.getLogger("stategraph")


def task_order(task: Task) -> tuple[int, Any]:
    """Edge-triggered tasks by node name, then ``Send`` tasks by index, then calls."""
    path = task.path
    if path[0] == PULL:
        return (0, path[1])
    if len(path) > 2 and path[-1] is True:
        return (2, str(path[1:]))
    return (1, path[1])


class WriteTarget:
    """The mutable view of a run that ``apply_writes`` changes."""

    __slots__ = (
        "channels",
        "versions",
        "seen",
        "trigger_to_nodes",
        "idle_clearing",
        "finishing",
        "max_version",
        "next_version",
        "warned_unknown",
        "stale_nodes",
    )

    def __init__(
        self,
        channels: dict[str, BaseChannel],
        versions: dict[str, Any],
        seen: dict[str, dict[str, Any]],
        trigger_to_nodes: Mapping[str, tuple[str, ...]],
        next_version: Callable[[Any], Any],
        finishing: tuple[str, ...],
    ) -> None:
        self.channels = channels
        self.versions = versions
        self.seen = seen
        self.trigger_to_nodes = trigger_to_nodes
        self.next_version = next_version
        self.finishing = finishing
        # Channels that may change on an idle step and hold a value now.
        self.idle_clearing: set[str] = {
            name
            for name, channel in channels.items()
            if channel.clears_when_idle and channel.is_available()
        }
        # Seen-versions may outlive their channel by a step; new versions must exceed them too.
        known = [*versions.values(), *(v for node_seen in seen.values() for v in node_seen.values())]
        self.max_version = max(known) if known else None
        self.warned_unknown: set[str] = set()
        # Nodes whose seen-versions may name channels pruned since (cleaned at the next commit).
        self.stale_nodes: set[str] = set(seen)

    def prune(self, name: str) -> None:
        """Forget the version of a channel that became empty (keeps checkpoints small).

        The seen-versions of the nodes that just consumed it stay until the next step, so the
        checkpoint still tells which nodes ran last (``update_state`` infers ``as_node`` so).
        """
        self.versions.pop(name, None)
        self.stale_nodes.update(self.trigger_to_nodes.get(name, ()))

    def forget_stale_seen(self) -> None:
        """Drop seen-versions of channels that no longer have a version (they were emptied).

        Run before each commit; versions newer than any seen (``max_version``) make sure a
        channel re-created meanwhile still triggers its nodes.
        """
        seen = self.seen
        versions = self.versions
        for node in self.stale_nodes:
            node_seen = seen.get(node)
            if node_seen is None:
                continue
            kept = {k: v for k, v in node_seen.items() if k in versions}
            if kept:
                seen[node] = kept
            else:
                del seen[node]
        self.stale_nodes = set()


def _concurrent_writers(tasks: Iterable[Task], channel: str) -> list[str]:
    return sorted({task.name for task in tasks for key, _ in task.writes if key == channel})


def apply_writes(target: WriteTarget, tasks: list[Task]) -> tuple[set[str], dict[str, Any]]:
    """Apply ``tasks``' writes; return (channels updated and available, new versions)."""
    channels = target.channels
    versions = target.versions
    if target.stale_nodes:
        target.forget_stale_seen()
    if len(tasks) > 1:
        tasks = sorted(tasks, key=task_order)
    version = target.next_version(target.max_version)
    target.max_version = version
    changed: dict[str, Any] = {}
    emptied: list[str] = []
    real_step = False

    consumed: set[str] = set()
    for task in tasks:
        if task.triggers:
            real_step = True
            node_seen = target.seen.get(task.name)
            if node_seen is None:
                node_seen = target.seen[task.name] = {}
            for trigger in task.triggers:
                current = versions.get(trigger)
                if current is not None:
                    node_seen[trigger] = current
                consumed.add(trigger)
    for name in consumed:
        channel = channels.get(name)
        if channel is not None and channel.consume():
            if channel.checkpoint() is MISSING:
                emptied.append(name)
            else:
                versions[name] = changed[name] = version

    grouped: dict[str, list[Any]] = {}
    for task in tasks:
        for key, value in task.writes:
            if key in RESERVED_WRITES:
                continue
            values = grouped.get(key)
            if values is None:
                if key not in channels:
                    if key not in target.warned_unknown:
                        target.warned_unknown.add(key)
                        logger.warning("Task %s wrote to unknown channel %s, ignoring it.", task.name, key)
                    continue
                grouped[key] = [value]
            else:
                values.append(value)

    updated: set[str] = set()
    idle_clearing = target.idle_clearing
    for key, values in grouped.items():
        channel = channels[key]
        try:
            did_change = channel.update(values)
        except InvalidUpdateError as error:
            writers = _concurrent_writers(tasks, key)
            if len(writers) > 1 or len(values) > 1:
                raise InvalidUpdateError(
                    f"{error.args[0]}\nIn this step, key '{key}' was written by: "
                    f"{', '.join(writers)}. Fix: annotate the key with a reducer, e.g. "
                    f"`{key}: Annotated[list, operator.add]`, or make only one node write it "
                    "per step."
                ) from None
            raise
        if did_change:
            versions[key] = changed[key] = version
            if channel.is_available():
                updated.add(key)
                if channel.clears_when_idle:
                    idle_clearing.add(key)

    if real_step:
        for key in list(idle_clearing):
            if key in grouped:
                continue
            channel = channels[key]
            if channel.update(()):
                if channel.checkpoint() is MISSING:
                    emptied.append(key)
                    changed.pop(key, None)
                else:
                    versions[key] = changed[key] = version
            if not channel.is_available():
                idle_clearing.discard(key)

        if target.finishing and not any(
            target.trigger_to_nodes.get(key) for key in updated
        ):
            for key in target.finishing:
                channel = channels[key]
                if channel.finish():
                    versions[key] = changed[key] = version
                    if channel.is_available():
                        updated.add(key)

    for key in emptied:
        if channels[key].checkpoint() is MISSING:
            target.prune(key)
            changed.pop(key, None)
    return updated, changed
