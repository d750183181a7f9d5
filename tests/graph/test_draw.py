"""Graph drawing (api_spec.md §14): ``draw_graph`` reads a builder; ``Graph`` draws Mermaid and ASCII.

Expected Mermaid texts are what LangGraph 1.2 prints for the same graphs (checked side by side),
except where a test says it differs on purpose.
"""

from __future__ import annotations

import http.server
import operator
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal, TypedDict

import pytest

from stategraph.constants import END, START
from stategraph.graph._draw import (
    CurveStyle,
    Graph,
    MermaidDrawMethod,
    NodeStyles,
    draw_graph,
)

# ------------------------------------------------------------------------------------------
# A stand-in builder with the attribute shapes draw_graph reads


@dataclass
class FakeNode:
    runnable: Any = None
    metadata: dict[str, Any] | None = None
    defer: bool = False
    ends: tuple[str, ...] | dict[str, str] | None = None

    @property
    def action(self) -> Any:  # as StateNodeSpec.action: what was added as the node
        return self.runnable


@dataclass
class FakeBranch:
    ends: dict[Any, str] | None


@dataclass
class FakeBuilder:
    nodes: dict[str, FakeNode] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    waiting_edges: set[tuple[tuple[str, ...], str]] = field(default_factory=set)
    branches: dict[str, dict[str, FakeBranch]] = field(default_factory=dict)

    def node(self, name: str, **spec: Any) -> FakeBuilder:
        self.nodes[name] = FakeNode(**spec)
        return self

    def edge(self, source: str, target: str) -> FakeBuilder:
        self.edges.add((source, target))
        return self

    def branch(
        self, source: str, ends: dict[Any, str] | None, name: str = "condition"
    ) -> FakeBuilder:
        self.branches.setdefault(source, {})[name] = FakeBranch(ends)
        return self


@dataclass
class FakeCompiled:
    """A compiled subgraph: has a builder and draws itself."""

    builder: FakeBuilder
    interrupt_before: tuple[str, ...] = ()

    def get_graph(self, config: Any = None, *, xray: bool | int = False) -> Graph:
        return draw_graph(self.builder, interrupt_before=self.interrupt_before, xray=xray)


HEADER = "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
STYLES = (
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)


def mermaid(*lines: str) -> str:
    """The default front matter and styles around tab-indented body lines."""
    return HEADER + "".join(f"\t{line}\n" for line in lines) + STYLES


def edge_tuples(graph: Graph) -> list[tuple[str, str, Any, bool]]:
    return [(e.source, e.target, e.data, e.conditional) for e in graph.edges]


# ------------------------------------------------------------------------------------------
# Mermaid text for whole graphs


def test_chain_draws_start_nodes_end_with_solid_edges() -> None:
    builder = FakeBuilder().node("a").node("b").edge(START, "a").edge("a", "b")
    assert draw_graph(builder).draw_mermaid() == (
        "---\n"
        "config:\n"
        "  flowchart:\n"
        "    curve: linear\n"
        "---\n"
        "graph TD;\n"
        "\t__start__([<p>__start__</p>]):::first\n"
        "\ta(a)\n"
        "\tb(b)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> a;\n"
        "\ta --> b;\n"
        "\tb --> __end__;\n"
        "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
        "\tclassDef first fill-opacity:0\n"
        "\tclassDef last fill:#bfb6fc\n"
    )


def test_conditional_edges_are_dotted_and_labelled_by_path_map_key() -> None:
    builder = (
        FakeBuilder()
        .node("a")
        .node("b")
        .node("c")
        .edge(START, "a")
        .branch("a", {"go": "b", "stop": END, "c": "c"})
    )
    graph = draw_graph(builder, interrupt_before=["c"])
    assert graph.draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "c(c<hr/><small><em>__interrupt = before</em></small>)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -. &nbsp;stop&nbsp; .-> __end__;",
        "a -. &nbsp;go&nbsp; .-> b;",
        "a -.-> c;",
        "b --> __end__;",
        "c --> __end__;",
    )


def test_interrupts_before_and_after_annotate_nodes() -> None:
    builder = FakeBuilder().node("a").node("b").edge(START, "a").edge("a", "b")
    graph = draw_graph(builder, interrupt_before=["b"], interrupt_after=["a", "b"])
    assert graph.nodes["a"].metadata == {"__interrupt": "after"}
    assert graph.nodes["b"].metadata == {"__interrupt": "before,after"}
    assert "\tb(b<hr/><small><em>__interrupt = before,after</em></small>)\n" in graph.draw_mermaid()


def test_star_interrupt_annotates_every_node() -> None:
    # LangGraph 1.2 tests `name in "*"` and so shows nothing; we mark the breakpoints.
    builder = FakeBuilder().node("a").node("b").edge(START, "a").edge("a", "b")
    graph = draw_graph(builder, interrupt_before="*")
    assert graph.nodes["a"].metadata == {"__interrupt": "before"}
    assert graph.nodes["b"].metadata == {"__interrupt": "before"}
    assert graph.nodes[START].metadata is None


def test_deferred_join_target_shows_defer_after_user_metadata() -> None:
    builder = (
        FakeBuilder()
        .node("a")
        .node("b")
        .node("c", defer=True, metadata={"tag": "x", "sizes": [1, 2], "nested": {"k": 1}})
        .edge(START, "a")
        .edge(START, "b")
    )
    builder.waiting_edges.add((("a", "b"), "c"))
    assert draw_graph(builder).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "c(c<hr/><small><em>tag = x\nsizes = 1, 2\ndefer = True</em></small>)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "__start__ --> b;",
        "a --> c;",
        "b --> c;",
        "c --> __end__;",
    )


def test_command_destinations_are_dotted_with_dict_labels() -> None:
    builder = (
        FakeBuilder()
        .node("a", ends=("b", "c"))
        .node("b")
        .node("c", ends={"a": "back", "b": "b"})
        .edge(START, "a")
    )
    assert edge_tuples(draw_graph(builder)) == [
        (START, "a", None, False),
        ("a", "b", None, True),
        ("a", "c", None, True),
        ("c", "a", "back", True),
        ("c", "b", None, True),
        ("b", END, None, False),
    ]


def test_branch_without_path_map_may_go_to_every_other_node_and_end() -> None:
    # LangGraph 1.2 draws no edge for such a branch; api_spec §14 asks for all of them.
    builder = FakeBuilder().node("a").node("b").node("c").edge(START, "a").branch("a", None)
    assert edge_tuples(draw_graph(builder)) == [
        (START, "a", None, False),
        ("a", END, None, True),
        ("a", "b", None, True),
        ("a", "c", None, True),
        ("b", END, None, False),
        ("c", END, None, False),
    ]


def test_end_edges_of_termini_follow_the_sorted_edges() -> None:
    builder = (
        FakeBuilder()
        .node("one")
        .node("router")
        .node("two")
        .edge(START, "router")
        .edge("one", END)
        .branch("router", {"one": "one", "two": "two"})
    )
    assert edge_tuples(draw_graph(builder)) == [
        (START, "router", None, False),
        ("router", "one", None, True),
        ("router", "two", None, True),
        ("one", END, None, False),
        ("two", END, None, False),
    ]


def test_explicit_end_edge_is_dropped_when_the_node_has_other_edges() -> None:
    builder = FakeBuilder().node("a").node("b").edge(START, "a").edge("a", "b").edge("a", END)
    assert edge_tuples(draw_graph(builder)) == [
        (START, "a", None, False),
        ("a", "b", None, False),
        ("b", END, None, False),
    ]


def test_loop_without_end_ends_dotted_at_the_last_node_walked() -> None:
    builder = (
        FakeBuilder().node("a").node("b").edge(START, "a").edge("a", "b").branch("b", {"a": "a"})
    )
    assert edge_tuples(draw_graph(builder)) == [
        (START, "a", None, False),
        ("a", "b", None, False),
        ("b", "a", None, True),
        ("b", END, None, True),
    ]


def test_deferred_node_is_linked_from_the_last_step_before_it_runs() -> None:
    builder = (
        FakeBuilder()
        .node("a")
        .node("x")
        .node("y")
        .node("c", defer=True)
        .edge(START, "a")
        .edge(START, "x")
        .edge("x", "y")
        .edge("a", "c")
    )
    assert edge_tuples(draw_graph(builder)) == [
        (START, "a", None, False),
        (START, "x", None, False),
        ("a", "c", None, False),
        ("x", "y", None, False),
        ("y", "c", None, True),
        ("c", END, None, False),
    ]


def test_declared_edge_wins_over_plain_edge_and_smallest_label_wins() -> None:
    builder = (
        FakeBuilder()
        .node("a")
        .node("b")
        .edge(START, "a")
        .edge("a", "b")
        .branch("a", {"y": "b", "x": "b"})
    )
    assert edge_tuples(draw_graph(builder))[1] == ("a", "b", "x", True)


def test_unreachable_nodes_are_drawn_without_edges() -> None:
    builder = FakeBuilder().node("a").node("z").node("w").edge(START, "a").edge("z", "w")
    graph = draw_graph(builder)
    assert list(graph.nodes) == [START, "a", "z", "w", END]
    assert edge_tuples(graph) == [(START, "a", None, False), ("a", END, None, False)]
    # Without a single first node, __start__ loses the ":::first" class.
    assert "\t__start__(<p>__start__</p>)\n" in graph.draw_mermaid()


def test_node_ids_are_escaped_and_self_loops_come_after_other_edges() -> None:
    builder = (
        FakeBuilder()
        .node("My Node")
        .node("_x_")
        .edge(START, "My Node")
        .branch("My Node", {"_x_": "_x_", "My Node": "My Node", END: END})
    )
    assert draw_graph(builder).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "My\\20Node(My Node)",
        "_x_(<p>_x_</p>)",
        "__end__([<p>__end__</p>]):::last",
        "My\\20Node -.-> __end__;",
        "My\\20Node -.-> _x_;",
        "__start__ --> My\\20Node;",
        "_x_ --> __end__;",
        "My\\20Node -.-> My\\20Node;",
    )


def test_unknown_node_in_an_edge_names_the_graph_and_the_fix() -> None:
    builder = FakeBuilder().node("a").edge(START, "a").edge("a", "ghost")
    with pytest.raises(ValueError, match=r"graph 'bot'.*unknown node 'ghost'.*add_node"):
        draw_graph(builder, name="bot")


# ------------------------------------------------------------------------------------------
# xray: subgraphs inlined in subgraph blocks


def child_graph() -> FakeCompiled:
    sub = (
        FakeBuilder()
        .node("s1")
        .node("s2")
        .edge(START, "s1")
        .branch("s1", {"more": "s2", "done": END})
    )
    return FakeCompiled(sub, interrupt_before=("s2",))


def parent_builder() -> FakeBuilder:
    return (
        FakeBuilder()
        .node("a")
        .node("child", runnable=child_graph())
        .node("z")
        .edge(START, "a")
        .edge("a", "child")
        .edge("child", "z")
    )


def test_without_xray_a_subgraph_is_one_node() -> None:
    graph = draw_graph(parent_builder(), interrupt_after=["child"])
    assert list(graph.nodes) == [START, "a", "child", "z", END]
    assert graph.nodes["child"].metadata == {"__interrupt": "after"}


def test_xray_inlines_the_subgraph_in_a_block_with_escaped_ids() -> None:
    graph = draw_graph(parent_builder(), interrupt_after=["child"], xray=True)
    assert graph.draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "z(z)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a --> child\\3as1;",
        "child\\3a__end__ --> z;",
        "z --> __end__;",
        "subgraph child",
        "child\\3as1(s1)",
        "child\\3as2(s2<hr/><small><em>__interrupt = before</em></small>)",
        "child\\3a__end__(<p>__end__</p>)",
        "child\\3as1 -. &nbsp;done&nbsp; .-> child\\3a__end__;",
        "child\\3as1 -. &nbsp;more&nbsp; .-> child\\3as2;",
        "child\\3as2 --> child\\3a__end__;",
        "end",
    )


def nested_builder() -> FakeBuilder:
    inner = FakeBuilder().node("i1").node("i2").edge(START, "i1").edge("i1", "i2")
    mid = (
        FakeBuilder()
        .node("m1")
        .node("inner", runnable=FakeCompiled(inner))
        .edge(START, "m1")
        .edge("m1", "inner")
    )
    return (
        FakeBuilder()
        .node("mid", runnable=FakeCompiled(mid))
        .node("t")
        .edge(START, "mid")
        .edge("mid", "t")
    )


def test_xray_depth_one_expands_only_the_first_level() -> None:
    graph = draw_graph(nested_builder(), xray=1)
    assert list(graph.nodes) == [START, "t", END, "mid:m1", "mid:inner"]


def test_xray_true_expands_nested_subgraphs_in_nested_blocks() -> None:
    # langchain-core leaves out a nested block that has no edge of its own (its nodes get no
    # line); we draw every block with its nodes.
    graph = draw_graph(nested_builder(), xray=True)
    assert list(graph.nodes) == [START, "t", END, "mid:m1", "mid:inner:i1", "mid:inner:i2"]
    text = graph.draw_mermaid()
    block = (
        "\tsubgraph mid\n"
        "\tmid\\3am1(m1)\n"
        "\tmid\\3am1 --> mid\\3ainner\\3ai1;\n"
        "\tsubgraph inner\n"
        "\tmid\\3ainner\\3ai1(i1)\n"
        "\tmid\\3ainner\\3ai2(i2)\n"
        "\tmid\\3ainner\\3ai1 --> mid\\3ainner\\3ai2;\n"
        "\tend\n"
        "\tend\n"
    )
    assert block in text


# ------------------------------------------------------------------------------------------
# Mermaid options


def labelled_graph() -> Graph:
    builder = (
        FakeBuilder()
        .node("a")
        .node("b")
        .edge(START, "a")
        .branch("a", {"this is a long label with more than nine words in it ok": "b"})
    )
    return draw_graph(builder)


def test_long_labels_wrap_every_n_words() -> None:
    text = labelled_graph().draw_mermaid(wrap_label_n_words=4)
    assert (
        "\ta -. &nbsp;this is a long&nbsp<br>&nbsplabel with more than&nbsp<br>&nbsp"
        "nine words in it&nbsp<br>&nbspok&nbsp; .-> b;\n"
    ) in text


def test_without_styles_only_edges_are_drawn() -> None:
    assert labelled_graph().draw_mermaid(with_styles=False) == (
        "graph TD;\n"
        "\t__start__ --> a;\n"
        "\ta -. &nbsp;this is a long label with more than nine&nbsp<br>&nbspwords in it ok"
        "&nbsp; .-> b;\n"
        "\tb --> __end__;\n"
    )


def test_frontmatter_merges_config_with_sorted_keys_and_curve() -> None:
    text = labelled_graph().draw_mermaid(
        curve_style=CurveStyle.BASIS,
        frontmatter_config={
            "config": {
                "theme": "neutral",
                "themeVariables": {"primaryColor": "#e2e2e2"},
                "flowchart": {"x": 1},
            },
            "title": "it's: a test",
        },
        node_colors=NodeStyles(default="fill:red"),
    )
    assert text.startswith(
        "---\n"
        "config:\n"
        "  flowchart:\n"
        "    curve: basis\n"
        "    x: 1\n"
        "  theme: neutral\n"
        "  themeVariables:\n"
        "    primaryColor: '#e2e2e2'\n"
        "title: 'it''s: a test'\n"
        "---\n"
        "graph TD;\n"
    )
    assert "\tclassDef default fill:red\n" in text


def test_frontmatter_is_valid_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    config = {"config": {"theme": "a: b", "look": "yes", "n": 3, "on": True, "list": ["x", "#y"]}}
    text = labelled_graph().draw_mermaid(frontmatter_config=config)
    front = text.split("---\n")[1]
    expected = {"config": {**config["config"], "flowchart": {"curve": "linear"}}}
    assert yaml.safe_load(front) == expected


def test_enums_from_other_libraries_are_accepted_by_value() -> None:
    class ForeignCurve(Enum):
        STEP = "step"

    assert "    curve: step\n" in labelled_graph().draw_mermaid(curve_style=ForeignCurve.STEP)  # type: ignore[arg-type]


def test_special_characters_in_node_names_and_metadata_are_escaped() -> None:
    builder = FakeBuilder().node("a", metadata={"k": "(v)"}).edge(START, "a")
    assert (
        "\ta(a<hr/><small><em>k = #40;v#41;</em></small>)\n" in draw_graph(builder).draw_mermaid()
    )


# ------------------------------------------------------------------------------------------
# The Graph object


def test_to_json_lists_nodes_and_edges() -> None:
    def a(state: Any) -> Any:
        return state

    builder = FakeBuilder().node("a", runnable=a).edge(START, "a").branch("a", {"stop": END})
    # Node data as LangGraph's drawings show it: functions are its RunnableCallable nodes.
    callable_id = ["langgraph", "_internal", "_runnable", "RunnableCallable"]
    assert draw_graph(builder, interrupt_before=["a"]).to_json() == {
        "nodes": [
            {"id": START, "type": "runnable", "data": {"id": callable_id, "name": START}},
            {
                "id": "a",
                "type": "runnable",
                "data": {"id": callable_id, "name": "a"},
                "metadata": {"__interrupt": "before"},
            },
            {"id": END},
        ],
        "edges": [
            {"source": START, "target": "a"},
            {"source": "a", "target": END, "data": "stop", "conditional": True},
        ],
    }


def test_to_json_names_graph_and_langchain_nodes_as_langgraph_does() -> None:
    from langchain_core.load.serializable import to_json_not_implemented
    from langchain_core.runnables import RunnableLambda

    from stategraph.graph import StateGraph

    class Empty(TypedDict):
        x: int

    inner = StateGraph(Empty).add_node("n", lambda s: s).add_edge(START, "n").compile()
    builder = (
        FakeBuilder()
        .node("sub", runnable=inner)
        .node("lc", runnable=(lc := RunnableLambda(lambda s: s)))
        .edge(START, "sub")
        .edge("sub", "lc")
    )
    data = {n["id"]: n.get("data", {}).get("id") for n in draw_graph(builder).to_json()["nodes"]}
    assert data["sub"] == ["langgraph", "graph", "state", "CompiledStateGraph"]
    assert data["lc"] == to_json_not_implemented(lc)["id"]  # langchain-core's own id


def test_first_and_last_node_are_start_and_end() -> None:
    graph = draw_graph(FakeBuilder().node("a").edge(START, "a"))
    first, last = graph.first_node(), graph.last_node()
    assert first is not None and first.id == START
    assert last is not None and last.id == END


def test_mimebundle_offers_mermaid_text() -> None:
    graph = draw_graph(FakeBuilder().node("a").edge(START, "a"))
    bundle = graph._repr_mimebundle_()
    assert bundle["text/vnd.mermaid"] == graph.draw_mermaid()
    assert bundle["text/plain"] == "Graph(nodes=['__start__', 'a', '__end__'], edges=2)"


def test_mermaid_png_without_a_server_explains_the_fix() -> None:
    graph = draw_graph(FakeBuilder().node("a").edge(START, "a"))
    with pytest.raises(ValueError, match=r"draw_mermaid\(\).*base_url"):
        graph.draw_mermaid_png()
    with pytest.raises(ValueError, match="pyppeteer"):
        graph.draw_mermaid_png(draw_method=MermaidDrawMethod.PYPPETEER)


class _PngHandler(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"\x89PNG fake")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def mermaid_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _PngHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_mermaid_png_uses_the_server_given_as_base_url(mermaid_server: str, tmp_path: Any) -> None:
    graph = draw_graph(FakeBuilder().node("a").edge(START, "a"))
    out = tmp_path / "graph.png"
    png = graph.draw_mermaid_png(base_url=mermaid_server, max_retries=0, output_file_path=str(out))
    assert png == b"\x89PNG fake" == out.read_bytes()
    assert _PngHandler.paths[-1].startswith("/img/")
    assert _PngHandler.paths[-1].endswith("?type=png&bgColor=%21white")


def test_draw_png_is_not_supported() -> None:
    with pytest.raises(NotImplementedError, match="draw_mermaid"):
        draw_graph(FakeBuilder().node("a").edge(START, "a")).draw_png()


# ------------------------------------------------------------------------------------------
# ASCII


def test_ascii_draws_every_node_name_even_unconnected_ones() -> None:
    pytest.importorskip("grandalf")
    builder = (
        FakeBuilder()
        .node("agent")
        .node("tools")
        .node("lonely")
        .edge(START, "agent")
        .edge("tools", "agent")
        .branch("agent", {"tools": "tools", END: END})
    )
    text = draw_graph(builder).draw_ascii()
    for name in (START, "agent", "tools", "lonely", END):
        assert f"| {name} |" in text
    assert "*" in text and "." in text  # solid and dotted edges


def test_ascii_without_grandalf_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "grandalf", None)
    monkeypatch.setitem(sys.modules, "grandalf.graphs", None)
    with pytest.raises(ImportError, match=r"pip install stategraph\[draw\]"):
        draw_graph(FakeBuilder().node("a").edge(START, "a")).draw_ascii()


def test_drawing_loads_neither_langchain_core_nor_grandalf() -> None:
    code = (
        "import sys\n"
        "from stategraph.graph._draw import draw_graph, Graph\n"
        "g = Graph(); g.add_node(None, 'a'); g.draw_mermaid(); g.to_json()\n"
        "assert 'langchain_core' not in sys.modules, 'langchain_core'\n"
        "assert 'grandalf' not in sys.modules, 'grandalf'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------
# Through the real builder


class State(TypedDict):
    x: Annotated[list, operator.add]


def passthrough(state: State) -> dict[str, Any]:
    return {}


def test_compiled_state_graph_draws_literal_routes_and_interrupts() -> None:
    from stategraph.graph import StateGraph

    def route(state: State) -> Literal["b", "__end__"]:
        return END

    builder = StateGraph(State)
    builder.add_node("a", passthrough)
    builder.add_node("b", passthrough)
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", route)
    builder.add_edge("b", "a")
    graph = builder.compile(interrupt_before=["b"]).get_graph()
    assert graph.draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b<hr/><small><em>__interrupt = before</em></small>)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -.-> __end__;",
        "a -.-> b;",
        "b --> a;",
    )


def test_compiled_state_graph_xray_inlines_a_real_subgraph() -> None:
    from stategraph.graph import StateGraph

    sub = StateGraph(State)
    sub.add_node("s1", passthrough)
    sub.add_node("s2", passthrough)
    sub.add_edge(START, "s1")
    sub.add_edge("s1", "s2")
    parent = StateGraph(State)
    parent.add_node("child", sub.compile())
    parent.add_edge(START, "child")
    graph = parent.compile().get_graph(xray=True)
    assert edge_tuples(graph) == [
        (START, "child:s1", None, False),
        ("child:s2", END, None, False),
        ("child:s1", "child:s2", None, False),
    ]
