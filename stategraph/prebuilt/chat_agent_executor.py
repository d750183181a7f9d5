"""``create_react_agent`` and its state schemas, at LangGraph's path ``langgraph.prebuilt.chat_agent_executor``."""

from stategraph.prebuilt._react_agent import AgentState as AgentState
from stategraph.prebuilt._react_agent import AgentStatePydantic as AgentStatePydantic
from stategraph.prebuilt._react_agent import (
    AgentStateWithStructuredResponse as AgentStateWithStructuredResponse,
)
from stategraph.prebuilt._react_agent import (
    AgentStateWithStructuredResponsePydantic as AgentStateWithStructuredResponsePydantic,
)
from stategraph.prebuilt._agent_model import Prompt as Prompt
from stategraph.prebuilt._react_agent import StateSchema as StateSchema
from stategraph.prebuilt._react_agent import StateSchemaType as StateSchemaType
from stategraph.prebuilt._react_agent import StructuredResponse as StructuredResponse
from stategraph.prebuilt._react_agent import (
    StructuredResponseSchema as StructuredResponseSchema,
)
from stategraph.prebuilt._react_agent import create_react_agent as create_react_agent
from stategraph.prebuilt._react_agent import (
    create_tool_calling_executor as create_tool_calling_executor,
)

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "Prompt",
    "StateSchema",
    "StateSchemaType",
    "StructuredResponse",
    "StructuredResponseSchema",
    "create_react_agent",
    "create_tool_calling_executor",
]
