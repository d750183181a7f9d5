"""Mermaid: a drawn graph as Mermaid flowchart text, in LangGraph's exact layout.

Also renders that text to PNG through a Mermaid server the user runs (never a public one).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import string
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stategraph.graph._draw_graph import Edge, Graph, Node

__all__ = ["CurveStyle", "MermaidDrawMethod", "NodeStyles", "fetch_mermaid_png", "render_mermaid"]


class CurveStyle(Enum):
    """How Mermaid draws edge curves (the values are Mermaid's)."""

    BASIS = "basis"
    BUMP_X = "bumpX"
    BUMP_Y = "bumpY"
    CARDINAL = "cardinal"
    CATMULL_ROM = "catmullRom"
    LINEAR = "linear"
    MONOTONE_X = "monotoneX"
    MONOTONE_Y = "monotoneY"
    NATURAL = "natural"
    STEP = "step"
    STEP_AFTER = "stepAfter"
    STEP_BEFORE = "stepBefore"


@dataclass(frozen=True, slots=True)
class NodeStyles:
    """Mermaid ``classDef`` styles for ordinary, first and last nodes."""

    default: str = "fill:#f2f0ff,line-height:1.2"
    first: str = "fill-opacity:0"
    last: str = "fill:#bfb6fc"


class MermaidDrawMethod(Enum):
    """How ``draw_mermaid_png`` turns Mermaid text into an image."""

    PYPPETEER = "pyppeteer"
    API = "api"


def _style_items(node_colors: Any) -> list[tuple[str, str]]:
    if node_colors is None:
        node_colors = NodeStyles()
    if isinstance(node_colors, Mapping):
        return [(str(k), str(v)) for k, v in node_colors.items()]
    if dataclasses.is_dataclass(node_colors):
        return [
            (f.name, str(getattr(node_colors, f.name))) for f in dataclasses.fields(node_colors)
        ]
    return [(name, str(getattr(node_colors, name))) for name in ("default", "first", "last")]


_MARKDOWN_MARKS = tuple("*_`")
_LABEL_ESCAPES = {
    "[": "#91;",
    "]": "#93;",
    "(": "#40;",
    ")": "#41;",
    "{": "#123;",
    "}": "#125;",
    '"': "#quot;",
    "<": "#60;",
    ">": "#62;",
    "|": "#124;",
}
_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


def _escape_label(text: str) -> str:
    text = text.replace("#", "#35;")
    for char, entity in _LABEL_ESCAPES.items():
        text = text.replace(char, entity)
    return text


def _mermaid_id(node_id: str) -> str:
    """Mermaid-safe id: other characters become a backslash and their hex code (":" -> \\3a)."""
    return "".join(c if c in _ID_CHARS else f"\\{ord(c):x}" for c in node_id)


def _metadata_lines(metadata: Mapping[str, Any]) -> list[str]:
    scalars = (str, int, float, bool)
    lines = []
    for key, value in metadata.items():
        if isinstance(value, scalars):
            text = str(value)
        elif isinstance(value, (list, tuple, set)) and all(isinstance(v, scalars) for v in value):
            items = [str(v) for v in value]
            text = ", ".join(sorted(items) if isinstance(value, set) else items)
        else:
            continue  # nested values do not fit in a node box
        lines.append(_escape_label(f"{key} = {text}"))
    return lines


def _node_line(node: Node, shape: str) -> str:
    name = _escape_label(node.name.split(":")[-1])
    label = (
        f"<p>{name}</p>"
        if name.startswith(_MARKDOWN_MARKS) and name.endswith(_MARKDOWN_MARKS)
        else name
    )
    if lines := _metadata_lines(node.metadata or {}):
        label += "<hr/><small><em>" + "\n".join(lines) + "</em></small>"
    return "\t" + shape.format(_mermaid_id(node.id), label)


def _edge_line(edge: Edge, wrap_label_n_words: int) -> str:
    if edge.data is None:
        arrow = " -.-> " if edge.conditional else " --> "
    else:
        label = str(edge.data)
        words = label.split()
        if len(words) > wrap_label_n_words:
            label = "&nbsp<br>&nbsp".join(
                " ".join(words[i : i + wrap_label_n_words])
                for i in range(0, len(words), wrap_label_n_words)
            )
        arrow = (
            f" -. &nbsp;{label}&nbsp; .-> " if edge.conditional else f" -- &nbsp;{label}&nbsp; --> "
        )
    return f"\t{_mermaid_id(edge.source)}{arrow}{_mermaid_id(edge.target)};"


def _common_prefix(source: str, target: str) -> str:
    shared = []
    for a, b in zip(source.split(":"), target.split(":")):
        if a != b:
            break
        shared.append(a)
    return ":".join(shared)


def render_mermaid(
    graph: Graph,
    *,
    with_styles: bool = True,
    curve_style: Any = CurveStyle.LINEAR,
    node_colors: Any = None,
    wrap_label_n_words: int = 9,
    frontmatter_config: Mapping[str, Any] | None = None,
) -> str:
    """Mermaid flowchart text: front matter, node lines, edge lines, subgraph blocks, styles.

    ``curve_style`` and ``node_colors`` may also be langchain-core's ``CurveStyle`` and
    ``NodeStyles`` (or a plain string and a ``{class: style}`` mapping).
    """
    curve = str(getattr(curve_style, "value", curve_style))
    frontmatter_config = frontmatter_config or {}
    first, last = graph.first_node(), graph.last_node()
    shapes: dict[str, str] = {}
    if first is not None:
        shapes[first.id] = "{0}([{1}]):::first"
    if last is not None:
        shapes[last.id] = "{0}([{1}]):::last"

    lines: list[str] = []
    if with_styles:
        config = dict(frontmatter_config.get("config") or {})
        config["flowchart"] = {**(config.get("flowchart") or {}), "curve": curve}
        lines += ["---", *_yaml_lines({**frontmatter_config, "config": config}), "---"]
    lines.append("graph TD;")

    # Expanded subgraph nodes ("parent:child") are drawn inside a block per parent prefix;
    # an edge belongs to the deepest block holding both its ends.
    members: dict[str, list[Node]] = {}
    for node_id, node in graph.nodes.items():
        parent = node_id.rpartition(":")[0]
        members.setdefault(parent, []).append(node)
        while parent:  # every ancestor is a block, even one holding only blocks
            parent = parent.rpartition(":")[0]
            members.setdefault(parent, [])
    edge_groups: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        edge_groups.setdefault(_common_prefix(edge.source, edge.target), []).append(edge)
    # A group keyed by a node id rather than a block holds that node's self-loops.
    keys = list(edge_groups) + [p for p in members if p not in edge_groups]
    titles: set[str] = set()

    def has_content(prefix: str) -> bool:
        if edge_groups.get(prefix) or (with_styles and members.get(prefix)):
            return True
        return any(has_content(k) for k in keys if k.rpartition(":")[0] == prefix and k != prefix)

    def emit(prefix: str) -> None:
        is_block = bool(prefix) and prefix in members
        if is_block:
            title = prefix.rpartition(":")[2]
            # Mermaid needs unique block ids; a repeated name keeps its title under a full id.
            lines.append(
                f"\tsubgraph {title}"
                if title not in titles
                else f"\tsubgraph {_mermaid_id(prefix)}[{title}]"
            )
            titles.add(title)
        if with_styles and (is_block or not prefix):
            lines.extend(
                _node_line(n, shapes.get(n.id, "{0}({1})")) for n in members.get(prefix, ())
            )
        lines.extend(_edge_line(e, wrap_label_n_words) for e in edge_groups.get(prefix, ()))
        for key in keys:
            if key and key != prefix and key.rpartition(":")[0] == prefix and has_content(key):
                emit(key)
        if is_block:
            lines.append("\tend")

    emit("")
    if with_styles:
        lines.extend(f"\tclassDef {name} {style}" for name, style in _style_items(node_colors))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# YAML front matter (a tiny emitter, so drawing needs no YAML package)

_PLAIN_YAML = re.compile(r"[A-Za-z_./][A-Za-z0-9_ ./:-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if "\n" in text or not text.isprintable():
        return json.dumps(text)
    plain = (
        _PLAIN_YAML.fullmatch(text)
        and ": " not in text
        and not text.endswith((":", " "))
        and text.lower() not in _YAML_WORDS
    )
    return text if plain else "'" + text.replace("'", "''") + "'"


def _yaml_lines(value: Mapping[str, Any], indent: str = "") -> list[str]:
    """Block-style YAML with sorted keys, as ``yaml.dump(default_flow_style=False)`` writes."""
    lines = []
    for key in sorted(value, key=str):
        item = value[key]
        head = f"{indent}{_yaml_scalar(key)}:"
        if isinstance(item, Mapping) and item:
            lines += [head, *_yaml_lines(item, indent + "  ")]
        elif isinstance(item, (list, tuple)) and item:
            lines.append(head)
            for element in item:
                if isinstance(element, Mapping) and element:
                    nested = _yaml_lines(element, indent + "  ")
                    lines += [f"{indent}- {nested[0].lstrip()}", *nested[1:]]
                else:
                    lines.append(f"{indent}- {_yaml_scalar(element)}")
        elif isinstance(item, Mapping):
            lines.append(f"{head} {{}}")
        elif isinstance(item, (list, tuple)):
            lines.append(f"{head} []")
        else:
            lines.append(f"{head} {_yaml_scalar(item)}")
    return lines


def fetch_mermaid_png(
    syntax: str,
    *,
    draw_method: Any,
    base_url: str | None,
    background_color: str | None,
    max_retries: int,
    retry_delay: float,
    proxies: dict[str, str] | None,
) -> bytes:
    """PNG bytes of ``syntax`` from the mermaid.ink-compatible server at ``base_url``."""
    method = getattr(draw_method, "value", draw_method)
    if method != MermaidDrawMethod.API.value or base_url is None:
        raise ValueError(
            f"Cannot render the graph to PNG with draw_method={method!r} and no base_url: "
            "stategraph neither sends graphs to the public mermaid.ink service nor drives a "
            "browser. Fix: call draw_mermaid() and render the text with any Mermaid tool "
            "(mermaid-cli `mmdc`, a Markdown viewer, JupyterLab), or run a mermaid.ink "
            "server and pass draw_method=MermaidDrawMethod.API, "
            "base_url='http://localhost:3000'."
        )
    encoded = base64.b64encode(syntax.encode()).decode("ascii")
    url = f"{base_url.rstrip('/')}/img/{encoded}?type=png"
    if background_color is not None:
        # mermaid.ink reads hex colours as given and named colours behind a "!".
        is_hex = re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", background_color)
        color = background_color if is_hex else f"!{background_color}"
        url += "&bgColor=" + urllib.parse.quote(color, safe="")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies or {}))
    problem = ""
    for attempt in range(max_retries + 1):
        try:
            with opener.open(url, timeout=10) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            problem = f"status code {error.code}"
            if error.code < 500:
                break
        except (urllib.error.URLError, OSError) as error:
            problem = str(error)
        if attempt < max_retries:
            time.sleep(retry_delay * 2**attempt)
    raise ValueError(
        f"Failed to render the graph with the Mermaid server at {base_url} ({problem}). "
        "Fix: check that the server runs and base_url is right, or raise max_retries; "
        "draw_mermaid() gives the text without a server."
    )
