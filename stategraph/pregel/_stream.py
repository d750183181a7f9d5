"""Stream events: where the loop sends them, and the payload shape of each mode.

Payloads are built only for the modes somebody asked for (``StreamOut.wants``).
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, NamedTuple, Optional

from stategraph._constants import ERROR, INTERRUPT, NO_WRITES, RESUME, RETURN, ROOT
from stategraph.pregel._task_status import task_statuses

Event = tuple[tuple[str, ...], str, Any]
Sink = Callable[[Event], None]


class StreamTarget(NamedTuple):
    """Where a subgraph forwards its events: the consumer that asked for subgraphs=True."""

    sink: Sink
    modes: frozenset[str]
    messages_handler: Any = None  # emits the messages the subgraph's nodes return


class StreamOut:
    """The loop's outlet: its own consumer's modes, plus forwarding to a parent stream."""

    __slots__ = ("ns", "modes", "sink", "parent", "any_modes", "subgraphs", "messages_handler")

    def __init__(
        self,
        *,
        ns: tuple[str, ...],
        modes: frozenset[str],
        sink: Optional[Sink],
        parent: Optional[StreamTarget],
        subgraphs: bool,
        messages_handler: Any = None,
    ) -> None:
        self.ns = ns
        self.modes = modes if sink is not None else frozenset()
        self.sink = sink
        self.parent = parent
        self.subgraphs = subgraphs
        self.any_modes = self.modes | (parent.modes if parent is not None else frozenset())
        self.messages_handler = messages_handler

    def wants(self, mode: str) -> bool:
        return mode in self.any_modes

    def push(self, mode: str, payload: Any) -> None:
        if mode in self.modes:
            self.sink((self.ns, mode, payload))  # type: ignore[misc]
        parent = self.parent
        if parent is not None and mode in parent.modes:
            parent.sink((self.ns, mode, payload))

    def push_task(self, kind: str, payload: Any, step: int) -> None:
        if "tasks" in self.any_modes:
            self.push("tasks", payload)
        if "debug" in self.any_modes:
            self.push("debug", _debug(step, kind, payload))

    def push_checkpoint(self, payload: Any, step: int) -> None:
        if "checkpoints" in self.any_modes:
            self.push("checkpoints", payload)
        if "debug" in self.any_modes:
            self.push("debug", _debug(step, "checkpoint", payload))

    def child_target(self) -> Optional[StreamTarget]:
        """The target a subgraph run inside one of this loop's tasks forwards to."""
        if self.parent is not None:
            return self.parent
        if self.subgraphs and self.sink is not None:
            return StreamTarget(self.sink, self.modes, self.messages_handler)
        return None


def _debug(step: int, kind: str, payload: Any) -> dict[str, Any]:
    return {
        "step": step,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "type": kind,
        "payload": payload,
    }


def updates_payload(
    task: Any, stream_channels: frozenset[str], single_channel: Optional[str] = None
) -> Optional[dict[str, Any]]:
    """``{node: update}``: the task's writes to stream channels (None if it wrote none).

    When the graph streams a single channel (``__root__`` graphs, entrypoints), the update is
    that channel's raw value.
    """
    writes = task.writes
    for key, value in writes:
        if key == RETURN:
            return {task.name: value}
    relevant = [(k, v) for k, v in writes if k in stream_channels]
    if not relevant:
        return {task.name: None}
    if len(relevant) == 1 and (relevant[0][0] == ROOT or relevant[0][0] == single_channel):
        return {task.name: relevant[0][1]}
    if single_channel is not None or all(k == ROOT for k, _ in relevant):
        return {task.name: [v for _, v in relevant]}  # several updates of the one channel
    keys = [k for k, _ in relevant]
    if len(set(keys)) != len(keys):
        return {task.name: [{k: v} for k, v in relevant]}
    return {task.name: dict(relevant)}


def task_start_payload(task: Any) -> dict[str, Any]:
    payload = {"id": task.id, "name": task.name, "input": task.input, "triggers": task.triggers}
    if task.node.metadata:
        payload["metadata"] = task.node.metadata
    return payload


def _fold_result(writes: list[tuple[str, Any]], graph: Any) -> Any:
    return fold_writes([(k, v) for k, v in writes if k in graph.stream_channel_set or k == RETURN])


def fold_writes(writes: list[tuple[str, Any]]) -> dict[str, Any]:
    """``{channel: value}``; a channel written more than once: ``{"$writes": [v1, v2, ...]}``."""
    result: dict[str, Any] = {}
    for key, value in writes:
        if key in result:
            existing = result[key]
            if isinstance(existing, dict) and "$writes" in existing:
                existing["$writes"].append(value)
            else:
                result[key] = {"$writes": [existing, value]}
        else:
            result[key] = value
    return result


def task_result_payload(task: Any, graph: Any) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "error": task.error,
        "result": {}
        if task.error is not None
        else _fold_result([w for w in task.writes if w[0] not in (RESUME, ERROR, INTERRUPT)], graph),
        "interrupts": [
            {"value": i.value, "id": i.id, "response_schema": i.response_schema} for i in task.interrupts
        ],
    }


def checkpoint_payload(loop: Any, tasks: list[Any]) -> dict[str, Any]:
    """The ``checkpoints`` mode payload: the current checkpoint as ``get_state`` shows it."""
    config = {"configurable": dict(loop.checkpoint_config.get("configurable", {}))}
    parent = loop.parent_config
    statuses = task_statuses(loop.pending_writes)
    task_entries = []
    for task in tasks:
        entry: dict[str, Any] = {"id": task.id, "name": task.name}
        status = statuses.get(task.id)
        if status is not None and status.error is not None:
            entry["error"] = status.error
        elif status is not None and status.output:
            entry["result"] = _fold_result([w for w in status.output if w[0] != NO_WRITES], loop.graph)
        entry["interrupts"] = tuple(
            {"value": i.value, "id": i.id, "response_schema": i.response_schema}
            for i in (status.interrupts if status is not None else ())
        )
        if task.node.subgraphs:
            entry["state"] = {
                "configurable": {"thread_id": loop.thread_id, "checkpoint_ns": task.ns}
            }
        else:
            entry["state"] = None
        task_entries.append(entry)
    return {
        "config": config,
        "parent_config": parent,
        "values": loop._read_stream_values(),
        "metadata": getattr(loop, "checkpoint_metadata", None),
        "next": [task.name for task in tasks],
        "tasks": task_entries,
    }


INTERRUPT_KEY = INTERRUPT
