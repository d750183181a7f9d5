"""The SQL filters select exactly the values the Python filter (the other stores') selects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stategraph.store._filter import matches_filter
from stategraph.store.postgres import PostgresStore

from _services import fresh_postgres_database

KEYS = st.sampled_from(["a", "b", "a.b", "x y", "'"])
# Not "1_0" (Python's float reads digit underscores, SQL does not) nor underflowing
# exponents such as "1e-400" (0.0 as a float, a tiny positive numeric): see _postgres_filter.
NUMERIC_TEXT = st.sampled_from(
    ["1", "2.5", " 3 ", "-1e2", "inf", "-Infinity", "nan", "1e400", "+nan"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.floats(allow_nan=False, min_value=-10, max_value=10),
    st.text(alphabet="ab'%_.", max_size=3),
    NUMERIC_TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2)
    ),
    max_leaves=4,
)
OPERATORS = st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"])
CONDITIONS = st.one_of(
    JSON_VALUES,
    st.dictionaries(OPERATORS, SCALARS, min_size=1, max_size=2),
)
FILTERS = st.dictionaries(KEYS, CONDITIONS, min_size=1, max_size=2)
VALUES = st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=3), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def store() -> Iterator[PostgresStore]:
    with fresh_postgres_database() as url:
        with PostgresStore.from_conn_string(url) as opened:
            opened.setup()
            yield opened


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=VALUES, filter=FILTERS)
def test_sql_filters_select_what_python_filters_select(
    store: PostgresStore, values: list[dict[str, Any]], filter: dict[str, Any]
) -> None:
    store.conn.execute("DELETE FROM store")  # type: ignore[union-attr]
    for position, value in enumerate(values):
        store.put(("v",), str(position), value)

    found = store.search(("v",), filter=filter, limit=100)

    expected = {str(p) for p, value in enumerate(values) if matches_filter(value, filter)}
    assert {item.key for item in found} == expected
