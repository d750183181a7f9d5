"""Checking the namespace labels an operation carries, for ops that reach ``batch`` directly.

``BaseStore.put`` validates whole namespaces; a ``GetOp``/``SearchOp``/``ListNamespacesOp``
handed to ``batch`` skips that, and a store that joins labels with dots would then read
``("a.b",)`` as ``("a", "b")``. SQL stores call ``validate_op_namespace`` on every op.
"""

from __future__ import annotations

from stategraph.store._namespaces import validate_labels
from stategraph.store._ops import GetOp, ListNamespacesOp, Op, PutOp, SearchOp

__all__ = ["validate_op_namespace"]


def validate_op_namespace(op: Op) -> None:
    """Validate the labels of ``op``'s namespace, prefix or match patterns (see module doc)."""
    if isinstance(op, (GetOp, PutOp)):
        validate_labels(op.namespace)
    elif isinstance(op, SearchOp):
        validate_labels(op.namespace_prefix)
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            validate_labels(condition.path)
