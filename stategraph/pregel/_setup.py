"""Setting up a run: its config, its parent (when it runs as a subgraph), its loop.

Mixed into ``Pregel``. A graph invoked inside another graph's task inherits that task's
checkpointer, namespace, stream, store, context and resume answers from its config.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

from stategraph._context import current_task
from stategraph._constants import CONFIG_KEY_NODE_FINISHED, NS_END, NS_SEP
from stategraph.pregel._loop import PregelLoop
from stategraph.pregel._stream import StreamOut
from stategraph.runtime import Runtime
from stategraph.warnings import LangGraphDeprecatedSinceV10

ALL_MODES = frozenset({"values", "updates", "checkpoints", "tasks", "debug", "messages", "custom", "tools"})
EAGER_MODES = frozenset({"custom", "messages"})  # as LangGraph: "tools" events come after the task


def _strip_task_ids(namespace: str) -> str:
    return NS_SEP.join(part.split(NS_END)[0] for part in namespace.split(NS_SEP))


def with_handler(callbacks: Any, handler: Any) -> Any:
    if callbacks is None:
        return [handler]
    if isinstance(callbacks, list):
        return [*callbacks, handler]
    manager = callbacks.copy()
    manager.add_handler(handler, inherit=True)
    return manager


def resolve_durability(durability: Optional[str], checkpoint_during: Optional[bool]) -> Optional[str]:
    if checkpoint_during is not None:
        if durability is not None:
            raise ValueError(
                "Cannot use both checkpoint_during and durability. checkpoint_during is "
                "deprecated: use durability='async' (for True) or 'exit' (for False)."
            )
        warnings.warn(
            "`checkpoint_during` is deprecated and will be removed. Please use `durability` "
            "instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=3,
        )
        return "async" if checkpoint_during else "exit"
    if durability is not None and durability not in ("sync", "async", "exit"):
        raise ValueError(f"Unknown durability {durability!r}. Choose 'sync', 'async' or 'exit'.")
    return durability


# Configurable keys a run's metadata carries too (as LangGraph's run config does), so every
# callback handler and trace sees which thread and run an event belongs to.
PROPAGATED_TO_METADATA = (
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "task_id",
    "run_id",
    "assistant_id",
    "graph_id",
)


def with_propagated_metadata(config: dict[str, Any]) -> None:
    configurable = config.get("configurable") or {}
    metadata = dict(config.get("metadata") or {})
    for key in PROPAGATED_TO_METADATA:
        value = configurable.get(key)
        if value and key not in metadata:
            metadata[key] = value
    config["metadata"] = metadata


def merge_configs(*configs: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for config in configs:
        if not config:
            continue
        for key, value in config.items():
            if key in ("configurable", "metadata") and key in merged:
                merged[key] = {**merged[key], **(value or {})}
            elif key == "tags" and key in merged:
                merged[key] = [*merged[key], *[t for t in (value or ()) if t not in merged[key]]]
            elif key in ("configurable", "metadata"):
                merged[key] = dict(value or {})
            else:
                merged[key] = value
    return merged


def merge_callbacks(bound: Any, given: Any) -> Any:
    """Callbacks bound with ``with_config`` and those of the call, both kept (as LangChain's
    ``merge_configs``): lists join; a callback manager takes the other side's handlers."""
    if isinstance(bound, (list, tuple)) and isinstance(given, (list, tuple)):
        return [*bound, *given]
    if isinstance(given, (list, tuple)):
        manager = bound.copy()
        for handler in given:
            manager.add_handler(handler, inherit=True)
        return manager
    if isinstance(bound, (list, tuple)):
        manager = given.copy()
        for handler in bound:
            manager.add_handler(handler, inherit=True)
        return manager
    return bound.merge(given)


# A config naming any of these addresses its own checkpoints: a graph invoked with it inside
# another graph's node runs as a root graph (its own thread or namespace), not as a subgraph.
CHECKPOINT_COORDINATES = ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map")


class RunSetup:
    """``Pregel``'s run setup methods."""

    def _resolve_run(
        self, config: Optional[dict[str, Any]]
    ) -> tuple[dict[str, Any], Optional[dict[str, Any]]]:
        """The run's config, and the parent task's configurable when this is a subgraph run."""
        bound, given = self.config, config or {}
        config = merge_configs(bound, given)
        if bound.get("callbacks") and given.get("callbacks"):
            config["callbacks"] = merge_callbacks(bound["callbacks"], given["callbacks"])
        configurable = config.get("configurable") or {}
        if "__pregel_task_id" in configurable:
            return config, configurable
        task = current_task.get()
        if task is not None and not any(key in configurable for key in CHECKPOINT_COORDINATES):
            parent = task.config
            merged = merge_configs(parent, config)
            return merged, merged["configurable"]
        return config, None

    def _make_loop(
        self,
        input: Any,
        config: Optional[dict[str, Any]],
        *,
        context: Any,
        modes: frozenset[str],
        sink: Any,
        subgraphs: bool,
        output_keys: Any,
        interrupt_before: Any,
        interrupt_after: Any,
        durability: Optional[str],
        messages_handler: Any = None,
        control: Any = None,
        tools_handler: Any = None,
    ) -> tuple[PregelLoop, Any]:
        config, parent = self._resolve_run(config)
        with_propagated_metadata(config)
        configurable = config.setdefault("configurable", {})
        checkpointer = self.checkpointer
        if parent is None:
            if checkpointer is True:
                raise RuntimeError(
                    "checkpointer=True cannot be used for root graphs. It means 'keep this "
                    "subgraph's own history under the parent's checkpointer'; pass a "
                    "checkpointer instance (e.g. InMemorySaver()) to compile() instead."
                )
            checkpointer = checkpointer or None
            checkpoint_ns = ""
            stream_parent = None
            resuming = None
            inbox = None
            # A layer above the run (a server) may seed the runtime slot: a Runtime is the
            # parent's; another object lends its context.
            seeded = configurable.get("__pregel_runtime")
            parent_runtime = _adopted_runtime(seeded)
            store = self.store if seeded is None else getattr(seeded, "store", None)
            cache = self.cache
            durability = durability or "async"
        else:
            parent_saver = parent.get("__pregel_checkpointer")
            task_ns = parent.get("checkpoint_ns", "")
            task = current_task.get()
            if task is not None and parent.get("__pregel_task_id") == task.scratchpad.task_id:
                # The 2nd, 3rd... graph this task runs gets a namespace of its own.
                counter = task.scratchpad.subgraph_counter
                task.scratchpad.subgraph_counter += 1
                if counter:
                    task_ns = f"{task_ns}{NS_SEP}{counter}"
            if checkpointer is False:
                checkpointer = None
            elif checkpointer is True:
                checkpointer = parent_saver
                task_ns = _strip_task_ids(task_ns)
            elif checkpointer is None:
                checkpointer = parent_saver
            checkpoint_ns = task_ns
            stream_parent = parent.get("__pregel_stream")
            resuming = bool(parent.get("__pregel_resuming"))
            inbox = parent.get("__pregel_inbox")
            parent_runtime = parent.get("__pregel_runtime")
            store = self.store if self.store is not None else parent.get("__pregel_store")
            cache = self.cache  # as LangGraph: a parent's node cache does not reach its subgraphs
            durability = durability or parent.get("__pregel_durability") or "async"
            configurable = {
                k: v
                for k, v in configurable.items()
                if not k.startswith("__pregel_") or k == CONFIG_KEY_NODE_FINISHED
            }
            configurable.pop("checkpoint_id", None)
            config["configurable"] = configurable
            if context is None and parent_runtime is not None:
                context = parent_runtime.context
        if checkpointer is not None and configurable.get("thread_id") is None:
            if parent is None:
                raise ValueError(
                    "Checkpointer requires one or more of the following 'configurable' keys: "
                    "thread_id, checkpoint_ns, checkpoint_id. Pass "
                    'config={"configurable": {"thread_id": "some-id"}} to name the thread to '
                    "save to and resume from."
                )
        if context is not None:
            context = self._coerce_context(context)
        for handler in (messages_handler, tools_handler):
            if handler is not None:
                config["callbacks"] = with_handler(config.get("callbacks"), handler)
                if parent is not None:
                    # A node streaming a subgraph itself gets that graph's own events.
                    handler.parent_ns = tuple(checkpoint_ns.split(NS_SEP)) if checkpoint_ns else ()
        if messages_handler is None and stream_parent is not None:
            # Already among the callbacks this run inherits; the loop reports its nodes' outputs.
            messages_handler = stream_parent.messages_handler
        ns_tuple = tuple(checkpoint_ns.split(NS_SEP)) if checkpoint_ns else ()
        out = StreamOut(
            ns=ns_tuple,
            modes=modes,
            sink=sink,
            parent=stream_parent,
            subgraphs=subgraphs,
            messages_handler=messages_handler,
        )
        loop = PregelLoop(
            self,
            config=config,
            checkpointer=checkpointer,
            store=store,
            cache=cache,
            context=context,
            out=out,
            durability=durability,
            interrupt_before=interrupt_before or self.interrupt_before_nodes,
            interrupt_after=interrupt_after or self.interrupt_after_nodes,
            output_keys=output_keys if output_keys is not None else self.output_channels,
            stream_keys=output_keys if output_keys is not None else self.stream_channels_resolved,
            checkpoint_ns=checkpoint_ns,
            resuming=resuming,
            inbox=inbox,
            parent_runtime=parent_runtime,
            control=control,
        )
        if parent is not None:
            loop.replay = parent.get("__pregel_replay")
        return loop, checkpointer

    def _coerce_context(self, context: Any) -> Any:
        schema = self.context_schema
        if isinstance(context, dict) and schema is not None and isinstance(schema, type):
            if hasattr(schema, "model_validate") or hasattr(schema, "__dataclass_fields__"):
                return schema(**context)
        return context

    def _modes(self, stream_mode: Any) -> tuple[frozenset[str], bool]:
        if stream_mode is None:
            stream_mode = self.stream_mode
        if isinstance(stream_mode, str):
            modes = (stream_mode,)
            single = True
        else:
            modes = tuple(stream_mode)
            single = False
        unknown = [m for m in modes if m not in ALL_MODES]
        if unknown:
            raise ValueError(
                f"Unknown stream_mode {unknown[0]!r}. Choose from: {', '.join(sorted(ALL_MODES))}."
            )
        return frozenset(modes), single

    def _tools_handler(self, modes: frozenset[str], subgraphs: bool, sink: Any) -> Any:
        if "tools" not in modes:
            return None
        from stategraph.pregel._tools_stream import StreamToolCallHandler

        return StreamToolCallHandler(lambda ns, item: sink((ns, "tools", item)), subgraphs)

    def _messages_handler(self, modes: frozenset[str], subgraphs: bool, sink: Any) -> Any:
        if "messages" not in modes:
            return None
        from stategraph.pregel._messages import StreamMessagesHandler

        return StreamMessagesHandler(lambda ns, item: sink((ns, "messages", item)), subgraphs)


def _adopted_runtime(seeded: Any) -> Optional[Runtime]:
    if seeded is None or isinstance(seeded, Runtime):
        return seeded
    return Runtime(context=getattr(seeded, "context", None))
