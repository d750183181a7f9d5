"""A node's body, wrapped once at compile time.

Reads the callable's signature once (sync or async, which injectable keyword arguments it
takes) so that running it per step is a plain call.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import warnings
from typing import Any, Callable, Optional, Union, get_args, get_origin

from stategraph._context import TaskContext

INJECTABLE = ("config", "writer", "store", "runtime", "previous")


def _is_optional(annotation: Any) -> bool:
    if annotation is inspect.Parameter.empty:
        return False
    if isinstance(annotation, str):
        return annotation.startswith("Optional[") or annotation.endswith("| None")
    return get_origin(annotation) is Union and type(None) in get_args(annotation)


def _is_runnable_config(annotation: Any) -> bool:
    """``config`` unannotated, or annotated ``RunnableConfig`` (optionally Optional)."""
    if annotation is inspect.Parameter.empty:
        return True
    if isinstance(annotation, str):
        bare = annotation.replace(" ", "").strip("'\"")
        return bare in ("RunnableConfig", "Optional[RunnableConfig]", "RunnableConfig|None")
    if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
        members = [a for a in get_args(annotation) if a is not type(None)]
        return len(members) == 1 and getattr(members[0], "__name__", "") == "RunnableConfig"
    return getattr(annotation, "__name__", "") == "RunnableConfig"


def check_config_annotation(action: Any) -> None:
    """Warn, as LangGraph does when a node is added, about a ``config`` parameter annotated
    with something other than ``RunnableConfig``."""
    try:
        parameter = inspect.signature(action).parameters.get("config")
    except (TypeError, ValueError):
        return
    if parameter is not None and not _is_runnable_config(parameter.annotation):
        warnings.warn(
            "The 'config' parameter should be typed as 'RunnableConfig' or "
            f"'RunnableConfig | None', not '{parameter.annotation}'. ",
            UserWarning,
            stacklevel=3,
        )


def _is_node_error(annotation: Any) -> bool:
    """``error`` is injected only when annotated ``NodeError`` (optionally Optional)."""
    if isinstance(annotation, str):
        return annotation.replace("Optional[", "").rstrip("]").split("|")[0].strip().endswith("NodeError")
    from stategraph.errors import NodeError

    return annotation is NodeError or (
        get_origin(annotation) is Union and NodeError in get_args(annotation)
    )


def _unwrap(action: Any) -> Any:
    while isinstance(action, functools.partial):
        action = action.func
    return action


def is_runnable(action: Any) -> bool:
    """A LangChain ``Runnable`` or a graph, by type, as LangGraph decides: any other callable is
    called as a function, even when it happens to have ``invoke``/``ainvoke`` attributes (a mock)."""
    if inspect.isfunction(action) or inspect.ismethod(action):
        return False
    from stategraph.pregel.protocol import PregelProtocol

    if isinstance(action, PregelProtocol):
        return True
    # Without langchain-core imported, nothing can be one of its Runnables.
    runnables = sys.modules.get("langchain_core.runnables.base")
    return runnables is not None and isinstance(action, runnables.Runnable)


def is_async_callable(action: Any) -> bool:
    target = _unwrap(action)
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)
    return not inspect.isfunction(target) and inspect.iscoroutinefunction(call)


def runs_natively_async(action: Any) -> bool:
    """Whether ``action`` has an async body of its own (LangGraph's test for what a timeout can
    cancel): an ``async def``, a graph, a LangChain runnable with a native ``ainvoke`` (a
    ``RunnableLambda`` given an async function; sequences and parallels when every step has one;
    bindings by what they bind), or NodeBuilder steps that all have one."""
    target = _unwrap(action)
    if is_async_callable(target):
        return True
    steps = getattr(target, "__stategraph_steps__", None)
    if steps is not None:
        return all(runs_natively_async(step) for step in steps)
    if not is_runnable(target):
        return False
    from stategraph.pregel.protocol import PregelProtocol

    if isinstance(target, PregelProtocol):
        return True
    from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnableSequence
    from langchain_core.runnables.base import RunnableBindingBase

    while isinstance(target, RunnableBindingBase):
        target = target.bound
    if isinstance(target, RunnableSequence):
        return all(runs_natively_async(step) for step in target.steps)
    if isinstance(target, RunnableParallel):
        return all(runs_natively_async(step) for step in target.steps__.values())
    if isinstance(target, RunnableLambda):
        return bool(getattr(target, "afunc", None))
    return getattr(type(target), "ainvoke", None) is not Runnable.ainvoke


class NodeCall:
    """Calls a node body with its input and the keyword arguments it asked for."""

    __slots__ = ("name", "action", "is_async", "runnable", "inject", "optional", "needs_config")

    def __init__(self, action: Any, name: str) -> None:
        self.name = name
        self.action = action
        self.runnable = is_runnable(action)
        self.is_async = False if self.runnable else is_async_callable(action)
        self.inject: tuple[str, ...] = ()
        self.optional: frozenset[str] = frozenset()
        if not self.runnable:
            self.inject, self.optional = self._injected_parameters(action)
        self.needs_config = self.runnable or "config" in self.inject

    @staticmethod
    def _injected_parameters(action: Any) -> tuple[tuple[str, ...], frozenset[str]]:
        try:
            signature = inspect.signature(action)
        except (TypeError, ValueError):
            return (), frozenset()
        names = []
        optional = set()
        for param in signature.parameters.values():
            if param.kind not in (
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.KEYWORD_ONLY,
            ):
                continue
            if param.name == "error" and _is_node_error(param.annotation):
                names.append("error")
                optional.add("error")
            elif param.name in INJECTABLE:
                names.append(param.name)
                if param.default is not inspect.Parameter.empty or _is_optional(param.annotation):
                    optional.add(param.name)
        return tuple(names), frozenset(optional)

    def _kwargs(self, context: TaskContext) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        runtime = context.runtime
        for name in self.inject:
            if name == "config":
                kwargs["config"] = context.config
            elif name == "runtime":
                kwargs["runtime"] = runtime
            elif name == "writer":
                kwargs["writer"] = runtime.stream_writer
            elif name == "previous":
                kwargs["previous"] = runtime.previous
            elif name == "store":
                # As in LangGraph, a graph without a store passes None.
                kwargs["store"] = runtime.store
            elif name == "error":
                kwargs["error"] = context.node_error
        return kwargs

    def __call__(self, value: Any, context: TaskContext) -> Any:
        if self.runnable:
            return self.action.invoke(value, context.config)
        if self.is_async:
            raise TypeError(
                f"Node '{self.name}' is an async function and cannot run in a synchronous "
                "invocation. Call ainvoke()/astream() instead, or make the node a plain def."
            )
        if self.inject:
            return self.action(value, **self._kwargs(context))
        return self.action(value)

    async def acall(self, value: Any, context: TaskContext) -> Any:
        if self.runnable:
            return await self.action.ainvoke(value, context.config)
        run_async = getattr(self.action, "__stategraph_acall__", None)
        if run_async is not None:  # NodeBuilder steps: each step runs its own async way
            return await run_async(value)
        if self.is_async:
            if self.inject:
                return await self.action(value, **self._kwargs(context))
            return await self.action(value)
        # A sync body in an async run goes to a worker thread so it never blocks the loop.
        loop = asyncio.get_running_loop()
        import contextvars

        ctx = contextvars.copy_context()
        return await loop.run_in_executor(None, ctx.run, self.__call__, value, context)


Callable_ = Optional[Callable[..., Any]]
