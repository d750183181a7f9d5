"""Reading a thread's saved state: get_state and get_state_history (writing it: ``_updates``).

Each method loads a checkpoint into a ``PregelLoop`` (without running it), so the plan of the
next step, and therefore ``next`` and ``tasks``, is computed exactly as a run would compute it.
"""

from __future__ import annotations

import copy
from typing import Any, AsyncIterator, Iterator, Optional

from stategraph._context import current_task
from stategraph._constants import NO_WRITES, NS_END, NS_SEP, NULL_TASK_ID, RESERVED_WRITES, RETURN
from stategraph.pregel._apply import apply_writes
from stategraph.pregel._input import input_task
from stategraph.pregel._stream import StreamOut, fold_writes
from stategraph.pregel._task_status import NOT_STARTED, TaskStatus, task_statuses
from stategraph.types import PregelTask, StateSnapshot

_NO_OUT = StreamOut(ns=(), modes=frozenset(), sink=None, parent=None, subgraphs=False)


def _strip_ids(namespace: str) -> str:
    return NS_SEP.join(part.split(NS_END)[0] for part in namespace.split(NS_SEP))


class StateMethods:
    """Mixed into ``Pregel``: the state API (sync methods and their async twins)."""

    # -------------------------------------------------------------- plumbing

    def _saver_for(self, config: dict[str, Any]) -> Any:
        saver = self.checkpointer  # type: ignore[attr-defined]
        if saver in (None, True, False):
            configurable = config.get("configurable") or {}
            saver = configurable.get("__pregel_checkpointer")
            task = current_task.get()
            if saver is None and task is not None:
                saver = task.config.get("configurable", {}).get("__pregel_checkpointer")
        if saver in (None, True, False):
            raise ValueError(
                "No checkpointer set. get_state, get_state_history and update_state read the "
                "saved thread: compile with checkpointer=InMemorySaver() (or SqliteSaver)."
            )
        return saver

    def _subgraph_for(self, namespace: str, *, for_update: bool = False) -> Any:
        """The graph that owns checkpoints under ``namespace`` (this one for the root).

        A namespace of no subgraph this graph declares or detects (one a tool invokes, say) is
        read with this graph's channels, as LangGraph does; an update there is refused: this
        graph's nodes and channels would write the wrong state into it.
        """
        if not namespace:
            return self
        recast = _strip_ids(namespace)
        for _, subgraph in self.get_subgraphs(namespace=recast, recurse=True):  # type: ignore[attr-defined]
            return subgraph
        if for_update:
            known = sorted(n for n, _ in self.get_subgraphs(recurse=True))  # type: ignore[attr-defined]
            raise ValueError(
                f"Subgraph {recast} not found. Known subgraph namespaces: {known}. A subgraph "
                "that a node invokes without declaring it can be read but not updated."
            )
        return self

    def _loaded_loop(self, config: dict[str, Any], saver: Any, saved: Any) -> Any:
        from stategraph.pregel._loop import PregelLoop

        configurable = config.get("configurable") or {}
        loop = PregelLoop(
            self,
            config={"configurable": {k: v for k, v in configurable.items() if not k.startswith("__pregel_")}},
            checkpointer=saver,
            store=None,
            cache=None,
            context=None,
            out=_NO_OUT,
            durability="sync",
            interrupt_before=(),
            interrupt_after=(),
            output_keys=self.output_channels,  # type: ignore[attr-defined]
            stream_keys=self.stream_channels_resolved,  # type: ignore[attr-defined]
            checkpoint_ns=configurable.get("checkpoint_ns", "") if saved is None else saved.config["configurable"].get("checkpoint_ns", ""),
            resuming=None,
            inbox=None,
            parent_runtime=None,
        )
        loop.load(saved)
        return loop

    # -------------------------------------------------------------- reading

    def _snapshot(self, saver: Any, saved: Any, apply_pending: bool, subgraphs: bool) -> StateSnapshot:
        config = saved.config
        loop = self._loaded_loop(config, saver, saved)
        loop.updated = None  # as LangGraph plans a snapshot: every node, in insertion order
        tasks = loop._plan()
        by_id = {task.id: task for task in tasks}
        statuses = task_statuses(saved.pending_writes or ())
        finished = {tid: st for tid, st in statuses.items() if tid in by_id and st.output}
        # A Command's update waits as the null task's writes until the run goes on; the state
        # shows it applied (history too), as LangGraph's.
        null_writes = [
            (c, v) for tid, c, v in saved.pending_writes or () if tid == NULL_TASK_ID and c not in RESERVED_WRITES
        ]
        if null_writes:
            apply_writes(loop.target, [input_task(null_writes)])
        if apply_pending and finished:
            done = []
            for tid, status in finished.items():
                task = by_id[tid]
                task.writes = [w for w in status.output if w[0] != NO_WRITES]
                done.append(task)
            apply_writes(loop.target, done)
        values = _detached(loop._read_stream_values())
        pregel_tasks = []
        for task in tasks:
            status = statuses.get(task.id, NOT_STARTED)
            state: Any = None
            if task.node.subgraphs:
                # A config pointing at the subgraph's checkpoints; get_state(subgraphs=True)
                # replaces it with the subgraph's snapshot (``_with_subgraph_states``).
                state = {"configurable": {"thread_id": loop.thread_id, "checkpoint_ns": task.ns}}
            pregel_tasks.append(
                PregelTask(
                    task.id,
                    task.name,
                    task.path,
                    status.error,
                    # The latest state shows what still waits for an answer; history shows
                    # every interrupt the step raised.
                    () if apply_pending and status.output else status.interrupts,
                    state,
                    self._task_result(status) if status.output else None,  # type: ignore[attr-defined]
                )
            )
        return StateSnapshot(
            values=values if values is not None or isinstance(loop.stream_keys, str) else {},
            # With pending writes applied, tasks that already finished are not "next".
            next=tuple(task.name for task in tasks if not (apply_pending and task.id in finished)),
            config=with_parents_map(config, saved.metadata),
            metadata=saved.metadata,
            created_at=saved.checkpoint.get("ts"),
            parent_config=with_parents_map(saved.parent_config, saved.metadata),
            tasks=tuple(pregel_tasks),
            interrupts=tuple(i for t in pregel_tasks for i in t.interrupts),
        )

    def _task_result(self, status: TaskStatus) -> Any:
        """A finished task's result as LangGraph shows it: its return value, or its writes to
        the streamed channels (``{}`` when none; repeated writes as ``{"$writes": [...]}``)."""
        returned = [value for channel, value in status.output if channel == RETURN]
        if returned:
            return returned[0]
        single = self.single_stream_channel  # type: ignore[attr-defined]
        if single is not None:
            values = [value for channel, value in status.output if channel == single]
            return values[0] if len(values) == 1 else ({"$writes": values} if values else None)
        return fold_writes([w for w in status.output if w[0] in self.stream_channel_set])  # type: ignore[attr-defined]

    def _state_config(self, config: dict[str, Any]) -> dict[str, Any]:
        configurable = dict(config.get("configurable") or {})
        if configurable.get("thread_id") is None:
            raise ValueError(
                "get_state/update_state need config={'configurable': {'thread_id': ...}} naming "
                "the thread."
            )
        configurable.setdefault("checkpoint_ns", "")
        return {"configurable": {k: v for k, v in configurable.items() if not k.startswith("__pregel_")}}

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest checkpoint (or ``checkpoint_id``)."""
        saver = self._saver_for(config)
        config = self._state_config(config)
        owner = self._subgraph_for(config["configurable"]["checkpoint_ns"])
        return owner._state_at(saver, config, subgraphs)

    def _state_at(self, saver: Any, config: dict[str, Any], subgraphs: bool) -> StateSnapshot:
        config = self._own_history_config(config)
        saved = saver.get_tuple(config)
        if saved is None:
            return _empty_snapshot(config)
        apply_pending = not config["configurable"].get("checkpoint_id")
        snapshot = self._snapshot(saver, saved, apply_pending, subgraphs)
        if not subgraphs:
            return snapshot
        states = {
            index: sub._state_at(saver, sub_config, True)
            for index, sub, sub_config in self._subgraph_task_configs(snapshot)
        }
        return _with_subgraph_states(snapshot, states)

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        saver = self._saver_for(config)
        config = self._state_config(config)
        owner = self._subgraph_for(config["configurable"]["checkpoint_ns"])
        return await owner._astate_at(saver, config, subgraphs)

    async def _astate_at(self, saver: Any, config: dict[str, Any], subgraphs: bool) -> StateSnapshot:
        config = self._own_history_config(config)
        saved = await saver.aget_tuple(config)
        if saved is None:
            return _empty_snapshot(config)
        apply_pending = not config["configurable"].get("checkpoint_id")
        snapshot = self._snapshot(saver, saved, apply_pending, subgraphs)
        if not subgraphs:
            return snapshot
        states = {
            index: await sub._astate_at(saver, sub_config, True)
            for index, sub, sub_config in self._subgraph_task_configs(snapshot)
        }
        return _with_subgraph_states(snapshot, states)

    def _own_history_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """A ``checkpointer=True`` subgraph keeps one history, under its namespace without
        task ids."""
        if self.checkpointer is not True:  # type: ignore[attr-defined]
            return config
        configurable = config["configurable"]
        return {"configurable": {**configurable, "checkpoint_ns": _strip_ids(configurable["checkpoint_ns"])}}

    def _subgraph_task_configs(self, snapshot: StateSnapshot) -> list[tuple[int, Any, dict[str, Any]]]:
        found = []
        nodes = self.nodes  # type: ignore[attr-defined]
        for index, task in enumerate(snapshot.tasks):
            node = nodes.get(task.name)
            if isinstance(task.state, dict) and node is not None and node.subgraphs:
                found.append((index, node.subgraphs[0], task.state))
        return found

    def get_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: Optional[dict[str, Any]] = None,
        before: Optional[dict[str, Any]] = None,
        limit: Optional[int] = None,
    ) -> Iterator[StateSnapshot]:
        """Snapshots of the thread, newest first."""
        saver = self._saver_for(config)
        config = self._state_config(config)
        owner = self._subgraph_for(config["configurable"]["checkpoint_ns"])
        for saved in saver.list(config, filter=filter, before=before, limit=limit):
            yield owner._snapshot(saver, saved, False, False)

    async def aget_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: Optional[dict[str, Any]] = None,
        before: Optional[dict[str, Any]] = None,
        limit: Optional[int] = None,
    ) -> AsyncIterator[StateSnapshot]:
        saver = self._saver_for(config)
        config = self._state_config(config)
        owner = self._subgraph_for(config["configurable"]["checkpoint_ns"])
        async for saved in saver.alist(config, filter=filter, before=before, limit=limit):
            yield owner._snapshot(saver, saved, False, False)

    # -------------------------------------------------------------- writing

def _detached(values: Any) -> Any:
    """A snapshot's values as the caller's own: savers keep recently read and written values
    in memory, shared with runs, so a message edited in place before ``update_state`` (the
    review-a-tool-call pattern) must not change what the thread, or the model that made the
    message, holds."""
    try:
        return copy.deepcopy(values)
    except Exception:  # noqa: BLE001 - a value that cannot be copied is shown as it is
        return values


def _empty_snapshot(config: dict[str, Any]) -> StateSnapshot:
    shown = {k: v for k, v in config["configurable"].items() if k != "checkpoint_ns" or v}
    return StateSnapshot({}, (), {"configurable": shown}, None, None, None, (), ())


def with_parents_map(config: Optional[dict[str, Any]], metadata: Any) -> Optional[dict[str, Any]]:
    """A subgraph checkpoint's config with ``checkpoint_map``: the checkpoint of each enclosing
    graph (from its metadata's ``parents``) and its own, as LangGraph shows it."""
    parents = metadata.get("parents") if metadata else None
    if not config or not parents:
        return config
    configurable = config["configurable"]
    own = {configurable.get("checkpoint_ns", ""): configurable.get("checkpoint_id")}
    return {**config, "configurable": {**configurable, "checkpoint_map": {**parents, **own}}}


def _with_subgraph_states(snapshot: StateSnapshot, states: dict[int, StateSnapshot]) -> StateSnapshot:
    if not states:
        return snapshot
    tasks = list(snapshot.tasks)
    for index, state in states.items():
        tasks[index] = tasks[index]._replace(state=_with_checkpoint_map(state, snapshot.config))
    return snapshot._replace(tasks=tuple(tasks))


def _with_checkpoint_map(state: StateSnapshot, parent_config: dict[str, Any]) -> StateSnapshot:
    """A subgraph's snapshot, its configs naming the checkpoint of each enclosing graph."""
    if not state.config:
        return state
    parent = parent_config["configurable"]
    ancestors = {**parent.get("checkpoint_map", {}), parent.get("checkpoint_ns", ""): parent.get("checkpoint_id")}

    def mapped(config: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        if not config:
            return config
        configurable = config["configurable"]
        own = {configurable.get("checkpoint_ns", ""): configurable.get("checkpoint_id")}
        return {"configurable": {**configurable, "checkpoint_map": {**ancestors, **own}}}

    state = state._replace(config=mapped(state.config), parent_config=mapped(state.parent_config))
    # Deeper snapshots were mapped before this one knew its own ancestors: map them again.
    if any(isinstance(task.state, StateSnapshot) for task in state.tasks):
        state = state._replace(tasks=tuple(
            task._replace(state=_with_checkpoint_map(task.state, state.config))
            if isinstance(task.state, StateSnapshot) else task
            for task in state.tasks
        ))
    return state


__all__ = ["StateMethods"]
