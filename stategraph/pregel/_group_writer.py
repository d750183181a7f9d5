"""Group commit: a saver's background writer hands it everything queued while it was busy.

With ``durability="async"`` the engine queues each step's checkpointer calls on the saver's
one writer thread and runs on. A saver with ``put_batch`` (PostgreSQL: one statement, one round
trip, for any number of calls) is given, each time the writer is free, every flush queued since
it last was, of every run using that saver, so a saver slower than the steps coming in catches
up. Calls stay in order; each flush gets a future. If a batch fails, each flush in it is tried
alone, so an error reaches the run that caused it and the other runs' calls are stored.
"""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["group_writer"]

_writers: weakref.WeakKeyDictionary[Any, "_GroupWriter"] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


class _GroupWriter:
    def __init__(self, saver: Any) -> None:
        self._saver = weakref.ref(saver)
        self._lock = threading.Lock()
        self._queued: list[tuple[list[tuple[Any, ...]], Future[None]]] = []
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stategraph-saver")

    def submit(self, calls: list[tuple[Any, ...]]) -> Future[None]:
        done: Future[None] = Future()
        with self._lock:
            self._queued.append((calls, done))
        self._thread.submit(self._drain)
        return done

    def reclaim(self, done: Future[None]) -> list[tuple[Any, ...]] | None:
        """Take back the calls of ``done`` if the writer has not begun storing them."""
        with self._lock:
            for index, (calls, queued) in enumerate(self._queued):
                if queued is done:
                    del self._queued[index]
                    return calls
        return None

    def _drain(self) -> None:
        with self._lock:
            flushes, self._queued = self._queued, []
        if not flushes:
            return  # an earlier drain took them
        self._store(flushes)

    def _store(self, flushes: list[tuple[list[tuple[Any, ...]], Future[None]]]) -> None:
        saver = self._saver()
        if saver is None:
            return
        try:
            saver.put_batch([call for calls, _ in flushes for call in calls])
        except BaseException as error:  # noqa: BLE001 - handed to the runs' futures
            if len(flushes) == 1:
                flushes[0][1].set_exception(error)
                return
            for calls, done in flushes:
                try:
                    saver.put_batch(calls)
                except BaseException as alone:  # noqa: BLE001
                    done.set_exception(alone)
                else:
                    done.set_result(None)
            return
        for _, done in flushes:
            done.set_result(None)


def group_writer(saver: Any) -> _GroupWriter:
    """The one group writer of ``saver`` (made on first use)."""
    with _writers_lock:
        writer = _writers.get(saver)
        if writer is None:
            writer = _writers[saver] = _GroupWriter(saver)
        return writer
