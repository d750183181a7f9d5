"""canned_search_tool: an offline search tool for examples and tests."""

from __future__ import annotations

from stategraph.testing import canned_search_tool


def test_canned_search_tool_answers_from_keywords() -> None:
    search_tool = canned_search_tool({"paris": "Paris is the capital of France."}, name="web_search")
    assert search_tool.name == "web_search"
    hits = search_tool.invoke({"query": "Tell me about PARIS"})
    assert hits[0]["content"] == "Paris is the capital of France."
    assert "nothing about" in search_tool.invoke({"query": "mars"})[0]["content"]


def test_canned_search_tool_limits_results_and_accepts_a_function() -> None:
    search_tool = canned_search_tool({"a": "1", "b": "2", "c": "3"}, max_results=2)
    assert len(search_tool.invoke({"query": "a b c"})) == 2
    assert canned_search_tool(lambda query: query.upper()).invoke({"query": "hi"}) == "HI"
