"""The drawable graph: nodes and edges shaped like langchain-core's ``Graph``.

``compiled.get_graph()`` returns one; LangGraph users' code reads ``nodes``/``edges``, calls
``to_json()`` and the ``draw_*`` methods, which hand off to ``_draw_mermaid``/``_draw_ascii``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from stategraph.graph._draw_mermaid import (
    CurveStyle,
    MermaidDrawMethod,
    NodeStyles,
    fetch_mermaid_png,
    render_mermaid,
)

__all__ = ["Edge", "Graph", "Node"]


class Node(NamedTuple):
    """A node of a drawn graph; ``id`` is unique, ``name`` is what the picture shows."""

    id: str
    name: str
    data: Any
    metadata: dict[str, Any] | None

    def copy(self, *, id: str | None = None, name: str | None = None) -> Node:
        return Node(
            id=id or self.id, name=name or self.name, data=self.data, metadata=self.metadata
        )


class Edge(NamedTuple):
    """A directed edge; ``data`` is its label, ``conditional`` draws it dotted."""

    source: str
    target: str
    data: Any = None
    conditional: bool = False

    def copy(self, *, source: str | None = None, target: str | None = None) -> Edge:
        return Edge(
            source=source or self.source,
            target=target or self.target,
            data=self.data,
            conditional=self.conditional,
        )


@dataclass(repr=False)
class Graph:
    """A drawable graph, compatible with langchain-core's ``Graph``.

    Mutable on purpose, like LangChain's: callers trim and extend graphs in place.
    """

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Graph(nodes={list(self.nodes)!r}, edges={len(self.edges)})"

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def to_json(self, *, with_schemas: bool = False) -> dict[str, list[dict[str, Any]]]:
        """The graph as JSON-ready dicts (the shape the server's graph endpoint returns)."""
        stable_ids: dict[str, str | int] = {
            node.id: index if _is_uuid(node.id) else node.id
            for index, node in enumerate(self.nodes.values())
        }
        nodes = [
            {"id": stable_ids[node.id], **_node_json(node, with_schemas=with_schemas)}
            for node in self.nodes.values()
        ]
        edges: list[dict[str, Any]] = []
        for edge in self.edges:
            entry: dict[str, Any] = {
                "source": stable_ids[edge.source],
                "target": stable_ids[edge.target],
            }
            if edge.data is not None:
                entry["data"] = edge.data
            if edge.conditional:
                entry["conditional"] = True
            edges.append(entry)
        return {"nodes": nodes, "edges": edges}

    def next_id(self) -> str:
        return uuid4().hex

    def add_node(
        self, data: Any, id: str | None = None, *, metadata: dict[str, Any] | None = None
    ) -> Node:
        if id is not None and id in self.nodes:
            raise ValueError(f"Node with id {id} already exists")
        node_id = id or self.next_id()
        node = Node(id=node_id, name=_node_name(node_id, data), data=data, metadata=metadata)
        self.nodes[node_id] = node
        return node

    def remove_node(self, node: Node) -> None:
        self.nodes.pop(node.id)
        self.edges = [e for e in self.edges if node.id not in (e.source, e.target)]

    def add_edge(
        self, source: Node, target: Node, data: Any = None, conditional: bool = False
    ) -> Edge:
        for end in (source, target):
            if end.id not in self.nodes:
                raise ValueError(f"Node {end.id} not in graph; add it with add_node() first")
        edge = Edge(source=source.id, target=target.id, data=data, conditional=conditional)
        self.edges.append(edge)
        return edge

    def extend(self, graph: Any, *, prefix: str = "") -> tuple[Node | None, Node | None]:
        """Add another graph's nodes and edges, ids prefixed ``prefix:``; return its first/last."""

        def prefixed(node_id: str) -> str:
            return f"{prefix}:{node_id}" if prefix else node_id

        for node_id, node in graph.nodes.items():
            self.nodes[prefixed(node_id)] = Node(
                prefixed(node_id), node.name, node.data, node.metadata
            )
        self.edges.extend(
            Edge(prefixed(e.source), prefixed(e.target), e.data, e.conditional) for e in graph.edges
        )
        first, last = graph.first_node(), graph.last_node()
        return (
            self.nodes[prefixed(first.id)] if first else None,
            self.nodes[prefixed(last.id)] if last else None,
        )

    def first_node(self) -> Node | None:
        """The only node that no edge enters, or None when there is not exactly one."""
        return _only_node_outside(self, {e.target for e in self.edges})

    def last_node(self) -> Node | None:
        """The only node that no edge leaves, or None when there is not exactly one."""
        return _only_node_outside(self, {e.source for e in self.edges})

    def trim_first_node(self) -> None:
        """Remove the first node if it has one edge out and another node would become first."""
        first = self.first_node()
        if first is None or sum(e.source == first.id for e in self.edges) != 1:
            return
        rest = {e.target for e in self.edges if e.source != first.id}
        if _only_node_outside(self, rest, exclude=first.id) is not None:
            self.remove_node(first)

    def trim_last_node(self) -> None:
        """Remove the last node if it has one edge in and another node would become last."""
        last = self.last_node()
        if last is None or sum(e.target == last.id for e in self.edges) != 1:
            return
        rest = {e.source for e in self.edges if e.target != last.id}
        if _only_node_outside(self, rest, exclude=last.id) is not None:
            self.remove_node(last)

    def draw_ascii(self) -> str:
        """ASCII art of the graph (needs grandalf: ``pip install stategraph[draw]``)."""
        from stategraph.graph._draw_ascii import draw_ascii

        return draw_ascii(self)

    def print_ascii(self) -> None:
        print(self.draw_ascii())  # noqa: T201 - printing is what this method is for

    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: CurveStyle = CurveStyle.LINEAR,
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        frontmatter_config: dict[str, Any] | None = None,
    ) -> str:
        """The graph as Mermaid flowchart text, in LangGraph's layout.

        ``frontmatter_config`` is merged into the YAML front matter (``{"config": {"theme":
        "neutral"}}``); ``curve_style`` sets ``config.flowchart.curve``. Enums and
        ``NodeStyles`` from langchain-core are accepted too.
        """
        return render_mermaid(
            self,
            with_styles=with_styles,
            curve_style=curve_style,
            node_colors=node_colors,
            wrap_label_n_words=wrap_label_n_words,
            frontmatter_config=frontmatter_config,
        )

    def draw_mermaid_png(
        self,
        *,
        curve_style: CurveStyle = CurveStyle.LINEAR,
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        output_file_path: str | None = None,
        draw_method: MermaidDrawMethod = MermaidDrawMethod.API,
        background_color: str = "white",
        padding: int = 10,
        max_retries: int = 1,
        retry_delay: float = 1.0,
        frontmatter_config: dict[str, Any] | None = None,
        base_url: str | None = None,
        proxies: dict[str, str] | None = None,
    ) -> bytes:
        """Render the Mermaid text to PNG bytes with a Mermaid server you run.

        stategraph never sends your graph to a public web service: pass ``base_url`` of a
        mermaid.ink-compatible server (e.g. ``"http://localhost:3000"``). Without one this
        raises ``ValueError``; ``draw_mermaid()`` gives the text for any Mermaid renderer.
        """
        syntax = self.draw_mermaid(
            curve_style=curve_style,
            node_colors=node_colors,
            wrap_label_n_words=wrap_label_n_words,
            frontmatter_config=frontmatter_config,
        )
        png = fetch_mermaid_png(
            syntax,
            draw_method=draw_method,
            base_url=base_url,
            background_color=background_color,
            max_retries=max_retries,
            retry_delay=retry_delay,
            proxies=proxies,
        )
        if output_file_path is not None:
            Path(output_file_path).write_bytes(png)
        return png

    def draw_png(self, output_file_path: str | None = None, **_: Any) -> bytes | None:
        raise NotImplementedError(
            "Graph.draw_png() (Graphviz rendering) is not supported by stategraph. "
            "Fix: use draw_mermaid() for Mermaid text or draw_ascii() for a text picture."
        )

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/plain": repr(self), "text/vnd.mermaid": self.draw_mermaid()}


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _node_name(node_id: str, data: Any) -> str:
    if data is None or not _is_uuid(node_id):
        return node_id
    get_name = getattr(data, "get_name", None)
    return str(get_name() if callable(get_name) else getattr(data, "__name__", node_id))


def _only_node_outside(graph: Graph, ids: set[str], exclude: str | None = None) -> Node | None:
    found = [n for n in graph.nodes.values() if n.id != exclude and n.id not in ids]
    return found[0] if len(found) == 1 else None


def _node_json(node: Node, *, with_schemas: bool) -> dict[str, Any]:
    data = node.data
    # As langchain-core's: a node's name in JSON is its id (prefixed in an xray), unless a uuid.
    name = node.name if _is_uuid(node.id) else node.id
    result: dict[str, Any]
    if data is None and node.id.rpartition(":")[2] == "__start__":
        result = {"type": "runnable", "data": {"id": list(_RUNNABLE_CALLABLE_ID), "name": name}}
    elif data is None:
        result = {}
    elif isinstance(data, type):
        schema = getattr(data, "model_json_schema", None)
        result = {
            "type": "schema",
            "data": schema() if with_schemas and callable(schema) else data.__name__,
        }
    else:
        result = {"type": "runnable", "data": {"id": _runnable_id(data), "name": name}}
    if node.metadata is not None:
        result["metadata"] = node.metadata
    return result


# The ids LangGraph's drawings give its nodes (langchain-core names a Runnable that cannot be
# serialized by its class's module path): tools reading a drawing see the same ones.
_RUNNABLE_CALLABLE_ID = ("langgraph", "_internal", "_runnable", "RunnableCallable")
_LANGGRAPH_CLASS_IDS = {
    "CompiledStateGraph": ("langgraph", "graph", "state", "CompiledStateGraph"),
    "Pregel": ("langgraph", "pregel", "main", "Pregel"),
    "ToolNode": ("langgraph", "prebuilt", "tool_node", "ToolNode"),
}


def _runnable_id(data: Any) -> list[str]:
    cls = type(data)
    if cls.__module__.startswith("stategraph"):
        for klass in cls.__mro__:
            if klass.__module__.startswith("stategraph") and klass.__name__ in _LANGGRAPH_CLASS_IDS:
                return list(_LANGGRAPH_CLASS_IDS[klass.__name__])
        return list(_RUNNABLE_CALLABLE_ID)
    try:
        from langchain_core.runnables import Runnable, RunnableSerializable
    except ImportError:  # pragma: no cover - the bare engine without langchain-core
        return list(_RUNNABLE_CALLABLE_ID)
    if isinstance(data, RunnableSerializable):
        return list(data.lc_id())
    if isinstance(data, Runnable):
        return [*cls.__module__.split("."), cls.__name__]
    return list(_RUNNABLE_CALLABLE_ID)  # a function or callable object: LangGraph wraps it
