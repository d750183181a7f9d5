"""Search filters as PostgreSQL conditions on the ``value`` jsonb column.

Compiles the same filter language as ``_filter.matches_filter`` (which the other stores
evaluate in Python) so that every backend selects the same items. Keys, paths and operands
only ever reach SQL as bound parameters; the SQL text depends on the filter's shape alone.
Two corners differ: a string with digit underscores ("1_0") is a number to Python's float()
only, and a string exponent that underflows a float ("1e-400") is 0.0 in Python only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from stategraph.store._filter import OPERATORS

__all__ = ["Fragment", "filter_condition"]

# Strings Python's float() reads that PostgreSQL's numeric also reads. Digit and exponent
# lengths are bounded so that no stored string can overflow numeric and fail the query.
_NUMERIC_TEXT = (
    r"^\s*([+-]?((\d{1,255}\.?\d{0,255}|\.\d{1,255})([eE][+-]?\d{1,5})?|inf|infinity)|nan)\s*$"
)
_SQL_ORDERINGS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of SQL and the parameters its ``%s`` placeholders take, in order."""

    sql: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: Fragment) -> Fragment:
        return Fragment(self.sql + other.sql, self.params + other.params)


TRUE = Fragment("TRUE")
FALSE = Fragment("FALSE")


def filter_condition(filter: Optional[dict[str, Any]]) -> Fragment:
    """A condition true for exactly the rows whose ``value`` ``matches_filter(value, filter)``."""
    if not filter:
        return TRUE
    return _all([_match(_top_field(key), wanted) for key, wanted in filter.items()])


def _top_field(key: str) -> Fragment:
    # As in _filter._field: a literal key wins; otherwise "a.b" reads value -> a -> b.
    if "." not in key:
        return Fragment("(value -> %s)", (key,))
    return Fragment(
        "(CASE WHEN value ? %s THEN value -> %s ELSE value #> %s::text[] END)",
        (key, key, key.split(".")),
    )


def _child(field: Fragment, step: Fragment) -> Fragment:
    return Fragment("(") + field + Fragment(" -> ") + step + Fragment(")")


def _match(field: Fragment, wanted: Any) -> Fragment:
    """``_filter._matches(actual, wanted)`` for the jsonb at ``field`` (never NULL)."""
    if isinstance(wanted, dict):
        if any(isinstance(key, str) and key.startswith("$") for key in wanted):
            return _all([_operator(field, name, operand) for name, operand in wanted.items()])
        is_object = Fragment("jsonb_typeof(") + field + Fragment(") = 'object'")
        children = [_match(_child(field, Fragment("%s", (str(k),))), v) for k, v in wanted.items()]
        return _all([is_object, *children])
    if isinstance(wanted, (list, tuple)):
        # CASE, not AND: PostgreSQL may evaluate AND's operands in any order, and
        # jsonb_array_length fails on a non-array.
        elements = [
            _match(_child(field, Fragment("%s::int", (position,))), element)
            for position, element in enumerate(wanted)
        ]
        same_length = Fragment("jsonb_array_length(") + field + Fragment(") = %s", (len(wanted),))
        return (
            Fragment("(CASE WHEN jsonb_typeof(")
            + field
            + Fragment(") = 'array' THEN ")
            + _all([same_length, *elements])
            + Fragment(" ELSE FALSE END)")
        )
    try:
        literal = json.dumps(wanted)
    except (TypeError, ValueError):
        return FALSE  # not JSON data, so equal to no stored value
    return Fragment("COALESCE(") + field + Fragment(" = %s::jsonb, FALSE)", (literal,))


def _operator(field: Fragment, name: str, operand: Any) -> Fragment:
    if name == "$eq":
        return _match(field, operand)
    if name == "$ne":
        return Fragment("(NOT ") + _match(field, operand) + Fragment(")")
    sql_operator = _SQL_ORDERINGS.get(name)
    if sql_operator is None:
        raise ValueError(
            f"Unsupported operator: {name}. Filters support {', '.join(OPERATORS)}, "
            'e.g. {"score": {"$gte": 3}}.'
        )
    return _ordering(field, sql_operator, operand)


def _ordering(field: Fragment, sql_operator: str, operand: Any) -> Fragment:
    """``_filter._comparable`` in SQL: numbers compare as numbers, two strings as text.

    A stored string that reads as a number compares numerically with a number operand; a
    number compares with a string operand that reads as a number. Booleans, null, arrays
    and objects never compare, and NaN compares false, as in Python. Numbers compare as
    ``numeric``, which holds any JSON number and infinity, so no stored value can make
    the cast fail.
    """
    number = _as_float(operand)
    if number is not None and math.isnan(number):
        return FALSE
    text = Fragment("(") + field + Fragment(" #>> '{}')")
    as_number = (
        Fragment("(") + field + Fragment(f")::numeric {sql_operator} %s::numeric", (number,))
        if number is not None
        else FALSE
    )
    if isinstance(operand, str):
        from_string = text + Fragment(f' COLLATE "C" {sql_operator} %s', (operand,))
    elif number is not None:
        parsed = text + Fragment("::numeric")
        from_string = (
            # CASE, not OR: only CASE fixes the order, and the cast fails on non-numbers.
            Fragment("(CASE WHEN ")
            + text
            + Fragment(" !~* %s THEN FALSE WHEN ", (_NUMERIC_TEXT,))
            + parsed
            + Fragment(" = 'NaN' THEN FALSE ELSE ")
            + parsed
            + Fragment(f" {sql_operator} %s::numeric END)", (number,))
        )
    else:
        from_string = FALSE
    return (
        Fragment("(CASE jsonb_typeof(")
        + field
        + Fragment(") WHEN 'number' THEN ")
        + as_number
        + Fragment(" WHEN 'string' THEN ")
        + from_string
        + Fragment(" ELSE FALSE END)")
    )


def _as_float(operand: Any) -> Optional[float]:
    try:
        return float(operand)
    except (TypeError, ValueError):
        return None


def _all(conditions: Sequence[Fragment]) -> Fragment:
    if not conditions:
        return TRUE
    joined = conditions[0]
    for condition in conditions[1:]:
        joined = joined + Fragment(" AND ") + condition
    return Fragment("(") + joined + Fragment(")")
