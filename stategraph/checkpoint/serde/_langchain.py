"""langchain-core's messages and documents, registered the first time one is met or named.

Importing langchain-core costs time and is optional, so nothing here runs until a value from
``langchain_core`` is written or stored bytes name a ``langchain_core:`` key.
"""

from __future__ import annotations

from stategraph.checkpoint.serde._codecs import TypeCodec, codec_for_class

__all__ = ["KEY_PREFIX", "langchain_codecs"]

KEY_PREFIX = "langchain_core:"

_MESSAGE_CLASSES = (
    "BaseMessage", "BaseMessageChunk", "AIMessage", "AIMessageChunk", "HumanMessage",
    "HumanMessageChunk", "SystemMessage", "SystemMessageChunk", "ToolMessage",
    "ToolMessageChunk", "FunctionMessage", "FunctionMessageChunk", "ChatMessage",
    "ChatMessageChunk", "RemoveMessage",
)  # fmt: skip


def langchain_codecs() -> list[TypeCodec]:
    """Codecs keyed ``langchain_core:<ClassName>`` (stable across langchain-core's module moves).

    Raises ImportError when langchain-core is not installed.
    """
    import langchain_core.documents as documents
    import langchain_core.messages as messages

    classes = [getattr(messages, name, None) for name in _MESSAGE_CLASSES]
    classes.append(getattr(documents, "Document", None))
    codecs = []
    for cls in classes:
        if cls is None:
            continue
        codec = codec_for_class(cls, KEY_PREFIX + cls.__name__)
        if codec is not None:
            codecs.append(codec)
    return codecs
