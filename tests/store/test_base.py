"""The store interface: values, operations built by the convenience methods, field paths."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import pytest

import stategraph.errors
from stategraph.store import base
from stategraph.store.base import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    get_text_at_path,
    tokenize_path,
)

WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class RecordingStore(BaseStore):
    """Records the ops the convenience methods build."""

    def __init__(self, *, supports_ttl: bool = False, ttl: TTLConfig | None = None) -> None:
        self.supports_ttl = supports_ttl
        self.ttl_config = ttl
        self.ops: list[Op] = []

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self.ops.extend(ops)
        return [[] if isinstance(op, (SearchOp, ListNamespacesOp)) else None for op in ops]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return self.batch(ops)


# -- Item / SearchItem -------------------------------------------------------------------------


def test_items_are_equal_field_by_field_and_hashed_by_namespace_and_key() -> None:
    one = base.Item(value={"a": 1}, key="k", namespace=("n",), created_at=WHEN, updated_at=WHEN)
    same = base.Item(value={"a": 1}, key="k", namespace=("n",), created_at=WHEN, updated_at=WHEN)
    other = base.Item(value={"a": 2}, key="k", namespace=("n",), created_at=WHEN, updated_at=WHEN)

    assert one == same
    assert one != other
    assert hash(one) == hash(other)
    assert one != "not an item"


def test_items_accept_iso_strings_and_list_namespaces() -> None:
    item = base.Item(
        value={},
        key="k",
        namespace=["a", "b"],  # type: ignore[arg-type]
        created_at=WHEN.isoformat(),
        updated_at=WHEN.isoformat(),
    )

    assert item.namespace == ("a", "b")
    assert item.created_at == WHEN


def test_item_dict_is_json_ready() -> None:
    item = SearchItem(("a", "b"), "k", {"v": 1}, WHEN, WHEN, score=0.5)

    assert item.dict() == {
        "namespace": ["a", "b"],
        "key": "k",
        "value": {"v": 1},
        "created_at": WHEN.isoformat(),
        "updated_at": WHEN.isoformat(),
        "score": 0.5,
    }
    assert repr(item).startswith("SearchItem(namespace=['a', 'b'], key='k'")


def test_search_items_default_to_no_score() -> None:
    assert SearchItem(("a",), "k", {}, WHEN, WHEN).score is None


# -- operations built by BaseStore -------------------------------------------------------------


def test_get_and_search_build_ops_with_string_keys_and_refresh_by_default() -> None:
    store = RecordingStore()

    store.get(("a",), 3)  # type: ignore[arg-type]
    store.search(("a",), query="q", filter={"x": 1}, limit=3, offset=1)

    assert store.ops == [
        GetOp(("a",), "3", True),
        SearchOp(("a",), {"x": 1}, 3, 1, "q", True),
    ]


def test_refresh_on_read_in_ttl_config_sets_the_default_and_arguments_override_it() -> None:
    store = RecordingStore(ttl={"refresh_on_read": False})

    store.get(("a",), "k")
    store.get(("a",), "k", refresh_ttl=True)

    assert [op.refresh_ttl for op in store.ops] == [False, True]  # type: ignore[union-attr]


def test_put_applies_the_default_ttl_only_when_ttl_is_not_given() -> None:
    store = RecordingStore(supports_ttl=True, ttl={"default_ttl": 7})

    store.put(("a",), "k", {"v": 1})
    store.put(("a",), "k", {"v": 1}, ttl=None)
    store.put(("a",), "k", {"v": 1}, ttl=2)

    assert [op.ttl for op in store.ops] == [7, None, 2]  # type: ignore[union-attr]


def test_put_with_ttl_on_a_store_without_ttl_support_raises() -> None:
    store = RecordingStore()

    with pytest.raises(NotImplementedError, match="set ttl=None"):
        store.put(("a",), "k", {"v": 1}, ttl=1)
    assert store.ops == []


def test_delete_is_a_put_of_none() -> None:
    store = RecordingStore()

    store.delete(("a",), "k")

    assert store.ops == [PutOp(("a",), "k", None)]


def test_list_namespaces_turns_prefix_and_suffix_into_match_conditions() -> None:
    store = RecordingStore()

    store.list_namespaces(prefix=("a", "*"), suffix=("z",), max_depth=2, limit=5, offset=1)
    store.list_namespaces()

    assert store.ops == [
        ListNamespacesOp(
            (MatchCondition("prefix", ("a", "*")), MatchCondition("suffix", ("z",))), 2, 5, 1
        ),
        ListNamespacesOp((), None, 100, 0),
    ]


async def test_async_methods_build_the_same_ops() -> None:
    store = RecordingStore()

    await store.aget(("a",), "k")
    await store.asearch(("a",))
    await store.aput(("a",), "k", {"v": 1}, index=False)
    await store.adelete(("a",), "k")
    await store.alist_namespaces(prefix=("a",))

    assert store.ops == [
        GetOp(("a",), "k", True),
        SearchOp(("a",), None, 10, 0, None, True),
        PutOp(("a",), "k", {"v": 1}, False, None),
        PutOp(("a",), "k", None),
        ListNamespacesOp((MatchCondition("prefix", ("a",)),), None, 100, 0),
    ]


def test_invalid_namespace_error_is_the_one_in_stategraph_errors() -> None:
    assert base.InvalidNamespaceError is stategraph.errors.InvalidNamespaceError
    assert issubclass(base.InvalidNamespaceError, ValueError)


def test_not_provided_is_falsy() -> None:
    assert not NOT_PROVIDED
    assert repr(NOT_PROVIDED) == "NOT_GIVEN"


def test_embeddings_is_loaded_from_langchain_core_on_demand() -> None:
    from langchain_core.embeddings import Embeddings

    assert base.Embeddings is Embeddings


# -- field paths -------------------------------------------------------------------------------


def test_tokenize_path_splits_keys_and_indexes() -> None:
    assert tokenize_path("a.b[0].c[*][-1]") == ["a", "b", "[0]", "c", "[*]", "[-1]"]
    assert tokenize_path("$") == []


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        ("title", ["Hello"]),
        ("meta.lang", ["en"]),
        ("meta", ['{"lang": "en", "pages": 3}']),
        ("meta.pages", ["3"]),
        ("notes[0].text", ["first"]),
        ("notes[-1].text", ["last"]),
        ("notes[*].text", ["first", "last"]),
        ("notes[5].text", []),
        ("tags[*]", ["x", "y"]),
        ("missing.field", []),
        ("*", None),
    ],
)
def test_get_text_at_path_selects_texts(path: str, texts: list[str] | None) -> None:
    value: dict[str, Any] = {
        "title": "Hello",
        "meta": {"lang": "en", "pages": 3},
        "notes": [{"text": "first"}, {"text": "last"}],
        "tags": ["x", "y"],
    }

    found = get_text_at_path(value, path)

    if texts is None:
        assert len(found) == 4
    else:
        assert found == texts


def test_stores_and_caches_import_without_langchain_core_or_any_driver() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "import stategraph.store.base, stategraph.store.memory, stategraph.store.sqlite\n"
        "import stategraph.store.base.batch, stategraph.store.postgres\n"
        "import stategraph.cache.base, stategraph.cache.memory, stategraph.cache.sqlite\n"
        "import stategraph.cache.redis\n"
        "extras = ('langchain_core', 'aiosqlite', 'numpy', 'psycopg', 'psycopg_pool', 'redis')\n"
        "print(sorted(m for m in extras if m in sys.modules))\n"
    )
    repo = str(Path(__file__).resolve().parents[2])
    output = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": repo},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert output == "[]"


LANGGRAPH_STORE_SURFACE = {
    "stategraph.store.base": (
        "BaseStore", "Item", "SearchItem", "Op", "PutOp", "GetOp", "SearchOp",
        "ListNamespacesOp", "MatchCondition", "NamespacePath", "NamespaceMatchType", "Result",
        "IndexConfig", "TTLConfig", "NOT_PROVIDED", "NotProvided", "InvalidNamespaceError",
        "ensure_embeddings", "tokenize_path", "get_text_at_path", "validate_op_namespace",
    ),
    "stategraph.store.base.batch": ("AsyncBatchedBaseStore",),
    "stategraph.store.sqlite.base": ("SqliteStore", "SqliteIndexConfig", "MIGRATIONS"),
    "stategraph.store.postgres": ("PostgresStore", "AsyncPostgresStore", "PoolConfig"),
    "stategraph.store.postgres.aio": ("AsyncPostgresStore",),
    "stategraph.store.postgres.base": (
        "PostgresStore", "PoolConfig", "PostgresIndexConfig", "ANNIndexConfig", "HNSWConfig",
        "IVFFlatConfig", "MIGRATIONS",
    ),
    "stategraph.cache.redis": ("RedisCache",),
}  # fmt: skip


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module, names in LANGGRAPH_STORE_SURFACE.items() for name in names],
)
def test_langgraph_store_names_import_from_their_langgraph_paths(module: str, name: str) -> None:
    import importlib

    assert hasattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    "op",
    [
        GetOp(("a.b",), "k"),
        SearchOp(("ok", "")),
        PutOp(("x\x00",), "k", {}),
        ListNamespacesOp(match_conditions=(MatchCondition("suffix", ("a.b",)),)),
    ],
)
def test_validate_op_namespace_rejects_bad_labels_in_every_kind_of_op(op: Op) -> None:
    with pytest.raises(base.InvalidNamespaceError):
        base.validate_op_namespace(op)


def test_validate_op_namespace_accepts_wildcards_and_searching_everything() -> None:
    base.validate_op_namespace(SearchOp(()))
    base.validate_op_namespace(
        ListNamespacesOp(match_conditions=(MatchCondition("prefix", ("users", "*")),))
    )


def test_a_braced_field_set_selects_each_of_its_paths() -> None:
    from stategraph.store.base import get_text_at_path, tokenize_path

    doc = {
        "name": "n",
        "info": {"age": 7},
        "items": [{"id": 1, "value": "a"}, {"id": 2, "value": "b", "extra": {"x": "y"}}],
    }
    assert tokenize_path("items[*].{id,value}") == ["items", "[*]", "{id,value}"]
    assert get_text_at_path(doc, "{name,info.age}") == ["n", "7"]
    assert get_text_at_path(doc, "items[*].{id,value}") == ["1", "a", "2", "b"]
    assert get_text_at_path(doc, "items[1].{extra.{x},id}") == ["y", "2"]
    # Malformed sets select nothing rather than failing the write that embeds the item.
    assert get_text_at_path(doc, "{unclosed") == []
    assert get_text_at_path(doc, "items[{id}]") == []
