"""The reserved names of LangGraph's public API: ``START``, ``END``, ``TAG_NOSTREAM``, ``TAG_HIDDEN``.

The other names LangGraph once exported here (``Send``, ``Interrupt``, and internal constants
such as ``PREVIOUS``) are still served, with LangGraph's deprecation warning.
"""

from __future__ import annotations

import warnings
from typing import Any

from stategraph._constants import END, START, TAG_HIDDEN, TAG_NOSTREAM
from stategraph.warnings import LangGraphDeprecatedSinceV10

__all__ = ["END", "START", "TAG_HIDDEN", "TAG_NOSTREAM"]


def __getattr__(name: str) -> Any:
    if name in ("Send", "Interrupt"):
        warnings.warn(
            f"Importing {name} from stategraph.constants is deprecated. "
            f"Please use 'from stategraph.types import {name}' instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        import stategraph.types as types

        return getattr(types, name)
    import stategraph._constants as private

    if name.isupper() and hasattr(private, name):
        warnings.warn(
            f"Importing {name} from stategraph.constants is deprecated. "
            "This constant is now private and should not be used directly. "
            "Please let the LangGraph team know if you need this value.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        return getattr(private, name)
    raise AttributeError(f"module 'stategraph.constants' has no attribute {name!r}")
