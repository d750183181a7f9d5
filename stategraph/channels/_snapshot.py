"""``_DeltaSnapshot``: how a ``DeltaChannel``'s full value is stored (LangGraph's beta blob
shape; re-exported at its path, ``stategraph.checkpoint.serde.types``)."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["_DeltaSnapshot"]


class _DeltaSnapshot(NamedTuple):
    """A ``DeltaChannel``'s full value, stored where its history may start.

    A saver that finds one in a checkpoint's ``channel_values`` stops walking ancestors for that
    channel there; ``DeltaChannel.from_checkpoint`` restores ``value`` as it is. The serializer
    stores it under its own msgpack extension code, which wraps a value and calls nothing.
    """

    value: Any
