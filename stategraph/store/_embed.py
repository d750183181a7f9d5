"""Embedding models as the store sees them: one adapter over functions and Embeddings objects.

Accepts a LangChain ``Embeddings`` (duck-typed: ``embed_documents``/``embed_query``), a sync
or async function ``list[str] -> list[list[float]]``, or a ``"provider:model"`` string.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Sequence
from typing import Any, Callable, Union

__all__ = ["AEmbeddingsFunc", "Embedder", "EmbeddingsFunc", "ensure_embeddings"]

EmbeddingsFunc = Callable[[Sequence[str]], list[list[float]]]
AEmbeddingsFunc = Callable[[Sequence[str]], Awaitable[list[list[float]]]]


def ensure_embeddings(embed: Any) -> Embedder:
    """Wrap ``embed`` (see the module docstring) so it can be called sync or async."""
    if embed is None:
        raise ValueError(
            "IndexConfig needs 'embed': pass an Embeddings object, a function "
            "list[str] -> list[list[float]], or a 'provider:model' string."
        )
    if isinstance(embed, Embedder):
        return embed
    if isinstance(embed, str):
        return Embedder(_init_from_provider_string(embed))
    if hasattr(embed, "embed_documents") or callable(embed):
        return Embedder(embed)
    raise TypeError(
        f"IndexConfig 'embed' must be an Embeddings object or a function, got "
        f"{type(embed).__name__}. Pass e.g. embed=lambda texts: [my_vector(t) for t in texts]."
    )


def _init_from_provider_string(name: str) -> Any:
    try:
        from langchain.embeddings import init_embeddings  # type: ignore[import-not-found]
    except ImportError as error:
        raise ValueError(
            f"Could not load embeddings from the string {name!r}: that needs the 'langchain' "
            "package and the provider's package (pip install langchain langchain-openai). "
            "Or pass an Embeddings object or a function as 'embed'."
        ) from error
    return init_embeddings(name)


def _is_async_callable(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)
    )


def _as_vectors(vectors: Any) -> list[list[float]]:
    return [[float(x) for x in vector] for vector in vectors]


class Embedder:
    """Calls one embedding model from sync or async code.

    Sync calls to an async-only function run it on a fresh event loop (so they fail inside a
    running loop: use the store's ``a*`` methods there); async calls to a sync-only model
    run it in a worker thread.
    """

    __slots__ = ("_model", "_func", "_afunc")

    def __init__(self, model: Any) -> None:
        self._model = model if hasattr(model, "embed_documents") else None
        self._func: Union[Callable[[list[str]], Any], None] = None
        self._afunc: Union[Callable[[list[str]], Awaitable[Any]], None] = None
        if self._model is None:
            if _is_async_callable(model):
                self._afunc = model
            else:
                self._func = model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self._model is not None:
            return _as_vectors(self._model.embed_documents(texts))
        if self._func is not None:
            return _as_vectors(self._func(texts))
        assert self._afunc is not None
        return _as_vectors(_run_coroutine(self._afunc(texts)))

    def embed_query(self, text: str) -> list[float]:
        if self._model is not None:
            return _as_vectors([self._model.embed_query(text)])[0]
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        if self._model is not None:
            if hasattr(self._model, "aembed_documents"):
                return _as_vectors(await self._model.aembed_documents(texts))
            return await asyncio.to_thread(self.embed_documents, texts)
        if self._afunc is not None:
            return _as_vectors(await self._afunc(texts))
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        if self._model is not None:
            if hasattr(self._model, "aembed_query"):
                return _as_vectors([await self._model.aembed_query(text)])[0]
            return await asyncio.to_thread(self.embed_query, text)
        return (await self.aembed_documents([text]))[0]


def _run_coroutine(coroutine: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError(
        "The store's embedding function is async, so it cannot be called from sync code "
        "running inside an event loop. Use the async methods (await store.aput(...), "
        "await store.asearch(...)) or give the store a sync embedding function."
    )
