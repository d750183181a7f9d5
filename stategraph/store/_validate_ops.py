"""Checking the namespace labels an operation carries, for ops that reach ``batch`` directly.

``BaseStore.put`` validates whole namespaces; a ``GetOp``/``SearchOp``/``ListNamespacesOp``
handed to ``batch`` skips that, and a store that joins labels with dots would then read
``("a.b",)`` as ``("a", "b")``. SQL stores call ``validate_op_namespace`` on every op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stategraph.errors import InvalidNamespaceError
from stategraph.store._ops import GetOp, ListNamespacesOp, Op, PutOp, SearchOp

__all__ = ["validate_labels", "validate_op_namespace"]


def validate_labels(labels: Sequence[Any]) -> None:
    """Raise ``InvalidNamespaceError`` for a label that is not a non-empty string without
    ``.`` or NUL (an empty sequence, e.g. a search of everything, is fine)."""
    namespace = tuple(labels)
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


def validate_op_namespace(op: Op) -> None:
    """Validate the labels of ``op``'s namespace, prefix or match patterns (see module doc)."""
    if isinstance(op, (GetOp, PutOp)):
        validate_labels(op.namespace)
    elif isinstance(op, SearchOp):
        validate_labels(op.namespace_prefix)
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            validate_labels(condition.path)
