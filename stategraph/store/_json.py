"""Values as JSON text: how the SQL stores write a value, and what they accept in it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

__all__ = ["dump_value"]


def dump_value(value: dict[str, Any]) -> str:
    """``value`` as JSON text; dates, UUIDs, enums, sets and dataclasses become JSON data."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (dt.datetime, dt.date, dt.time)):
        return obj.isoformat()
    if isinstance(obj, (uuid.UUID, Decimal)):
        return str(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    raise TypeError(
        f"The store keeps values as JSON, and {type(obj).__name__} is not JSON-serializable. "
        "Convert it to a dict, list, string or number before put()."
    )
