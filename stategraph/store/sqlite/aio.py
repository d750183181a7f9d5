"""The asyncio SQLite store, at LangGraph's path ``langgraph.store.sqlite.aio``."""

from stategraph.store._aiosqlite import AsyncSqliteStore as AsyncSqliteStore

__all__ = ["AsyncSqliteStore"]
