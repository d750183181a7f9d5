"""ASCII art of a drawn graph: boxed node names joined by ``*`` (plain) and ``.`` (dotted) lines.

grandalf lays each connected part of the graph out in layers (Sugiyama); the parts are then set
side by side, so every node appears, linked or not. grandalf is the optional "draw" extra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stategraph.graph._draw_graph import Graph

__all__ = ["draw_ascii"]

_BOX_HEIGHT = 3  # border, name, border
_PART_GAP = 4  # columns between connected parts


class _BoxView:
    """The size grandalf lays out for a node, and where it puts it (``xy`` is the centre)."""

    def __init__(self, label: str) -> None:
        self.w = len(label) + 2
        self.h = _BOX_HEIGHT
        self.xy: tuple[float, float] = (0.0, 0.0)


class _LineView:
    """The polyline grandalf routes for an edge."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[Any]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


@dataclass(slots=True)
class _Part:
    """One connected part, laid out: boxes (left, top, label) and lines (points, char)."""

    boxes: list[tuple[float, float, str]] = field(default_factory=list)
    lines: list[tuple[list[tuple[float, float]], str]] = field(default_factory=list)

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [x for x, _, label in self.boxes] + [x + len(label) + 2 for x, _, label in self.boxes]
        ys = [y for _, y, _ in self.boxes] + [y + _BOX_HEIGHT for _, y, _ in self.boxes]
        for points, _ in self.lines:
            xs += [x for x, _ in points]
            ys += [y for _, y in points]
        return min(xs), min(ys), max(xs), max(ys)


def draw_ascii(graph: Graph) -> str:
    """The graph as ASCII art, top to bottom; needs grandalf (``pip install stategraph[draw]``)."""
    try:
        from grandalf.graphs import Edge, Graph as LayoutGraph, Vertex  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from grandalf.layouts import SugiyamaLayout  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from grandalf.routing import route_with_lines  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ImportError(
            "Drawing a graph as ASCII art needs the optional grandalf package, which is not "
            "installed. Fix: pip install stategraph[draw] (or pip install grandalf), or use "
            "draw_mermaid() for a text description that needs nothing extra."
        ) from None

    vertices = {node_id: Vertex(f" {node.name} ") for node_id, node in graph.nodes.items()}
    for vertex in vertices.values():
        vertex.view = _BoxView(vertex.data)
    pairs: dict[tuple[str, str], bool] = {}
    for edge in graph.edges:
        # Layered layout cannot place a self-loop; parallel edges would be drawn twice.
        if edge.source != edge.target and (edge.source, edge.target) not in pairs:
            pairs[(edge.source, edge.target)] = bool(edge.conditional)
    edges = []
    for (source, target), conditional in pairs.items():
        edge = Edge(vertices[source], vertices[target], data=conditional)
        edge.view = _LineView()
        edges.append(edge)
    layout_graph = LayoutGraph(list(vertices.values()), edges)

    parts = []
    for component in layout_graph.C:
        layout = SugiyamaLayout(component)
        roots = [v for v in component.sV if not v.e_in()]
        layout.init_all(roots=roots or None, optimize=True)
        layout.xspace = min(v.view.w for v in component.sV)
        layout.yspace = _BOX_HEIGHT
        layout.route_edge = route_with_lines
        layout.draw()
        part = _Part()
        for v in component.sV:
            if hasattr(v, "data"):  # grandalf adds dummy vertices (no data) to route long edges
                x, y = v.view.xy
                part.boxes.append((x - v.view.w / 2, y - v.view.h / 2, v.data))
        for e in component.sE:
            part.lines.append((e.view.points, "." if e.data else "*"))
        parts.append(part)
    return _paint(parts)


def _paint(parts: list[_Part]) -> str:
    placed = []  # (part, x shift, y shift)
    left = 0.0
    for part in parts:
        min_x, min_y, max_x, _ = part.bounds()
        placed.append((part, left - min_x, -min_y))
        left += max_x - min_x + _PART_GAP
    width = math.ceil(left) + 1
    height = max(math.ceil(p.bounds()[3] + dy) + 1 for p, _, dy in placed)
    canvas = [[" "] * width for _ in range(height)]

    def put(x: int, y: int, char: str) -> None:
        if 0 <= y < height and 0 <= x < width:
            canvas[y][x] = char

    # Lines first, so boxes drawn on top hide their ends.
    for part, dx, dy in placed:
        for points, char in part.lines:
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                _line(round(x0 + dx), round(y0 + dy), round(x1 + dx), round(y1 + dy), char, put)
    for part, dx, dy in placed:
        for x, y, label in part.boxes:
            _box(round(x + dx), round(y + dy), label, put)
    text = "\n".join("".join(row).rstrip() for row in canvas)
    return text.strip("\n")


def _line(x0: int, y0: int, x1: int, y1: int, char: str, put: Any) -> None:
    steps = max(abs(x1 - x0), abs(y1 - y0))
    for i in range(steps + 1):
        t = i / steps if steps else 0.0
        put(round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t), char)


def _box(left: int, top: int, label: str, put: Any) -> None:
    right = left + len(label) + 1
    for x in range(left, right + 1):
        put(x, top, "-")
        put(x, top + 2, "-")
    for y in (top, top + 2):
        put(left, y, "+")
        put(right, y, "+")
    put(left, top + 1, "|")
    put(right, top + 1, "|")
    for i, char in enumerate(label):
        put(left + 1 + i, top + 1, char)
