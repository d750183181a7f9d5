"""Checkpoint serialization: what may be stored, and how it is read back safely.

``register_types`` adds application classes to the process-wide registry of types stored bytes
may rebuild; ``collect_schema_types`` finds those a schema names (``compile()`` registers them).
The serializers live in ``serde.jsonplus`` and ``serde.encrypted``; the protocol in ``serde.base``.
"""

from stategraph.checkpoint.serde._registry import register_types as register_types
from stategraph.checkpoint.serde._schema import (
    collect_schema_types as collect_schema_types,
)

__all__ = ["collect_schema_types", "register_types"]
