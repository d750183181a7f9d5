"""Node cache: where a task's writes are kept so an equal input can skip running it.

``base`` defines ``BaseCache``; ``memory`` and ``sqlite`` implement it. The key functions
re-exported here are what ``CachePolicy`` and the engine use to name cache entries.
"""

from stategraph.cache._key import cache_namespace_name as cache_namespace_name
from stategraph.cache._key import default_cache_key as default_cache_key
from stategraph.cache._key import node_cache_key as node_cache_key
from stategraph.cache._key import node_cache_namespace as node_cache_namespace

__all__ = ["cache_namespace_name", "default_cache_key", "node_cache_key", "node_cache_namespace"]
