"""The SQLite node cache, at LangGraph's path ``langgraph.cache.sqlite``."""

from stategraph.cache._sqlite import SqliteCache as SqliteCache

__all__ = ["SqliteCache"]
