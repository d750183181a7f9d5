"""Warnings for LangGraph's deprecated spellings, with LangGraph's categories and messages."""

from __future__ import annotations

import warnings
from typing import Any, MutableMapping

from stategraph.warnings import LangGraphDeprecatedSinceV05, LangGraphDeprecatedSinceV10

__all__ = ["take_renamed"]

# old keyword -> (new keyword, the API version that deprecated it)
_RENAMED = {
    "retry": ("retry_policy", LangGraphDeprecatedSinceV05),
    "input": ("input_schema", LangGraphDeprecatedSinceV05),
    "output": ("output_schema", LangGraphDeprecatedSinceV05),
    "config_schema": ("context_schema", LangGraphDeprecatedSinceV10),
    "config_type": ("context_schema", LangGraphDeprecatedSinceV10),
    "checkpoint_during": ("durability", LangGraphDeprecatedSinceV10),
}


def take_renamed(kwargs: MutableMapping[str, Any], old: str, *, stacklevel: int = 3) -> Any:
    """Pop a deprecated keyword from ``kwargs`` (warning as LangGraph does); ``None`` if absent."""
    if old not in kwargs:
        return None
    new, category = _RENAMED[old]
    warnings.warn(
        f"`{old}` is deprecated and will be removed. Please use `{new}` instead.",
        category=category,
        stacklevel=stacklevel,
    )
    return kwargs.pop(old)
