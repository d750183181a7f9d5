"""LangChain callbacks: the graph run and each node run reported to callback handlers.

Used only when the run's config carries callbacks (tracing, ``astream_events``, the
``messages`` stream mode) and langchain-core is loaded; the bare engine never imports it.
"""

from __future__ import annotations

import sys
from typing import Any, Optional


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


def start_graph_run(config: dict[str, Any], name: str, input: Any) -> Optional[Any]:
    """Report the graph run's start; the run's config then carries its child callbacks."""
    if not callbacks_active(config):
        return None
    manager = _configure(config, is_async=False)
    run = manager.on_chain_start(None, input, name=config.get("run_name") or name, run_id=config.pop("run_id", None))
    config["callbacks"] = run.get_child()
    return run


async def astart_graph_run(config: dict[str, Any], name: str, input: Any) -> Optional[Any]:
    if not callbacks_active(config):
        return None
    manager = _configure(config, is_async=True)
    run = await manager.on_chain_start(None, input, name=config.get("run_name") or name, run_id=config.pop("run_id", None))
    config["callbacks"] = run.get_child()
    return run


def start_task_run(config: dict[str, Any], name: str, input: Any) -> Optional[Any]:
    """Report a node run's start; the node's config then carries its child callbacks."""
    if not callbacks_active(config):
        return None
    manager = _configure(config, is_async=False)
    run = manager.on_chain_start(None, input, name=name)
    config["callbacks"] = run.get_child()
    return run


async def astart_task_run(config: dict[str, Any], name: str, input: Any) -> Optional[Any]:
    if not callbacks_active(config):
        return None
    manager = _configure(config, is_async=True)
    run = await manager.on_chain_start(None, input, name=name)
    config["callbacks"] = run.get_child()
    return run


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
