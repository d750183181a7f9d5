"""``CompiledStateGraph``: what ``StateGraph.compile()`` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

from stategraph._constants import START
from stategraph.pregel._graph import Pregel
from stategraph.typing import ContextT, InputT, OutputT, StateT

if TYPE_CHECKING:
    from stategraph.graph.state import StateGraph

__all__ = ["CompiledStateGraph"]


class CompiledStateGraph(Pregel[StateT, ContextT, InputT, OutputT]):
    """A compiled ``StateGraph``: run it with invoke/stream, inspect it with get_state."""

    def __init__(self, *, builder: StateGraph, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.builder = builder

    def map_input(self, input: Any) -> list[tuple[str, Any]]:
        if input is None:
            return []
        return [(START, input)]

    def coerce_output(self, value: Any) -> Any:
        """``version="v2"`` outputs are instances of the output schema's own class."""
        from stategraph.graph._schema import make_mapper, schema_keys

        schema = self.builder.output_schema
        mapper = make_mapper(schema)
        if mapper is None or not isinstance(value, dict):
            return value
        keys = schema_keys(schema)
        return mapper({k: v for k, v in value.items() if k in keys})

    def get_graph(self, config: Optional[dict[str, Any]] = None, *, xray: Union[bool, int] = False) -> Any:
        """A drawable picture of the graph (``draw_mermaid()``, ``draw_ascii()``)."""
        from stategraph.graph._draw import draw_graph

        return draw_graph(
            self.builder,
            interrupt_before=self.interrupt_before_nodes,
            interrupt_after=self.interrupt_after_nodes,
            xray=xray,
            name=self.name,
        )

    async def aget_graph(self, config: Optional[dict[str, Any]] = None, *, xray: Union[bool, int] = False) -> Any:
        return self.get_graph(config, xray=xray)

    def get_input_jsonschema(self, config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        from stategraph.graph._jsonschema import schema_to_jsonschema

        return schema_to_jsonschema(self.builder.input_schema, self.get_name("Input"))

    def get_output_jsonschema(self, config: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        from stategraph.graph._jsonschema import schema_to_jsonschema

        return schema_to_jsonschema(self.builder.output_schema, self.get_name("Output"))

    def get_context_jsonschema(self) -> Optional[dict[str, Any]]:
        if self.builder.context_schema is None:
            return None
        from stategraph.graph._jsonschema import schema_to_jsonschema

        return schema_to_jsonschema(self.builder.context_schema, self.get_name("Context"))
