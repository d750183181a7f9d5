"""The SQLite stores, at LangGraph's path ``langgraph.store.sqlite``.

``AsyncSqliteStore`` is loaded on first use, so sync programs need not install aiosqlite.
"""

from typing import Any

from stategraph.store._sqlite import SqliteStore as SqliteStore

__all__ = ["AsyncSqliteStore", "SqliteStore"]


def __getattr__(name: str) -> Any:
    if name == "AsyncSqliteStore":
        from stategraph.store._aiosqlite import AsyncSqliteStore

        return AsyncSqliteStore
    raise AttributeError(f"module 'stategraph.store.sqlite' has no attribute {name!r}")
