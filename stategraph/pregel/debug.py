"""The payloads of the ``tasks`` / ``debug`` stream modes, as functions over tasks (LangGraph's
``langgraph.pregel.debug``), for code that builds those events for tasks it runs itself.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any, Iterable, Iterator, Sequence, Union

from stategraph.checkpoint.base import EXCLUDED_METADATA_KEYS
from stategraph._constants import ERROR, INTERRUPT, RETURN, TAG_HIDDEN
from stategraph.pregel._stream import fold_writes
from stategraph.types import PregelExecutableTask

__all__ = [
    "is_multiple_channel_write",
    "map_debug_task_results",
    "map_debug_tasks",
    "map_task_result_writes",
]


def map_debug_tasks(tasks: Iterable[PregelExecutableTask]) -> Iterator[dict[str, Any]]:
    """One ``"task"`` payload per task that is not hidden.

    The task's config metadata rides along under ``metadata``, without the keys that only
    address the run (``EXCLUDED_METADATA_KEYS``); its tags, less the ``seq:step`` bookkeeping
    ones, under ``metadata["tags"]``. Nothing is added when neither remains.
    """
    for task in tasks:
        config = task.config
        if config is not None and TAG_HIDDEN in (config.get("tags") or ()):
            continue
        payload: dict[str, Any] = {
            "id": task.id,
            "name": task.name,
            "input": task.input,
            "triggers": task.triggers,
        }
        if config is not None:
            metadata = {
                key: value
                for key, value in (config.get("metadata") or {}).items()
                if key not in EXCLUDED_METADATA_KEYS
            }
            tags = [t for t in config.get("tags") or () if not t.startswith("seq:step")]
            if tags:
                metadata["tags"] = tags
            if metadata:
                payload["metadata"] = metadata
        yield payload


def is_multiple_channel_write(value: Any) -> bool:
    """Whether ``value`` already folds several writes to one channel (``{"$writes": [...]}``)."""
    return isinstance(value, dict) and isinstance(value.get("$writes"), list)


def map_task_result_writes(writes: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """``{channel: value}``; a channel written more than once maps to ``{"$writes": [...]}``."""
    return fold_writes(list(writes))


def map_debug_task_results(
    task_tup: tuple[PregelExecutableTask, Sequence[tuple[str, Any]]],
    stream_keys: Union[str, Sequence[str]],
) -> Iterator[dict[str, Any]]:
    """The ``"task_result"`` payload of a finished task and the writes it made."""
    task, writes = task_tup
    keys = {stream_keys} if isinstance(stream_keys, str) else set(stream_keys)
    interrupts: list[Any] = []
    for channel, value in writes:
        if channel == INTERRUPT:
            for item in value if isinstance(value, Sequence) else [value]:
                interrupts.append(asdict(item) if is_dataclass(item) else item)
    yield {
        "id": task.id,
        "name": task.name,
        "error": next((value for channel, value in writes if channel == ERROR), None),
        "result": map_task_result_writes([w for w in writes if w[0] in keys or w[0] == RETURN]),
        "interrupts": interrupts,
    }
