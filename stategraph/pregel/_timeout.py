"""Node and task timeouts: what ``timeout=`` accepts, normalised to a ``TimeoutPolicy``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from stategraph.types import TimeoutPolicy


def timeout_policy(timeout: Any) -> Optional[TimeoutPolicy]:
    """Seconds, a ``timedelta`` or a ``TimeoutPolicy`` (None: no timeout)."""
    if timeout is None or isinstance(timeout, TimeoutPolicy):
        return timeout
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return TimeoutPolicy(run_timeout=seconds)
