"""The PostgreSQL stores, at LangGraph's path ``langgraph.store.postgres``.

psycopg is imported when a store is created, so importing this module needs no driver.
"""

from stategraph.store._apostgres import AsyncPostgresStore as AsyncPostgresStore
from stategraph.store._postgres import PostgresStore as PostgresStore
from stategraph.store._postgres_config import PoolConfig as PoolConfig
from stategraph.store._postgres_config import PostgresIndexConfig as PostgresIndexConfig

__all__ = ["AsyncPostgresStore", "PoolConfig", "PostgresIndexConfig", "PostgresStore"]
