"""What a ``ToolNode`` does when a tool fails: which errors become messages, with what text.

The templates are LangGraph's, word for word: models (and tests) read them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from langchain_core.tools import ToolException
from pydantic import ValidationError

try:
    from types import UnionType
except ImportError:  # pragma: no cover - Python < 3.10
    UnionType = Union  # type: ignore[assignment,misc]

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "TOOL_EXECUTION_ERROR_TEMPLATE",
    "TOOL_INVOCATION_ERROR_TEMPLATE",
    "ErrorHandling",
    "ToolErrorPolicy",
    "ToolInvocationError",
]

INVALID_TOOL_NAME_ERROR_TEMPLATE = "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."
TOOL_EXECUTION_ERROR_TEMPLATE = (
    "Error executing tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)
TOOL_INVOCATION_ERROR_TEMPLATE = (
    "Error invoking tool '{tool_name}' with kwargs {tool_kwargs} with error:\n"
    " {error}\n"
    " Please fix the error and try again."
)

ErrorHandling = Union[bool, str, Callable[..., str], type[Exception], tuple[type[Exception], ...]]


class ToolInvocationError(ToolException):
    """The model called a tool with arguments its schema rejects.

    Only errors on arguments the model controls are listed (injected ones are the graph's).
    """

    def __init__(
        self,
        tool_name: str,
        source: ValidationError,
        tool_kwargs: dict[str, Any],
        filtered_errors: list[Any] | None = None,
    ) -> None:
        if filtered_errors is not None:
            detail = "\n".join(
                f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'Unknown error')}"
                for error in filtered_errors
            )
        else:
            detail = str(source)
        self.message = TOOL_INVOCATION_ERROR_TEMPLATE.format(
            tool_name=tool_name, tool_kwargs=tool_kwargs, error=detail
        )
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.source = source
        self.filtered_errors = filtered_errors
        super().__init__(self.message)


def invocation_error(
    tool_name: str, error: ValidationError, model_args: dict[str, Any], hidden: frozenset[str]
) -> ToolInvocationError:
    """Wrap an argument-validation error, keeping only what the model can fix."""
    kept: list[dict[str, Any]] = []
    for found in error.errors():
        location = found.get("loc") or ()
        if not location or location[0] in hidden:
            continue
        detail: dict[str, Any] = dict(found)
        if isinstance(detail.get("input"), dict):
            detail["input"] = {k: v for k, v in detail["input"].items() if k not in hidden}
        kept.append(detail)
    return ToolInvocationError(tool_name, error, model_args, kept)


def _default_content(error: Exception) -> str:
    return TOOL_CALL_ERROR_TEMPLATE.format(error=repr(error))


def _invocation_message(error: Exception) -> str:
    return error.message if isinstance(error, ToolInvocationError) else _default_content(error)


def _handled_by(handler: Callable[..., str]) -> tuple[type[Exception], ...]:
    """The exception types a handler names in its first parameter's annotation."""
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return (Exception,)
    if not parameters:
        return (Exception,)
    first = parameters[1] if parameters[0].name in ("self", "cls") and len(parameters) == 2 else parameters[0]
    try:
        hints = get_type_hints(handler)
    except Exception:
        hints = {}
    annotation = hints.get(first.name)
    if annotation is None:
        return (Exception,)
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    if all(isinstance(member, type) and issubclass(member, Exception) for member in members):
        return tuple(members)
    raise ValueError(
        "Arbitrary types are not supported in the error handler signature. Please annotate "
        "the error with either a specific Exception type or a union of Exception types. For "
        "example, `def custom_handler(e: ValueError)` or `def custom_handler(e: "
        f"Union[ValueError, TypeError])`. Got '{annotation}' instead."
    )


@dataclass(frozen=True, slots=True)
class ToolErrorPolicy:
    """``handle_tool_errors``, decided once: which exceptions to catch and the message text."""

    handled: tuple[type[Exception], ...]
    content: Callable[[Exception], str]

    @classmethod
    def default(cls) -> ToolErrorPolicy:
        """Catch only bad arguments from the model; a tool's own failures propagate."""
        return cls((ToolInvocationError,), _invocation_message)

    @classmethod
    def from_setting(cls, setting: Any) -> ToolErrorPolicy:
        if setting is None or setting is False:
            return cls((), _default_content)
        if setting is True:
            return cls((Exception,), _default_content)
        if isinstance(setting, str):
            text = setting
            return cls((Exception,), lambda _: text)
        if isinstance(setting, type) and issubclass(setting, Exception):
            return cls((setting,), _default_content)
        if isinstance(setting, tuple):
            if not all(isinstance(kind, type) and issubclass(kind, Exception) for kind in setting):
                raise ValueError(
                    f"handle_tool_errors={setting!r}: a tuple must hold only exception types, "
                    "e.g. (ValueError, KeyError)."
                )
            return cls(setting, _default_content)
        if callable(setting):
            return cls(_handled_by(setting), setting)
        raise ValueError(
            "Got unexpected type of `handle_tool_error`. Expected bool, str or callable. "
            f"Received: {setting}"
        )

    def message_for(self, error: Exception) -> str | None:
        """The ``ToolMessage`` text for ``error``, or None when it must propagate."""
        if self.handled and isinstance(error, self.handled):
            return self.content(error)
        return None
