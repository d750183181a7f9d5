"""``BasePostgresSaver``: what the PostgreSQL checkpointers share, sync and async.

The tables (see ``_migrations``): ``stategraph_checkpoints`` (one row per checkpoint, without
channel values), ``stategraph_checkpoint_blobs`` (one row per channel version; lists that grow
by appending are stored as deltas, so a long conversation's storage grows with what is new,
not with the whole history at every step) and ``stategraph_checkpoint_writes`` (pending writes
per task). They carry their own names, so a database that also holds LangGraph's tables keeps
both.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from stategraph.checkpoint._blobs import DEFAULT_CACHED_THREADS
from stategraph.checkpoint._ids import next_channel_version
from stategraph.checkpoint._saver import BaseCheckpointSaver
from stategraph.checkpoint.postgres._core import PostgresCheckpointCore
from stategraph.checkpoint.postgres._expiry import thread_expiry
from stategraph.checkpoint.postgres._migrations import MIGRATIONS, MISSING_BASE_SQLSTATE
from stategraph.checkpoint.serde.base import SerializerProtocol
from stategraph.store._config import TTLConfig

__all__ = ["SESSION_SETTINGS", "BasePostgresSaver"]

# Set on the connections from_conn_string opens. The savers' statements are the same each time
# but for their values, so one plan serves them all; left to choose, the planner re-plans each
# step's statement, which costs as much as running it. For a connection or pool of your own,
# pass options="-c plan_cache_mode=force_generic_plan" to have the same.
SESSION_SETTINGS = {"plan_cache_mode": "force_generic_plan"}


class BasePostgresSaver(BaseCheckpointSaver[str]):
    """Settings and state common to ``PostgresSaver`` and ``AsyncPostgresSaver``."""

    MIGRATIONS = MIGRATIONS
    # A network database: the engine may hand saves to a writer thread (durability="async").
    is_in_process = False
    reads_only_new_values = True
    _shallow = False

    def __init__(
        self,
        *,
        serde: Optional[SerializerProtocol] = None,
        cached_threads: int = DEFAULT_CACHED_THREADS,
        ttl: Optional[TTLConfig] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(serde=serde)
        self.is_setup = False
        self.ttl_config = ttl
        self._clock = clock
        self._core = PostgresCheckpointCore(
            cached_threads, thread_expiry(ttl, clock), shallow=self._shallow
        )

    def get_next_version(self, current: Optional[str], channel: Any) -> str:
        return next_channel_version(current)


def lost_delta_base(error: BaseException) -> bool:
    """True for the error of a step whose delta row found its base row deleted meanwhile."""
    return getattr(error, "sqlstate", None) == MISSING_BASE_SQLSTATE
