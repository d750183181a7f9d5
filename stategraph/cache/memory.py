"""The in-process node cache, at LangGraph's path ``langgraph.cache.memory``."""

from stategraph.cache._memory import InMemoryCache as InMemoryCache

__all__ = ["InMemoryCache"]
