"""LangChain callbacks: the graph run and each node run reported to callback handlers.

Used only when the run's config carries callbacks (tracing, ``astream_events``, the
``messages`` stream mode) and langchain-core is loaded; the bare engine never imports it.
"""

from __future__ import annotations

import copy
import sys
from typing import Any, Optional


def langchain_config_var() -> Any:
    """LangChain's context variable for the config of child runs (None if it is not loaded)."""
    if "langchain_core" not in sys.modules:
        return None
    from langchain_core.runnables.config import var_child_runnable_config

    return var_child_runnable_config


def callbacks_active(config: dict[str, Any]) -> bool:
    return bool(config.get("callbacks")) and "langchain_core" in sys.modules


def _configure(config: dict[str, Any], *, is_async: bool) -> Any:
    from langchain_core.callbacks.manager import AsyncCallbackManager, CallbackManager

    manager = AsyncCallbackManager if is_async else CallbackManager
    return manager.configure(
        inheritable_callbacks=config.get("callbacks"),
        inheritable_tags=config.get("tags"),
        inheritable_metadata=config.get("metadata"),
    )


def _mark_integration(manager: Any) -> None:
    # As LangGraph: every run of the graph says which integration made it (tracing UIs use it).
    if "ls_integration" not in manager.metadata:
        manager.add_metadata({"ls_integration": "langgraph"})


def start_graph_run(config: dict[str, Any], name: str, input: Any) -> Optional[Any]:
    """Report the graph run's start; the run's config then carries its child callbacks."""
    if not callbacks_active(config):
        return None
    manager = _configure(config, is_async=False)
    _mark_integration(manager)
    run = manager.on_chain_start(None, input, name=config.get("run_name") or name, run_id=config.pop("run_id", None))
    config["callbacks"] = run.get_child()
    return run


async def astart_graph_run(config: dict[str, Any], name: str, input: Any) -> Optional[Any]:
    if not callbacks_active(config):
        return None
    manager = _configure(config, is_async=True)
    _mark_integration(manager)
    run = await manager.on_chain_start(None, input, name=config.get("run_name") or name, run_id=config.pop("run_id", None))
    config["callbacks"] = run.get_child()
    return run


def start_task_run(
    config: dict[str, Any],
    name: str,
    input: Any,
    step: int,
    caller_callbacks: Any = None,
    recorded: Any = None,
) -> Optional[Any]:
    """Report a node run's start, as LangGraph lays it out: the run is tagged
    ``graph:step:<n>``, and the node body's own runs (models, tools) are its children tagged
    ``seq:step:1``, under their own names. A ``@task`` call's run is a child of its caller's
    (``caller_callbacks``), as the body's other runs are."""
    if caller_callbacks is not None:
        config["callbacks"] = caller_callbacks
    elif not callbacks_active(config):
        return None
    manager = _configure(config, is_async=False)
    if caller_callbacks is None:
        manager.add_tags([f"graph:step:{step}"], inherit=False)
    name, run_id = config.pop("run_name", None) or name, config.pop("run_id", None)
    if recorded is None:
        run = manager.on_chain_start(None, input, name=name, run_id=run_id)
    else:
        handlers, tracers = _split_tracers(manager)
        run = handlers.on_chain_start(None, input, name=name, run_id=run_id)
        tracers.on_chain_start(None, recorded, name=name, run_id=run.run_id)
        run.handlers = manager.handlers
    config["callbacks"] = run.get_child("seq:step:1")
    return run


async def astart_task_run(
    config: dict[str, Any],
    name: str,
    input: Any,
    step: int,
    caller_callbacks: Any = None,
    recorded: Any = None,
) -> Optional[Any]:
    if caller_callbacks is not None:
        config["callbacks"] = caller_callbacks
    elif not callbacks_active(config):
        return None
    manager = _configure(config, is_async=True)
    if caller_callbacks is None:
        manager.add_tags([f"graph:step:{step}"], inherit=False)
    name, run_id = config.pop("run_name", None) or name, config.pop("run_id", None)
    if recorded is None:
        run = await manager.on_chain_start(None, input, name=name, run_id=run_id)
    else:
        handlers, tracers = _split_tracers(manager)
        run = await handlers.on_chain_start(None, input, name=name, run_id=run_id)
        # Tracers start last: a cancellation before then leaves no tracer run open.
        await tracers.on_chain_start(None, recorded, name=name, run_id=run.run_id)
        run.handlers = manager.handlers
    config["callbacks"] = run.get_child("seq:step:1")
    return run


def _split_tracers(manager: Any) -> tuple[Any, Any]:
    """``manager`` for the handlers that see a node's real payloads, and for the tracers, which
    record what its TracePolicy makes of them. The streams a caller reads (``astream_events``,
    ``astream_log``) are built by tracers too, and see the real payloads."""
    from langchain_core.tracers.base import AsyncBaseTracer, BaseTracer
    from langchain_core.tracers._streaming import _StreamingCallbackHandler

    def records(handler: Any) -> bool:
        return isinstance(handler, (BaseTracer, AsyncBaseTracer)) and (
            _StreamingCallbackHandler not in type(handler).__mro__
        )

    handlers, tracers = copy.copy(manager), copy.copy(manager)
    tracers.handlers = [h for h in manager.handlers if records(h)]
    handlers.handlers = [h for h in manager.handlers if not records(h)]
    return handlers, tracers


def end_task_run(run: Any, output: Any, error: Optional[BaseException], recorded: Any = None) -> None:
    """Report a node run's end; streaming handlers (``astream_events``) first get its output
    as the run's one stream chunk. Tracers get ``recorded`` instead, when given."""
    if run is None:
        return
    if error is None:
        for handler in _streaming_handlers(run):
            for _ in handler.tap_output_iter(run.run_id, iter((output,))):
                pass
    if recorded is None or error is not None:
        end_run(run, output, error)
        return
    handlers, tracers = _split_tracers(run)
    tracers.on_chain_end(recorded)
    handlers.on_chain_end(output)


async def aend_task_run(
    run: Any, output: Any, error: Optional[BaseException], recorded: Any = None
) -> None:
    if run is None:
        return
    if error is None:
        for handler in _streaming_handlers(run):
            async for _ in handler.tap_output_aiter(run.run_id, _one(output)):
                pass
    if recorded is None or error is not None:
        await aend_run(run, output, error)
        return
    handlers, tracers = _split_tracers(run)
    await tracers.on_chain_end(recorded)  # first: an end that starts is not cancelled midway
    await handlers.on_chain_end(output)


async def _one(value: Any) -> Any:
    yield value


def _streaming_handlers(run: Any) -> list[Any]:
    """The streams a caller reads (``astream_events``, ``astream_log``): the handlers that
    declare themselves streaming ones. A handler of the user's that merely has tap methods is
    not tapped, as in LangGraph (it gets the run's start and end)."""
    from langchain_core.tracers._streaming import _StreamingCallbackHandler

    # Declared as one (the protocol is in its bases), not only shaped like one.
    return [h for h in run.handlers if _StreamingCallbackHandler in type(h).__mro__]


def branch_run(node_run: Any, index: int, name: str, input: Any) -> Any:
    """Start the run of a node's ``index``-th conditional branch (``seq:step:<3 + index>``:
    after the node body and its state writes, as in LangGraph)."""
    return node_run.get_child(f"seq:step:{index + 3}").on_chain_start(None, input, name=name)


async def abranch_run(node_run: Any, index: int, name: str, input: Any) -> Any:
    return await node_run.get_child(f"seq:step:{index + 3}").on_chain_start(None, input, name=name)


def end_run(run: Any, output: Any = None, error: Optional[BaseException] = None) -> None:
    if run is None:
        return
    if error is not None:
        run.on_chain_error(error)
    else:
        run.on_chain_end(output)


async def aend_run(run: Any, output: Any = None, error: Optional[BaseException] = None) -> None:
    if run is None:
        return
    if error is not None:
        await run.on_chain_error(error)
    else:
        await run.on_chain_end(output)


def progress_handler(touch: Any) -> Any:
    """A callback handler that calls ``touch()`` on every LangChain event (idle timeouts)."""
    from langchain_core.callbacks import BaseCallbackHandler

    class _Progress(BaseCallbackHandler):
        run_inline = True

        def _touch(self, *args: Any, **kwargs: Any) -> None:
            touch()

        on_llm_start = on_chat_model_start = on_llm_new_token = on_llm_end = _touch
        on_chain_start = on_chain_end = on_tool_start = on_tool_end = _touch
        on_retriever_start = on_retriever_end = on_text = on_retry = on_custom_event = _touch

    return _Progress()
