"""Behaviour every store shares, run on each backend through its sync and async methods."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import pytest

from stategraph.errors import StoreIndexNotConfiguredError
from stategraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    PutOp,
    SearchItem,
    SearchOp,
)

from .conftest import ASYNC_BACKENDS, FakeClock, StoreFactory, StoreUnderTest, keyword_embed


def keys(items: list[SearchItem]) -> list[str]:
    return [item.key for item in items]


# -- get / put / delete --------------------------------------------------------------------


async def test_get_returns_the_value_put_with_its_namespace_key_and_utc_timestamps(
    store: StoreUnderTest,
) -> None:
    await store.put(("users", "u1"), "prefs", {"theme": "dark"})

    item = await store.get(("users", "u1"), "prefs")

    assert isinstance(item, Item)
    assert (item.namespace, item.key, item.value) == (("users", "u1"), "prefs", {"theme": "dark"})
    assert item.created_at.tzinfo is not None
    assert item.created_at.utcoffset() == timezone.utc.utcoffset(None)
    assert item.created_at == item.updated_at


async def test_get_of_a_missing_key_returns_none(store: StoreUnderTest) -> None:
    await store.put(("users",), "a", {"v": 1})

    assert await store.get(("users",), "b") is None
    assert await store.get(("nobody",), "a") is None


async def test_put_replaces_the_value_and_does_not_move_updated_at_back(
    store: StoreUnderTest, clock: FakeClock
) -> None:
    await store.put(("users",), "a", {"v": 1})
    first = await store.get(("users",), "a")
    clock.advance(seconds=5)

    await store.put(("users",), "a", {"v": 2})
    second = await store.get(("users",), "a")

    assert first is not None and second is not None
    assert second.value == {"v": 2}
    assert second.updated_at >= first.updated_at


async def test_keys_are_coerced_to_strings(store: StoreUnderTest) -> None:
    await store.put(("nums",), 7, {"v": 7})  # type: ignore[arg-type]

    item = await store.get(("nums",), "7")

    assert item is not None and item.key == "7"


async def test_delete_removes_the_item_and_ignores_missing_keys(store: StoreUnderTest) -> None:
    await store.put(("users",), "a", {"v": 1})

    await store.delete(("users",), "a")
    await store.delete(("users",), "never-there")

    assert await store.get(("users",), "a") is None


async def test_nested_values_round_trip(store: StoreUnderTest) -> None:
    value: dict[str, Any] = {"a": [1, 2.5, "x", None, True], "b": {"c": {"d": "é"}}}

    await store.put(("docs",), "n", value)

    item = await store.get(("docs",), "n")
    assert item is not None and item.value == value


# -- namespace validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "message"),
    [
        ((), "Namespace cannot be empty."),
        (("a.b",), "cannot contain periods"),
        (("ok", ""), "cannot be empty strings"),
        (("ok", 3), "must be strings"),
        (("langgraph", "x"), 'cannot be "langgraph"'),
    ],
)
async def test_put_rejects_invalid_namespaces(
    store: StoreUnderTest, namespace: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(InvalidNamespaceError, match=message) as raised:
        await store.put(namespace, "k", {"v": 1})

    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("namespace", [("a.b",), ("ok", ""), ("ok", 3), ("nul\x00",)])
async def test_reads_deletes_and_listings_refuse_labels_no_namespace_can_have(
    store: StoreUnderTest, namespace: tuple[Any, ...]
) -> None:
    await store.put(("ok",), "k", {"v": 1})
    calls = [
        lambda: store.get(namespace, "k"),
        lambda: store.delete(namespace, "k"),
        lambda: store.search(namespace),
        lambda: store.list_namespaces(prefix=namespace),
        lambda: store.list_namespaces(suffix=namespace),
    ]
    for call in calls:
        with pytest.raises(InvalidNamespaceError):
            await call()
    # Nothing was deleted, and valid reads (the reserved root and "*" included) still work.
    assert (await store.get(("ok",), "k")).value == {"v": 1}
    assert await store.get(("langgraph", "x"), "k") is None
    assert await store.list_namespaces(prefix=("*",)) == [("ok",)]


# -- search: prefixes, filters, paging -------------------------------------------------------


async def test_search_matches_whole_namespace_labels_under_the_prefix(
    store: StoreUnderTest,
) -> None:
    await store.put(("docs", "a"), "1", {"v": 1})
    await store.put(("docs", "b", "deep"), "2", {"v": 2})
    await store.put(("docsx",), "3", {"v": 3})
    await store.put(("other",), "4", {"v": 4})

    assert sorted(keys(await store.search(("docs",)))) == ["1", "2"]
    assert keys(await store.search(("docs", "b"))) == ["2"]
    assert keys(await store.search(("doc",))) == []
    assert sorted(keys(await store.search(()))) == ["1", "2", "3", "4"]


async def test_search_without_query_returns_search_items_without_score(
    store: StoreUnderTest,
) -> None:
    await store.put(("docs",), "1", {"v": 1})

    [found] = await store.search(("docs",))

    assert isinstance(found, SearchItem)
    assert found.score is None
    assert found.value == {"v": 1}
    assert found.dict()["namespace"] == ["docs"]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"color": "red"}, ["apple", "cherry"]),
        ({"color": "red", "size": 1}, ["cherry"]),
        ({"size": {"$eq": 3}}, ["apple"]),
        ({"size": {"$ne": 3}}, ["banana", "cherry", "plain"]),
        ({"size": {"$gt": 1}}, ["apple", "banana"]),
        ({"size": {"$gte": 2}}, ["apple", "banana"]),
        ({"size": {"$lt": 3}}, ["banana", "cherry"]),
        ({"size": {"$lte": 1}}, ["cherry"]),
        ({"size": {"$gt": 1, "$lt": 3}}, ["banana"]),
        ({"weight": {"$gte": 0.5}}, ["banana"]),
        ({"meta": {"origin": "spain"}}, ["cherry"]),
        ({"meta": {"origin": "spain", "organic": True}}, []),
        ({"meta.origin": "peru"}, ["banana"]),
        ({"tags": ["sweet", "red"]}, ["cherry"]),
        ({"missing": "x"}, []),
    ],
)
async def test_search_filters_values(
    store: StoreUnderTest, filter: dict[str, Any], expected: list[str]
) -> None:
    fruits: dict[str, dict[str, Any]] = {
        "apple": {"color": "red", "size": 3, "weight": 0.2, "meta": {"origin": "chile"}},
        "banana": {"color": "yellow", "size": 2, "weight": 0.75, "meta": {"origin": "peru"}},
        "cherry": {
            "color": "red",
            "size": 1,
            "tags": ["sweet", "red"],
            "meta": {"origin": "spain"},
        },
        "plain": {"name": "no size"},
    }
    for key, value in fruits.items():
        await store.put(("fruit",), key, value)

    found = await store.search(("fruit",), filter=filter)

    assert sorted(keys(found)) == expected


async def test_search_rejects_unknown_filter_operators(store: StoreUnderTest) -> None:
    await store.put(("fruit",), "apple", {"size": 3})

    with pytest.raises(ValueError, match=r"\$regex"):
        await store.search(("fruit",), filter={"size": {"$regex": "3"}})


async def test_search_pages_with_offset_and_limit(store: StoreUnderTest) -> None:
    for number in range(5):
        await store.put(("page",), f"k{number}", {"n": number})

    pages = [await store.search(("page",), limit=2, offset=offset) for offset in (0, 2, 4, 6)]

    assert [len(page) for page in pages] == [2, 2, 1, 0]
    assert sorted(key for page in pages for key in keys(page)) == [f"k{n}" for n in range(5)]


async def test_search_default_limit_is_ten(store: StoreUnderTest) -> None:
    for number in range(12):
        await store.put(("many",), f"k{number}", {"n": number})

    assert len(await store.search(("many",))) == 10


# -- list_namespaces --------------------------------------------------------------------------


async def fill_namespaces(store: StoreUnderTest) -> None:
    for namespace in [
        ("a", "b", "c"),
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
        ("a", "b", "f"),
        ("a", "c", "f"),
        ("x", "y"),
    ]:
        await store.put(namespace, "k", {"v": 1})


async def test_list_namespaces_returns_sorted_distinct_namespaces(store: StoreUnderTest) -> None:
    await fill_namespaces(store)
    await store.put(("a", "b", "c"), "second", {"v": 2})

    assert await store.list_namespaces() == [
        ("a", "b", "c"),
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
        ("a", "b", "f"),
        ("a", "c", "f"),
        ("x", "y"),
    ]


async def test_list_namespaces_truncates_to_max_depth_and_deduplicates(
    store: StoreUnderTest,
) -> None:
    await fill_namespaces(store)

    assert await store.list_namespaces(prefix=("a", "b"), max_depth=3) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "b", "f"),
    ]
    assert await store.list_namespaces(max_depth=1) == [("a",), ("x",)]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"prefix": ("a", "c")}, [("a", "c", "f")]),
        ({"prefix": ("a", "*", "f")}, [("a", "b", "f"), ("a", "c", "f")]),
        ({"suffix": ("f",)}, [("a", "b", "f"), ("a", "c", "f")]),
        ({"suffix": ("d", "*")}, [("a", "b", "d", "e"), ("a", "b", "d", "i")]),
        ({"prefix": ("a",), "suffix": ("c",)}, [("a", "b", "c")]),
        ({"prefix": ("*", "y")}, [("x", "y")]),
        ({"prefix": ("a", "b", "c", "d", "e")}, []),
    ],
)
async def test_list_namespaces_matches_prefix_and_suffix_patterns(
    store: StoreUnderTest, kwargs: dict[str, Any], expected: list[tuple[str, ...]]
) -> None:
    await fill_namespaces(store)

    assert await store.list_namespaces(**kwargs) == expected


async def test_list_namespaces_pages_with_offset_and_limit(store: StoreUnderTest) -> None:
    await fill_namespaces(store)

    assert await store.list_namespaces(limit=2, offset=1) == [
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
    ]


async def test_list_namespaces_forgets_a_namespace_whose_items_are_deleted(
    store: StoreUnderTest,
) -> None:
    await store.put(("gone",), "k", {"v": 1})
    await store.put(("kept",), "k", {"v": 1})

    await store.delete(("gone",), "k")

    assert await store.list_namespaces() == [("kept",)]


# -- batch -----------------------------------------------------------------------------------


async def test_batch_returns_one_result_per_op_in_order(store: StoreUnderTest) -> None:
    await store.put(("b",), "existing", {"v": 1})

    results = await store.batch(
        [
            GetOp(("b",), "existing"),
            PutOp(("b",), "new", {"v": 2}),
            SearchOp(("b",)),
            ListNamespacesOp(),
            GetOp(("b",), "missing"),
        ]
    )

    assert len(results) == 5
    assert results[0].value == {"v": 1}
    assert results[1] is None
    assert keys(results[2]) == ["existing"]  # reads see the store as it was before the batch
    assert results[3] == [("b",)]
    assert results[4] is None
    assert (await store.get(("b",), "new")).value == {"v": 2}


async def test_batch_applies_the_last_of_several_writes_to_one_key(store: StoreUnderTest) -> None:
    await store.batch(
        [PutOp(("b",), "k", {"v": 1}), PutOp(("b",), "k", {"v": 2}), PutOp(("b",), "j", {"v": 3})]
    )
    await store.batch([PutOp(("b",), "j", {"v": 4}), PutOp(("b",), "j", None)])

    assert (await store.get(("b",), "k")).value == {"v": 2}
    assert await store.get(("b",), "j") is None


# -- vector search ----------------------------------------------------------------------------


async def test_query_ranks_items_by_cosine_similarity(factory: StoreFactory) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["text"]})
    await store.put(("pets",), "d", {"text": "dog dog"})
    await store.put(("pets",), "c", {"text": "cat"})
    await store.put(("pets",), "cd", {"text": "cat and dog"})

    found = await store.search(("pets",), query="cat")

    assert keys(found) == ["c", "cd", "d"]
    scores = [item.score for item in found]
    assert scores[0] == pytest.approx(1.0)
    assert scores[1] == pytest.approx(2**-0.5)
    assert scores[2] == pytest.approx(0.0)


async def test_items_put_with_index_false_follow_ranked_items_unscored(
    factory: StoreFactory,
) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed})
    await store.put(("pets",), "hidden", {"text": "cat"}, index=False)
    await store.put(("pets",), "fish", {"text": "fish"})
    await store.put(("pets",), "cat", {"text": "cat"})

    found = await store.search(("pets",), query="cat")

    assert keys(found) == ["cat", "fish", "hidden"]
    assert found[2].score is None
    assert found[0].score == pytest.approx(1.0)


async def test_query_pages_through_the_ranking(factory: StoreFactory) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["text"]})
    for key, text in [("a", "cat"), ("b", "cat cat dog"), ("c", "cat dog dog"), ("d", "fish")]:
        await store.put(("pets",), key, {"text": text})

    first = await store.search(("pets",), query="cat", limit=2)
    rest = await store.search(("pets",), query="cat", limit=2, offset=2)

    assert keys(first) == ["a", "b"]
    assert keys(rest) == ["c", "d"]


async def test_query_combines_with_filters(factory: StoreFactory) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["text"]})
    await store.put(("pets",), "c1", {"text": "cat", "owner": "ann"})
    await store.put(("pets",), "c2", {"text": "cat", "owner": "bob"})
    await store.put(("pets",), "d", {"text": "dog", "owner": "ann"})

    found = await store.search(("pets",), query="cat", filter={"owner": "ann"})

    assert keys(found) == ["c1", "d"]


async def test_put_index_fields_override_the_configured_ones(factory: StoreFactory) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["title"]})
    await store.put(("docs",), "by-title", {"title": "dog", "body": "cat"})
    await store.put(("docs",), "by-body", {"title": "dog", "body": "cat"}, index=["body"])

    found = await store.search(("docs",), query="cat")

    assert keys(found) == ["by-body", "by-title"]
    assert found[1].score == pytest.approx(0.0)


async def test_each_array_element_is_embedded_and_the_best_one_scores(
    factory: StoreFactory,
) -> None:
    store = await factory.open(
        index={"dims": 3, "embed": keyword_embed, "fields": ["notes[*].text"]}
    )
    await store.put(("n",), "mixed", {"notes": [{"text": "dog"}, {"text": "fish"}]})
    await store.put(("n",), "some-fish", {"notes": [{"text": "fish dog"}]})

    found = await store.search(("n",), query="fish")

    assert keys(found) == ["mixed", "some-fish"]
    assert found[0].score == pytest.approx(1.0)


async def test_putting_new_text_replaces_the_old_vectors(factory: StoreFactory) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["text"]})
    await store.put(("pets",), "p", {"text": "cat"})
    await store.put(("pets",), "q", {"text": "dog"})

    await store.put(("pets",), "p", {"text": "fish"})

    found = await store.search(("pets",), query="cat")
    assert [item.score for item in found] == [pytest.approx(0.0), pytest.approx(0.0)]


async def test_putting_again_with_index_false_drops_the_old_vectors(
    factory: StoreFactory,
) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["text"]})
    await store.put(("pets",), "p", {"text": "cat"})

    await store.put(("pets",), "p", {"text": "cat"}, index=False)

    [found] = await store.search(("pets",), query="cat")
    assert found.score is None


async def test_deleting_an_item_drops_its_vectors(factory: StoreFactory) -> None:
    store = await factory.open(index={"dims": 3, "embed": keyword_embed, "fields": ["text"]})
    await store.put(("pets",), "p", {"text": "cat"})
    await store.delete(("pets",), "p")

    await store.put(("pets",), "p", {"text": "cat"}, index=False)

    [found] = await store.search(("pets",), query="cat")
    assert found.score is None


async def test_an_embeddings_object_is_used_by_duck_typing(factory: StoreFactory) -> None:
    class ToyEmbeddings:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return keyword_embed(texts)

        def embed_query(self, text: str) -> list[float]:
            return keyword_embed([text])[0]

    store = await factory.open(index={"dims": 3, "embed": ToyEmbeddings(), "fields": ["text"]})
    await store.put(("pets",), "d", {"text": "dog"})
    await store.put(("pets",), "c", {"text": "cat"})

    assert keys(await store.search(("pets",), query="dog")) == ["d", "c"]


@pytest.mark.parametrize("factory", ASYNC_BACKENDS, indirect=True)
async def test_an_async_embedding_function_works_from_async_methods(
    factory: StoreFactory,
) -> None:
    async def embed(texts: list[str]) -> list[list[float]]:
        return keyword_embed(texts)

    store = await factory.open(index={"dims": 3, "embed": embed, "fields": ["text"]})
    await store.put(("pets",), "d", {"text": "dog"})
    await store.put(("pets",), "c", {"text": "cat"})

    assert keys(await store.search(("pets",), query="cat")) == ["c", "d"]


async def test_query_without_an_index_explains_how_to_configure_one(
    store: StoreUnderTest,
) -> None:
    await store.put(("pets",), "c", {"text": "cat"})

    with pytest.raises(StoreIndexNotConfiguredError, match=r'index=\{"dims"') as raised:
        await store.search(("pets",), query="cat")

    assert isinstance(raised.value, ValueError)
    assert "embed" in str(raised.value) and "fields" in str(raised.value)
