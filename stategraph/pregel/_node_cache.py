"""Node and task caching (``CachePolicy``): reading cached writes, storing finished ones.

Mixed into ``PregelLoop``.
"""

from __future__ import annotations

from typing import Any

from stategraph._constants import NO_WRITES
from stategraph.pregel._node import Task
from stategraph.pregel._persist import path_str


class NodeCacheMixin:
    """``PregelLoop``'s node cache methods."""

    def cache_key(self, task: Task) -> Any:
        """Where ``task``'s writes are cached, or None when its node has no cache policy."""
        policy = task.node.cache_policy
        if policy is None or self.cache is None:
            return None
        from stategraph.cache import cache_namespace_name, node_cache_key

        action = task.node.call.action if task.node.call is not None else None
        if task.is_call:  # a functional @task call: key of its arguments
            args, kwargs = task.input
            key = policy.key_func(*args, **kwargs)
            return node_cache_key(cache_namespace_name(getattr(action, "func", action)), None, key)
        return node_cache_key(cache_namespace_name(action), task.name, policy.key_func(task.input))

    def _read_cache(self, tasks: list[Task]) -> None:
        keyed = {}
        for task in tasks:
            if not task.done and task.node.cache_policy is not None:
                key = self.cache_key(task)
                if key is not None:
                    keyed[key] = task
        if not keyed:
            return
        for key, writes in self.cache.get(list(keyed)).items():
            task = keyed[key]
            task.writes = list(writes)
            task.done = task.cached = True
            self._save_writes(task.id, task.writes or [(NO_WRITES, None)], path_str(task.path))

    def write_cache(self, task: Task) -> None:
        key = self.cache_key(task)
        if key is not None:
            self.cache.set({key: (list(task.writes), task.node.cache_policy.ttl)})  # type: ignore[union-attr]
