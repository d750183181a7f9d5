"""Thread TTL on the PostgreSQL savers: when each thread expires, in SQL.

``ThreadExpiry`` is a saver's ``ttl=`` (validated by the SQLite savers' ``thread_expiry``, so
both backends take the same settings): each thread expires ``default_ttl`` minutes after its
last write, or read when ``refresh_on_read``. Expiry times are seconds since the epoch from
the saver's clock, so a test's clock and the database agree. The conditions here are written
to run inside the statements of ``_core`` and add no round trip of their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, Optional

from stategraph.checkpoint.postgres._driver import Operation, Query
from stategraph.checkpoint.sqlite._retention import thread_expiry as validated_expiry
from stategraph.store._config import TTLConfig

__all__ = ["EXPIRY_TABLE", "ThreadExpiry", "thread_expiry"]

EXPIRY_TABLE = "stategraph_checkpoint_thread_ttl"

_EXTEND = f"""
INSERT INTO {EXPIRY_TABLE} (thread_id, expires_at) VALUES (%s, %s)
ON CONFLICT (thread_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
"""


@dataclass(frozen=True, slots=True)
class ThreadExpiry:
    ttl_seconds: float
    refresh_on_read: bool
    clock: Callable[[], float]

    def live_condition(self, thread_column: str, params: Dict[str, Any]) -> str:
        """A condition true for rows of threads not expired; adds its parameter to ``params``."""
        params["expiry_now"] = self.clock()
        return (
            f"NOT EXISTS (SELECT 1 FROM {EXPIRY_TABLE} AS e "
            f"WHERE e.thread_id = {thread_column} AND e.expires_at <= %(expiry_now)s)"
        )

    def extend(self, thread_ids: Iterable[str]) -> Operation[None]:
        expires_at = self.clock() + self.ttl_seconds
        params = [(thread_id, expires_at) for thread_id in sorted(thread_ids)]
        if params:
            yield Query(_EXTEND, params, many=True)

    def delete_if_expired(self, thread_id: str, tables: Iterable[str]) -> Iterator[Query]:
        """Statements that delete the thread's rows if it has expired (the expiry row last,
        since the others test it)."""
        now = self.clock()
        expired = (
            f"EXISTS (SELECT 1 FROM {EXPIRY_TABLE} WHERE thread_id = %s AND expires_at <= %s)"
        )
        for table in tables:
            yield Query(
                f"DELETE FROM {table} WHERE thread_id = %s AND {expired}",
                (thread_id, thread_id, now),
            )
        yield Query(
            f"DELETE FROM {EXPIRY_TABLE} WHERE thread_id = %s AND expires_at <= %s",
            (thread_id, now),
        )


def thread_expiry(
    ttl: Optional[TTLConfig], clock: Callable[[], float] = time.time
) -> Optional[ThreadExpiry]:
    """The expiry ``ttl=`` asks for (None without a ``default_ttl``); bad settings raise."""
    checked = validated_expiry(ttl, clock)
    if checked is None:
        return None
    return ThreadExpiry(checked.ttl_seconds, checked.refresh_on_read, clock)
