"""``PersistentDict``: a dict kept in memory and written to a file on ``sync()``/``close()``.

LangGraph's ``InMemorySaver(factory=partial(PersistentDict, filename=...))`` keeps its tables
in these, so a saver's rows can outlive the process. LangGraph pickles the file; here it is
written with the checkpoint serializer, so loading a file can never import or call an arbitrary
class (a file that holds anything else fails to load).
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any, Optional

from stategraph.checkpoint.serde.base import SerializerProtocol

__all__ = ["PersistentDict"]


class PersistentDict(defaultdict):
    """A ``defaultdict`` saved to ``filename`` on ``sync()`` and ``close()``; a context manager.

    ``flag`` is ``"c"`` (load the file if it exists), ``"n"`` (start empty) or ``"r"`` (never
    write), as in ``shelve``.
    """

    def __init__(
        self,
        *args: Any,
        filename: str,
        serde: Optional[SerializerProtocol] = None,
        flag: str = "c",
        **kwargs: Any,
    ) -> None:
        if flag not in ("c", "n", "r"):
            raise ValueError(f"PersistentDict flag must be 'c', 'n' or 'r', not {flag!r}.")
        self.flag = flag
        self.filename = filename
        if serde is None:
            from stategraph.checkpoint.serde.jsonplus import JsonPlusSerializer

            serde = JsonPlusSerializer()
        self.serde = serde
        super().__init__(*args, **kwargs)

    def sync(self) -> None:
        """Write the dict to its file, atomically (a temporary file renamed over it)."""
        if self.flag == "r":
            return
        kind, data = self.serde.dumps_typed(_plain(self))
        temporary = self.filename + ".tmp"
        with open(temporary, "wb") as file:
            file.write(kind.encode() + b"\n" + data)
        os.replace(temporary, self.filename)

    def load(self) -> None:
        """Read the file into the dict (nothing happens when it is empty or absent)."""
        if self.flag == "n" or not os.path.exists(self.filename):
            return
        with open(self.filename, "rb") as file:
            content = file.read()
        if not content:
            return
        kind, _, data = content.partition(b"\n")
        self.update(self.serde.loads_typed((kind.decode(), data)))

    def close(self) -> None:
        self.sync()
        self.clear()

    def __enter__(self) -> PersistentDict:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _plain(value: Any) -> Any:
    """Nested (default)dicts as plain dicts, which every serializer can write."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
