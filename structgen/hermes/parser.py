"""Read Hermes 2 Pro tool calls out of model output, without an XML parser."""

from __future__ import annotations

import ast
import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from structgen.hermes.calls import (
    ToolCall,
    ToolCallErrorReason,
    ToolCallParse,
    ToolCallParseError,
    ToolCallWarning,
    ToolCallWarningReason,
)

__all__ = ["CLOSE_TAG", "EOS", "OPEN_TAG", "decode_block", "parse_tool_calls"]

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
EOS = "<|im_end|>"

BlockEnd = Literal["close", "open", "eof"]

_FAIL = object()
_OUTSIDE = re.compile(r"[\"'<]")
_TEMPLATE_ARGUMENTS = re.compile(r"\s*,\s*([\"'])arguments\1\s*:\s*")


def parse_tool_calls(text: str, *, eos: str | None = EOS) -> ToolCallParse:
    """Split an assistant turn into prose and ``<tool_call>`` blocks, each decoded on its own.

    Rules (``README`` section 9 of the Hermes format notes, made robust):

    1. Every ``eos`` string is removed first.
    2. A block starts at ``<tool_call>`` and ends at the first ``</tool_call>`` (or next
       ``<tool_call>``) that is outside a JSON string, found by a string-aware scan, so ``&``,
       ``<``, braces and even ``</tool_call>`` inside string values are harmless. If the scan
       ends inside a string, the first literal tag ends the block instead. A block without
       ``</tool_call>`` is *unterminated*.
    3. The body is stripped and read with ``json.loads``, then ``ast.literal_eval`` (Python dicts,
       warning ``python_literal_repaired``); the ``tool_use`` template's
       ``{"name": "f"}, "arguments": {...}`` is repaired (``template_brace_repaired``); an
       unterminated body may be a complete object followed by prose, which becomes content.
    4. It must be an object with a string ``name``; ``arguments`` must be an object (a JSON string
       holding one is decoded, ``arguments_json_string_decoded``; missing or ``null`` is ``{}``,
       ``missing_arguments``). Key order does not matter.
    5. A bad block is an error entry; it never hides the others and nothing is dropped silently.

    Parameters
    ----------
    text
        Decoded model output (decode with ``skip_special_tokens=False``, or the tags may be gone).
    eos
        End-of-turn text to remove; ``None`` keeps the text as is.

    Returns
    -------
    ToolCallParse
        ``content`` (outside text, stripped, ``None`` when empty), ``calls`` with ids
        ``call_{block index}``, ``errors`` and ``warnings``; positions are offsets in ``text``.
    """
    cleaned, removed_at = _remove_eos(text, eos)

    def original(pos: int) -> int:
        return pos + (len(eos) if eos else 0) * bisect.bisect_right(removed_at, pos)

    content: list[str] = []
    calls: list[ToolCall] = []
    errors: list[ToolCallParseError] = []
    warnings: list[ToolCallWarning] = []
    pos = 0
    index = 0
    while True:
        start = cleaned.find(OPEN_TAG, pos)
        if start < 0:
            content.append(cleaned[pos:])
            break
        content.append(cleaned[pos:start])
        body_start = start + len(OPEN_TAG)
        end, kind = _block_end(cleaned, body_start)
        outcome = decode_block(
            cleaned[body_start:end],
            terminated=kind == "close",
            index=index,
            position=original(start),
        )
        outcome.record(calls, errors, warnings)
        content.append(outcome.remainder)
        pos = end + len(CLOSE_TAG) if kind == "close" else end
        index += 1
    joined = "".join(content).strip()
    return ToolCallParse(joined or None, calls, errors, warnings)


@dataclass(slots=True)
class BlockOutcome:
    """What one ``<tool_call>`` block gave: a call (with its repairs) or an error, plus any prose
    that followed a complete object in an unterminated block."""

    call: ToolCall | None = None
    error: ToolCallParseError | None = None
    warnings: list[ToolCallWarning] = field(default_factory=list)
    remainder: str = ""

    def record(
        self,
        calls: list[ToolCall],
        errors: list[ToolCallParseError],
        warnings: list[ToolCallWarning],
    ) -> None:
        if self.call is not None:
            calls.append(self.call)
        if self.error is not None:
            errors.append(self.error)
        warnings.extend(self.warnings)


def decode_block(body: str, *, terminated: bool, index: int, position: int) -> BlockOutcome:
    """Decode the text between ``<tool_call>`` and ``</tool_call>`` (rules 3 to 5 above).

    Parameters
    ----------
    body
        The block's text, without the tags.
    terminated
        Whether ``</tool_call>`` closed it.
    index, position
        Block number and tag offset, recorded in the call id, errors and warnings.
    """
    stripped = body.strip()
    lead = len(body) - len(body.lstrip())
    repairs: list[ToolCallWarningReason] = [] if terminated else ["unterminated_tool_call"]
    remainder = ""
    value, how, message = _load(stripped)
    if value is _FAIL:
        value, how = _template_brace(stripped)
        if value is not _FAIL:
            repairs.append("template_brace_repaired")
    if value is _FAIL and not terminated:
        end = _object_end(stripped)
        if end is not None:
            value, how, _ = _load(stripped[:end])
            if value is not _FAIL:
                remainder = body[lead + end:]
                if remainder.strip() and CLOSE_TAG.startswith(remainder.strip()):
                    remainder = ""  # a closing tag cut off by the end of the output
    if value is _FAIL:
        reason: ToolCallErrorReason = (
            "invalid_json" if terminated else "unterminated_tool_call_invalid_json"
        )
        return _failed(body, reason, index, position, message)
    if how == "python":
        repairs.append("python_literal_repaired")
    if not isinstance(value, dict):
        return _failed(body, "not_an_object", index, position,
                       f"expected a JSON object, got {type(value).__name__}", remainder)
    name = value.get("name")
    if not isinstance(name, str) or not name:
        return _failed(body, "missing_name", index, position,
                       "the object has no string 'name'", remainder)
    arguments = value.get("arguments")
    if arguments is None:
        arguments = {}
        repairs.append("missing_arguments")
    elif isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):  # ValueError: also integers past 4300 digits
            arguments = None
        if not isinstance(arguments, dict):
            return _failed(body, "invalid_arguments", index, position,
                           "'arguments' is a string that does not hold a JSON object", remainder)
        repairs.append("arguments_json_string_decoded")
    if not isinstance(arguments, dict):
        return _failed(body, "invalid_arguments", index, position,
                       f"'arguments' must be an object, got {type(arguments).__name__}", remainder)
    call = ToolCall(name=name, arguments=arguments, id=f"call_{index}")
    warnings = [ToolCallWarning(position, reason, index, call.id) for reason in repairs]
    return BlockOutcome(call=call, warnings=warnings, remainder=remainder)


def _failed(
    body: str,
    reason: ToolCallErrorReason,
    index: int,
    position: int,
    message: str,
    remainder: str = "",
) -> BlockOutcome:
    error = ToolCallParseError(position, body, reason, index, message)
    return BlockOutcome(error=error, remainder=remainder)


def _remove_eos(text: str, eos: str | None) -> tuple[str, list[int]]:
    """The text without ``eos`` and the offsets (in the result) where one was removed."""
    if not eos:
        return text, []
    pieces = text.split(eos)
    removed_at: list[int] = []
    offset = 0
    for piece in pieces[:-1]:
        offset += len(piece)
        removed_at.append(offset)
    return "".join(pieces), removed_at


def _block_end(text: str, start: int) -> tuple[int, BlockEnd]:
    """Where the block whose body starts at ``start`` ends, scanning outside quoted strings."""
    i = start
    n = len(text)
    while True:
        match = _OUTSIDE.search(text, i)
        if match is None:
            return n, "eof"
        i = match.start()
        char = text[i]
        if char == "<":
            if text.startswith(CLOSE_TAG, i):
                return i, "close"
            if text.startswith(OPEN_TAG, i):
                return i, "open"
            i += 1
            continue
        i = _string_end(text, i)
        if i < 0:
            break
    # The scan ended inside a string: fall back to the first literal tag.
    close = text.find(CLOSE_TAG, start)
    opening = text.find(OPEN_TAG, start)
    if close >= 0 and (opening < 0 or close < opening):
        return close, "close"
    if opening >= 0:
        return opening, "open"
    return n, "eof"


def _string_end(text: str, i: int) -> int:
    """The index after the quoted string starting at ``i`` (``"`` or ``'``), or -1 if unclosed."""
    quote = text[i]
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
        elif char == quote:
            return i + 1
        else:
            i += 1
    return -1


def _object_end(text: str) -> int | None:
    """The index after the bracket that closes the one at ``text[0]``, strings skipped."""
    if not text or text[0] not in "{[":
        return None
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in "\"'":
            i = _string_end(text, i)
            if i < 0:
                return None
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _load(text: str) -> tuple[Any, str, str]:
    """``(value, "json" | "python", message)``, or ``_FAIL`` with the JSON decoder's message."""
    try:
        return json.loads(text), "json", ""
    except json.JSONDecodeError as exc:
        message = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except ValueError as exc:  # an integer past Python's 4300-digit conversion limit
        message = str(exc)
    except RecursionError:
        return _FAIL, "", "nested too deeply"
    try:
        value = ast.literal_eval(text)
        # Only what JSON can hold: tuples become lists, sets, bytes and the like fail.
        return json.loads(json.dumps(value, allow_nan=True)), "python", ""
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _FAIL, "", message


def _template_brace(text: str) -> tuple[Any, str]:
    """Read ``{"name": "f"}, "arguments": {...}`` (a trailing ``}`` allowed) as one call."""
    end = _object_end(text)
    if end is None:
        return _FAIL, ""
    head, how, _ = _load(text[:end])
    if not isinstance(head, dict) or "name" not in head or "arguments" in head:
        return _FAIL, ""
    match = _TEMPLATE_ARGUMENTS.match(text, end)
    if match is None:
        return _FAIL, ""
    rest = text[match.end():].rstrip()
    candidates = [rest]
    if rest.endswith("}"):
        candidates.append(rest[:-1].rstrip())
    for candidate in candidates:
        arguments, how_arguments, _ = _load(candidate)
        if arguments is not _FAIL:
            python = "python" in (how, how_arguments)
            return {**head, "arguments": arguments}, "python" if python else "json"
    return _FAIL, ""
