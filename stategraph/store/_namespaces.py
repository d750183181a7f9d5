"""Namespaces: the rules a namespace must follow, and matching and listing them.

A namespace is a non-empty tuple of non-empty string labels without ``.`` (SQL stores join
labels with dots); its first label may not be ``"langgraph"``, which is reserved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stategraph.errors import InvalidNamespaceError
from stategraph.store._ops import ListNamespacesOp, MatchCondition

__all__ = ["is_under_prefix", "list_matching_namespaces", "validate_labels", "validate_namespace"]

RESERVED_ROOT = "langgraph"


def validate_namespace(namespace: tuple[Any, ...]) -> None:
    """Raise ``InvalidNamespaceError`` naming the first rule ``namespace`` breaks."""
    if not namespace:
        raise InvalidNamespaceError(
            "Namespace cannot be empty. Pass a tuple of one or more labels, "
            'e.g. ("memories", user_id).'
        )
    validate_labels(namespace)
    if namespace[0] == RESERVED_ROOT:
        raise InvalidNamespaceError(
            f'Root label for namespace cannot be "langgraph". Got: {namespace}. That root is '
            "reserved for the platform; start the namespace with another label."
        )


def validate_labels(namespace: tuple[Any, ...]) -> None:
    """Raise ``InvalidNamespaceError`` for a label no stored namespace can have: reads,
    deletes and listings are refused too, as LangGraph's, so a typo is not an empty result."""
    for label in namespace:
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. Namespace labels "
                f"must be strings, but got {type(label).__name__}. Convert it first, "
                f"e.g. str({label!r})."
            )
        if "." in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {namespace}. Namespace labels "
                "cannot contain periods ('.'). Split it into separate labels, e.g. "
                f"{tuple(label.split('.'))!r}, or replace the periods."
            )
        if "\x00" in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label {label!r} found in {namespace}. Namespace labels "
                "cannot contain NUL bytes ('\\x00'). Remove them from the label."
            )
        if not label:
            raise InvalidNamespaceError(
                f"Namespace labels cannot be empty strings. Got {label!r} in {namespace}. "
                "Drop the empty label or give it a name."
            )


def is_under_prefix(namespace: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    """Whether ``namespace`` equals ``prefix`` or lies below it (label by label)."""
    return namespace[: len(prefix)] == tuple(prefix)


def _matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    pattern = tuple(condition.path)
    if len(namespace) < len(pattern):
        return False
    if condition.match_type == "prefix":
        compared = namespace[: len(pattern)]
    elif condition.match_type == "suffix":
        compared = namespace[len(namespace) - len(pattern) :]
    else:
        raise ValueError(
            f"Unsupported match type {condition.match_type!r}. Use 'prefix' or 'suffix'."
        )
    return all(want == "*" or want == label for label, want in zip(compared, pattern))


def list_matching_namespaces(
    namespaces: Iterable[tuple[str, ...]], op: ListNamespacesOp
) -> list[tuple[str, ...]]:
    """Apply a ``ListNamespacesOp`` to the namespaces that hold items.

    Keeps those matching every condition, truncates to ``max_depth``, deduplicates, sorts,
    then pages with ``offset``/``limit``.
    """
    conditions = op.match_conditions or ()
    kept = {
        namespace if op.max_depth is None else namespace[: op.max_depth]
        for namespace in namespaces
        if all(_matches(namespace, condition) for condition in conditions)
    }
    return sorted(kept)[op.offset : op.offset + op.limit]
