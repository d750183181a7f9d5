"""``ValidationNode``: check the tool calls of the last AI message against schemas, run nothing.

Each call becomes a ``ToolMessage``: the validated arguments as JSON, or the validation error
(marked ``additional_kwargs={"is_error": True}``) for the model to fix and retry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_executor_for_config
from langchain_core.tools import BaseTool, create_schema_from_function
from pydantic import BaseModel, ValidationError

from stategraph.prebuilt._runnable import NodeRunnable

__all__ = ["ValidationNode"]

FormatError = Callable[[BaseException, ToolCall, type[BaseModel]], str]


def _default_format_error(error: BaseException, call: ToolCall, schema: type[BaseModel]) -> str:
    return f"{error!r}\n\nRespond after fixing all validation errors."


def _schema_entry(schema: Any) -> tuple[str, type[BaseModel]]:
    if isinstance(schema, BaseTool):
        args_schema = schema.args_schema
        if args_schema is None:
            raise ValueError(f"Tool {schema.name} does not have an args_schema defined.")
        if not (isinstance(args_schema, type) and issubclass(args_schema, BaseModel)):
            raise ValueError(
                "Validation node only works with tools that have a pydantic BaseModel "
                f"args_schema. Got {schema.name} with args_schema: {args_schema}."
            )
        return schema.name, args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.__name__, schema
    if callable(schema):
        return schema.__name__, cast(type[BaseModel], create_schema_from_function("Validation", schema))
    raise ValueError(
        "Unsupported input to ValidationNode. Expected BaseModel, tool or function. "
        f"Got: {type(schema)}."
    )


class ValidationNode(NodeRunnable):
    """Validate each tool call of the last ``AIMessage`` against the schema of the same name.

    ``schemas``: pydantic models, tools (their ``args_schema``) or functions (a schema built
    from the signature). ``format_error(error, call, schema) -> str`` writes the error message.
    Dict input gives ``{"messages": [...]}``, list input a list.
    """

    def __init__(
        self,
        schemas: Sequence[BaseTool | type[BaseModel] | Callable[..., Any]],
        *,
        format_error: FormatError | None = None,
        name: str = "validation",
        tags: list[str] | None = None,
    ) -> None:
        super().__init__(self._run, name=name, tags=tags)
        self._format_error = format_error or _default_format_error
        self.schemas_by_name: dict[str, type[BaseModel]] = dict(_schema_entry(s) for s in schemas)

    def _run(self, input: Any, config: RunnableConfig) -> Any:
        if isinstance(input, list):
            messages, as_list = input, True
        else:
            messages, as_list = (input.get("messages", []) if isinstance(input, dict) else []), False
            if not messages:
                raise ValueError("No message found in input")
        last = messages[-1]
        if not isinstance(last, AIMessage):
            raise ValueError("Last message is not an AIMessage")
        with get_executor_for_config(config) as executor:
            outputs = list(executor.map(self._validate, last.tool_calls))
        return outputs if as_list else {"messages": outputs}

    def _validate(self, call: ToolCall) -> ToolMessage:
        schema = self.schemas_by_name.get(call["name"])
        if schema is None:
            raise ValueError(
                f"ValidationNode has no schema named {call['name']!r}; it knows "
                f"{sorted(self.schemas_by_name)}. Add the schema, or route other calls elsewhere."
            )
        try:
            content = schema.model_validate(call["args"]).model_dump_json()
        except ValidationError as error:
            return ToolMessage(
                content=self._format_error(error, call, schema),
                name=call["name"],
                tool_call_id=str(call["id"]),
                additional_kwargs={"is_error": True},
            )
        return ToolMessage(content=content, name=call["name"], tool_call_id=str(call["id"]))
