"""Testing helpers: scripted chat models and canned tools, so graphs run offline and repeatably.

    from stategraph.testing import ScriptedChatModel, tool_call

    model = ScriptedChatModel(responses=[tool_call("search", {"query": "weather"}), "Sunny."])
"""

from stategraph.testing._scripted_model import Reply as Reply
from stategraph.testing._scripted_model import ScriptedChatModel as ScriptedChatModel
from stategraph.testing._scripted_model import split_into_chunks as split_into_chunks
from stategraph.testing._scripted_model import tool_call as tool_call
from stategraph.testing._search_tool import canned_search_tool as canned_search_tool

__all__ = ["Reply", "ScriptedChatModel", "canned_search_tool", "split_into_chunks", "tool_call"]
