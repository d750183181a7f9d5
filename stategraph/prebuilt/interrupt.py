"""Agent-inbox interrupt schemas, at LangGraph's import path ``langgraph.prebuilt.interrupt``."""

from stategraph.prebuilt._interrupt_schemas import ActionRequest as ActionRequest
from stategraph.prebuilt._interrupt_schemas import HumanInterrupt as HumanInterrupt
from stategraph.prebuilt._interrupt_schemas import (
    HumanInterruptConfig as HumanInterruptConfig,
)
from stategraph.prebuilt._interrupt_schemas import HumanResponse as HumanResponse

__all__ = ["ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"]
