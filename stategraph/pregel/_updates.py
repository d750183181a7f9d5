"""Writing a thread's state as if nodes had run: update_state, bulk updates, copies, clears.

Each superstep of updates loads the checkpoint into a ``PregelLoop`` (without running it), runs
the named nodes' writers on the values, and queues the checkpoint the loop builds.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from stategraph._context import current_task
from stategraph._constants import COPY, END, INPUT, INTERRUPT, NS_END, NULL_TASK_ID, PULL, START, TASKS
from stategraph.checkpoint._capabilities import acall_put_writes, call_put_writes
from stategraph.errors import InvalidUpdateError
from stategraph.pregel._apply import apply_writes
from stategraph.pregel._node import Task, task_id
from stategraph.pregel._persist import latest_config, moved_past, path_str
from stategraph.pregel._read import read_fresh
from stategraph.types import StateUpdate


class UpdateMethods:
    """``Pregel``'s state-writing methods (the reading ones are ``StateMethods``)."""

    def update_state(
        self,
        config: dict[str, Any],
        values: Any,
        as_node: Optional[str] = None,
        task_id: Optional[str] = None,
    ) -> dict[str, Any]:
        """Write ``values`` as if ``as_node`` had returned them; returns the new config."""
        return self.bulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    async def aupdate_state(
        self,
        config: dict[str, Any],
        values: Any,
        as_node: Optional[str] = None,
        task_id: Optional[str] = None,
    ) -> dict[str, Any]:
        return await self.abulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    def bulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate]]
    ) -> dict[str, Any]:
        """Apply several supersteps of updates, one checkpoint each."""
        saver = self._saver_for(config)
        config = self._state_config(config)
        owner = self._subgraph_for(config["configurable"]["checkpoint_ns"], for_update=True)
        if not supersteps:
            raise ValueError("No supersteps provided. Pass [[StateUpdate(values, as_node)], ...].")
        for index, updates in enumerate(_with_copies_split(supersteps)):
            saved = saver.get_tuple(config)
            superseded = (
                index == 0
                and saved is not None
                and bool(config["configurable"].get("checkpoint_id"))
                and moved_past(saved, saver.get_tuple(latest_config(config)))
            )
            loop = owner._apply_updates(config, saver, saved, updates, superseded)
            for call in loop.outbox:
                if call[0] == "put":
                    config = saver.put(*call[1:])
                else:
                    call_put_writes(saver, *call[1:])
        return config

    async def abulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate]]
    ) -> dict[str, Any]:
        saver = self._saver_for(config)
        config = self._state_config(config)
        owner = self._subgraph_for(config["configurable"]["checkpoint_ns"], for_update=True)
        if not supersteps:
            raise ValueError("No supersteps provided. Pass [[StateUpdate(values, as_node)], ...].")
        for index, updates in enumerate(_with_copies_split(supersteps)):
            saved = await saver.aget_tuple(config)
            superseded = (
                index == 0
                and saved is not None
                and bool(config["configurable"].get("checkpoint_id"))
                and moved_past(saved, await saver.aget_tuple(latest_config(config)))
            )
            loop = await owner._aapply_updates(config, saver, saved, updates, superseded)
            for call in loop.outbox:
                if call[0] == "put":
                    config = await saver.aput(*call[1:])
                else:
                    await acall_put_writes(saver, *call[1:])
        return config

    def _apply_updates(self, *args: Any) -> Any:
        steps = self._update_steps(*args)
        try:
            request = next(steps)
            while True:
                write, *call = request
                request = steps.send(write(*call))
        except StopIteration as done:
            return done.value

    async def _aapply_updates(self, *args: Any) -> Any:
        steps = self._update_steps(*args)
        try:
            request = next(steps)
            while True:
                write, *call = request
                awrite = getattr(write, "awrite", None) if getattr(write, "is_async", False) else None
                request = steps.send(await awrite(*call) if awrite is not None else write(*call))
        except StopIteration as done:
            return done.value

    def _update_steps(
        self,
        config: dict[str, Any],
        saver: Any,
        saved: Any,
        updates: Sequence[StateUpdate],
        superseded: bool = False,
    ) -> Any:
        """Build the checkpoint of one superstep of updates (queued in the loop's outbox).

        A generator: it yields each node writer to run, ``(writer, values, task, read)``, and is
        sent the writes it made, so the async API can await async conditional edges.
        ``superseded``: the thread has moved past ``saved``; the updates' task writes are then
        not stored on it, where its other children would pick them up.
        """
        loop = self._loaded_loop(config, saver, saved)
        loop.durability = "sync"
        if len(updates) > 1 and any(u.as_node is None for u in updates):
            raise InvalidUpdateError(
                "as_node is required when applying multiple updates. Give each StateUpdate of "
                "the superstep its as_node."
            )
        first = updates[0]
        if len(updates) > 1:
            for update in updates:
                if update.as_node in (END, COPY, INPUT):
                    what = {END: "when clearing state", COPY: "when copying a checkpoint", INPUT: "when updating as input"}
                    raise InvalidUpdateError(
                        f"Cannot apply multiple updates {what[update.as_node]}. Give the "
                        f"as_node={update.as_node!r} update a superstep of its own."
                    )
        if saved is None and first.as_node != INPUT:
            loop.step = 0  # as LangGraph: an update to an empty thread is its step 0
        if first.as_node == COPY:
            if saved is None:
                raise InvalidUpdateError(
                    "Cannot copy a non-existent checkpoint. The thread has no checkpoint yet: "
                    "run the graph or update_state without as_node='__copy__' first."
                )
            loop.checkpoint_config = saved.parent_config or {}
            loop._save_checkpoint("fork", set(), dict(loop.versions))
            return loop
        if first.as_node == INPUT:
            writes = self.map_input(first.values)  # type: ignore[attr-defined]
            task = Task(NULL_TASK_ID, INPUT, (PULL, INPUT), None, _null_node(), (), INPUT)
            task.writes = writes
            updated, changed = apply_writes(loop.target, [task])
            loop._save_checkpoint("input", updated, changed)
            return loop
        if first.as_node == END and first.values is None:
            tasks = loop._plan()
            if loop.pending_writes:
                loop._reattach_pending_writes(tasks)
            for task in tasks:
                task.triggers = task.triggers or (INTERRUPT,)
            updated, changed = apply_writes(loop.target, tasks)
            loop._save_checkpoint("update", updated, changed)
            return loop
        tasks = []
        # As LangGraph: an update as a node answers the task planned for that node, if any, and
        # its writes are saved as that task's on the checkpoint updated, so history shows the
        # task's result there.
        planned: dict[str, list[str]] = {}
        if saved is not None:
            for planned_task in loop._plan():
                planned.setdefault(planned_task.name, []).append(planned_task.id)
        for update in updates:
            as_node = update.as_node or self._infer_as_node(loop, saved)
            node = self.nodes.get(as_node)  # type: ignore[attr-defined]
            if node is None:
                raise InvalidUpdateError(
                    f"Node {as_node} does not exist. Choose as_node among: "
                    f"{sorted(n for n in self.nodes if n != START)}."  # type: ignore[attr-defined]
                )
            if node.write is None:
                raise InvalidUpdateError(f"Node {as_node} has no writers, so it cannot be updated as.")
            prepared = planned.get(as_node)
            tid = update.task_id or (
                prepared.pop(0)
                if prepared
                else task_id(loop.checkpoint_id, loop.checkpoint_ns, loop.step, as_node, "update")
            )
            task = Task(tid, as_node, (PULL, as_node), None, node, (INTERRUPT,), f"{as_node}{NS_END}{tid}")
            context = loop.task_context(task)
            token = current_task.set(context)
            try:
                channels = loop.channels
                read = lambda keys, writes: read_fresh(channels, keys, writes)  # noqa: E731
                # The caller runs the node's writers (its conditional edges may be async).
                task.writes.extend((yield node.write, update.values, task, read))
            finally:
                current_task.reset(token)
            tasks.append(task)
            if saved is not None and not superseded:
                kept = [w for w in task.writes if w[0] != TASKS]
                if kept:
                    loop.outbox.append(("writes", loop.checkpoint_config, kept, tid, path_str(task.path)))
        updated, changed = apply_writes(loop.target, tasks)
        # As LangGraph: every channel the update wrote counts as updated for planning, even one
        # the write left unchanged (a join barrier the node had already reached).
        updated |= {key for task in tasks for key, _ in task.writes if key in loop.channels}
        loop._save_checkpoint("update", updated, changed)
        return loop

    def _infer_as_node(self, loop: Any, saved: Any) -> str:
        """LangGraph's rule: the only node; else START before anything ran; else the node
        that ran last (ambiguous when several did)."""
        nodes = self.nodes  # type: ignore[attr-defined]
        if len(nodes) == 1:
            return next(iter(nodes))
        if not any(version for seen in loop.seen.values() for version in seen.values()):
            if START in nodes:
                return START
            raise InvalidUpdateError("Ambiguous update, specify as_node. Nothing has run yet.")
        last_seen = sorted(
            (version, node) for node, seen in loop.seen.items() if node in nodes for version in seen.values()
        )
        if not last_seen:
            return START
        if len(last_seen) > 1 and last_seen[-1][0] == last_seen[-2][0] and last_seen[-1][1] != last_seen[-2][1]:
            raise InvalidUpdateError(
                "Ambiguous update, specify as_node. Several nodes ran last "
                f"({last_seen[-1][1]}, {last_seen[-2][1]}): pass as_node='...' to say which one "
                "the update comes from."
            )
        return last_seen[-1][1]


def _with_copies_split(supersteps: Sequence[Sequence[StateUpdate]]) -> list[Sequence[StateUpdate]]:
    """The supersteps to apply; a copy given updates (``as_node="__copy__"`` with a list of
    ``(values, as_node)``) is the copy, then a superstep of those updates on it, as in LangGraph."""
    expanded: list[Sequence[StateUpdate]] = []
    for updates in supersteps:
        if not updates:
            raise ValueError("No updates provided. Each superstep needs at least one StateUpdate.")
        first = updates[0]
        if first.as_node == COPY and isinstance(first.values, list) and first.values:
            then = []
            for item in first.values:
                if not isinstance(item, Sequence):
                    raise InvalidUpdateError(
                        f"Invalid update item: {item} when copying checkpoint. Give "
                        "StateUpdate(values, as_node) items."
                    )
                then.append(StateUpdate(item[0], item[1]))
            expanded.append([StateUpdate(None, COPY)])
            expanded.append(then)
        else:
            expanded.append(updates)
    return expanded


def _null_node() -> Any:
    from stategraph.pregel._input import INPUT_NODE

    return INPUT_NODE


__all__ = ["UpdateMethods"]
