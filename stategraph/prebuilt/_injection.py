"""Tool arguments the graph supplies instead of the model: state, store and ``ToolRuntime``.

Which arguments of a tool are injected is read once, when the ``ToolNode`` is built; per call,
the model's values for those arguments are dropped and the graph's values put in their place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import (
    Annotated,
    Any,
    Generic,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from langchain_core.messages import ToolCall
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolArg
from langchain_core.tools.base import _DirectlyInjectedToolArg
from typing_extensions import TypeVar

from stategraph.runtime import ExecutionInfo, ServerInfo

try:
    from types import UnionType
except ImportError:  # pragma: no cover - Python < 3.10
    UnionType = Union  # type: ignore[assignment,misc]

__all__ = ["InjectedState", "InjectedStore", "ToolInjections", "ToolRuntime", "inject_arguments", "injections_of"]

# Defaults make ``ToolRuntime[Context]`` complete, as in LangGraph. They are ``Any`` where
# LangGraph has ``None`` and ``dict``: pydantic reads the defaults when langchain-core builds a
# tool's argument model, and would warn for every call whose context or state is not of them.
ContextT = TypeVar("ContextT", default=Any)
StateT = TypeVar("StateT", default=Any)


class InjectedState(InjectedToolArg):
    """Mark a tool argument as the graph state (hidden from the model).

    ``Annotated[dict, InjectedState]`` receives the whole state; ``Annotated[list,
    InjectedState("messages")]`` receives one key of it.
    """

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(InjectedToolArg):
    """Mark a tool argument as the graph's store: ``Annotated[BaseStore, InjectedStore()]``.

    The graph must be compiled with ``store=...``.
    """


def _no_op_writer(_: Any) -> None:
    return None


@dataclass(frozen=True)
class ToolRuntime(_DirectlyInjectedToolArg, Generic[ContextT, StateT]):
    """What a tool can reach besides its arguments; give a tool a ``runtime: ToolRuntime`` parameter.

    ``state`` is the graph state the tool call came from, ``tool_call_id`` the id of the call,
    ``config`` the task's config; ``context``, ``store`` and ``stream_writer`` are the graph
    run's (see ``stategraph.runtime.Runtime``). Hidden from the model's view of the tool.
    """

    state: StateT
    context: ContextT
    config: RunnableConfig
    stream_writer: Callable[[Any], None]
    tool_call_id: str | None
    store: Any
    tools: list[BaseTool] = field(default_factory=list)
    execution_info: ExecutionInfo | None = None
    server_info: ServerInfo | None = None

    def emit_output_delta(self, delta: Any) -> None:
        """Stream a partial output of this tool call: a ``tool-output-delta`` event of the
        ``tools`` stream mode. Does nothing when the run does not stream ``tools``."""
        from stategraph.pregel._tools_stream import current_tool_writer

        writer = current_tool_writer()
        if writer is not None:
            writer(delta)


@dataclass(frozen=True, slots=True)
class ToolInjections:
    """The injected arguments of one tool, found once from its signature and args schema."""

    state: dict[str, str | None]  # argument -> state key (None: the whole state)
    optional_state: frozenset[str]  # state arguments with a default: a missing key is skipped
    store: str | None
    runtime: str | None
    hidden: frozenset[str]  # every argument the model may not set

    def __bool__(self) -> bool:
        return bool(self.state or self.store or self.runtime or self.hidden)


def _annotations_of(tool: BaseTool) -> dict[str, Any]:
    annotations: dict[str, Any] = {}
    function = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    schema = getattr(tool, "args_schema", None)
    for source in (function, schema if isinstance(schema, type) else None):
        if source is None:
            continue
        try:
            annotations.update(get_type_hints(source, include_extras=True))
        except Exception:  # unresolvable forward references: fall back to raw annotations
            annotations.update(getattr(source, "__annotations__", {}))
    annotations.pop("return", None)
    return annotations


def _find_marker(annotation: Any, marker: type) -> Any:
    """The ``marker`` instance (or class) in an annotation, looking into Annotated and Union."""
    if isinstance(annotation, marker) or (isinstance(annotation, type) and issubclass(annotation, marker)):
        return annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        found = _find_marker(get_args(annotation)[0], marker)
        if found is not None:
            return found
        for extra in annotation.__metadata__:
            found = _find_marker(extra, marker)
            if found is not None:
                return found
        return None
    if origin is Union or origin is UnionType:
        for member in get_args(annotation):
            found = _find_marker(member, marker)
            if found is not None:
                return found
        return None
    if isinstance(origin, type) and issubclass(origin, marker):
        return origin
    return None


def injections_of(tool: BaseTool) -> ToolInjections:
    """Read which arguments of ``tool`` the graph supplies."""
    state: dict[str, str | None] = {}
    optional_state: set[str] = set()
    hidden: set[str] = set()
    store: str | None = None
    runtime: str | None = None
    required: set[str] = set()
    model_fields: dict[str, Any] = {}
    try:
        model_fields = dict(getattr(tool.get_input_schema(), "model_fields", {}))
        required = {name for name, info in model_fields.items() if info.is_required()}
    except Exception:  # a schema pydantic cannot build: no optional state arguments
        model_fields = {}
    for name, annotation in _annotations_of(tool).items():
        if _find_marker(annotation, InjectedToolArg) is not None or _find_marker(
            annotation, _DirectlyInjectedToolArg
        ) is not None:
            hidden.add(name)
        if name == "runtime" or _find_marker(annotation, ToolRuntime) is not None:
            runtime = name
            hidden.add(name)
        state_marker = _find_marker(annotation, InjectedState)
        if state_marker is not None:
            key = state_marker.field if isinstance(state_marker, InjectedState) else None
            state[name] = key
            if key and name in model_fields and name not in required:
                optional_state.add(name)
        if _find_marker(annotation, InjectedStore) is not None:
            store = name
    return ToolInjections(
        state=state,
        optional_state=frozenset(optional_state),
        store=store,
        runtime=runtime,
        hidden=frozenset(hidden),
    )


def inject_arguments(
    call: ToolCall,
    injections: ToolInjections,
    runtime: ToolRuntime[Any, Any],
    messages_key: str,
) -> ToolCall:
    """A copy of ``call`` whose injected arguments hold the graph's values, not the model's."""
    if not injections:
        return call
    values: dict[str, Any] = {}
    if injections.state:
        values.update(_state_arguments(call, injections, runtime.state, messages_key))
    if injections.store:
        if runtime.store is None:
            raise ValueError(
                "Cannot inject store into tools with InjectedStore annotations - please "
                f"compile your graph with a store. Tool '{call['name']}' asks for one: pass "
                "store=InMemoryStore() (or another BaseStore) to compile()."
            )
        values[injections.store] = runtime.store
    if injections.runtime:
        values[injections.runtime] = runtime
    # The model may have filled in hidden arguments: only the graph's values are trusted.
    model_args = {key: value for key, value in call["args"].items() if key not in injections.hidden}
    return {**call, "args": {**model_args, **values}}


def _state_arguments(
    call: ToolCall, injections: ToolInjections, state: Any, messages_key: str
) -> dict[str, Any]:
    if isinstance(state, list):
        keys = list(injections.state.values())
        if all(key is None or key == messages_key for key in keys):
            state = {messages_key: state}
        else:
            wanted = ", ".join(key for key in keys if key)
            raise ValueError(
                f"Invalid input to ToolNode. Tool {call['name']} requires graph state dict as "
                f"input. State should contain fields {wanted}. Run the ToolNode inside a graph "
                "(or invoke it with the state dict) instead of a bare message list."
            )
    values: dict[str, Any] = {}
    for argument, key in injections.state.items():
        if key is None:
            values[argument] = state
        elif isinstance(state, dict):
            if key in state:
                values[argument] = state[key]
            elif argument not in injections.optional_state:
                raise KeyError(key)
        elif hasattr(state, key):
            values[argument] = getattr(state, key)
        elif argument not in injections.optional_state:
            raise AttributeError(key)
    return values
