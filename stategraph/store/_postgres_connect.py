"""Opening PostgreSQL for the stores: connections and pools from a connection string.

A server that does not answer fails with ``DatabaseConnectionError`` naming the host and
port tried (psycopg's error chained), instead of a bare ``OperationalError`` or, for a pool,
a ``PoolTimeout`` half a minute later.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from stategraph.errors import DatabaseConnectionError
from stategraph.store._postgres_config import PoolConfig

__all__ = [
    "aconnection_pool",
    "aopen_connection",
    "connection_pool",
    "describe_server",
    "import_psycopg",
    "open_connection",
]


def import_psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool  # noqa: F401  (needed by pools; checked here to fail early)
    except ImportError as error:
        raise ImportError(
            "stategraph's PostgreSQL savers and store need psycopg 3 and psycopg-pool. Install them with "
            "pip install 'stategraph[postgres]'."
        ) from error
    return psycopg


def _connection_options() -> dict[str, Any]:
    # What LangGraph's from_conn_string sets: statements commit unless the store opens a
    # transaction, nothing is prepared server-side (safe behind pgbouncer), and rows are
    # dicts for users' own queries on store.conn (the store asks for tuples itself).
    from psycopg.rows import dict_row

    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


def describe_server(conn_string: str) -> str:
    """``host:port`` that ``conn_string`` points at, libpq's defaults and environment filled in."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(conn_string)
    except Exception:
        return "the server of an unparsable connection string"
    hosts = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "")
    ports = str(params.get("port") or os.environ.get("PGPORT") or "5432")
    host_list = hosts.split(",") if hosts else ["localhost"]
    port_list = ports.split(",")
    if len(port_list) == 1:
        port_list = port_list * len(host_list)
    return ", ".join(f"{host}:{port}" for host, port in zip(host_list, port_list))


def _connection_failed(conn_string: str, error: BaseException) -> DatabaseConnectionError:
    text = str(error).strip()
    reason = text.splitlines()[0] if text else type(error).__name__
    return DatabaseConnectionError(
        f"Could not connect to PostgreSQL at {describe_server(conn_string)}: {reason}. "
        "Check that the server is running and that the host, port, user and database in "
        "the connection string are right (postgresql://user:password@host:port/dbname)."
    )


def _connect(conn_string: str, options: dict[str, Any]) -> Any:
    psycopg = import_psycopg()
    try:
        return psycopg.Connection.connect(conn_string, **options)
    except psycopg.OperationalError as error:
        raise _connection_failed(conn_string, error) from error


async def _aconnect(conn_string: str, options: dict[str, Any]) -> Any:
    psycopg = import_psycopg()
    try:
        return await psycopg.AsyncConnection.connect(conn_string, **options)
    except psycopg.OperationalError as error:
        raise _connection_failed(conn_string, error) from error


@contextmanager
def open_connection(conn_string: str, **settings: str) -> Iterator[Any]:
    """A connection as LangGraph's ``from_conn_string`` opens one; ``settings`` are server
    parameters for its session (added to any ``options`` the connection string has)."""
    with _connect(conn_string, _with_settings(conn_string, settings)) as conn:
        yield conn


@asynccontextmanager
async def aopen_connection(conn_string: str, **settings: str) -> AsyncIterator[Any]:
    async with await _aconnect(conn_string, _with_settings(conn_string, settings)) as conn:
        yield conn


def _with_settings(conn_string: str, settings: dict[str, str]) -> dict[str, Any]:
    options = _connection_options()
    if settings:
        from psycopg.conninfo import conninfo_to_dict

        try:
            given = str(conninfo_to_dict(conn_string).get("options") or "")
        except Exception:  # an unparsable string fails in connect, with its own message
            given = ""
        added = " ".join(f"-c {name}={value}" for name, value in settings.items())
        options["options"] = f"{given} {added}".strip()
    return options


def _pool_arguments(pool_config: PoolConfig) -> dict[str, Any]:
    settings: dict[str, Any] = dict(pool_config)
    return {
        "min_size": settings.pop("min_size", 1),
        "max_size": settings.pop("max_size", None),
        "kwargs": {**_connection_options(), **(settings.pop("kwargs", None) or {})},
        **settings,
    }


@contextmanager
def connection_pool(conn_string: str, pool_config: PoolConfig) -> Iterator[Any]:
    arguments = _pool_arguments(pool_config)
    # One direct connection first: an unreachable server fails now, with libpq's reason,
    # rather than as a pool timeout.
    _connect(conn_string, arguments["kwargs"]).close()
    from psycopg_pool import ConnectionPool

    with ConnectionPool(conn_string, open=False, **arguments) as pool:
        yield pool


@asynccontextmanager
async def aconnection_pool(conn_string: str, pool_config: PoolConfig) -> AsyncIterator[Any]:
    arguments = _pool_arguments(pool_config)
    await (await _aconnect(conn_string, arguments["kwargs"])).close()
    from psycopg_pool import AsyncConnectionPool

    async with AsyncConnectionPool(conn_string, open=False, **arguments) as pool:
        yield pool
