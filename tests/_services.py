"""The services tests may use (PostgreSQL, Redis), and what to do when one is absent.

A test that needs a service skips with the reason when the service does not answer, except
when ``STATEGRAPH_REQUIRE_SERVICES=1`` (CI), where it fails instead. Each PostgreSQL test
gets a database of its own, dropped afterwards; each Redis test a key prefix of its own,
whose keys are deleted afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

__all__ = [
    "POSTGRES_URL",
    "REDIS_URL",
    "REQUIRE_SERVICES",
    "delete_redis_keys",
    "fresh_postgres_database",
    "fresh_postgres_schema",
    "redis_key_prefix",
    "require_postgres",
    "require_redis",
    "require_service",
]

REQUIRE_SERVICES = os.environ.get("STATEGRAPH_REQUIRE_SERVICES") == "1"
# A database the test user may connect to, used to create and drop the per-test databases.
POSTGRES_URL = os.environ.get(
    "STATEGRAPH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("STATEGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (with the reason) when a service is absent, unless CI demands it: then fail."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and STATEGRAPH_REQUIRE_SERVICES=1 requires it")
    pytest.skip(f"{message} (set STATEGRAPH_REQUIRE_SERVICES=1 to make this a failure)")


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def require_postgres() -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[postgres]')")
    require_service("PostgreSQL", *_host_port(POSTGRES_URL, 5432))


def require_redis() -> None:
    pytest.importorskip("redis", reason="redis-py is not installed (pip install '.[redis]')")
    require_service("Redis", *_host_port(REDIS_URL, 6379))


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database ``sg_test_<random>``, yield its URL, then drop it.

    The drop forces other sessions off, so a test that leaks a connection cannot leave the
    database behind.
    """
    require_postgres()
    import psycopg

    name = f"sg_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """Create an empty schema ``sg_test_<random>`` in the test database and yield a URL whose
    connections use it (``search_path``), then drop it with everything in it.

    Cheaper than a database of its own, for the many tests that need only their own tables.
    """
    require_postgres()
    import psycopg

    name = f"sg_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    parts = urlsplit(POSTGRES_URL)
    query = (parts.query + "&" if parts.query else "") + f"options=-csearch_path%3D{name}"
    try:
        yield urlunsplit(parts._replace(query=query))
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def redis_key_prefix() -> str:
    """A key prefix no other test uses: ``sg_test:<random>:``."""
    return f"sg_test:{uuid.uuid4().hex[:16]}:"


def delete_redis_keys(client: Any, prefix: str) -> None:
    """Delete every key under ``prefix`` (``client`` is a sync redis-py client)."""
    pattern = "".join("\\" + char if char in "*?[]\\" else char for char in prefix) + "*"
    keys = list(client.scan_iter(match=pattern, count=500))
    if keys:
        client.delete(*keys)
