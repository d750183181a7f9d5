"""Value filters of ``search``: which stored values a ``filter`` dict selects.

``{"k": v}`` matches when the value's ``k`` equals ``v``; a dict of operators
(``$eq $ne $gt $gte $lt $lte``) compares instead; a plain nested dict matches nested values.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Optional

__all__ = ["OPERATORS", "matches_filter"]

_MISSING = object()

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}
OPERATORS = ("$eq", "$ne", *_ORDERINGS)


def matches_filter(value: dict[str, Any], filter: Optional[dict[str, Any]]) -> bool:
    """Whether ``value`` satisfies every condition of ``filter`` (None matches all)."""
    if not filter:
        return True
    return all(_matches(_field(value, key), wanted) for key, wanted in filter.items())


def _field(value: Any, key: str) -> Any:
    # A literal key wins; otherwise "a.b" reads value["a"]["b"], as the SQL stores do.
    if not isinstance(value, dict):
        return _MISSING
    if key in value:
        return value[key]
    if "." in key:
        node: Any = value
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
        return node
    return _MISSING


def _matches(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        if any(isinstance(key, str) and key.startswith("$") for key in wanted):
            return all(_apply(actual, name, operand) for name, operand in wanted.items())
        return isinstance(actual, dict) and all(
            _matches(actual.get(key, _MISSING), sub) for key, sub in wanted.items()
        )
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(wanted)
            and all(_matches(a, w) for a, w in zip(actual, wanted))
        )
    return actual is not _MISSING and _equal(actual, wanted)


def _equal(actual: Any, wanted: Any) -> bool:
    # JSON has no bool/number overlap: true is not 1.
    if isinstance(actual, bool) != isinstance(wanted, bool):
        return False
    return bool(actual == wanted)


def _apply(actual: Any, name: str, operand: Any) -> bool:
    if name == "$eq":
        return _matches(actual, operand)
    if name == "$ne":
        return not _matches(actual, operand)
    compare = _ORDERINGS.get(name)
    if compare is None:
        raise ValueError(
            f"Unsupported operator: {name}. Filters support {', '.join(OPERATORS)}, "
            'e.g. {"score": {"$gte": 3}}.'
        )
    pair = _comparable(actual, operand)
    return pair is not None and compare(*pair)


def _comparable(actual: Any, operand: Any) -> Optional[tuple[Any, Any]]:
    """Both sides as numbers, or both as strings; None when they cannot be ordered."""
    if actual is _MISSING or actual is None or isinstance(actual, bool):
        return None
    if isinstance(actual, str) and isinstance(operand, str):
        return actual, operand
    try:
        return float(actual), float(operand)
    except (TypeError, ValueError):
        return None
