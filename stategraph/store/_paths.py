"""Field paths into a stored value, and the texts they select for embedding.

Syntax: ``$`` (the whole value), ``a.b`` (nested keys), ``arr[0]`` / ``arr[-1]`` (one
element), ``arr[*]`` (every element, each its own text), ``*`` (every value of a dict).
"""

from __future__ import annotations

import json
from typing import Any, Union

__all__ = ["get_text_at_path", "tokenize_path"]

WHOLE_VALUE = "$"


def tokenize_path(path: str) -> list[str]:
    """Split a path into keys, bracketed indexes and braced field sets:
    ``"a.b[0].{c,d.e}"`` -> ``["a", "b", "[0]", "{c,d.e}"]``."""
    if not path or path == WHOLE_VALUE:
        return []
    tokens: list[str] = []
    current: list[str] = []
    position = 0
    while position < len(path):
        char = path[position]
        if char == ".":
            if current:
                tokens.append("".join(current))
                current = []
            position += 1
        elif char == "[":
            if current:
                tokens.append("".join(current))
                current = []
            close = path.find("]", position)
            if close == -1:
                raise ValueError(
                    f"Invalid field path {path!r}: '[' without a closing ']'. "
                    "Index arrays as 'items[0]', 'items[-1]' or 'items[*]'."
                )
            tokens.append(path[position : close + 1])
            position = close + 1
        elif char == "{":
            if current:
                tokens.append("".join(current))
                current = []
            end = _closing_brace(path, position)
            tokens.append(path[position:end])  # unclosed: the rest, which selects nothing
            position = end
        else:
            current.append(char)
            position += 1
    if current:
        tokens.append("".join(current))
    return tokens


def _closing_brace(path: str, start: int) -> int:
    depth = 0
    for position in range(start, len(path)):
        if path[position] == "{":
            depth += 1
        elif path[position] == "}":
            depth -= 1
            if depth == 0:
                return position + 1
    return len(path)


def _fields(token: str) -> list[str]:
    """The comma-separated paths of a ``{a,b.c}`` token (commas in nested braces kept)."""
    fields, depth, current = [], 0, []
    for char in token[1:-1]:
        if char == "," and depth == 0:
            fields.append("".join(current).strip())
            current = []
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        current.append(char)
    fields.append("".join(current).strip())
    return [field for field in fields if field]


def get_text_at_path(value: Any, path: Union[str, list[str]]) -> list[str]:
    """The texts ``path`` selects in ``value``; a missing field selects nothing.

    Strings are returned as they are, numbers and booleans as ``str()``, lists and dicts as
    key-sorted JSON.
    """
    if path == WHOLE_VALUE or not path:
        return [_to_text(value)]
    tokens = tokenize_path(path) if isinstance(path, str) else path
    texts: list[str] = []
    _collect(value, tokens, 0, texts)
    return texts


def _collect(node: Any, tokens: list[str], position: int, texts: list[str]) -> None:
    if position == len(tokens):
        if node is not None:
            texts.append(_to_text(node))
        return
    token = tokens[position]
    if token.startswith("{"):
        if not token.endswith("}"):
            return
        for field in _fields(token):
            _collect(node, tokenize_path(field) + tokens[position + 1 :], 0, texts)
    elif token.startswith("["):
        if not isinstance(node, list):
            return
        index = token[1:-1].strip()
        if index == "*":
            for element in node:
                _collect(element, tokens, position + 1, texts)
            return
        try:
            element = node[int(index)]
        except (ValueError, IndexError):
            return
        _collect(element, tokens, position + 1, texts)
    elif token == "*":
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        for child in children:
            _collect(child, tokens, position + 1, texts)
    elif isinstance(node, dict) and token in node:
        _collect(node[token], tokens, position + 1, texts)


def _to_text(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, (dict, list)):
        return json.dumps(node, sort_keys=True, ensure_ascii=False, default=str)
    return str(node)
