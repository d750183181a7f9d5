"""Agent-inbox interrupt schemas (api_spec §10.5)."""

from __future__ import annotations

import typing

from stategraph.prebuilt.interrupt import (
    ActionRequest,
    HumanInterrupt,
    HumanInterruptConfig,
    HumanResponse,
)


def test_schemas_have_langgraphs_keys() -> None:
    assert set(typing.get_type_hints(ActionRequest)) == {"action", "args"}
    assert set(typing.get_type_hints(HumanInterruptConfig)) == {"allow_ignore", "allow_respond", "allow_edit", "allow_accept"}
    assert set(typing.get_type_hints(HumanInterrupt)) == {"action_request", "config", "description"}
    assert set(typing.get_type_hints(HumanResponse)) == {"type", "args"}


def test_a_request_is_a_plain_dict() -> None:
    request = HumanInterrupt(
        action_request=ActionRequest(action="run_command", args={"command": "ls"}),
        config=HumanInterruptConfig(allow_ignore=True, allow_respond=True, allow_edit=False, allow_accept=True),
        description="Please review the command before execution",
    )
    assert request["action_request"]["args"] == {"command": "ls"} and type(request) is dict
