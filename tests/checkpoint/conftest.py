"""Fixtures for the checkpoint tests: one saver per backend, driven through one interface.

``saver`` runs every test body on InMemorySaver (sync and async methods), SqliteSaver (sync
methods, and async methods that run in a thread), AsyncSqliteSaver, and PostgreSQL: PostgresSaver
on a connection, in a pipeline and on a pool, AsyncPostgresSaver on a connection and on a pool
(each in a schema of its own), so the backends cannot drift apart.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, AsyncIterator, Optional

import pytest

from _services import fresh_postgres_schema
from stategraph.checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    empty_checkpoint,
    uuid6,
)
from stategraph.checkpoint.memory import InMemorySaver
from stategraph.checkpoint.sqlite import SqliteSaver
from stategraph.checkpoint.sqlite.aio import AsyncSqliteSaver


class SaverDriver:
    """Calls a saver's sync or async methods; every method here is awaited by the tests."""

    def __init__(self, saver: BaseCheckpointSaver[Any], use_async: bool) -> None:
        self.saver = saver
        self.use_async = use_async

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.use_async:
            return await getattr(self.saver, "a" + name)(*args, **kwargs)
        return getattr(self.saver, name)(*args, **kwargs)

    async def get_tuple(self, config: dict[str, Any]) -> Any:
        return await self._call("get_tuple", config)

    async def get(self, config: dict[str, Any]) -> Any:
        return await self._call("get", config)

    async def put(
        self, config: dict[str, Any], checkpoint: Any, metadata: Any, new_versions: Any
    ) -> Any:
        return await self._call("put", config, checkpoint, metadata, new_versions)

    async def put_step(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("put_step", *args, **kwargs)

    async def put_writes(
        self, config: dict[str, Any], writes: Any, task_id: str, task_path: str = ""
    ) -> None:
        await self._call("put_writes", config, writes, task_id, task_path)

    async def delete_thread(self, thread_id: str) -> None:
        await self._call("delete_thread", thread_id)

    async def prune(self, thread_ids: Any, **kwargs: Any) -> None:
        await self._call("prune", thread_ids, **kwargs)

    async def sweep_ttl(self) -> int:
        # A saver without an async sweep (InMemorySaver's does no I/O) is swept by the sync one.
        if self.use_async and hasattr(self.saver, "asweep_ttl"):
            return int(await self.saver.asweep_ttl())
        return int(self.saver.sweep_ttl())

    async def get_delta_channel_history(self, config: dict[str, Any], channels: Any) -> Any:
        return await self._call("get_delta_channel_history", config=config, channels=channels)

    async def list(self, config: Optional[dict[str, Any]], **kwargs: Any) -> list[Any]:
        if self.use_async:
            return [item async for item in self.saver.alist(config, **kwargs)]
        return list(self.saver.list(config, **kwargs))


POSTGRES_BACKENDS = [
    "postgres",
    "postgres-pipeline",
    "postgres-pool",
    "postgres-async",
    "postgres-async-pool",
]
BACKENDS = ["memory", "memory-async", "sqlite", "sqlite-async", "aiosqlite", *POSTGRES_BACKENDS]


@contextlib.asynccontextmanager
async def open_saver(backend: str, tmp_path: Path, **kwargs: Any) -> AsyncIterator[SaverDriver]:
    if backend.startswith("postgres"):
        with fresh_postgres_schema() as url:
            async with open_postgres_saver(backend, url, **kwargs) as saver:
                yield SaverDriver(saver, "async" in backend)
    elif backend.startswith("memory"):
        yield SaverDriver(InMemorySaver(**kwargs), backend.endswith("async"))
    elif backend.startswith("sqlite"):
        with SqliteSaver.from_conn_string(str(tmp_path / "checkpoints.db"), **kwargs) as saver:
            yield SaverDriver(saver, backend.endswith("async"))
    else:
        async with AsyncSqliteSaver.from_conn_string(
            str(tmp_path / "checkpoints.db"), **kwargs
        ) as saver:
            yield SaverDriver(saver, True)


@contextlib.asynccontextmanager
async def open_postgres_saver(backend: str, url: str, **kwargs: Any) -> AsyncIterator[Any]:
    """The PostgreSQL saver a backend name describes, on the database at ``url``."""
    from psycopg_pool import AsyncConnectionPool, ConnectionPool

    from stategraph.checkpoint.postgres import PostgresSaver
    from stategraph.checkpoint.postgres.aio import AsyncPostgresSaver

    pool_kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0}
    if backend == "postgres":
        with PostgresSaver.from_conn_string(url, **kwargs) as saver:
            yield saver
    elif backend == "postgres-pipeline":
        with PostgresSaver.from_conn_string(url, pipeline=True, **kwargs) as saver:
            yield saver
    elif backend == "postgres-pool":
        with ConnectionPool(url, min_size=1, max_size=4, kwargs=pool_kwargs) as pool:
            saver = PostgresSaver(pool, **kwargs)
            try:
                yield saver
            finally:
                saver.stop_ttl_sweeper(timeout=1.0)
    elif backend == "postgres-async":
        async with AsyncPostgresSaver.from_conn_string(url, **kwargs) as saver:
            yield saver
    elif backend == "postgres-async-pool":
        async with AsyncConnectionPool(
            url, min_size=1, max_size=4, kwargs=pool_kwargs, open=False
        ) as pool:
            saver = AsyncPostgresSaver(pool, **kwargs)
            try:
                yield saver
            finally:
                await saver.stop_ttl_sweeper(timeout=1.0)
    else:
        raise ValueError(f"unknown PostgreSQL backend {backend!r}")


@pytest.fixture(params=BACKENDS)
async def saver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SaverDriver]:
    async with open_saver(request.param, tmp_path) as driver:
        yield driver


def thread_config(
    thread_id: str = "thread-1", checkpoint_ns: str = "", **extra: Any
) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, **extra}}


def make_checkpoint(
    saver: BaseCheckpointSaver[Any],
    values: dict[str, Any],
    previous: Optional[Checkpoint] = None,
    *,
    step: int = 0,
) -> tuple[Checkpoint, dict[str, Any]]:
    """The next checkpoint after ``previous`` with ``values``; returns it and its new versions.

    Every channel in ``values`` gets a new version (as the engine does for changed channels);
    channels of ``previous`` not in ``values`` keep theirs.
    """
    checkpoint = empty_checkpoint()
    checkpoint["id"] = str(uuid6(clock_seq=step))
    versions = dict(previous["channel_versions"]) if previous else {}
    new_versions = {}
    for channel in values:
        new_versions[channel] = saver.get_next_version(versions.get(channel), None)  # type: ignore[arg-type]
    versions.update(new_versions)
    carried = {
        k: v for k, v in (previous["channel_values"] if previous else {}).items() if k not in values
    }
    checkpoint["channel_values"] = {**carried, **values}
    checkpoint["channel_versions"] = versions
    checkpoint["versions_seen"] = {"node": dict(versions)}
    checkpoint["updated_channels"] = sorted(values)
    return checkpoint, new_versions
