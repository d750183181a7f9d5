"""From a ``StateGraph`` builder to the plain data the engine runs: nodes and channels.

Everything the loop needs per step is decided here, once: each node's triggers, the keys it
reads, how its input is coerced, and what it writes after running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stategraph.channels.base import BaseChannel
from stategraph.channels.ephemeral_value import EphemeralValue
from stategraph.channels.last_value import LastValueAfterFinish
from stategraph.channels.named_barrier_value import NamedBarrierValue, NamedBarrierValueAfterFinish
from stategraph._constants import END, ROOT, START, TAG_HIDDEN
from stategraph.graph._subgraphs import find_subgraph
from stategraph.graph._schema import make_mapper, schema_keys
from stategraph.graph._writers import Branch, NodeWriter, UpdateWriter
from stategraph.pregel._call import NodeCall
from stategraph.pregel._node import PregelNode
from stategraph.pregel._timeout import timeout_policy

if TYPE_CHECKING:
    from stategraph.graph.state import StateGraph


def _join_channel(sources: tuple[str, ...], target: str) -> str:
    return f"join:{'+'.join(sources)}:{target}"


def _prepare_branch(builder: StateGraph, source: str, branch: Branch, default_schema: Any) -> Branch:
    schema = branch.input_schema or default_schema
    keys = schema_keys(schema)
    reads: Any = ROOT if keys == (ROOT,) else tuple(k for k in keys if k in builder.channels)
    return Branch(
        path=branch.path,
        ends=branch.ends,
        input_schema=branch.input_schema,
        name=branch.name,
        call=NodeCall(branch.path, branch.name),
        reads=reads,
        # The branch sees the state as its schema's class (a pydantic model or dataclass).
        mapper=make_mapper(schema),
    )


def compile_nodes(
    builder: StateGraph,
) -> tuple[dict[str, PregelNode], dict[str, BaseChannel], Any, Any]:
    channels: dict[str, BaseChannel] = {k: v.copy() for k, v in builder.channels.items()}
    root = list(channels) == [ROOT]
    state_keys = frozenset(channels)
    channels[START] = EphemeralValue(builder.input_schema, key=START)

    for name, spec in builder.nodes.items():
        if spec.is_error_handler:
            continue
        key = f"branch:to:{name}"
        channels[key] = LastValueAfterFinish(Any, key=key) if spec.defer else EphemeralValue(Any, guard=False, key=key)

    join_writes: dict[str, list[tuple[str, Any]]] = {}
    join_triggers: dict[str, list[str]] = {}
    for sources, target in sorted(builder.waiting_edges):
        if target == END:
            continue  # as LangGraph's: nothing waits to end, the run ends when no task is left
        key = _join_channel(sources, target)
        barrier = NamedBarrierValueAfterFinish if builder.nodes[target].defer else NamedBarrierValue
        channels[key] = barrier(str, set(sources), key=key)
        join_triggers.setdefault(target, []).append(key)
        for source in sources:
            join_writes.setdefault(source, []).append((key, source))

    def static_writes(source: str) -> list[tuple[str, Any]]:
        writes = [
            (f"branch:to:{target}", None)
            for start, target in sorted(builder.edges)
            if start == source and target != END
        ]
        writes.extend(join_writes.get(source, ()))
        return writes

    def branches(source: str, default_schema: Any) -> list[Branch]:
        return [
            _prepare_branch(builder, source, branch, default_schema)
            for branch in builder.branches.get(source, {}).values()
        ]

    nodes: dict[str, PregelNode] = {}
    input_keys = frozenset(k for k in schema_keys(builder.input_schema) if k in state_keys)
    nodes[START] = PregelNode(
        name=START,
        triggers=(START,),
        reads=START,
        call=None,
        write=NodeWriter(
            UpdateWriter(input_keys, root, START),
            static_writes(START),
            branches(START, builder.state_schema),
            state_keys,
        ),
        hidden=True,
        tags=(TAG_HIDDEN,),
    )
    for name, spec in builder.nodes.items():
        keys = schema_keys(spec.input_schema)
        if root:
            reads: Any = ROOT
        else:
            reads = tuple(k for k in keys if k in state_keys)
        managed = {k: builder.managed[k] for k in keys if k in builder.managed}
        action = spec.action
        subgraph = find_subgraph(action)
        retry = spec.retry_policy or ()
        nodes[name] = PregelNode(
            name=name,
            # An error handler is never triggered by channels: the loop schedules it for a failure.
            triggers=() if spec.is_error_handler else (f"branch:to:{name}", *join_triggers.get(name, ())),
            reads=reads,
            call=NodeCall(action, name),
            write=NodeWriter(
                UpdateWriter(state_keys, root, name),
                static_writes(name),
                branches(name, spec.input_schema),
                state_keys,
            ),
            mapper=make_mapper(spec.input_schema),
            managed=managed,
            retry_policy=(retry,) if hasattr(retry, "max_attempts") else tuple(retry or ()),
            cache_policy=spec.cache_policy,
            metadata=dict(spec.metadata or {}),
            subgraphs=() if subgraph is None else (subgraph,),
            timeout=timeout_policy(spec.timeout),
            error_handler=spec.error_handler_node,
            is_error_handler=spec.is_error_handler,
            trace_policy=spec.trace_policy,
        )

    output_keys = schema_keys(builder.output_schema)
    if root:
        output: Any = ROOT
        stream: Any = ROOT
    else:
        output = tuple(k for k in output_keys if k in state_keys)
        stream = tuple(k for k in channels if k in state_keys)
    return nodes, channels, output, stream
