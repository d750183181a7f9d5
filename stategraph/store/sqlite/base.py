"""The sync SQLite store, at LangGraph's path ``langgraph.store.sqlite.base``."""

from stategraph.store._config import IndexConfig
from stategraph.store._sqlite import SqliteStore as SqliteStore
from stategraph.store._sqlite_core import MIGRATIONS as MIGRATIONS
from stategraph.store._sqlite_core import VECTOR_MIGRATIONS as VECTOR_MIGRATIONS


class SqliteIndexConfig(IndexConfig):
    """``IndexConfig`` for the SQLite store (LangGraph's name; it adds no keys)."""


__all__ = ["MIGRATIONS", "VECTOR_MIGRATIONS", "SqliteIndexConfig", "SqliteStore"]
