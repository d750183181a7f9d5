"""What the engine may ask of a saver beyond LangGraph's interface, decided once per class.

stategraph's savers offer shortcuts: ``put_step`` (a step's checkpoint and task writes in one
transaction), ``put_batch`` (several calls, of any runs, in one transaction) and
``reads_only_new_values`` (``put`` needs only the channels that changed). And, as in
LangGraph, ``put_writes`` is passed a ``task_path`` only when its signature names one (savers
written for LangGraph releases before it existed take three arguments).
A subclass that overrides ``put`` or ``put_writes`` (a user's wrapper, a test double that
records every checkpoint) expects to see every call with full values, as LangGraph guarantees.
So a shortcut holds only when the class that provides it is at least as derived as every class
that overrides the methods it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from inspect import signature
from typing import Any

__all__ = ["SaverCapabilities", "acall_put_writes", "call_put_writes", "saver_capabilities"]

_REPLACED_BY_PUT_STEP = ("put", "put_writes", "aput", "aput_writes")
_REPLACED_BY_NEW_VALUES_ONLY = ("put", "aput")


@dataclass(frozen=True, slots=True)
class SaverCapabilities:
    commits_steps: bool  # the engine may call put_step / aput_step
    reads_only_new_values: bool  # put may be given only the changed channels
    commits_batches: bool = False  # the engine may call put_batch with several calls
    writes_take_task_path: bool = True  # put_writes accepts task_path
    awrites_take_task_path: bool = True  # aput_writes accepts task_path


def saver_capabilities(saver: Any) -> SaverCapabilities:
    return _capabilities_of(type(saver))


@lru_cache(maxsize=None)
def _capabilities_of(cls: type) -> SaverCapabilities:
    commits_steps = all(
        _covers(cls, provider, name)
        for provider in ("put_step", "aput_step")
        for name in _REPLACED_BY_PUT_STEP
    ) and hasattr(cls, "put_step")
    new_values_only = bool(getattr(cls, "reads_only_new_values", False)) and all(
        _covers(cls, "reads_only_new_values", name) for name in _REPLACED_BY_NEW_VALUES_ONLY
    )
    commits_batches = commits_steps and all(
        _covers(cls, "put_batch", name) for name in (*_REPLACED_BY_PUT_STEP, "put_step")
    ) and hasattr(cls, "put_batch")
    return SaverCapabilities(
        commits_steps=commits_steps,
        reads_only_new_values=new_values_only,
        commits_batches=commits_batches,
        writes_take_task_path=_takes_task_path(cls, "put_writes"),
        awrites_take_task_path=_takes_task_path(cls, "aput_writes"),
    )


def _takes_task_path(cls: type, name: str) -> bool:
    method = getattr(cls, name, None)
    if method is None:
        return True
    try:
        return "task_path" in signature(method).parameters
    except (TypeError, ValueError):  # a builtin or C method: assume today's interface
        return True


def _covers(cls: type, provider: str, replaced: str) -> bool:
    """True when ``provider`` is defined by ``replaced``'s definer or by a class below it."""
    provider_owner = _owner(cls, provider)
    replaced_owner = _owner(cls, replaced)
    if provider_owner is None or replaced_owner is None:
        return provider_owner is not None or replaced_owner is None
    return issubclass(provider_owner, replaced_owner)


def _owner(cls: type, name: str) -> type | None:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def call_put_writes(saver: Any, config: Any, writes: Any, task_id: str, task_path: str) -> None:
    """``saver.put_writes``, given ``task_path`` when the saver's signature takes it."""
    if saver_capabilities(saver).writes_take_task_path:
        saver.put_writes(config, writes, task_id, task_path)
    else:
        saver.put_writes(config, writes, task_id)


async def acall_put_writes(
    saver: Any, config: Any, writes: Any, task_id: str, task_path: str
) -> None:
    if saver_capabilities(saver).awrites_take_task_path:
        await saver.aput_writes(config, writes, task_id, task_path)
    else:
        await saver.aput_writes(config, writes, task_id)
