"""``DeltaChannel``: a key folded by a batch reducer, ``reducer(current, [writes...])`` (beta).

LangGraph keeps such a channel out of its checkpoints and rebuilds it by replaying the writes
since its last snapshot. stategraph's savers already store a growing list as deltas (see
``stategraph.checkpoint._blobs``), so the channel's value is stored like any other and the
reading side stays one lookup. What a program sees is LangGraph's: the reducer receives the
current value (``typ()`` at first) and all of a step's writes in one call, ``Overwrite``
replaces the value, and a value stored by a LangGraph-style snapshot or by a plain reducer
channel is read back as the current value.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional, Sequence

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.channels.binop import concrete_type, initial_value, overwrite_value
from stategraph.channels._snapshot import _DeltaSnapshot
from stategraph.errors import (
    EmptyChannelError,
    ErrorCode,
    InvalidUpdateError,
    create_error_message,
)

__all__ = ["DeltaChannel"]


class DeltaChannel(BaseChannel[Any, Any, Any]):
    """Folds all of a step's writes at once: ``value = reducer(value, writes)``.

    The reducer must be deterministic and give the same result for one batch as for the same
    writes split over several: ``reducer(reducer(v, xs), ys) == reducer(v, xs + ys)``.
    ``typ`` is the value's type, taken from ``Annotated[T, DeltaChannel(...)]`` when not given;
    ``snapshot_frequency`` is accepted for LangGraph's API (stategraph's savers choose their own
    snapshot points) and must be a positive int.
    """

    __slots__ = ("value", "reducer", "snapshot_frequency", "typ_given")

    clears_when_idle = False

    def __init__(
        self,
        reducer: Callable[[Any, Sequence[Any]], Any],
        typ: Optional[type] = None,
        *,
        snapshot_frequency: int = 100,
        key: str = "",
    ) -> None:
        if not isinstance(snapshot_frequency, int) or snapshot_frequency <= 0:
            raise ValueError(f"snapshot_frequency must be a positive int, got {snapshot_frequency}")
        super().__init__(list if typ is None else concrete_type(typ), key)
        self.typ_given = typ is not None
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency
        self.value: Any = MISSING

    def with_field_type(self, typ: Any) -> None:
        """Adopt the annotated field's type, unless one was given explicitly."""
        if not self.typ_given:
            self.typ = concrete_type(typ)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DeltaChannel)
            and self.snapshot_frequency == other.snapshot_frequency
            and (
                self.reducer is other.reducer
                or getattr(self.reducer, "__name__", None) == getattr(other.reducer, "__name__", 1)
            )
        )

    def _empty(self) -> Self:
        new = type(self).__new__(type(self))
        new.typ, new.key = self.typ, self.key
        new.typ_given, new.reducer = self.typ_given, self.reducer
        new.snapshot_frequency = self.snapshot_frequency
        new.value = MISSING
        return new

    def copy(self) -> Self:
        new = self._empty()
        new.value = self.value if self.value is MISSING else copy.copy(self.value)
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = self._empty()
        if checkpoint is MISSING or checkpoint is None:
            new.value = self._start()
        else:
            # A plain value is what a reducer channel stored before the key became a DeltaChannel.
            new.value = checkpoint.value if isinstance(checkpoint, _DeltaSnapshot) else checkpoint
        return new

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        replaced = False
        replacement: Any = None
        for item in values:
            is_overwrite, item_value = overwrite_value(item)
            if is_overwrite:
                if replaced:
                    raise InvalidUpdateError(
                        create_error_message(
                            message="Can receive only one Overwrite value per super-step.",
                            error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                        )
                    )
                replaced, replacement = True, item_value
        if replaced:
            # As in LangGraph, an Overwrite sets the value and the step's other writes are dropped.
            self.value = self._start() if replacement is None else copy.copy(replacement)
            return True
        current = self._start() if self.value is MISSING else self.value
        self.value = self.reducer(current, list(values))
        return True

    def replay_writes(self, writes: Sequence[tuple[str, str, Any]]) -> None:
        """Apply earlier steps' writes (``(task_id, channel, value)``, oldest first) in one
        reducer call, as LangGraph rebuilds the channel: the last ``Overwrite`` among them is
        the new base and only the writes after it are reduced."""
        values = [value for _, _, value in writes]
        if not values:
            return
        base = self._start() if self.value is MISSING else self.value
        start = 0
        for index, item in enumerate(values):
            is_overwrite, item_value = overwrite_value(item)
            if is_overwrite:
                base = self._start() if item_value is None else copy.copy(item_value)
                start = index + 1
        remaining = values[start:]
        self.value = self.reducer(base, remaining) if remaining else base

    def _start(self) -> Any:
        start = initial_value(self.typ)
        return None if start is MISSING else start

    def get(self) -> Any:
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value

    def is_available(self) -> bool:
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        return self.value

