"""A web-search tool with canned answers, for examples and tests that must run offline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

__all__ = ["canned_search_tool"]

SearchResults = list[dict[str, str]]

_DEFAULT_RESULTS: dict[str, str] = {
    "langgraph": (
        "LangGraph is a library for building stateful, multi-actor applications with LLMs: "
        "graphs of nodes sharing a state, with persistence and human-in-the-loop."
    ),
    "stategraph": (
        "stategraph runs LangGraph programs (import prefix changed) on a lean engine with "
        "durable threads on SQLite or PostgreSQL and a web inbox for human review."
    ),
    "weather": "Canned forecast: sunny, 22 degrees Celsius, light wind from the west.",
}


def canned_search_tool(
    results: Mapping[str, str] | Callable[[str], Any] | None = None,
    *,
    name: str = "search",
    max_results: int = 2,
) -> BaseTool:
    """A search tool that answers from ``results`` instead of the web.

    ``results`` maps keywords to text: every entry whose keyword occurs in the query (case
    ignored) is a hit, as ``{"title", "url", "content"}`` dicts, at most ``max_results``. A
    callable ``query -> anything`` computes the answer instead. With no hit the tool says so.
    """
    if callable(results):
        answer = results
    else:
        table = dict(_DEFAULT_RESULTS if results is None else results)

        def answer(query: str) -> SearchResults:
            lowered = query.lower()
            hits = [
                {
                    "title": f"About {keyword}",
                    "url": f"https://example.com/search?q={keyword.replace(' ', '+')}",
                    "content": text,
                }
                for keyword, text in table.items()
                if keyword.lower() in lowered
            ]
            if not hits:
                hits = [
                    {
                        "title": "No results",
                        "url": "https://example.com/search",
                        "content": f"The canned search has nothing about {query!r}.",
                    }
                ]
            return hits[:max_results]

    def search(query: str) -> Any:
        return answer(query)

    return StructuredTool.from_function(
        search,
        name=name,
        description="Search the web for current information. Input: a search query.",
    )
