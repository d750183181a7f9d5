"""The asyncio PostgreSQL store, at LangGraph's path ``langgraph.store.postgres.aio``."""

from stategraph.store._apostgres import AsyncPostgresStore as AsyncPostgresStore

__all__ = ["AsyncPostgresStore"]
