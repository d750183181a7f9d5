"""Checkpoint metadata: merging the run's config into it, storing it as JSON, matching filters.

Metadata is JSON so that SQL backends can filter on it; the same codec is used everywhere so
every backend returns the same values.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from stategraph.errors import DeserializationError, SerializationError

__all__ = [
    "decode_metadata",
    "encode_metadata",
    "get_checkpoint_metadata",
    "metadata_matches",
]

# Config keys that address a checkpoint rather than describe the run.
_EXCLUDED_KEYS = frozenset(
    {"thread_id", "thread_ts", "checkpoint_id", "checkpoint_ns", "checkpoint_map"}
)


def _is_excluded(key: str) -> bool:
    return key in _EXCLUDED_KEYS or key.startswith("__") or key.startswith("langgraph_")


def _strip_nul(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; strip it everywhere so backends agree.
    return value.replace("\x00", "") if isinstance(value, str) else value


def get_checkpoint_metadata(
    config: Mapping[str, Any], metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """``metadata`` plus the run's own metadata and primitive ``configurable`` values.

    Keys already in ``metadata`` win; from ``config["metadata"]`` and ``config["configurable"]``
    only ``str``/``int``/``float``/``bool`` values are taken, and never the addressing keys
    (thread_id, checkpoint_id, checkpoint_ns, checkpoint_map), ``langgraph_*`` or ``__*`` keys.
    NUL characters are removed from strings.
    """
    merged = dict(metadata)
    for key, value in metadata.items():
        if type(value) is str and "\x00" in value:
            merged[key] = value.replace("\x00", "")
    for source in (config.get("metadata"), config.get("configurable")):
        if not source:
            continue
        for key, value in source.items():
            if key in merged or key in _EXCLUDED_KEYS or not isinstance(key, str) or _is_excluded(key):
                continue
            if isinstance(value, (str, int, float, bool)):
                merged[key] = _strip_nul(value)
    return merged


# One encoder for every call: json.dumps builds a new one whenever an option is not default.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def encode_metadata(metadata: Mapping[str, Any]) -> str:
    """JSON text of ``metadata``; a value JSON cannot hold fails here, naming its key."""
    try:
        return _ENCODER.encode(metadata)
    except (TypeError, ValueError) as error:
        bad = [key for key, value in metadata.items() if not _is_json_value(value)]
        raise SerializationError(
            f"Cannot store checkpoint metadata key(s) {bad or list(metadata)}: {error}. "
            "Metadata is stored as JSON; pass only str, int, float (finite), bool, None, "
            "and lists/dicts of those in config['metadata'] or the metadata argument."
        ) from error


def _is_json_value(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def decode_metadata(text: str | bytes | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        decoded = json.loads(text)
    except ValueError as error:
        raise DeserializationError(
            f"Stored checkpoint metadata is not valid JSON: {error}"
        ) from error
    if not isinstance(decoded, dict):
        raise DeserializationError("Stored checkpoint metadata is not a JSON object.")
    return decoded


def values_equal(stored: Any, wanted: Any) -> bool:
    """Equality as JSON sees it: ``True`` is not ``1``, ``1`` equals ``1.0``."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored is wanted
    if isinstance(stored, float) and math.isnan(stored):
        return False
    if isinstance(wanted, tuple):
        wanted = list(wanted)
    if isinstance(wanted, list) and isinstance(stored, list):
        return len(stored) == len(wanted) and all(map(values_equal, stored, wanted))
    if isinstance(wanted, dict) and isinstance(stored, dict):
        return stored.keys() == wanted.keys() and all(
            values_equal(stored[key], wanted[key]) for key in wanted
        )
    return bool(stored == wanted)


def metadata_matches(
    metadata: Mapping[str, Any], filter: Mapping[str, Any], *, dotted: bool = False
) -> bool:
    """True when every ``filter`` key is in ``metadata`` with an equal value (``dotted``: a
    key's dots go down into nested mappings, as LangGraph's SQLite saver reads them)."""
    missing = object()
    for key, wanted in filter.items():
        stored: Any = metadata
        for label in key.split(".") if dotted else (key,):
            stored = stored.get(label, missing) if isinstance(stored, Mapping) else missing
        if stored is missing or not values_equal(stored, wanted):
            return False
    return True
