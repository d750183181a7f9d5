"""The filter keys the SQLite checkpointer and store accept (LangGraph's SQLite rule).

A key is a path of labels joined by dots; LangGraph's SQLite saver and store refuse any other
character, so a key made to look like SQL fails loudly instead of matching nothing.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["validate_filter_key"]

_FILTER_KEY = re.compile(r"^[a-zA-Z0-9_.-]+$")


def validate_filter_key(key: Any) -> None:
    """Raise ``ValueError`` (LangGraph's message) for a key with a character outside
    letters, digits, ``_``, ``.`` and ``-``."""
    if not isinstance(key, str) or not _FILTER_KEY.match(key):
        raise ValueError(
            f"Invalid filter key: '{key}'. Filter keys must contain only alphanumeric "
            "characters, underscores, dots, and hyphens."
        )
