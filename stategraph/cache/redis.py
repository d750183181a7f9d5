"""The Redis node cache, at LangGraph's path ``langgraph.cache.redis``."""

from stategraph.cache._redis import RedisCache as RedisCache

__all__ = ["RedisCache"]
