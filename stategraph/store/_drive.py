"""Running a store's batch logic from sync or async code without writing it twice.

A store writes its batch as a generator that yields requests for I/O (embed these texts, run
this SQL) and receives their results; ``drive`` and ``adrive`` answer the requests with
blocking or awaited calls. The logic between requests is plain code shared by both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator
from dataclasses import dataclass
from typing import Any, Callable, TypeVar, Union

from stategraph.store._embed import Embedder

__all__ = [
    "EmbedQueries",
    "EmbedTexts",
    "Execute",
    "Request",
    "Steps",
    "adrive",
    "aembed",
    "drive",
    "embed",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EmbedTexts:
    """Embed documents; answered with one vector per text."""

    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EmbedQueries:
    """Embed search queries; answered with one vector per query."""

    queries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Execute:
    """Run one parameterised SQL statement; answered with all rows it returns.

    ``fetch=False`` says the rows are not needed (an empty list is the answer), so a driver
    may queue the statement (a psycopg pipeline sends queued writes in one round trip).
    """

    sql: str
    params: tuple[Any, ...] = ()
    fetch: bool = True


Request = Union[EmbedTexts, EmbedQueries, Execute]
Steps = Generator[Request, Any, T]


def drive(steps: Steps[T], answer: Callable[[Request], Any]) -> T:
    """Run ``steps`` to completion, answering each request with ``answer``."""
    try:
        request = next(steps)
        while True:
            request = steps.send(answer(request))
    except StopIteration as finished:
        result: T = finished.value
        return result
    finally:
        steps.close()


async def adrive(steps: Steps[T], answer: Callable[[Request], Awaitable[Any]]) -> T:
    """Async ``drive``: each request is answered by awaiting ``answer``."""
    try:
        request = next(steps)
        while True:
            request = steps.send(await answer(request))
    except StopIteration as finished:
        result: T = finished.value
        return result
    finally:
        steps.close()


def embed(embedder: Embedder, request: Union[EmbedTexts, EmbedQueries]) -> list[list[float]]:
    """Answer an embedding request by blocking calls."""
    if isinstance(request, EmbedTexts):
        return embedder.embed_documents(list(request.texts))
    return [embedder.embed_query(query) for query in request.queries]


async def aembed(embedder: Embedder, request: Union[EmbedTexts, EmbedQueries]) -> list[list[float]]:
    """Answer an embedding request by awaited calls (queries embedded concurrently)."""
    if isinstance(request, EmbedTexts):
        return await embedder.aembed_documents(list(request.texts))
    return list(await asyncio.gather(*(embedder.aembed_query(q) for q in request.queries)))
