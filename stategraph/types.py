"""The values users pass to and receive from graphs: commands, packets, interrupts, policies."""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import (
    Any,
    Callable,
    ClassVar,
    Generic,
    Literal,
    NamedTuple,
    Optional,
    Sequence,
    TypedDict,
    TypeVar,
    Union,
)

import xxhash

from stategraph._executable_task import CacheKey, PregelExecutableTask
from stategraph.errors import GraphInterrupt
from stategraph.warnings import LangGraphDeprecatedSinceV10, LangGraphDeprecatedSinceV11

__all__ = [
    "All",
    "CachePolicy",
    "Checkpointer",
    "Command",
    "Durability",
    "GraphOutput",
    "Interrupt",
    "Overwrite",
    "CacheKey",
    "PregelExecutableTask",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "TimeoutPolicy",
    "TracePolicy",
    "StreamPart",
    "ValuesStreamPart",
    "UpdatesStreamPart",
    "MessagesStreamPart",
    "CustomStreamPart",
    "CheckpointStreamPart",
    "TasksStreamPart",
    "DebugStreamPart",
    "default_retry_on",
    "interrupt",
    "omit_payload",
]

N = TypeVar("N")

All = Literal["*"]
StreamMode = Literal["values", "updates", "checkpoints", "tasks", "debug", "messages", "custom", "tools"]
Durability = Literal["sync", "async", "exit"]
StreamWriter = Callable[[Any], None]
Checkpointer = Union[None, bool, Any]


class Send:
    """A packet for a node: run ``node`` in the next step with ``arg`` as its input.

    Returned from conditional edges (or ``Command.goto``) for map-reduce fan-out.
    """

    __slots__ = ("node", "arg", "timeout")

    def __init__(self, node: str, arg: Any, *, timeout: Any = None) -> None:
        self.node = node
        self.arg = arg
        # This task's own limits, in place of the node's: seconds (or a timedelta) of
        # run_timeout, or a TimeoutPolicy.
        self.timeout = TimeoutPolicy.coerce(timeout)

    def __hash__(self) -> int:
        return hash((self.node, repr(self.arg), self.timeout))

    def __repr__(self) -> str:
        if self.timeout is None:
            return f"Send(node={self.node!r}, arg={self.arg!r})"
        return f"Send(node={self.node!r}, arg={self.arg!r}, timeout={self.timeout!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Send)
            and self.node == other.node
            and self.arg == other.arg
            and self.timeout == other.timeout
        )


_DEFAULT_INTERRUPT_ID = "placeholder-id"


@dataclass(slots=True, init=False)  # compared by value and unhashable, as LangGraph's
class Interrupt:
    """A value surfaced to the caller by ``interrupt()``; ``id`` addresses it on resume.

    ``resumable``, ``ns`` and ``when`` are accepted for checkpoints and code written against
    LangGraph before 0.6, which stored them; only ``ns`` is used, to derive the id when none is
    given (as LangGraph does).
    """

    value: Any
    id: str
    # JSON Schema of the answer the interrupt expects, when ``interrupt()`` was given one.
    response_schema: Any

    def __init__(
        self,
        value: Any,
        id: str = _DEFAULT_INTERRUPT_ID,
        *,
        response_schema: Any = None,
        resumable: Any = None,
        ns: Optional[Sequence[str]] = None,
        when: Any = None,
    ) -> None:
        self.value = value
        self.response_schema = response_schema
        if id == _DEFAULT_INTERRUPT_ID and ns is not None and not isinstance(ns, str):
            id = xxhash.xxh3_128_hexdigest("|".join(ns).encode())
        self.id = id

    @classmethod
    def from_ns(cls, value: Any, ns: str, *, answered: int = 0, response_schema: Any = None) -> Interrupt:
        """The interrupt raised in task namespace ``ns`` after ``answered`` earlier answers."""
        return cls(value=value, id=interrupt_id(ns, answered), response_schema=response_schema)

    @property
    def interrupt_id(self) -> str:
        """Deprecated (LangGraph 1.0): ``id``."""
        warnings.warn(
            "`interrupt_id` is deprecated. Use `id` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        return self.id


@dataclass(frozen=True, slots=True)
class Command(Generic[N]):
    """Update state and/or route from a node, or resume an interrupted run.

    ``update``: writes as if the node had returned them. ``goto``: node name(s) or ``Send``(s)
    to run next (in addition to static edges). ``resume``: the value ``interrupt()`` returns, or
    a map ``{interrupt_id: value}``. ``graph``: ``Command.PARENT`` sends it to the parent graph.
    """

    graph: Optional[str] = None
    update: Optional[Any] = None
    resume: Optional[Any] = None
    goto: Union[Send, Sequence[Union[Send, str]], str] = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("graph", self.graph),
                ("update", self.update),
                ("resume", self.resume),
                ("goto", self.goto),
            )
            if value
        )
        return f"Command({parts})"

    def _update_as_tuples(self) -> Sequence[tuple[str, Any]]:
        update = self.update
        if isinstance(update, dict):
            return list(update.items())
        if isinstance(update, (list, tuple)) and all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
            for item in update
        ):
            return list(update)
        if update is None:
            return []
        from stategraph.graph._schema import fields_of_object

        fields = fields_of_object(update)
        if fields is not None:
            return list(fields.items())
        return [("__root__", update)]


@dataclass(frozen=True, slots=True)
class Overwrite:
    """Write ``value`` to a reducer key as-is, bypassing its reducer for this step."""

    value: Any
    # Marks the JSON form ({"value": ..., "type": "__overwrite__"}, what a dataclass becomes
    # through a JSON API) as an overwrite still, as LangGraph's.
    type: Literal["__overwrite__"] = "__overwrite__"


def default_retry_on(exc: BaseException) -> bool:
    """LangGraph's default: retry transient failures, never programming errors."""
    if isinstance(exc, ConnectionError):
        return True
    name = type(exc).__name__
    module = type(exc).__module__
    if name == "HTTPStatusError" and module.startswith("httpx"):
        return 500 <= exc.response.status_code < 600  # type: ignore[attr-defined]
    if name == "HTTPError" and module.startswith("requests"):
        response = getattr(exc, "response", None)
        # LangGraph tests the response for truth, and a requests Response is false for 4xx/5xx
        # statuses: such errors are retried. Kept so that retries happen as they do there.
        return True if not response else 500 <= response.status_code < 600
    if isinstance(
        exc,
        (
            ValueError,
            TypeError,
            ArithmeticError,
            ImportError,
            LookupError,
            NameError,
            SyntaxError,
            RuntimeError,
            ReferenceError,
            StopIteration,
            StopAsyncIteration,
            OSError,
        ),
    ):
        return False
    return True


class RetryPolicy(NamedTuple):
    """How a failing node is retried (attempts include the first)."""

    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: Union[
        type[Exception], Sequence[type[Exception]], Callable[[Exception], bool]
    ] = default_retry_on

    def should_retry(self, exc: BaseException) -> bool:
        retry_on = self.retry_on if self.retry_on is not None else default_retry_on
        if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
            return isinstance(exc, retry_on)
        if isinstance(retry_on, Sequence):
            return isinstance(exc, tuple(retry_on))
        return bool(retry_on(exc))  # type: ignore[operator]

    def interval_seconds(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        interval = min(self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1))
        return interval + random.uniform(0, 1) if self.jitter else interval


def default_cache_key(*args: Any, **kwargs: Any) -> bytes:
    """The default ``CachePolicy.key_func`` (named as LangGraph's, which shows in reprs)."""
    from stategraph.cache._key import default_cache_key as cache_key

    return cache_key(*args, **kwargs)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """Cache a node's (or task's) writes under ``key_func(input)`` for ``ttl`` seconds."""

    key_func: Callable[..., Union[str, bytes]] = default_cache_key
    ttl: Optional[int] = None


@dataclass(frozen=True, slots=True)
class TracePolicy:
    """What a node's own trace run records (``add_node(..., trace_policy=...)``).

    ``process_inputs`` / ``process_outputs`` get the node's input / output and return the value
    to record on its run (LangChain callbacks, ``astream_events``, LangSmith): a way to leave
    out or summarise large payloads such as a long message history. The node itself still gets
    and returns the real values. Not a way to redact secrets: child runs record what they see.
    """

    process_inputs: Optional[Callable[[Any], Any]] = None
    process_outputs: Optional[Callable[[Any], Any]] = None


def omit_payload(_value: Any) -> dict[str, Any]:
    """A ``TracePolicy`` processor that records an empty payload (the run and its timing stay)."""
    return {}


@dataclass(frozen=True, slots=True)
class TimeoutPolicy:
    """Per-attempt limits for async nodes: ``run_timeout`` overall, ``idle_timeout`` idle."""

    run_timeout: Optional[Union[float, timedelta]] = None
    idle_timeout: Optional[Union[float, timedelta]] = None
    refresh_on: Literal["auto", "heartbeat"] = "auto"

    def __post_init__(self) -> None:
        for name in ("run_timeout", "idle_timeout"):
            _timeout_seconds(getattr(self, name), name)
        if self.refresh_on not in ("auto", "heartbeat"):
            raise ValueError(f"refresh_on must be 'auto' or 'heartbeat', got {self.refresh_on!r}.")

    @classmethod
    def coerce(cls, value: Union[float, timedelta, TimeoutPolicy, None]) -> Optional[TimeoutPolicy]:
        """A policy with both limits in seconds (floats): a number or ``timedelta`` is a
        ``run_timeout``; None, or a policy with neither limit, is no timeout."""
        if value is None:
            return None
        if not isinstance(value, TimeoutPolicy):
            value = cls(run_timeout=value)
        run = _timeout_seconds(value.run_timeout, "run_timeout")
        idle = _timeout_seconds(value.idle_timeout, "idle_timeout")
        if run is None and idle is None:
            return None
        if run == value.run_timeout and idle == value.idle_timeout and all(
            v is None or type(v) is float for v in (value.run_timeout, value.idle_timeout)
        ):
            return value
        return cls(run_timeout=run, idle_timeout=idle, refresh_on=value.refresh_on)


def _timeout_seconds(value: Any, name: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise TypeError(f"{name} must be a number of seconds or a timedelta, got {value!r}.")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}.")
    return seconds


class PregelTask(NamedTuple):
    """A task of a checkpoint's next step, as reported by ``get_state``."""

    id: str
    name: str
    path: tuple[Any, ...]
    error: Optional[Exception] = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Optional[Any] = None


class StateSnapshot(NamedTuple):
    """The state of a thread at one checkpoint."""

    values: Any
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: Optional[dict[str, Any]]
    created_at: Optional[str]
    parent_config: Optional[dict[str, Any]]
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...] = ()


class StateUpdate(NamedTuple):
    """One update of a ``bulk_update_state`` superstep."""

    values: Optional[Any]
    as_node: Optional[str] = None
    task_id: Optional[str] = None


@dataclass(frozen=True, slots=True)
class GraphOutput:
    """``invoke(..., version="v2")`` result: the output value and the interrupts raised."""

    value: Any
    interrupts: tuple[Interrupt, ...] = field(default_factory=tuple)

    def __getitem__(self, key: str) -> Any:
        """Deprecated (LangGraph 1.1): ``result.value[key]``, ``result.interrupts``."""
        warnings.warn(
            "Accessing GraphOutput via `result[key]` is deprecated. Use `result.value` to access "
            "the output value directly, or `result.interrupts` for interrupts.",
            LangGraphDeprecatedSinceV11,
            stacklevel=2,
        )
        if key == "__interrupt__":
            return self.interrupts
        if isinstance(self.value, dict):
            return self.value[key]
        try:
            return getattr(self.value, key)
        except AttributeError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        """Deprecated (LangGraph 1.1): ``key in result.value``, ``bool(result.interrupts)``."""
        warnings.warn(
            "Accessing GraphOutput via `key in result` is deprecated. Use `result.value` to "
            "access the output value directly, or `result.interrupts` for interrupts.",
            LangGraphDeprecatedSinceV11,
            stacklevel=2,
        )
        if key == "__interrupt__":
            return bool(self.interrupts)
        if isinstance(self.value, dict):
            return key in self.value
        return isinstance(key, str) and hasattr(self.value, key)


class ValuesStreamPart(TypedDict):
    """``stream(..., version="v2")`` item for the ``values`` mode."""

    type: Literal["values"]
    ns: tuple[str, ...]
    data: Any
    interrupts: tuple[Interrupt, ...]


class UpdatesStreamPart(TypedDict):
    type: Literal["updates"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class MessagesStreamPart(TypedDict):
    type: Literal["messages"]
    ns: tuple[str, ...]
    data: tuple[Any, dict[str, Any]]


class CustomStreamPart(TypedDict):
    type: Literal["custom"]
    ns: tuple[str, ...]
    data: Any


class CheckpointStreamPart(TypedDict):
    type: Literal["checkpoints"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class TasksStreamPart(TypedDict):
    type: Literal["tasks"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class DebugStreamPart(TypedDict):
    type: Literal["debug"]
    ns: tuple[str, ...]
    data: dict[str, Any]


StreamPart = Union[
    ValuesStreamPart,
    UpdatesStreamPart,
    MessagesStreamPart,
    CustomStreamPart,
    CheckpointStreamPart,
    TasksStreamPart,
    DebugStreamPart,
]


def interrupt(value: Any, *, response_schema: Any = None) -> Any:
    """Pause the run here and surface ``value`` to the caller.

    The first call raises ``GraphInterrupt``; the run resumes with ``Command(resume=answer)``,
    the node re-runs from the top, and this call returns ``answer``. Several calls in one node
    are answered in order. Requires a checkpointer.

    ``response_schema`` (a JSON Schema dict, or a type pydantic can validate) describes the
    answer: the surfaced ``Interrupt`` carries it as JSON Schema, and with a type the answer is
    validated (and converted) on resume. An answer that does not validate raises pydantic's
    ``ValidationError`` (``is_invalid_resume(error)`` is true) and the interrupt stays pending,
    to be answered again.
    """
    from stategraph._context import current_scratchpad

    adapter = _response_adapter(response_schema)
    scratchpad = current_scratchpad("interrupt")
    index = scratchpad.next_interrupt_index()
    resume_values = scratchpad.resume_values
    if index < len(resume_values):
        validated = _validated_answer(adapter, resume_values[index])
        scratchpad.save_resume_values()  # an answer given by interrupt id is kept for re-runs
        return validated
    found, answer = scratchpad.take_global_resume()
    if found:
        validated = _validated_answer(adapter, answer)
        resume_values.append(answer)
        scratchpad.save_resume_values()
        return validated
    schema = adapter.json_schema() if adapter is not None else response_schema
    raise GraphInterrupt(
        (
            Interrupt.from_ns(
                value, scratchpad.namespace, answered=len(resume_values), response_schema=schema
            ),
        )
    )


def interrupt_id(namespace: str, answered: int = 0) -> str:
    """The id of the interrupt a task raises after ``answered`` answers (LangGraph's scheme)."""
    key = f"{namespace}|{answered}" if answered else namespace
    return xxhash.xxh3_128_hexdigest(key.encode())


def _response_adapter(response_schema: Any) -> Any:
    if response_schema is None or isinstance(response_schema, dict):
        return None
    try:
        return _cached_response_adapter(response_schema)
    except TypeError:  # an unhashable annotation: built afresh each call
        return _new_response_adapter(response_schema)


@lru_cache(maxsize=256)
def _cached_response_adapter(response_schema: Any) -> Any:
    return _new_response_adapter(response_schema)


def _new_response_adapter(response_schema: Any) -> Any:
    try:
        from pydantic import TypeAdapter
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "interrupt(response_schema=<type>) validates answers with pydantic: pip install "
            "pydantic, or pass the JSON Schema as a dict."
        ) from error
    adapter = TypeAdapter(response_schema)
    # The validated answer is the node's to keep in state: the classes the program itself named
    # here may be checkpointed, as compile() allows those its state schemas name.
    from stategraph.checkpoint.serde import collect_schema_types, register_types

    found = collect_schema_types(response_schema)
    if found:
        register_types(*found)
    return adapter


def _validated_answer(adapter: Any, answer: Any) -> Any:
    if adapter is None:
        return answer
    from pydantic import ValidationError

    try:
        return adapter.validate_python(answer)
    except ValidationError as error:
        from stategraph.errors import mark_invalid_resume

        mark_invalid_resume(error)
        raise
