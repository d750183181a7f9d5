"""Deprecated home of types now in ``stategraph.types`` (as ``langgraph.pregel.types``)."""

import warnings

from stategraph.types import (
    All,
    CachePolicy,
    PregelExecutableTask,
    PregelTask,
    RetryPolicy,
    StateSnapshot,
    StateUpdate,
    StreamMode,
    StreamWriter,
    default_retry_on,
)
from stategraph.warnings import LangGraphDeprecatedSinceV10

__all__ = [
    "All",
    "CachePolicy",
    "PregelExecutableTask",
    "PregelTask",
    "RetryPolicy",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "default_retry_on",
]

warnings.warn(
    "Importing from stategraph.pregel.types is deprecated. "
    "Please use 'from stategraph.types import ...' instead.",
    LangGraphDeprecatedSinceV10,
    stacklevel=2,
)
