"""Checkpoint serialization: what may be stored, and how it is read back safely.

``register_types`` adds application classes to the process-wide registry of types stored bytes
may rebuild; ``collect_schema_types`` finds those a schema names (``compile()`` registers them).
The serializers live in ``serde.jsonplus`` and ``serde.encrypted``; the protocol in ``serde.base``.
"""

from stategraph.checkpoint.serde._registry import register_types as register_types
from stategraph.checkpoint.serde._schema import (
    collect_schema_types as collect_schema_types,
)

__all__ = ["collect_schema_types", "register_annotated_types", "register_types"]


def register_annotated_types(*annotations: object) -> None:
    """Register the classes that type annotations name (the functional API's inputs, outputs
    and task results, as ``compile()`` does for a state schema)."""
    found: set[type] = set()
    for annotation in annotations:
        found |= collect_schema_types(annotation)
    if found:
        register_types(*found)
