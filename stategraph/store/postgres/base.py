"""The sync PostgreSQL store and its settings, at LangGraph's path
``langgraph.store.postgres.base``."""

from stategraph.store._postgres import PostgresStore as PostgresStore
from stategraph.store._postgres_config import ANNIndexConfig as ANNIndexConfig
from stategraph.store._postgres_config import HNSWConfig as HNSWConfig
from stategraph.store._postgres_config import IVFFlatConfig as IVFFlatConfig
from stategraph.store._postgres_config import PoolConfig as PoolConfig
from stategraph.store._postgres_config import PostgresIndexConfig as PostgresIndexConfig
from stategraph.store._postgres_config import VectorBackend as VectorBackend
from stategraph.store._postgres_schema import MIGRATIONS as MIGRATIONS

__all__ = [
    "MIGRATIONS",
    "ANNIndexConfig",
    "HNSWConfig",
    "IVFFlatConfig",
    "PoolConfig",
    "PostgresIndexConfig",
    "PostgresStore",
    "VectorBackend",
]
