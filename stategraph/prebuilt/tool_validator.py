"""``ValidationNode`` at LangGraph's import path ``langgraph.prebuilt.tool_validator``."""

from stategraph.prebuilt._validation_node import ValidationNode as ValidationNode

__all__ = ["ValidationNode"]
