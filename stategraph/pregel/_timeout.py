"""Node and task timeouts: what ``timeout=`` accepts, and running an attempt within its limits."""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import suppress
from typing import Any, Optional

from stategraph.errors import NodeTimeoutError
from stategraph.types import TimeoutPolicy


def timeout_policy(timeout: Any) -> Optional[TimeoutPolicy]:
    """Seconds, a ``timedelta`` or a ``TimeoutPolicy`` (None: no timeout), limits in seconds."""
    return TimeoutPolicy.coerce(timeout)


SYNC_TIMEOUT = (
    "Node timeouts are only supported for async nodes because sync Python execution cannot be "
    "safely cancelled in-process."
)


def sync_timeout_error(name: str, kind: str = "Node") -> ValueError:
    """LangGraph's error for a timeout given to a sync node or task, with the fix."""
    return ValueError(
        f"{SYNC_TIMEOUT} {kind} {name!r} is sync. Make it `async def` (or give it an async "
        "implementation), or drop timeout=."
    )


class IdleClock:
    """When the running attempt last showed progress; an idle timeout fires after none."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    async def wait_idle(self, limit: float) -> None:
        while (remaining := self.last + limit - time.monotonic()) > 0:
            await asyncio.sleep(remaining)


def watch_progress(context: Any, policy: TimeoutPolicy) -> IdleClock:
    """A clock that the task's progress signals reset.

    ``runtime.heartbeat()`` always counts; with ``refresh_on="auto"`` so do the task's writes,
    its custom stream output and every LangChain callback event of the runs it makes (model
    tokens, tool calls, ...).
    """
    clock = IdleClock()
    runtime = context.runtime
    changes: dict[str, Any] = {"heartbeat": clock.touch}
    if policy.refresh_on == "auto":
        write = context.write
        stream_writer = runtime.stream_writer

        def write_and_touch(writes: Any) -> None:
            clock.touch()
            write(writes)

        def stream_and_touch(chunk: Any) -> None:
            clock.touch()
            stream_writer(chunk)

        context.write = write_and_touch
        changes["stream_writer"] = stream_and_touch
        if "langchain_core" in sys.modules:
            from stategraph.pregel._callbacks import progress_handler
            from stategraph.pregel._setup import with_handler

            config = context.config
            config["callbacks"] = with_handler(config.get("callbacks"), progress_handler(clock.touch))
    context.runtime = runtime.override(**changes)
    return clock


async def run_with_timeout(name: str, policy: TimeoutPolicy, call: Any, clock: Optional[IdleClock]) -> Any:
    """Await ``call`` within the policy's run and idle limits, or raise ``NodeTimeoutError``."""
    started = time.monotonic()
    work = asyncio.ensure_future(call)
    watchdogs: dict[asyncio.Future[Any], str] = {}
    if policy.idle_timeout is not None and clock is not None:
        clock.touch()
        watchdogs[asyncio.ensure_future(clock.wait_idle(policy.idle_timeout))] = "idle"
    if policy.run_timeout is not None:
        watchdogs[asyncio.ensure_future(asyncio.sleep(policy.run_timeout))] = "run"
    try:
        done, _ = await asyncio.wait({work, *watchdogs}, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            return work.result()
        kind = watchdogs[next(iter(done))]
        work.cancel()
        with suppress(BaseException):
            await work  # let the attempt unwind before its writes are discarded
        raise NodeTimeoutError(
            name,
            time.monotonic() - started,
            kind=kind,
            idle_timeout=policy.idle_timeout,
            run_timeout=policy.run_timeout,
        )
    finally:
        for watchdog in watchdogs:
            watchdog.cancel()
        if not work.done():
            work.cancel()
