"""``Pregel``: a compiled graph and the ways to run it (invoke, stream, batch; sync and async).

A thin facade: the graph is plain data computed once at construction; each run builds a
``PregelLoop`` and hands it to the sync or async driver. State reading and writing
(``get_state``, ``update_state``...) live in ``_state.py``.
"""

from __future__ import annotations

import asyncio
import os
import queue
from collections import deque
from contextlib import aclosing
from typing import Any, AsyncIterator, Generic, Iterator, Optional, Sequence, Union

from stategraph._constants import END, NS_SEP, START, TASKS
from stategraph._deprecated import take_renamed
from stategraph.channels.base import BaseChannel
from stategraph.channels.delta import DeltaChannel
from stategraph.channels.topic import Topic
from stategraph.channels.untracked_value import UntrackedValue
from stategraph.errors import GraphInterrupt
from stategraph.pregel._callbacks import aend_run, astart_graph_run, end_run, start_graph_run
from stategraph.pregel._batch import BatchMethods
from stategraph.pregel._call import runs_natively_async
from stategraph.pregel._driver import _WAKE, drive_async, drive_sync
from stategraph.pregel._timeout import sync_timeout_error
from stategraph.pregel._events import EventMethods
from stategraph.pregel._loop import PregelLoop
from stategraph.pregel._node import PregelNode
from stategraph.pregel._output import StreamShape, invoke_output
from stategraph.pregel._schemas import SchemaMethods
from stategraph.pregel._setup import EAGER_MODES, RunSetup, merge_configs, resolve_durability
from stategraph.pregel._state import StateMethods
from stategraph.pregel._updates import UpdateMethods
from stategraph.types import Command, Interrupt, Send
from stategraph.typing import ContextT, InputT, OutputT, StateT

DEFAULT_RECURSION_LIMIT = int(
    os.getenv("STATEGRAPH_DEFAULT_RECURSION_LIMIT", os.getenv("LANGGRAPH_DEFAULT_RECURSION_LIMIT", "10007"))
)



class Pregel(
    RunSetup,
    StateMethods,
    UpdateMethods,
    BatchMethods,
    EventMethods,
    SchemaMethods,
    Generic[StateT, ContextT, InputT, OutputT],
):
    """A compiled graph: nodes subscribed to channels, run in supersteps.

    Subclassed by ``CompiledStateGraph``; also usable directly (LangGraph's low-level API).
    """

    def __init__(
        self,
        *,
        nodes: dict[str, Any],
        channels: Optional[dict[str, BaseChannel]] = None,
        input_channels: Union[str, Sequence[str]],
        output_channels: Union[str, Sequence[str]],
        stream_channels: Optional[Union[str, Sequence[str]]] = None,
        stream_mode: str = "values",
        interrupt_before_nodes: Union[str, Sequence[str]] = (),
        interrupt_after_nodes: Union[str, Sequence[str]] = (),
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        retry_policy: Any = (),
        cache_policy: Any = None,
        context_schema: Any = None,
        step_timeout: Optional[float] = None,
        debug: Optional[bool] = None,
        name: str = "LangGraph",
        config: Optional[dict[str, Any]] = None,
        trigger_to_nodes: Optional[dict[str, tuple[str, ...]]] = None,
        auto_validate: bool = True,
        **deprecated_kwargs: Any,
    ) -> None:
        context_schema = context_schema or take_renamed(deprecated_kwargs, "config_type")
        if deprecated_kwargs:
            raise TypeError(f"Pregel() got unexpected keyword arguments: {sorted(deprecated_kwargs)}")
        self.nodes: dict[str, PregelNode] = {
            name: (node.build() if hasattr(node, "build") else node) for name, node in nodes.items()
        }
        for key, node in self.nodes.items():
            if not node.name:
                node.name = key
        self.channels: dict[str, BaseChannel] = dict(channels or {})
        if TASKS not in self.channels:
            self.channels[TASKS] = Topic(Send, key=TASKS)
        for key, channel in self.channels.items():
            channel.key = key
        self.input_channels = input_channels
        self.output_channels = output_channels
        self.stream_channels = stream_channels
        self.stream_mode = stream_mode
        self.interrupt_before_nodes = interrupt_before_nodes
        self.interrupt_after_nodes = interrupt_after_nodes
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.retry_policy = retry_policy
        self.cache_policy = cache_policy
        self.context_schema = context_schema
        self.step_timeout = step_timeout
        self.debug = bool(debug)
        self.name = name
        self.config = config or {}
        self.recursion_limit = DEFAULT_RECURSION_LIMIT
        # What get_graph() and the JSON Schemas show (set by the functional API).
        self.drawn_edges: Optional[list[tuple[str, str]]] = None
        # Set by the functional API: an entrypoint's task calls are streamed while it runs, so
        # the entrypoint runs off the streaming thread.
        self.streams_while_running = False
        self._index(trigger_to_nodes)
        if auto_validate:
            self.validate()

    def validate(self) -> Pregel:
        """Check what the graph's nodes ask for that their bodies cannot do; returns self."""
        for name, node in self.nodes.items():
            steps = getattr(node.call, "action", None) if node.call is not None else None
            # NodeBuilder nodes; StateGraph and the functional API check theirs as they build.
            if node.timeout is not None and hasattr(steps, "__stategraph_steps__"):
                if not runs_natively_async(steps):
                    raise sync_timeout_error(name)
        return self

    def _index(self, trigger_to_nodes: Optional[dict[str, tuple[str, ...]]]) -> None:
        """Everything the loop derives from the graph, computed once."""
        if trigger_to_nodes is None:
            index: dict[str, list[str]] = {}
            for name, node in self.nodes.items():
                for trigger in node.triggers:
                    index.setdefault(trigger, []).append(name)
            trigger_to_nodes = {k: tuple(sorted(v)) for k, v in index.items()}
        self.trigger_to_nodes = trigger_to_nodes
        self.node_names = tuple(self.nodes)  # planning without known updates: insertion order
        # Channels reduced by add_messages: their messages get ids when a task writes them.
        self.message_channels = frozenset(
            name
            for name, channel in self.channels.items()
            if getattr(getattr(channel, "operator", None), "assigns_message_ids", False)
        )
        # DeltaChannel keys: their messages get ids (and message dicts become messages) when
        # written, as in LangGraph, since their reducers need not assign any.
        self.delta_channels = frozenset(
            name for name, channel in self.channels.items() if isinstance(channel, DeltaChannel)
        )
        self.finishing = tuple(
            name
            for name, channel in self.channels.items()
            if type(channel).finish is not BaseChannel.finish
        )
        self.untracked_channels = frozenset(
            name for name, channel in self.channels.items() if isinstance(channel, UntrackedValue)
        )
        # As LangGraph: without stream_channels, "values" and get_state show every channel.
        stream = self.stream_channels or [name for name in self.channels if name != TASKS]
        self.stream_channels_resolved = stream
        self.stream_channel_set = frozenset([stream] if isinstance(stream, str) else stream)
        self.single_stream_channel = stream if isinstance(stream, str) else None
        output = self.output_channels
        self.output_channel_set = frozenset([output] if isinstance(output, str) else output)
        # Runtime.execution_info costs a little per task: build it only for nodes that ask.
        self.needs_execution_info = any(
            node.call is not None and "runtime" in node.call.inject for node in self.nodes.values()
        )

    # -------------------------------------------------------------- hooks the loop uses

    def map_input(self, input: Any) -> list[tuple[str, Any]]:
        if isinstance(self.input_channels, str):
            return [(self.input_channels, input)]
        if not isinstance(input, dict):
            raise TypeError(
                f"Expected a dict input with keys among {list(self.input_channels)}, got "
                f"{type(input).__name__}."
            )
        return [(k, v) for k, v in input.items() if k in self.input_channels]

    def map_command_update(self, command: Command) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in command._update_as_tuples() if k in self.channels]

    def coerce_output(self, value: Any) -> Any:
        return value

    # -------------------------------------------------------------- configuration

    def get_name(self, suffix: Optional[str] = None) -> str:
        return f"{self.name}{suffix}" if suffix else self.name

    def with_config(self, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Pregel:
        clone = self.copy()
        clone.config = merge_configs(self.config, config or {}, kwargs)
        return clone

    # -------------------------------------------------------------- composing (LCEL)

    def _as_runnable(self) -> Any:
        """This graph as a LangChain ``Runnable`` (see ``_runnable``)."""
        from stategraph.pregel._runnable import GraphRunnable  # langchain-core only when composed

        return GraphRunnable(self)

    def __or__(self, other: Any) -> Any:
        return self._as_runnable() | other

    def pipe(self, *others: Any, name: Optional[str] = None) -> Any:
        return self._as_runnable().pipe(*others, name=name)

    def astream_log(self, input: Any, config: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        """LangChain's ``Runnable.astream_log`` of this graph: its run as JSON-patch logs."""
        return self._as_runnable().astream_log(input, config, **kwargs)

    def map(self) -> Any:
        """A ``Runnable`` that invokes this graph on each item of a list input."""
        return self._as_runnable().map()

    def copy(self, update: Optional[dict[str, Any]] = None) -> Pregel:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        if update:
            clone.__dict__.update(update)
        return clone


    # -------------------------------------------------------------- streaming


    def stream(
        self,
        input: Any,
        config: Optional[dict[str, Any]] = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        print_mode: Any = (),
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: Optional[str] = None,
        control: Any = None,
        subgraphs: bool = False,
        debug: Optional[bool] = None,
        checkpoint_during: Optional[bool] = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding chunks of the chosen stream mode(s) as they come."""
        durability = resolve_durability(durability, checkpoint_during)
        modes, single = self._modes(stream_mode)
        events: deque = deque()
        wake: queue.SimpleQueue[Any] = queue.SimpleQueue()
        eager = subgraphs or self.streams_while_running or bool(modes & EAGER_MODES)

        def sink(event: Any) -> None:
            events.append(event)
            if eager:
                wake.put(_WAKE)

        loop, saver = self._make_loop(
            input,
            config,
            context=context,
            modes=modes,
            sink=sink,
            subgraphs=subgraphs,
            output_keys=output_keys,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            messages_handler=self._messages_handler(modes, subgraphs, sink),
            tools_handler=self._tools_handler(modes, subgraphs, sink),
            control=control,
        )
        shape = StreamShape(single, subgraphs, version, modes, self.coerce_output)
        run = start_graph_run(loop.config, self.name, input)
        loop.run_id = getattr(run, "run_id", None)
        loop.refresh_callbacks()
        try:
            for event in drive_sync(loop, saver, input, events, wake, eager):
                yield shape(event)
            self._raise_if_nested_interrupt(loop)
        except BaseException as error:
            end_run(run, error=error)
            raise
        end_run(run, loop.output)

    async def astream(
        self,
        input: Any,
        config: Optional[dict[str, Any]] = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        print_mode: Any = (),
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: Optional[str] = None,
        control: Any = None,
        subgraphs: bool = False,
        debug: Optional[bool] = None,
        checkpoint_during: Optional[bool] = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async ``stream``."""
        durability = resolve_durability(durability, checkpoint_during)
        modes, single = self._modes(stream_mode)
        events: deque = deque()
        wake = asyncio.Event()
        running = asyncio.get_running_loop()
        import threading

        loop_thread = threading.get_ident()

        def sink(event: Any) -> None:
            events.append(event)
            if threading.get_ident() == loop_thread:
                wake.set()
            else:
                running.call_soon_threadsafe(wake.set)

        loop, saver = self._make_loop(
            input,
            config,
            context=context,
            modes=modes,
            sink=sink,
            subgraphs=subgraphs,
            output_keys=output_keys,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            messages_handler=self._messages_handler(modes, subgraphs, sink),
            tools_handler=self._tools_handler(modes, subgraphs, sink),
            control=control,
        )
        eager = subgraphs or self.streams_while_running or bool(modes & EAGER_MODES)
        shape = StreamShape(single, subgraphs, version, modes, self.coerce_output)
        run = await astart_graph_run(loop.config, self.name, input)
        loop.run_id = getattr(run, "run_id", None)
        loop.refresh_callbacks()
        try:
            # Closed with this stream: a consumer that stops reading stops the run at once.
            async with aclosing(drive_async(loop, saver, input, events, wake, eager)) as driven:
                async for event in driven:
                    yield shape(event)
            self._raise_if_nested_interrupt(loop)
        except BaseException as error:
            await aend_run(run, error=error)
            raise
        await aend_run(run, loop.output)

    @staticmethod
    def _raise_if_nested_interrupt(loop: PregelLoop) -> None:
        if loop.is_nested and loop.status in ("interrupted", "interrupt_before", "interrupt_after"):
            raise GraphInterrupt(tuple(loop.interrupts))

    # -------------------------------------------------------------- invoke

    def invoke(
        self,
        input: Any,
        config: Optional[dict[str, Any]] = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        print_mode: Any = (),
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: Optional[str] = None,
        control: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end (or to an interrupt) and return its output."""
        if stream_mode != "values":
            return list(
                self.stream(
                    input,
                    config,
                    context=context,
                    stream_mode=stream_mode,
                    output_keys=output_keys,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    durability=durability,
                    control=control,
                    version=version,
                    **kwargs,
                )
            )
        events: deque = deque()
        loop, saver = self._make_loop(
            input,
            config,
            context=context,
            modes=frozenset(),
            sink=None,
            subgraphs=False,
            output_keys=output_keys,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=resolve_durability(durability, kwargs.get("checkpoint_during")),
            control=control,
        )
        run = start_graph_run(loop.config, self.name, input)
        loop.run_id = getattr(run, "run_id", None)
        loop.refresh_callbacks()
        try:
            for _ in drive_sync(loop, saver, input, events, queue.SimpleQueue(), False, unseen=True):
                pass
            self._raise_if_nested_interrupt(loop)
        except BaseException as error:
            end_run(run, error=error)
            raise
        end_run(run, loop.output)
        return invoke_output(loop, version)

    async def ainvoke(
        self,
        input: Any,
        config: Optional[dict[str, Any]] = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        print_mode: Any = (),
        output_keys: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: Optional[str] = None,
        control: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Async ``invoke``."""
        if stream_mode != "values":
            return [
                chunk
                async for chunk in self.astream(
                    input,
                    config,
                    context=context,
                    stream_mode=stream_mode,
                    output_keys=output_keys,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    durability=durability,
                    control=control,
                    version=version,
                    **kwargs,
                )
            ]
        events: deque = deque()
        loop, saver = self._make_loop(
            input,
            config,
            context=context,
            modes=frozenset(),
            sink=None,
            subgraphs=False,
            output_keys=output_keys,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=resolve_durability(durability, kwargs.get("checkpoint_during")),
            control=control,
        )
        run = await astart_graph_run(loop.config, self.name, input)
        loop.run_id = getattr(run, "run_id", None)
        loop.refresh_callbacks()
        try:
            async for _ in drive_async(loop, saver, input, events, asyncio.Event(), False):
                pass
            self._raise_if_nested_interrupt(loop)
        except BaseException as error:
            await aend_run(run, error=error)
            raise
        await aend_run(run, loop.output)
        return invoke_output(loop, version)

    # -------------------------------------------------------------- introspection

    def get_graph(self, config: Optional[dict[str, Any]] = None, *, xray: Union[bool, int] = False) -> Any:
        """A drawable picture of the graph: its nodes, then ``__start__`` and ``__end__``."""
        from stategraph.graph._draw_graph import Graph

        graph = Graph()
        for name, node in self.nodes.items():
            if not node.hidden:
                graph.add_node(node.call.action if node.call is not None else None, name)
        graph.add_node(None, START)
        graph.add_node(None, END)
        edges = self.drawn_edges or [
            (START, name) for name, node in self.nodes.items() if self.input_channels in node.triggers
        ]
        for source, target in edges:
            graph.add_edge(graph.nodes[source], graph.nodes[target])
        return graph

    def get_subgraphs(
        self, *, namespace: Optional[str] = None, recurse: bool = False
    ) -> Iterator[tuple[str, Pregel]]:
        """The ``(namespace, subgraph)`` pairs of this graph's nodes (and theirs, with
        ``recurse``). ``namespace`` (``parent|child``, without task ids) yields only the subgraph
        at exactly that namespace, matched segment by segment; a nested one needs ``recurse``."""
        for name, node in self.nodes.items():
            if namespace is not None and namespace != name and not namespace.startswith(name + NS_SEP):
                continue
            subgraph = node.subgraphs[0] if node.subgraphs else None
            if subgraph is None:
                continue
            if name == namespace:
                yield name, subgraph
                return
            if namespace is None:
                yield name, subgraph
            if recurse and isinstance(subgraph, Pregel):
                child_namespace = None if namespace is None else namespace[len(name) + 1 :]
                for child_name, child in subgraph.get_subgraphs(namespace=child_namespace, recurse=True):
                    yield f"{name}{NS_SEP}{child_name}", child

    async def aget_subgraphs(
        self, *, namespace: Optional[str] = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, Pregel]]:
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item

    def clear_cache(self, nodes: Optional[Sequence[str]] = None) -> None:
        if self.cache is None:
            raise ValueError("No cache is set for this graph. Compile with cache=InMemoryCache().")
        from stategraph.cache import cache_namespace_name, node_cache_namespace

        names = nodes if nodes is not None else list(self.nodes)
        self.cache.clear(
            [
                node_cache_namespace(cache_namespace_name(node.call.action), name)
                for name in names
                if (node := self.nodes.get(name)) is not None and node.call is not None
            ]
        )

    async def aclear_cache(self, nodes: Optional[Sequence[str]] = None) -> None:
        self.clear_cache(nodes)


__all__ = ["Interrupt", "Pregel"]
