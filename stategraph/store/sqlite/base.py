"""The sync SQLite store, at LangGraph's path ``langgraph.store.sqlite.base``."""

from stategraph.store._sqlite import SqliteStore as SqliteStore

__all__ = ["SqliteStore"]
