"""The bare engine runs without langchain-core (design.md "Decisions", style.md §11).

A fresh interpreter installs an import hook that refuses ``langchain_core``, then imports the
engine's public modules, builds and runs a small graph, and checks nothing loaded it.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROGRAM = textwrap.dedent(
    """
    import importlib.abc
    import sys


    class RefuseLangchainCore(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname == "langchain_core" or fullname.startswith("langchain_core."):
                raise ImportError(f"blocked import of {fullname} in the bare engine")
            return None


    sys.meta_path.insert(0, RefuseLangchainCore())

    import operator
    from typing import Annotated, TypedDict

    import stategraph.channels
    import stategraph.graph
    import stategraph.pregel
    import stategraph.types
    from stategraph.graph import END, START, StateGraph
    from stategraph.types import Command, Send


    class State(TypedDict):
        x: Annotated[list, operator.add]


    def route(state):
        return [Send("w", {"x": [i]}) for i in range(3)]


    graph = (
        StateGraph(State)
        .add_node("a", lambda s: Command(update={"x": ["a"]}, goto="b"))
        .add_node("b", lambda s: {"x": ["b"]})
        .add_node("w", lambda s: {"x": s["x"]})
        .add_edge(START, "a")
        .add_conditional_edges("b", route)
        .compile()
    )
    assert graph.invoke({"x": []}) == {"x": ["a", "b", 0, 1, 2]}, graph.invoke({"x": []})
    chunks = list(graph.stream({"x": []}, stream_mode=["updates", "values"]))
    assert chunks[0] == ("values", {"x": []}), chunks
    assert "langchain_core" not in sys.modules, sorted(m for m in sys.modules if "langchain" in m)
    print("bare engine ok")
    """
)


def test_engine_imports_and_runs_without_langchain_core() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "bare engine ok"
