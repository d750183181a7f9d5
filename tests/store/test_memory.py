"""InMemoryStore specifics: insertion order, spec'd timestamps, no TTL, thread safety."""

from __future__ import annotations

import threading

import pytest

from stategraph.store.memory import InMemoryStore

from .conftest import keyword_embed


def test_search_returns_items_in_insertion_order() -> None:
    store = InMemoryStore()
    for key in ("b", "c", "a"):
        store.put(("t",), key, {"v": key})
    store.put(("t",), "b", {"v": "updated"})

    assert [item.key for item in store.search(("t",))] == ["b", "c", "a"]


def test_put_sets_created_at_and_updated_at_to_now_even_on_update() -> None:
    store = InMemoryStore()
    store.put(("t",), "k", {"v": 1})
    first = store.get(("t",), "k")

    store.put(("t",), "k", {"v": 2})
    second = store.get(("t",), "k")

    assert first is not None and second is not None
    assert second.created_at == second.updated_at
    assert second.created_at >= first.created_at


def test_ttl_is_not_supported() -> None:
    store = InMemoryStore()

    with pytest.raises(NotImplementedError, match="TTL is not supported by InMemoryStore"):
        store.put(("t",), "k", {"v": 1}, ttl=5)
    store.put(("t",), "k", {"v": 1}, ttl=None)

    assert store.get(("t",), "k") is not None


async def test_async_put_with_ttl_is_rejected_too() -> None:
    store = InMemoryStore()

    with pytest.raises(NotImplementedError):
        await store.aput(("t",), "k", {"v": 1}, ttl=5)


def test_sync_calls_run_an_async_embedding_function_outside_an_event_loop() -> None:
    async def embed(texts: list[str]) -> list[list[float]]:
        return keyword_embed(texts)

    store = InMemoryStore(index={"dims": 3, "embed": embed})
    store.put(("pets",), "c", {"text": "cat"})
    store.put(("pets",), "d", {"text": "dog"})

    assert [item.key for item in store.search(("pets",), query="dog")] == ["d", "c"]


async def test_sync_calls_inside_an_event_loop_explain_how_to_use_an_async_embedder() -> None:
    async def embed(texts: list[str]) -> list[list[float]]:
        return keyword_embed(texts)

    store = InMemoryStore(index={"dims": 3, "embed": embed})

    with pytest.raises(RuntimeError, match="await store.aput"):
        store.put(("pets",), "c", {"text": "cat"})


def test_an_embedding_function_returning_the_wrong_count_is_reported() -> None:
    store = InMemoryStore(index={"dims": 3, "embed": lambda texts: [[1.0, 0.0, 0.0]]})

    with pytest.raises(ValueError, match="one vector per input text"):
        store.put(("t",), "k", {"a": "x", "b": "y"}, index=["a", "b"])


def test_the_whole_value_is_embedded_by_default() -> None:
    seen: list[str] = []

    def embed(texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return keyword_embed(texts)

    store = InMemoryStore(index={"dims": 3, "embed": embed})
    store.put(("t",), "k", {"b": "cat", "a": 1})

    assert seen == ['{"a": 1, "b": "cat"}']


def test_threads_can_share_one_store() -> None:
    store = InMemoryStore()

    def write(worker: int) -> None:
        for number in range(50):
            store.put(("w", str(worker)), str(number), {"n": number})
            store.search(("w",), limit=5)
            store.list_namespaces()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(store.search(("w",), limit=1000)) == 200


def test_ranking_is_the_same_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    import stategraph.store._index as index_module

    store = InMemoryStore(index={"dims": 3, "embed": keyword_embed})
    store.put(("pets",), "d", {"text": "dog dog"})
    store.put(("pets",), "c", {"text": "cat"})
    store.put(("pets",), "cd", {"text": "cat and dog"})
    store.put(("pets",), "zero", {"text": "bird"})
    with_numpy = [(item.key, item.score) for item in store.search(("pets",), query="cat")]

    monkeypatch.setattr(index_module, "_numpy_available", lambda: False)
    without_numpy = [(item.key, item.score) for item in store.search(("pets",), query="cat")]

    assert without_numpy == [(key, pytest.approx(score)) for key, score in with_numpy]
    assert [key for key, _ in without_numpy] == ["c", "cd", "d", "zero"]
