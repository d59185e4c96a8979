"""Typed results of reading tool calls out of Hermes 2 Pro output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ToolCall",
    "ToolCallErrorReason",
    "ToolCallParse",
    "ToolCallParseError",
    "ToolCallWarning",
    "ToolCallWarningReason",
]

ToolCallErrorReason = Literal[
    "invalid_json",
    "unterminated_tool_call_invalid_json",
    "not_an_object",
    "missing_name",
    "invalid_arguments",
]
"""Why a ``<tool_call>`` block gave no call.

``invalid_json``: the body is neither JSON nor a Python literal.
``unterminated_tool_call_invalid_json``: the block has no ``</tool_call>`` and its body is cut off
or broken. ``not_an_object``: the body is valid but not an object. ``missing_name``: no string
``name``. ``invalid_arguments``: ``arguments`` is neither an object nor a JSON string holding one.
"""

ToolCallWarningReason = Literal[
    "unterminated_tool_call",
    "python_literal_repaired",
    "arguments_json_string_decoded",
    "template_brace_repaired",
    "missing_arguments",
]
"""A repair made to accept a call.

``unterminated_tool_call``: no ``</tool_call>``, but the JSON is complete.
``python_literal_repaired``: a Python dict (single quotes, ``True``/``None``) read with
``ast.literal_eval``. ``arguments_json_string_decoded``: ``arguments`` was a JSON string.
``template_brace_repaired``: ``{"name": "f"}, "arguments": {...}``, the form the ``tool_use``
chat template writes into the history, read as one object. ``missing_arguments``: no
``arguments`` (or ``null``), taken as ``{}``."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One parsed call: the function name, its arguments, and an id stable for its position."""

    name: str
    arguments: dict[str, Any]
    id: str

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tool_calls`` entry: ``arguments`` as a JSON string."""
        return {
            "id": self.id,
            "type": "function",
            "function": {
                "name": self.name,
                "arguments": json.dumps(self.arguments, ensure_ascii=False),
            },
        }


@dataclass(frozen=True, slots=True)
class ToolCallParseError:
    """A ``<tool_call>`` block that gave no call.

    ``position`` is the offset of its ``<tool_call>`` tag in the text given to the parser,
    ``raw`` the text between the tags (to the end of the text when unterminated), ``index`` the
    zero-based block number, ``message`` the detail (e.g. the JSON decoder's complaint).
    """

    position: int
    raw: str
    reason: ToolCallErrorReason
    index: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallWarning:
    """A repair that let the call with id ``call_id`` (block ``index``) through."""

    position: int
    reason: ToolCallWarningReason
    index: int
    call_id: str


@dataclass(frozen=True, slots=True)
class ToolCallParse:
    """What an assistant turn says: prose, calls, and the blocks that failed.

    ``content`` is the text outside every ``<tool_call>`` block, ``<|im_end|>`` removed,
    whitespace-stripped, ``None`` when empty. ``calls`` and ``errors`` are in text order; a bad
    block never hides a good one.
    """

    content: str | None
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[ToolCallParseError] = field(default_factory=list)
    warnings: list[ToolCallWarning] = field(default_factory=list)
