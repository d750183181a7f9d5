"""Reading channels: node inputs, outputs, and the local view a conditional edge sees."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from stategraph.channels.base import BaseChannel
from stategraph.errors import EmptyChannelError


def read_channels(channels: Mapping[str, BaseChannel], keys: str | Sequence[str]) -> Any:
    """One channel's value (``keys`` a name) or a dict of the available ones."""
    if isinstance(keys, str):
        return channels[keys].get()
    values = {}
    for key in keys:
        channel = channels[key]
        if channel.is_available():
            values[key] = channel.get()
    return values


def read_fresh(
    channels: Mapping[str, BaseChannel],
    keys: str | Sequence[str],
    writes: Sequence[tuple[str, Any]],
) -> Any:
    """Read ``keys`` as if only ``writes`` had been applied to ``channels``.

    This is what a conditional edge sees: the state at the start of the step plus its own
    node's writes, never a sibling's.
    """
    names = (keys,) if isinstance(keys, str) else keys
    touched: dict[str, list[Any]] = {}
    for key, value in writes:
        if key in channels and key in names:
            touched.setdefault(key, []).append(value)
    if not touched:
        return read_channels(channels, keys)
    local = dict(channels) if not isinstance(channels, dict) else channels.copy()
    for key, values in touched.items():
        copy = channels[key].copy()
        copy.update(values)
        local[key] = copy
    try:
        return read_channels(local, keys)
    except EmptyChannelError:
        return None
