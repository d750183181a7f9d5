"""``PregelExecutableTask``: LangGraph's description of one task ready to run, and its cache key.

stategraph's engine plans tasks as its own private objects; this is the public shape under
LangGraph's name, for code that builds or annotates tasks (custom runners, retry helpers).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple, Optional, Sequence, Union

__all__ = ["CacheKey", "PregelExecutableTask"]


class CacheKey(NamedTuple):
    """Where a task's cached result lives: namespace, key, and time to live in seconds."""

    ns: tuple[str, ...]
    key: str
    ttl: Optional[int]


@dataclass(frozen=True)
class PregelExecutableTask:
    """One task: the node ``name``, its ``input``, the callable ``proc``, and where it writes.

    ``writes`` collects ``(channel, value)`` pairs as the task runs; ``path`` locates the task
    in the step (``("__pregel_pull", node)`` for a node triggered by a channel).
    """

    name: str
    input: Any
    proc: Any
    writes: deque[tuple[str, Any]]
    config: dict[str, Any]
    triggers: Sequence[str]
    retry_policy: Sequence[Any]
    cache_key: Optional[CacheKey]
    id: str
    path: tuple[Union[str, int, tuple[Any, ...]], ...]
    writers: Sequence[Any] = ()
    subgraphs: Sequence[Any] = ()
    timeout: Any = None
