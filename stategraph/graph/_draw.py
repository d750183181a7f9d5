"""Reading a StateGraph builder into a drawable ``Graph`` (what ``get_graph()`` returns).

Edges are found the way LangGraph finds them, by walking the graph from ``__start__`` step by
step, so pictures match LangGraph's. This module is also where the engine imports drawing from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from stategraph._constants import END, START
from stategraph.graph._draw_graph import Edge, Graph, Node
from stategraph.graph._draw_mermaid import CurveStyle, MermaidDrawMethod, NodeStyles

__all__ = [
    "CurveStyle",
    "Edge",
    "Graph",
    "MermaidDrawMethod",
    "Node",
    "NodeStyles",
    "draw_graph",
]

# LangGraph's walk stops after this many steps; a cycle of plain edges runs into it.
_STEP_LIMIT = 251


class _NodeView(Protocol):
    @property
    def runnable(self) -> Any: ...
    @property
    def metadata(self) -> Mapping[str, Any] | None: ...
    @property
    def defer(self) -> bool: ...
    @property
    def ends(self) -> tuple[str, ...] | Mapping[str, str] | None: ...


class _BranchView(Protocol):
    @property
    def ends(self) -> Mapping[Any, str] | None: ...


class _BuilderView(Protocol):
    """What drawing reads from a StateGraph builder."""

    @property
    def nodes(self) -> Mapping[str, _NodeView]: ...
    @property
    def edges(self) -> Iterable[tuple[str, str]]: ...
    @property
    def waiting_edges(self) -> Iterable[tuple[Sequence[str], str]]: ...
    @property
    def branches(self) -> Mapping[str, Mapping[str, _BranchView]]: ...


class _Drawable(Protocol):
    """A compiled graph that can draw itself (what xray expands)."""

    def get_graph(self, config: Any = None, *, xray: bool | int = False) -> Any: ...


def draw_graph(
    builder: _BuilderView,
    *,
    interrupt_before: Sequence[str] | str = (),
    interrupt_after: Sequence[str] | str = (),
    xray: bool | int = False,
    name: str = "LangGraph",
    subgraphs: Mapping[str, _Drawable] | None = None,
) -> Graph:
    """The drawable graph of a (compiled) StateGraph builder.

    Nodes are ``__start__``, the builder's nodes in order, then ``__end__``; node metadata
    gains ``"defer": True`` and ``"__interrupt": "before" | "after" | "before,after"``
    (``"*"`` marks every node). Edges are those reached from ``__start__``: plain and join
    edges solid; branch and ``Command`` destinations dotted, labelled with the path-map key
    when it differs from the target. A branch without a path map may go to any other node or
    END. Nodes entered but never left get an edge to END.

    ``xray`` (True, or a depth) replaces each subgraph node by the subgraph's own drawing,
    ids prefixed ``node:``. ``subgraphs`` maps node names to compiled subgraphs; by default
    a node whose action has ``get_graph()`` and ``builder`` is one. ``name`` names the graph
    in error messages.
    """
    wiring = _Wiring.of(builder, graph_name=name)
    graph = Graph()
    graph.add_node(None, START)
    before, after = _node_set(interrupt_before, builder), _node_set(interrupt_after, builder)
    for node_name, spec in builder.nodes.items():
        metadata = dict(spec.metadata or {})
        if spec.defer:
            metadata["defer"] = True
        when = ",".join(
            w for w, names in (("before", before), ("after", after)) if node_name in names
        )
        if when:
            metadata["__interrupt"] = when
        graph.add_node(spec.action, node_name, metadata=metadata or None)
    drawn: set[tuple[str, str]] = set()
    for edge in _walk_edges(wiring):
        if (edge.source, edge.target) in drawn:
            continue  # the first of two edges between the same nodes wins
        drawn.add((edge.source, edge.target))
        if edge.target == END and END not in graph.nodes:
            graph.add_node(None, END)
        graph.add_edge(
            graph.nodes[edge.source], graph.nodes[edge.target], edge.data, edge.conditional
        )

    if xray:
        # An int counts the levels still to expand; True expands all the way down.
        child_xray = xray if isinstance(xray, bool) or xray <= 0 else xray - 1
        if subgraphs is None:
            subgraphs = {
                n: s.action for n, s in builder.nodes.items() if _is_subgraph(s.action)
            }
        for node_name, subgraph in subgraphs.items():
            _inline_subgraph(graph, node_name, subgraph.get_graph(xray=child_xray))
    return graph


def _node_set(names: Sequence[str] | str | None, builder: _BuilderView) -> frozenset[str]:
    if names == "*":
        return frozenset(builder.nodes)
    return frozenset(names or ())


# ---------------------------------------------------------------------------------------------
# Finding the edges


@dataclass(frozen=True, slots=True)
class _Wiring:
    """Where each node can send control, as the builder declares it."""

    nodes: tuple[str, ...]
    deferred: frozenset[str]
    plain: Mapping[str, tuple[str, ...]]  # source -> targets, every time it runs
    joins: tuple[tuple[frozenset[str], str], ...]  # (sources, target): all sources, then target
    declared: Mapping[str, tuple[tuple[str, str | None], ...]]  # source -> (target, label)

    @classmethod
    def of(cls, builder: _BuilderView, *, graph_name: str) -> _Wiring:
        nodes = tuple(builder.nodes)
        plain: dict[str, list[str]] = defaultdict(list)
        for source, target in builder.edges:
            plain[source].append(target)
        for sources, target in builder.waiting_edges:
            if target == END:  # drawn as LangGraph draws it: each source ends
                for source in sources:
                    plain[source].append(END)
        declared: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        for source, spec in builder.nodes.items():
            if isinstance(spec.ends, Mapping):  # Command destinations {target: label}
                declared[source] += [(t, str(label)) for t, label in spec.ends.items()]
            elif spec.ends:
                declared[source] += [(t, None) for t in spec.ends]
        for source, branches in builder.branches.items():
            for branch in branches.values():
                ends = branch.ends
                if ends is None:  # no path map: the branch may pick any other node
                    ends = {n: n for n in nodes if n != source} | {END: END}
                declared[source] += [(t, str(key)) for key, t in ends.items()]
        joins = tuple((frozenset(s), t) for s, t in builder.waiting_edges if t != END)
        named = [(s, t) for s, ts in plain.items() for t in ts]
        named += [(s, t) for s, ds in declared.items() for t, _ in ds]
        named += [(s, t) for ss, t in joins for s in ss]
        for source, target in named:
            for end in (source, target):
                if end not in builder.nodes and end not in (START, END):
                    raise ValueError(
                        f"Cannot draw graph '{graph_name}': its edge {source!r} -> {target!r} "
                        f"names unknown node {end!r}. Fix: add_node({end!r}, ...) or correct "
                        "the edge."
                    )
        return cls(
            nodes=nodes,
            deferred=frozenset(n for n, s in builder.nodes.items() if s.defer),
            plain={s: tuple(ts) for s, ts in plain.items()},
            joins=joins,
            declared={s: tuple(ds) for s, ds in declared.items()},
        )


class _Write(NamedTuple):
    """A trigger a node sets: ``channel`` is ``to:<node>`` or ``join:<index>``."""

    channel: str
    conditional: bool
    label: str | None


def _label_order(label: str | None) -> tuple[bool, str]:
    return (label is not None, label or "")


class _Channels:
    """The trigger channels of the walk: which nodes the writes of one step wake up.

    ``to:<node>`` wakes its node in the next step; a join wakes its target once all its
    sources wrote. A deferred node's triggers are held until a step wakes nothing else.
    """

    def __init__(self, wiring: _Wiring) -> None:
        self.wiring = wiring
        self.triggers = {n: [f"to:{n}"] for n in wiring.nodes}
        for index, (_, target) in enumerate(wiring.joins):
            self.triggers[target].append(f"join:{index}")
        self.held: dict[str, bool] = {}  # deferred node -> released
        self.join_seen: list[set[str]] = [set() for _ in wiring.joins]
        self.join_released = [False] * len(wiring.joins)

    def step(self, ran: Iterable[str], written: Mapping[str, set[str]]) -> list[str]:
        """Consume what woke the nodes that ``ran``, apply their writes; the nodes woken."""
        deferred, joins = self.wiring.deferred, self.wiring.joins
        for task in ran:
            if self.held.get(task):
                del self.held[task]
            for index, (names, target) in enumerate(joins):
                ready = self.join_seen[index] == names
                if (
                    target == task
                    and ready
                    and (self.join_released[index] or target not in deferred)
                ):
                    self.join_seen[index], self.join_released[index] = set(), False
        woken: set[str] = set()
        for task, channels in written.items():
            for channel in channels:
                kind, _, key = channel.partition(":")
                if kind == "to" and key in deferred:
                    self.held[key] = False
                elif kind == "to":
                    woken.add(channel)
                else:
                    names, target = joins[int(key)]
                    self.join_seen[int(key)].add(task)
                    if target not in deferred and self.join_seen[int(key)] == names:
                        woken.add(channel)
        if not woken:  # the run would end here: release what waits for the end
            for node, released in self.held.items():
                if not released:
                    self.held[node] = True
                    woken.add(f"to:{node}")
            for index, (names, target) in enumerate(joins):
                if (
                    target in deferred
                    and not self.join_released[index]
                    and self.join_seen[index] == names
                ):
                    self.join_released[index] = True
                    woken.add(f"join:{index}")
        return [n for n in self.wiring.nodes if any(c in woken for c in self.triggers[n])]


def _walk_edges(wiring: _Wiring) -> list[Edge]:
    """The edges LangGraph draws: those its planner takes in a dry run from ``__start__``.

    Each step runs the woken nodes' writers. Plain and join edges write every time; branches
    and Command destinations write their possible targets on a node's first run only. When
    a node wakes, an edge is recorded from each node that last set one of its triggers.
    """
    channels = _Channels(wiring)
    found: set[tuple[str, str, bool, str | None]] = set()
    ran: set[str] = set()
    sources: dict[str, set[_Write]] = {}  # node -> the triggers its latest run set
    step_sources: dict[str, set[_Write]] = {}
    tasks = [START]
    for _ in range(_STEP_LIMIT):
        if not tasks:
            break
        step_sources, written = {}, {}
        for task in tasks:
            declared = {
                _Write(f"to:{t}", True, la) for t, la in wiring.declared.get(task, ()) if t != END
            }
            plain = {_Write(f"to:{t}", False, None) for t in wiring.plain.get(task, ()) if t != END}
            plain |= {
                _Write(f"join:{i}", False, None)
                for i, (s, _) in enumerate(wiring.joins)
                if task in s
            }
            written[task] = {w.channel for w in plain}
            if task not in ran:
                # Declared targets are written on the first run only; a plain edge to one of
                # them is then the same write, drawn as the declared (dotted) edge.
                ran.add(task)
                found.update(
                    (task, END, True, la) for t, la in wiring.declared.get(task, ()) if t == END
                )
                plain = {w for w in plain if w.channel not in {d.channel for d in declared}}
                written[task] |= {w.channel for w in declared}
            step_sources[task] = plain | declared  # declared edges count on every run
        sources.update(step_sources)
        trigger_sources: dict[str, set[tuple[str, bool, str | None]]] = defaultdict(set)
        for source, writes in sources.items():
            for write in writes:
                trigger_sources[write.channel].add((source, write.conditional, write.label))

        tasks = channels.step(step_sources, written)
        for task in tasks:
            from_this_step = False
            for channel in channels.triggers[task]:
                for source, conditional, label in trigger_sources[channel]:
                    found.add((source, task, conditional, label))
                    if _Write(channel, conditional, label) in step_sources.get(source, ()):
                        from_this_step = True
                    else:
                        sources[source].discard(_Write(channel, conditional, label))
            if not from_this_step:  # woken by an older write (a deferred node): link this step
                found.update((source, task, True, None) for source in step_sources)

    edges = [
        Edge(source, target, None if label == target else label, conditional)
        for source, target, conditional, label in sorted(
            found, key=lambda e: (e[0], e[1], e[2], _label_order(e[3]))
        )
    ]
    termini = {e[1] for e in found if e[1] != END} - {e[0] for e in found}
    if termini:
        edges += [Edge(node, END) for node in sorted(termini)]
    elif len(step_sources) == 1 and not any(e[1] == END for e in found):
        # The walk ended on one node and nothing reached END: the run can end there.
        edges += [Edge(node, END, None, True) for node in step_sources]
    return edges


# ---------------------------------------------------------------------------------------------
# Expanding subgraphs (xray)


def _is_subgraph(runnable: Any) -> bool:
    return callable(getattr(runnable, "get_graph", None)) and hasattr(runnable, "builder")


def _inline_subgraph(graph: Graph, node_name: str, subgraph: Any) -> None:
    """Replace node ``node_name`` by ``subgraph``'s nodes, keeping the edges in and out."""
    if node_name not in graph.nodes or len(subgraph.nodes) <= 1:
        return
    if subgraph.first_node() is None or subgraph.last_node() is None:
        return  # no single entry or exit to attach the parent's edges to
    subgraph.trim_first_node()
    subgraph.trim_last_node()
    graph.nodes.pop(node_name)
    first, last = graph.extend(subgraph, prefix=node_name)
    assert first is not None and last is not None  # trimming keeps a single first and last
    for index, edge in enumerate(graph.edges):
        if edge.source == node_name:
            edge = edge.copy(source=last.id)
        if edge.target == node_name:
            edge = edge.copy(target=first.id)
        graph.edges[index] = edge
