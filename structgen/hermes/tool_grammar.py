"""The Hermes tool-call grammar: `<tool_call>` blocks whose arguments follow each tool's schema."""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from typing import Any, Literal

from structgen.grammar import Grammar, compile_node
from structgen.hermes.parser import CLOSE_TAG, OPEN_TAG
from structgen.hermes.tools import ToolLike, as_tools, tool_name
from structgen.schema import ir
from structgen.schema.from_jsonschema import NormalizeOptions, normalize

__all__ = ["PROSE_STOPS", "ToolChoice", "tool_call_grammar"]

OPEN, CLOSE = OPEN_TAG, CLOSE_TAG
ToolChoice = Literal["auto", "required", "none"]
PROSE_STOPS = (
    OPEN, CLOSE, "<tool_response>", "</tool_response>", "<tools>", "</tools>",
    "<|im_start|>", "<|im_end|>",
)
"""Text the prose part of a turn may not contain: a stray tag would be read as a call, a
made-up tool response, or (once the history is re-encoded) a turn boundary."""


def _tag(text: str, special: bool) -> ir.Node:
    return ir.Special(text) if special else ir.Text(text.encode())


def _call_node(spec: dict[str, Any], order: str, strict: bool) -> tuple[ir.Node, tuple[Any, ...]]:
    function = spec["function"]
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    arguments, unenforced = normalize(parameters, NormalizeOptions(strict=strict))
    name = ir.Property("name", ir.Literal.of([function["name"]]), True)
    args = ir.Property("arguments", arguments, True)
    props = (args, name) if order == "arguments" else (name, args)
    return ir.ObjectNode(props), unenforced


def tool_call_grammar(
    tools: SequenceABC[ToolLike],
    *,
    tool_choice: ToolChoice | str = "auto",
    parallel: bool = True,
    special_tags: bool = False,
    key_order: Literal["name", "arguments"] = "name",
    strict: bool = True,
) -> Grammar:
    """A grammar for an assistant turn that may call the given tools, Hermes style.

    Each call is ``<tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call>`` with the
    arguments constrained by that tool's parameter schema; calls are joined by ``\\n``.

    Parameters
    ----------
    tools
        Python functions, Pydantic models or OpenAI-style tool dicts.
    tool_choice
        ``"auto"``: free text, then optionally calls; ``"required"``: calls only;
        ``"none"``: free text only; or a tool name: calls to that tool only. Free text never
        contains a Hermes tag or ChatML marker (:data:`PROSE_STOPS`).
    parallel
        Allow several calls in one turn.
    special_tags
        Make ``<tool_call>``/``</tool_call>`` single special-token symbols (for tokenizers
        that have them as special tokens; see ``structgen.hermes.special_token_ids``);
        otherwise the tags are plain text, which any tokenizer can spell.
    key_order
        ``"name"`` first (the chat template's order) or ``"arguments"`` first (the model
        card's prompt).

    Raises
    ------
    ValueError
        For an unknown ``tool_choice`` or an empty tool list with calls required.
    """
    specs = as_tools(tools)
    names = [tool_name(spec) for spec in specs]
    if tool_choice not in ("auto", "required", "none") and tool_choice not in names:
        raise ValueError(f"tool_choice {tool_choice!r} is not auto, required, none or one of "
                         f"the tools {names}")
    chosen = [s for s, n in zip(specs, names, strict=True)
              if tool_choice in ("auto", "required") or n == tool_choice]
    if tool_choice != "none" and not chosen:
        raise ValueError("no tools to call: pass tools or use tool_choice='none'")
    free = ir.FreeText(stop=PROSE_STOPS)
    unenforced: list[Any] = []
    calls: list[ir.Node] = []
    for spec in chosen:
        node, notes = _call_node(spec, key_order, strict)
        calls.append(node)
        unenforced.extend(notes)
    specials: tuple[str, ...] = (OPEN, CLOSE) if special_tags else ()
    if tool_choice == "none":
        root: ir.Node = free
    else:
        block = ir.Sequence((
            _tag(OPEN, special_tags), ir.Text(b"\n"), ir.union(calls), ir.Text(b"\n"),
            _tag(CLOSE, special_tags),
        ))
        blocks = ir.Repeat(block, min=1, max=None if parallel else 1, separator=b"\n")
        root = blocks if tool_choice != "auto" else ir.union([
            free, ir.Sequence((free, blocks)),
        ])
    return compile_node(
        root, special_tokens=specials, unenforced=tuple(unenforced),
        schema={"tools": specs, "tool_choice": tool_choice, "parallel": parallel},
    )
