"""``@entrypoint``: a function that runs as a durable graph (one node, checkpointed)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Generic, Optional, Sequence, TypeVar, Union, get_args, get_origin

from stategraph._deprecated import take_renamed
from stategraph.channels.ephemeral_value import EphemeralValue
from stategraph.channels.last_value import LastValue
from stategraph._constants import END, PREVIOUS, START
from stategraph.pregel._call import NodeCall
from stategraph.pregel._graph import Pregel
from stategraph.pregel._node import PregelNode
from stategraph.checkpoint.serde import register_annotated_types
from stategraph.pregel._timeout import sync_timeout_error, timeout_policy
from stategraph.types import CachePolicy, RetryPolicy

R = TypeVar("R")
S = TypeVar("S")


def _entrypoint_writer(returned: Any, task: Any, read: Any) -> list[tuple[str, Any]]:
    if isinstance(returned, entrypoint.final):
        return [(END, returned.value), (PREVIOUS, returned.save)]
    return [(END, returned), (PREVIOUS, returned)]


class entrypoint:  # noqa: N801 - LangGraph's name
    """Turn a function into a durable workflow: ``@entrypoint(checkpointer=...)``.

    The function takes one input (use a dict for several values) and may ask for
    ``previous`` (what the last run on the thread saved), ``config``, ``writer``, ``store``,
    ``runtime``. Inside, call ``@task`` functions and ``interrupt()``.
    """

    @dataclass(frozen=True, slots=True, kw_only=True)
    class final(Generic[R, S]):  # noqa: N801 - LangGraph's name
        """Return ``value`` to the caller but save ``save`` as ``previous`` for the next run."""

        value: Any
        save: Any

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: Any = None,
        cache_policy: Optional[CachePolicy] = None,
        retry_policy: Union[RetryPolicy, Sequence[RetryPolicy], None] = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> None:
        context_schema = context_schema or take_renamed(kwargs, "config_schema")
        retry_policy = retry_policy or take_renamed(kwargs, "retry")
        if kwargs:
            raise TypeError(f"entrypoint() got unexpected keyword arguments: {sorted(kwargs)}")
        self.timeout = timeout_policy(timeout)  # a bad value fails here, where it was given
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.context_schema = context_schema
        self.cache_policy = cache_policy
        self.retry_policy = retry_policy

    def __call__(self, func: Callable[..., Any]) -> Pregel:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise NotImplementedError("Generators are not supported in the Functional API.")
        signature = _signature(func)
        positional = [
            p
            for p in signature.parameters.values()
            if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ]
        if not positional:
            raise ValueError(
                "Entrypoint function must have at least one parameter. It receives the run's "
                "input; use a dict to pass several values."
            )
        name = func.__name__
        if self.timeout is not None and not inspect.iscoroutinefunction(func):
            raise sync_timeout_error(name)
        policies: tuple[RetryPolicy, ...]
        if self.retry_policy is None:
            policies = ()
        elif isinstance(self.retry_policy, RetryPolicy):
            policies = (self.retry_policy,)
        else:
            policies = tuple(self.retry_policy)
        node = PregelNode(
            name=name,
            triggers=(START,),
            reads=START,
            call=NodeCall(func, name),
            write=_entrypoint_writer,
            retry_policy=policies,
            cache_policy=self.cache_policy,
            timeout=timeout_policy(self.timeout),
        )
        input_type = positional[0].annotation
        output_type, save_type = _returned_types(signature.return_annotation)
        # As a compiled StateGraph's schemas: the classes its input and outputs name may be
        # checkpointed.
        register_annotated_types(input_type, output_type, save_type)
        graph = Pregel(
            nodes={name: node},
            channels={
                START: EphemeralValue(input_type if input_type is not inspect.Parameter.empty else Any),
                END: LastValue(output_type),
                PREVIOUS: LastValue(save_type),
            },
            input_channels=START,
            output_channels=END,
            stream_channels=END,
            stream_mode="updates",
            checkpointer=self.checkpointer,
            store=self.store,
            cache=self.cache,
            context_schema=self.context_schema,
        )
        graph.func = func  # type: ignore[attr-defined]
        graph.drawn_edges = [(START, name), (name, END)]
        graph.streams_while_running = True
        return graph


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    """The signature with string annotations (``from __future__ import annotations``) evaluated
    where they can be."""
    try:
        return inspect.signature(func, eval_str=True)
    except NameError:  # a name only a type checker sees
        return inspect.signature(func)


def _returned_types(annotation: Any) -> tuple[Any, Any]:
    """The types of the value returned and the value saved, from the return annotation:
    ``entrypoint.final[R, S]`` names both, any other annotation is both."""
    if annotation is inspect.Signature.empty or annotation is entrypoint.final:
        return Any, Any
    if get_origin(annotation) is entrypoint.final:
        returned, saved = get_args(annotation)
        return returned, saved
    return annotation, annotation
