"""``@task``: a function whose calls run as durable tasks of the calling graph run."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Callable, Generic, Optional, Sequence, TypeVar, Union

from stategraph._deprecated import take_renamed
from stategraph._context import current_task
from stategraph._constants import RETURN
from stategraph.checkpoint.serde import register_annotated_types
from stategraph.pregel._call import NodeCall
from stategraph.pregel._node import PregelNode
from stategraph.pregel._timeout import sync_timeout_error, timeout_policy
from stategraph.types import CachePolicy, RetryPolicy

T = TypeVar("T")


def _return_writer(returned: Any, task: Any, read: Any) -> list[tuple[str, Any]]:
    return [(RETURN, returned)]


class _TaskBody:
    """Unpacks the (args, kwargs) input of a call task into the user's function call."""

    def __init__(self, func: Callable[..., Any], is_async: bool) -> None:
        self.func = func
        self.is_async = is_async
        functools.update_wrapper(self, func)
        try:
            parameters = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        self.positional = [
            p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def arguments(self, value: tuple[tuple[Any, ...], dict[str, Any]], injected: dict[str, Any]) -> Any:
        """The call's arguments; what the engine injects (store, writer, config...) fills only
        parameters the caller left out, as in LangGraph."""
        args, kwargs = value
        if injected:
            given = {*self.positional[: len(args)], *kwargs}
            kwargs = {**{k: v for k, v in injected.items() if k not in given}, **kwargs}
        return args, kwargs

    def __call__(self, value: tuple[tuple[Any, ...], dict[str, Any]], **injected: Any) -> Any:
        args, kwargs = self.arguments(value, injected)
        return self.func(*args, **kwargs)


class _AsyncTaskBody(_TaskBody):
    async def __call__(self, value: tuple[tuple[Any, ...], dict[str, Any]], **injected: Any) -> Any:  # type: ignore[override]
        args, kwargs = self.arguments(value, injected)
        return await self.func(*args, **kwargs)


class TaskFunction(Generic[T]):
    """What ``@task`` returns: calling it inside a run starts the task and returns a future."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: Optional[str] = None,
        retry_policy: Union[RetryPolicy, Sequence[RetryPolicy], None] = None,
        cache_policy: Optional[CachePolicy] = None,
        timeout: Any = None,
    ) -> None:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise NotImplementedError("Generators are not supported in the Functional API.")
        self.func = func
        self.name = name or _callable_name(func)
        self.is_async = inspect.iscoroutinefunction(func)
        if timeout is not None and not self.is_async:
            raise sync_timeout_error(self.name, "Task")
        _register_signature_types(func)
        body = (_AsyncTaskBody if self.is_async else _TaskBody)(func, self.is_async)
        policies: tuple[RetryPolicy, ...]
        if retry_policy is None:
            policies = ()
        elif isinstance(retry_policy, RetryPolicy):
            policies = (retry_policy,)
        else:
            policies = tuple(retry_policy)
        self.cache_policy = cache_policy
        self.node = PregelNode(
            name=self.name,
            triggers=(),
            reads=(),
            call=NodeCall(body, self.name),
            write=_return_writer,
            retry_policy=policies,
            cache_policy=cache_policy,
            timeout=timeout_policy(timeout),
        )
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        context = current_task.get()
        if context is None or context.scratchpad.calls is None:
            raise RuntimeError(
                f"Called get_config outside of a runnable context. Task '{self.name}' runs as part "
                "of a durable run: call it from inside an @entrypoint function or a graph node."
            )
        calls = context.scratchpad.calls
        # Awaitable futures only for async runs, on their event loop's thread; a sync run
        # called from inside someone else's event loop (a notebook) still gets plain futures.
        if calls.loop.is_async_run and _on_event_loop():
            return calls.acall(context, self.node, args, kwargs)
        if self.is_async:
            raise RuntimeError("In an sync context async tasks cannot be called")
        return calls.call(context, self.node, args, kwargs)

    def clear_cache(self, cache: Any) -> None:
        from stategraph.cache import cache_namespace_name, node_cache_namespace

        cache.clear([node_cache_namespace(cache_namespace_name(self.func), None)])

    async def aclear_cache(self, cache: Any) -> None:
        self.clear_cache(cache)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def task(
    func: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    retry_policy: Union[RetryPolicy, Sequence[RetryPolicy], None] = None,
    cache_policy: Optional[CachePolicy] = None,
    timeout: Any = None,
    **kwargs: Any,
) -> Any:
    """Make ``func`` a durable task: ``@task`` or ``@task(retry_policy=..., ...)``."""
    retry_policy = retry_policy or take_renamed(kwargs, "retry")
    if kwargs:
        raise TypeError(f"task() got unexpected keyword arguments: {sorted(kwargs)}")
    timeout = timeout_policy(timeout)  # a bad value fails here, where it was given

    def decorate(function: Callable[..., Any]) -> TaskFunction[Any]:
        return TaskFunction(
            function, name=name, retry_policy=retry_policy, cache_policy=cache_policy, timeout=timeout
        )

    return decorate(func) if func is not None else decorate


def _register_signature_types(func: Callable[..., Any]) -> None:
    """A task's arguments and result are checkpointed: the classes its annotations name may be."""
    try:
        signature = inspect.signature(func, eval_str=True)
    except (NameError, TypeError, ValueError):  # names only a type checker sees; builtins
        return
    register_annotated_types(
        *(p.annotation for p in signature.parameters.values()), signature.return_annotation
    )


def _callable_name(func: Callable[..., Any]) -> str:
    """A task's default name: the function's, also through ``functools.partial``."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__name__", None) or type(func).__name__
