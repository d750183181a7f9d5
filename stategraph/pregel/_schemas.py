"""A graph's schemas, as LangGraph's ``Pregel`` (a LangChain ``Runnable``) offers them.

``input_schema``/``output_schema`` are pydantic models: a single input or output channel gives
a root model of that channel's type, several give a model with one optional field per channel.
The JSON Schemas are those models' schemas. Pydantic is imported only when a schema is asked for.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable, Optional, Sequence

from typing_extensions import is_typeddict

from stategraph.warnings import LangGraphDeprecatedSinceV10

__all__ = ["SchemaMethods"]


class SchemaMethods:
    """Input, output, context and (deprecated) config schemas of a graph."""

    channels: dict[str, Any]
    input_channels: str | Sequence[str]
    output_channels: str | Sequence[str]
    context_schema: Any
    get_name: Callable[..., str]  # Pregel's

    @property
    def InputType(self) -> Any:  # noqa: N802 - Runnable's name
        if isinstance(self.input_channels, str):
            return self.channels[self.input_channels].UpdateType
        return dict[str, Any]

    @property
    def OutputType(self) -> Any:  # noqa: N802 - Runnable's name
        if isinstance(self.output_channels, str):
            return self.channels[self.output_channels].ValueType
        return dict[str, Any]

    @property
    def input_schema(self) -> Any:
        return self.get_input_schema()

    @property
    def output_schema(self) -> Any:
        return self.get_output_schema()

    def get_input_schema(self, config: Optional[dict[str, Any]] = None) -> Any:
        """A pydantic model of what ``invoke`` takes."""
        if isinstance(self.input_channels, str):
            return _root_model(self.InputType, self.get_name("Input"))
        names = self.input_channels or list(self.channels)
        return _fields_model(
            self.get_name("Input"), {name: self.channels[name].UpdateType for name in names}
        )

    def get_output_schema(self, config: Optional[dict[str, Any]] = None) -> Any:
        """A pydantic model of what ``invoke`` returns."""
        if isinstance(self.output_channels, str):
            return _root_model(self.OutputType, self.get_name("Output"))
        return _fields_model(
            self.get_name("Output"),
            {name: self.channels[name].ValueType for name in self.output_channels},
        )

    def get_input_jsonschema(self, config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        return self.get_input_schema(config).model_json_schema()  # type: ignore[no-any-return]

    def get_output_jsonschema(self, config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        return self.get_output_schema(config).model_json_schema()  # type: ignore[no-any-return]

    def get_context_jsonschema(self) -> Optional[dict[str, Any]]:
        """The JSON Schema of ``context_schema`` (None without one)."""
        schema = self.context_schema
        if schema is None:
            return None
        pydantic = _pydantic()
        if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
            return schema.model_json_schema()  # type: ignore[no-any-return]
        if is_typeddict(schema) or dataclasses.is_dataclass(schema):
            return pydantic.TypeAdapter(schema).json_schema()  # type: ignore[no-any-return]
        raise ValueError(
            f"Invalid context schema type: {schema}. Must be a BaseModel, TypedDict or dataclass."
        )

    def config_schema(self, *, include: Optional[Sequence[str]] = None) -> Any:
        """Deprecated (LangGraph 1.0): a pydantic model of the config; use
        ``get_context_jsonschema``."""
        warnings.warn(
            "`config_schema` is deprecated. Use `get_context_jsonschema` for the relevant "
            "schema instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        from typing import get_type_hints

        from langchain_core.runnables import RunnableConfig  # the method needs pydantic anyway

        wanted = [name for name in include or () if name != "configurable"]
        fields: dict[str, Any] = (
            {"configurable": (self.context_schema, None)} if self.context_schema else {}
        )
        for field_name, field_type in get_type_hints(RunnableConfig).items():
            if field_name in wanted:
                fields[field_name] = (field_type, None)
        return _pydantic().create_model(self.get_name("Config"), **fields)

    def get_config_jsonschema(self, *, include: Optional[Sequence[str]] = None) -> dict[str, Any]:
        """Deprecated (LangGraph 1.0): use ``get_context_jsonschema``."""
        warnings.warn(
            "`get_config_jsonschema` is deprecated. Use `get_context_jsonschema` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LangGraphDeprecatedSinceV10)
            return self.config_schema(include=include).model_json_schema()  # type: ignore[no-any-return]


def _root_model(annotation: Any, name: str) -> Any:
    pydantic = _pydantic()
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    return pydantic.create_model(name, __base__=pydantic.RootModel[annotation])


def _fields_model(name: str, types: dict[str, Any]) -> Any:
    return _pydantic().create_model(name, **{key: (typ, None) for key, typ in types.items()})


def _pydantic() -> Any:
    try:
        import pydantic
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("A graph's schemas are made by pydantic: pip install pydantic.") from error
    return pydantic
