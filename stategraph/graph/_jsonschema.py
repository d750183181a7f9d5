"""JSON Schema of a graph's input, output and context schemas (``get_input_jsonschema``...).

As LangGraph: pydantic models give their own schema, TypedDicts pydantic's schema of the
TypedDict, other classes (dataclasses) a model named after the graph built from their fields.
Needs pydantic, imported only when a schema is asked for.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from typing_extensions import is_typeddict

__all__ = ["schema_to_jsonschema", "type_to_jsonschema"]


def schema_to_jsonschema(schema: Any, title: str) -> dict[str, Any]:
    """The JSON Schema of a state, input, output or context schema class."""
    pydantic = _pydantic()
    if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
        return schema.model_json_schema()
    if not isinstance(schema, type):
        # A root state (``Annotated[list[AnyMessage], add_messages]``): as LangGraph, a root
        # model of the value's type, without the reducer, None by default.
        root = get_args(schema)[0] if get_origin(schema) is Annotated else schema
        return pydantic.create_model(title, __base__=pydantic.RootModel, root=(root, None)).model_json_schema()
    fields = _fields(schema)
    if is_typeddict(schema):
        try:
            return pydantic.TypeAdapter(schema).json_schema()
        except pydantic.PydanticUserError:
            # typing.TypedDict before Python 3.12: pydantic refuses it, its fields do not.
            return pydantic.create_model(schema.__name__, **fields).model_json_schema()
    return pydantic.create_model(title, **fields).model_json_schema()


def type_to_jsonschema(annotation: Any, title: str) -> dict[str, Any]:
    """The JSON Schema of a single value's type (``Any``: no constraint), titled ``title``."""
    schema = _pydantic().TypeAdapter(annotation).json_schema()
    return {**schema, "title": title}


def _fields(schema: Any) -> dict[str, Any]:
    hints = get_type_hints(schema, include_extras=True)
    required_keys = getattr(schema, "__required_keys__", None)
    defaults: dict[str, Any] = {}
    if dataclasses.is_dataclass(schema):
        for field in dataclasses.fields(schema):
            if field.default is not dataclasses.MISSING:
                defaults[field.name] = field.default
            elif field.default_factory is not dataclasses.MISSING:
                defaults[field.name] = field.default_factory()
    fields = {}
    for name, annotation in hints.items():
        if name in defaults:
            fields[name] = (annotation, defaults[name])
        elif required_keys is not None and name not in required_keys:
            fields[name] = (annotation, None)
        elif required_keys is None and _admits_none(annotation):
            # As LangGraph: a class's field that may be None need not be given.
            fields[name] = (annotation, None)
        else:
            fields[name] = (annotation, ...)
    return fields


def _admits_none(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _pydantic() -> Any:
    try:
        import pydantic
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("JSON Schemas of graphs are made by pydantic: pip install pydantic.") from error
    return pydantic
