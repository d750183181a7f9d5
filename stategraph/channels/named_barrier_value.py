"""Barrier channels: available once every named source has written (``add_edge([a, b], c)``)."""

from __future__ import annotations

from typing import Any, Sequence

from typing_extensions import Self

from stategraph.channels.base import MISSING, BaseChannel
from stategraph.errors import EmptyChannelError, InvalidUpdateError


class NamedBarrierValue(BaseChannel[Any, Any, Any]):
    """Records which of ``names`` wrote; available when all have; ``consume()`` resets it."""

    __slots__ = ("names", "seen")

    clears_when_idle = False

    def __init__(self, typ: Any, names: set[Any], key: str = "") -> None:
        super().__init__(typ, key)
        self.names = set(names)
        self.seen: set[Any] = set()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.names == other.names  # type: ignore[attr-defined]

    def checkpoint(self) -> Any:
        return set(self.seen) if self.seen else MISSING

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = type(self)(self.typ, self.names, self.key)
        if checkpoint is not MISSING:
            new.seen = set(checkpoint)
        return new

    def update(self, values: Sequence[Any]) -> bool:
        updated = False
        for value in values:
            if value not in self.names:
                raise InvalidUpdateError(
                    f"At key '{self.key}': Value {value!r} not in {sorted(self.names, key=str)}. "
                    "Only the sources of the waiting edge may write to its barrier."
                )
            if value not in self.seen:
                self.seen.add(value)
                updated = True
        return updated

    def get(self) -> None:
        if self.seen != self.names:
            raise EmptyChannelError()
        return None

    def is_available(self) -> bool:
        return self.seen == self.names

    def consume(self) -> bool:
        if self.seen == self.names:
            self.seen = set()
            return True
        return False


class NamedBarrierValueAfterFinish(NamedBarrierValue):
    """A barrier that opens only after ``finish()``, for waiting edges into deferred nodes."""

    __slots__ = ("finished",)

    def __init__(self, typ: Any, names: set[Any], key: str = "") -> None:
        super().__init__(typ, names, key)
        self.finished = False

    def checkpoint(self) -> Any:
        if not self.seen:
            return MISSING
        return (set(self.seen), self.finished)

    def from_checkpoint(self, checkpoint: Any) -> Self:
        new = type(self)(self.typ, self.names, self.key)
        if checkpoint is not MISSING:
            seen, new.finished = checkpoint
            new.seen = set(seen)
        return new

    def update(self, values: Sequence[Any]) -> bool:
        updated = super().update(values)
        if updated:
            self.finished = False
        return updated

    def get(self) -> None:
        if not self.finished or self.seen != self.names:
            raise EmptyChannelError()
        return None

    def is_available(self) -> bool:
        return self.finished and self.seen == self.names

    def finish(self) -> bool:
        if not self.finished and self.seen == self.names:
            self.finished = True
            return True
        return False

    def consume(self) -> bool:
        if self.finished and self.seen == self.names:
            self.finished = False
            self.seen = set()
            return True
        return False
