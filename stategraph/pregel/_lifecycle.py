"""Delivering graph lifecycle events (``stategraph.callbacks``) to the handlers of a run.

The loop records what happened (``PregelLoop.lifecycle``); the drivers call ``deliver`` after
each stage. Without callbacks in the run's config nothing is imported or built.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["adeliver", "deliver", "graph_handlers"]


def graph_handlers(config: dict[str, Any]) -> list[Any]:
    """The ``GraphCallbackHandler`` instances among the run's callbacks (a list or a manager)."""
    callbacks = config.get("callbacks")
    if not callbacks:
        return []
    from stategraph.callbacks import GraphCallbackHandler

    if isinstance(callbacks, (list, tuple)):
        handlers = list(callbacks)
    else:
        handlers = [*getattr(callbacks, "handlers", ()), *getattr(callbacks, "inheritable_handlers", ())]
    found: list[Any] = []
    for handler in handlers:
        if isinstance(handler, GraphCallbackHandler) and handler not in found:
            found.append(handler)
    return found


def _events(loop: Any, run_id: Optional[Any]) -> list[tuple[str, Any]]:
    from stategraph.callbacks import GraphInterruptEvent, GraphResumeEvent

    made = []
    namespace = tuple(part for part in loop.checkpoint_ns.split("|") if part) if loop.checkpoint_ns else ()
    for kind, status, checkpoint_id, interrupts in loop.lifecycle:
        if kind == "resume":
            made.append(("on_resume", GraphResumeEvent(run_id, status, checkpoint_id, namespace)))
        else:
            event = GraphInterruptEvent(run_id, status, checkpoint_id, namespace, tuple(interrupts))
            made.append(("on_interrupt", event))
    loop.lifecycle.clear()
    return made


def deliver(loop: Any, handlers: list[Any], run_id: Optional[Any] = None) -> None:
    if not loop.lifecycle:
        return
    if not handlers:
        loop.lifecycle.clear()
        return
    from langchain_core.callbacks.manager import handle_event

    for method, event in _events(loop, run_id):
        handle_event(handlers, method, None, event)


async def adeliver(loop: Any, handlers: list[Any], run_id: Optional[Any] = None) -> None:
    if not loop.lifecycle:
        return
    if not handlers:
        loop.lifecycle.clear()
        return
    from langchain_core.callbacks.manager import ahandle_event

    for method, event in _events(loop, run_id):
        await ahandle_event(handlers, method, None, event)
