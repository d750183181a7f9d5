"""The TTL sweeper of the SQL stores: delete expired items every interval until stopped.

``SweepsInThread`` (sync stores: a daemon thread) and ``SweepsInTask`` (asyncio stores: a
task) add ``start_ttl_sweeper``/``stop_ttl_sweeper`` to a store that has ``sweep_ttl()``
and a ``ttl_config``. Without a ``TTLConfig`` nothing is started.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import Callable, Optional

from stategraph.store._config import TTLConfig

__all__ = ["DEFAULT_SWEEP_INTERVAL_MINUTES", "SweepsInTask", "SweepsInThread"]

logger = logging.getLogger("stategraph.store")

DEFAULT_SWEEP_INTERVAL_MINUTES = 5.0


def _interval_minutes(ttl: TTLConfig, asked: Optional[float]) -> float:
    return float(
        asked or ttl.get("sweep_interval_minutes") or DEFAULT_SWEEP_INTERVAL_MINUTES
    )


class SweepsInThread:
    """Mixin: the sweeper of a sync store, in a daemon thread."""

    ttl_config: Optional[TTLConfig]
    _sweeper: Optional[threading.Thread] = None
    _stop_sweeping: Optional[threading.Event] = None

    def sweep_ttl(self) -> int:
        raise NotImplementedError

    def start_ttl_sweeper(
        self, sweep_interval_minutes: Optional[float] = None
    ) -> concurrent.futures.Future[None]:
        """Sweep expired items every interval in a daemon thread until stopped.

        The interval is the argument, else ``TTLConfig.sweep_interval_minutes``, else 5.
        Without a ``TTLConfig`` nothing starts. Cancelling the future stops the thread.
        """
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if not self.ttl_config or (self._sweeper is not None and self._sweeper.is_alive()):
            future.set_result(None)
            return future
        interval_seconds = 60 * _interval_minutes(self.ttl_config, sweep_interval_minutes)
        stop = self._stop_sweeping = threading.Event()

        def sweep_until_stopped() -> None:
            while not stop.wait(interval_seconds):
                try:
                    swept = self.sweep_ttl()
                    if swept:
                        logger.info("Store TTL sweep deleted %d expired items", swept)
                except Exception:
                    logger.exception("Store TTL sweep failed; retrying next interval")
            if not future.done():
                future.set_result(None)

        self._sweeper = threading.Thread(
            target=sweep_until_stopped, name="stategraph-store-ttl-sweeper", daemon=True
        )
        future.add_done_callback(_stop_if_cancelled(stop))
        self._sweeper.start()
        return future

    def stop_ttl_sweeper(self, timeout: Optional[float] = None) -> bool:
        """Stop the sweeper thread; False if it did not stop within ``timeout`` seconds."""
        if self._sweeper is None or not self._sweeper.is_alive():
            return True
        assert self._stop_sweeping is not None
        self._stop_sweeping.set()
        self._sweeper.join(timeout)
        if self._sweeper.is_alive():
            return False
        self._sweeper = None
        return True


class SweepsInTask:
    """Mixin: the sweeper of an asyncio store, in a task on the running loop."""

    ttl_config: Optional[TTLConfig]
    _sweeper_task: Optional[asyncio.Task[None]] = None
    _stop_sweeping_event: Optional[asyncio.Event] = None

    async def sweep_ttl(self) -> int:
        raise NotImplementedError

    async def start_ttl_sweeper(
        self, sweep_interval_minutes: Optional[float] = None
    ) -> asyncio.Task[None]:
        """Sweep expired items every interval in a background task until stopped.

        The interval is the argument, else ``TTLConfig.sweep_interval_minutes``, else 5.
        Without a ``TTLConfig`` the returned task does nothing.
        """
        if not self.ttl_config:
            return asyncio.create_task(asyncio.sleep(0))
        if self._sweeper_task is not None and not self._sweeper_task.done():
            return self._sweeper_task
        interval_seconds = 60 * _interval_minutes(self.ttl_config, sweep_interval_minutes)
        self._stop_sweeping_event = asyncio.Event()
        self._sweeper_task = asyncio.create_task(
            self._sweep_until_stopped(self._stop_sweeping_event, interval_seconds)
        )
        return self._sweeper_task

    async def _sweep_until_stopped(self, stop: asyncio.Event, interval_seconds: float) -> None:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
                return
            except asyncio.TimeoutError:
                pass
            try:
                swept = await self.sweep_ttl()
                if swept:
                    logger.info("Store TTL sweep deleted %d expired items", swept)
            except Exception:
                logger.exception("Store TTL sweep failed; retrying next interval")

    async def stop_ttl_sweeper(self, timeout: Optional[float] = None) -> bool:
        """Stop the sweeper task; False if it did not stop within ``timeout`` seconds."""
        if self._sweeper_task is None or self._sweeper_task.done():
            return True
        assert self._stop_sweeping_event is not None
        self._stop_sweeping_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._sweeper_task), timeout=timeout)
        except asyncio.TimeoutError:
            return False
        self._sweeper_task = None
        return True


def _stop_if_cancelled(
    stop: threading.Event,
) -> Callable[[concurrent.futures.Future[None]], None]:
    def on_done(future: concurrent.futures.Future[None]) -> None:
        if future.cancelled():
            stop.set()

    return on_done
