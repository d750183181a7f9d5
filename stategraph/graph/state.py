"""``StateGraph``: build a graph of nodes over a shared state, then ``compile()`` it."""

from __future__ import annotations

import logging
from typing import Any, Callable, Generic, Optional, Sequence, Union

from stategraph.channels.base import BaseChannel
from stategraph._constants import END, NS_END, NS_SEP, START
from stategraph._deprecated import take_renamed
from stategraph.channels.last_value import LastValue
from stategraph.errors import GraphBuildError
from stategraph.graph._schema import first_param_schema, literal_values, parse_schema
from stategraph.graph._writers import Branch
from stategraph.pregel._call import check_config_annotation, is_runnable, runs_natively_async
from stategraph.pregel._timeout import sync_timeout_error, timeout_policy
from stategraph.graph._compiled import CompiledStateGraph
from stategraph.graph._node_spec import (
    DEFAULT_ERROR_HANDLER,
    ERROR_HANDLER_PREFIX,
    NodeCallable,
    StateNodeSpec,
    node_name,
)
from stategraph.types import CachePolicy, RetryPolicy, TracePolicy
from stategraph.typing import ContextT, InputT, OutputT, StateT

logger = logging.getLogger("stategraph")

__all__ = ["CompiledStateGraph", "StateGraph"]


class StateGraph(Generic[StateT, ContextT, InputT, OutputT]):
    """A graph whose nodes read and write a shared state described by ``state_schema``."""

    def __init__(
        self,
        state_schema: Any = None,
        context_schema: Any = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        **kwargs: Any,
    ) -> None:
        context_schema = context_schema or take_renamed(kwargs, "config_schema")
        input_schema = input_schema or take_renamed(kwargs, "input")
        output_schema = output_schema or take_renamed(kwargs, "output")
        if kwargs:
            raise TypeError(f"StateGraph() got unexpected keyword arguments: {sorted(kwargs)}")
        if state_schema is None:
            if input_schema is None or output_schema is None:
                raise GraphBuildError(
                    "Must provide state_schema or input and output schemas. Fix: "
                    "StateGraph(MyState) where MyState is a TypedDict, dataclass or pydantic model."
                )
            state_schema = input_schema
        self.state_schema = state_schema
        self.context_schema = context_schema
        self.input_schema = input_schema or state_schema
        self.output_schema = output_schema or state_schema
        self.nodes: dict[str, StateNodeSpec] = {}
        self.edges: set[tuple[str, str]] = set()
        self.branches: dict[str, dict[str, Branch]] = {}
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.channels: dict[str, BaseChannel] = {}
        self.managed: dict[str, Any] = {}
        self.schemas: dict[Any, tuple[str, ...]] = {}
        self.compiled = False
        self._node_defaults: dict[str, Any] = {}
        self._add_schema(state_schema)
        self._add_schema(self.input_schema, allow_managed=False)
        self._add_schema(self.output_schema, allow_managed=False)

    # ------------------------------------------------------------------ schemas

    def _add_schema(self, schema: Any, allow_managed: bool = True) -> None:
        if schema in self.schemas:
            if not allow_managed and schema is not self.state_schema:
                self._reject_managed(schema, parse_schema(schema)[1])
            return
        channels, managed = parse_schema(schema)
        if not allow_managed:
            self._reject_managed(schema, managed)
        self._merge_schema(schema, channels, managed)

    def _reject_managed(self, schema: Any, managed: dict[str, Any]) -> None:
        if managed:
            raise GraphBuildError(
                f"Invalid managed channels detected in {getattr(schema, '__name__', schema)}: "
                f"{', '.join(managed)}. Managed values (RemainingSteps, IsLastStep) can only be "
                "part of the state schema or a node's input schema."
            )

    def _merge_schema(self, schema: Any, channels: dict[str, BaseChannel], managed: dict[str, Any]) -> None:
        self.schemas[schema] = tuple(channels) + tuple(managed)
        for key, channel in channels.items():
            existing = self.channels.get(key)
            if existing is None:
                self.channels[key] = channel
            elif isinstance(channel, LastValue):
                continue  # a plain redeclaration never overrides a richer channel
            elif isinstance(existing, LastValue):
                self.channels[key] = channel
            elif existing != channel:
                raise GraphBuildError(
                    f"Channel '{key}' already exists with a different type. Declare key "
                    f"'{key}' with the same reducer/channel in every schema that has it."
                )
        for key, value in managed.items():
            self.managed[key] = value

    # ------------------------------------------------------------------ nodes

    def add_node(
        self,
        node: Any,
        action: Any = None,
        *,
        defer: bool = False,
        metadata: Optional[dict[str, Any]] = None,
        input_schema: Any = None,
        retry_policy: Union[RetryPolicy, Sequence[RetryPolicy], None] = None,
        cache_policy: Optional[CachePolicy] = None,
        destinations: Union[dict[str, str], tuple[str, ...], None] = None,
        timeout: Any = None,
        error_handler: Any = None,
        trace_policy: Optional[TracePolicy] = None,
        **kwargs: Any,
    ) -> StateGraph:
        """Add a node: ``add_node("name", fn)`` or ``add_node(fn)`` (named after ``fn``).

        ``error_handler`` runs, in the same step, when the node fails (after its retries): it
        gets the node's input and ``error: NodeError``, and its return value is applied as the
        node's would have been; the run goes on.
        """
        retry_policy = retry_policy or take_renamed(kwargs, "retry")
        input_schema = input_schema or take_renamed(kwargs, "input")
        if kwargs:
            raise TypeError(
                f"add_node() got unexpected keyword arguments: {sorted(kwargs)}. Supported: "
                "defer, metadata, input_schema, retry_policy, cache_policy, destinations, timeout, "
                "error_handler, trace_policy."
            )
        if not isinstance(node, str):
            action = node
            name = node_name(action)
        else:
            name = node
            if action is None:
                raise GraphBuildError(
                    f"Node '{name}' needs an action: add_node('{name}', my_function)."
                )
        if self.compiled:
            logger.warning(
                "Adding a node to a graph that has already been compiled. This will not be "
                "reflected in the compiled graph."
            )
        if name in self.nodes:
            raise GraphBuildError(f"Node `{name}` already present.")
        if name in (START, END):
            raise GraphBuildError(f"Node `{name}` is reserved.")
        for character in (NS_SEP, NS_END):
            if character in name:
                raise GraphBuildError(
                    f"'{character}' is a reserved character and is not allowed in the node names. "
                    f"Rename node '{name}'."
                )
        if isinstance(action, dict):
            # As LangGraph's coerce_to_runnable: a dict of steps runs them side by side.
            from langchain_core.runnables import RunnableParallel

            action = RunnableParallel(action)
        if callable(action) and not is_runnable(action):
            check_config_annotation(action)
        if input_schema is None:
            input_schema = first_param_schema(action) if not is_runnable(action) else None
        if input_schema is not None:
            self._add_schema(input_schema)
        ends: Union[tuple[str, ...], dict[str, str], None] = None
        if destinations is not None:
            ends = destinations if isinstance(destinations, dict) else tuple(destinations)
        elif callable(action) and not is_runnable(action):
            found = literal_values(action)
            if found:
                ends = tuple(found)
        handler_name = None
        if error_handler is not None:
            handler_name = ERROR_HANDLER_PREFIX + name
            self._add_error_handler(handler_name, error_handler, input_schema or self.state_schema)
        self.nodes[name] = StateNodeSpec(
            runnable=action if is_runnable(action) else NodeCallable(action, name),
            metadata=metadata,
            input_schema=input_schema or self.state_schema,
            retry_policy=retry_policy,
            cache_policy=cache_policy,
            ends=ends,
            defer=defer,
            timeout=timeout_policy(timeout),
            error_handler_node=handler_name,
            trace_policy=trace_policy,
        )
        return self

    def _add_error_handler(self, name: str, handler: Any, input_schema: Any) -> None:
        if not callable(handler):
            raise GraphBuildError(
                f"error_handler for '{name}' must be a function or Runnable taking "
                f"(state, error: NodeError); got {type(handler).__name__}."
            )
        if name in self.nodes:
            raise GraphBuildError(f"Auto-generated error handler node `{name}` already exists.")
        self.nodes[name] = StateNodeSpec(
            runnable=handler,
            metadata=None,
            input_schema=input_schema,
            retry_policy=None,
            cache_policy=None,
            is_error_handler=True,
        )

    def add_edge(self, start_key: Union[str, Sequence[str]], end_key: str) -> StateGraph:
        """Run ``end_key`` after ``start_key``; a list of starts waits for all of them."""
        if self.compiled:
            logger.warning(
                "Adding an edge to a graph that has already been compiled. This will not be "
                "reflected in the compiled graph."
            )
        if isinstance(start_key, str):
            if start_key == END:
                raise GraphBuildError("END cannot be a start node")
            if end_key == START:
                raise GraphBuildError("START cannot be an end node")
            self.edges.add((start_key, end_key))
            return self
        for start in start_key:
            if start == END:
                raise GraphBuildError("END cannot be a start node")
            if start not in self.nodes:
                raise GraphBuildError(f"Need to add_node `{start}` first")
        if end_key not in self.nodes and end_key != END:
            raise GraphBuildError(f"Need to add_node `{end_key}` first")
        self.waiting_edges.add((tuple(start_key), end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: Union[dict[Any, str], list[str], None] = None,
    ) -> StateGraph:
        """After ``source``, call ``path`` on the state to choose the next node(s)."""
        if self.compiled:
            logger.warning(
                "Adding an edge to a graph that has already been compiled. This will not be "
                "reflected in the compiled graph."
            )
        name = getattr(path, "__name__", None) if not is_runnable(path) else path.get_name()
        if not name or name == "<lambda>":
            name = "condition"
        if name in self.branches.get(source, {}):
            raise GraphBuildError(f"Branch with name `{name}` already exists for node `{source}`")
        ends: Optional[dict[Any, str]]
        if isinstance(path_map, dict):
            ends = dict(path_map)
        elif isinstance(path_map, list):
            ends = {item: item for item in path_map}
        elif path_map is None:
            found = literal_values(path) if not is_runnable(path) else None
            ends = {item: item for item in found} if found else None
        else:
            raise GraphBuildError(f"path_map must be a dict or a list, got {type(path_map).__name__}.")
        input_schema = first_param_schema(path) if not is_runnable(path) else None
        if input_schema is not None:
            self._add_schema(input_schema)
        self.branches.setdefault(source, {})[name] = Branch(
            path=path, ends=ends, input_schema=input_schema, name=name
        )
        return self

    def add_sequence(self, nodes: Sequence[Any]) -> StateGraph:
        """Add nodes (actions or ``(name, action)`` pairs) chained by edges."""
        if not nodes:
            raise GraphBuildError("Sequence requires at least one node.")
        previous: Optional[str] = None
        for item in nodes:
            if isinstance(item, tuple) and len(item) == 2:
                name, action = item
            else:
                action = item
                name = node_name(action)
            if name in self.nodes:
                raise GraphBuildError(
                    f"Node names must be unique: node with the name '{name}' already exists. "
                    "If you need to use two different runnables/callables with the same name "
                    "(for example, using `lambda`), please provide them as tuples (name, "
                    "runnable/callable)."
                )
            self.add_node(name, action)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    def set_entry_point(self, key: str) -> StateGraph:
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Callable[..., Any], path_map: Union[dict[Any, str], list[str], None] = None
    ) -> StateGraph:
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph:
        return self.add_edge(key, END)

    def set_node_defaults(
        self,
        *,
        retry_policy: Any = None,
        cache_policy: Any = None,
        error_handler: Any = None,
        timeout: Any = None,
    ) -> StateGraph:
        """Defaults applied at compile time to nodes that lack their own value.

        ``retry_policy`` and ``timeout`` also apply to error-handler nodes (a timeout only to
        async nodes: sync nodes cannot be timed out); ``cache_policy`` and ``error_handler``
        only to regular nodes. Subgraphs do not inherit them.
        """
        if error_handler is not None and not callable(error_handler):
            raise GraphBuildError(
                "set_node_defaults(error_handler=...) must be a function or Runnable taking "
                f"(state, error: NodeError); got {type(error_handler).__name__}."
            )
        for key, value in (
            ("retry_policy", retry_policy),
            ("cache_policy", cache_policy),
            ("error_handler", error_handler),
            ("timeout", timeout),
        ):
            if value is not None:
                self._node_defaults[key] = value
        return self

    def _apply_node_defaults(self) -> None:
        """Give every node the defaults of ``set_node_defaults`` it lacks (run by compile)."""
        defaults = self._node_defaults
        handler = defaults.get("error_handler")
        if handler is not None:
            existing = self.nodes.get(DEFAULT_ERROR_HANDLER)
            if existing is None:
                self._add_error_handler(DEFAULT_ERROR_HANDLER, handler, self.state_schema)
            elif not existing.is_error_handler:  # a node of the graph's own holds the name
                raise GraphBuildError(
                    f"Auto-generated default error handler node `{DEFAULT_ERROR_HANDLER}` already "
                    "exists. set_node_defaults(error_handler=...) adds a node of that name: "
                    "rename the graph's node."
                )
        timeout = defaults.get("timeout")
        for spec in self.nodes.values():
            if not spec.is_error_handler:
                if handler is not None and spec.error_handler_node is None:
                    spec.error_handler_node = DEFAULT_ERROR_HANDLER
                if spec.cache_policy is None:
                    spec.cache_policy = defaults.get("cache_policy")
            if spec.retry_policy is None:
                spec.retry_policy = defaults.get("retry_policy")
            if timeout is not None and spec.timeout is None and runs_natively_async(spec.action):
                spec.timeout = timeout

    # ------------------------------------------------------------------ validation

    def validate(self, interrupt: Optional[Sequence[str]] = None) -> StateGraph:
        problems: list[str] = []
        sources = {src for src, _ in self.edges} | {
            src for srcs, _ in self.waiting_edges for src in srcs
        } | set(self.branches)
        for source in sorted(sources):
            if source not in self.nodes and source != START:
                problems.append(f"Found edge starting at unknown node '{source}'")
        if START not in sources:
            problems.append(
                "Graph must have an entrypoint: add at least one edge from START to another node"
            )
        for source, branches in self.branches.items():
            for name, branch in branches.items():
                if branch.ends is not None:
                    for end in branch.ends.values():
                        if end not in self.nodes and end != END:
                            problems.append(f"At '{source}' node, '{name}' branch found unknown target '{end}'")
        targets = {dst for _, dst in self.edges} | {dst for _, dst in self.waiting_edges}
        for name, spec in self.nodes.items():
            if spec.ends:
                targets.update(spec.ends)
        for target in sorted(targets):
            if target not in self.nodes and target != END:
                problems.append(f"Found edge ending at unknown node `{target}`")
        for name, spec in self.nodes.items():
            if spec.timeout is not None and not runs_natively_async(spec.action):
                problems.append(str(sync_timeout_error(name)))
        if interrupt and interrupt != "*":
            for node in interrupt:
                if node not in self.nodes:
                    problems.append(f"Interrupt node `{node}` not found")
        if problems:
            raise GraphBuildError(
                "\n".join(problems)
                + "\nFix the edges above (every edge and branch must connect nodes added with "
                "add_node, START or END)."
            )
        return self

    # ------------------------------------------------------------------ compile

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Union[str, Sequence[str], None] = None,
        interrupt_after: Union[str, Sequence[str], None] = None,
        debug: bool = False,
        name: Optional[str] = None,
        **kwargs: Any,
    ) -> CompiledStateGraph:
        """Freeze the builder into a runnable graph, validating it first."""
        if checkpointer is not None and checkpointer is not True and checkpointer is not False:
            if not callable(getattr(checkpointer, "get_tuple", None)):
                raise TypeError(
                    f"Invalid checkpointer provided. Expected BaseCheckpointSaver, True, False, or "
                    f"None. Received {type(checkpointer).__name__}. Pass e.g. InMemorySaver()."
                )
        interrupt_before = interrupt_before or []
        interrupt_after = interrupt_after or []
        self.validate(
            interrupt=(
                (list(interrupt_before) if interrupt_before != "*" else [])
                + (list(interrupt_after) if interrupt_after != "*" else [])
            )
        )
        self._apply_node_defaults()
        self._register_schema_types()
        from stategraph.graph._compile import compile_nodes

        nodes, channels, output_channels, stream_channels = compile_nodes(self)
        compiled = CompiledStateGraph(
            builder=self,
            nodes=nodes,
            channels=channels,
            input_channels=START,
            output_channels=output_channels,
            stream_channels=stream_channels,
            stream_mode="updates",
            checkpointer=checkpointer,
            store=store,
            cache=cache,
            interrupt_before_nodes=interrupt_before,
            interrupt_after_nodes=interrupt_after,
            context_schema=self.context_schema,
            debug=debug,
            name=name or "LangGraph",
        )
        self.compiled = True
        return compiled

    def _register_schema_types(self) -> None:
        try:
            from stategraph.checkpoint.serde import collect_schema_types, register_types
        except ImportError:  # pragma: no cover - persistence layer not installed
            return
        found: set[type] = set()
        for schema in self.schemas:
            found |= collect_schema_types(schema)
        if found:
            register_types(*found)
