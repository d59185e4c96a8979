"""ChatML rendering of Hermes 2 Pro conversations, identical to the Hermes chat templates."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from structgen.hermes.prompts import ToolPromptStyle, tools_system_prompt
from structgen.hermes.tools import ToolLike

__all__ = [
    "BOS",
    "GENERATION_PROMPT",
    "IM_END",
    "IM_START",
    "ChatTemplate",
    "format_tool_call",
    "render",
]

BOS = "<|begin_of_text|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
GENERATION_PROMPT = IM_START + "assistant\n"

ChatTemplate = Literal["chatml", "tool_use"]
"""``"chatml"``: plain ChatML turns as the model card lays them out (what the Hugging Face
``default`` template renders, minus its BOS). ``"tool_use"``: the Hugging Face ``tool_use``
template of Hermes-2-Pro-Llama-3-8B, quirks included."""

_TOOL_RESPONSE_OPEN = "<tool_response>\n"
_TOOL_RESPONSE_CLOSE = "\n</tool_response>\n"


def render(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[ToolLike] | None = None,
    add_generation_prompt: bool = True,
    *,
    template: ChatTemplate = "chatml",
    bos_token: str | None = None,
    tool_prompt_style: ToolPromptStyle = "card",
    date: _dt.date | str | None = None,
) -> str:
    """Render a conversation as the prompt text Hermes 2 Pro expects.

    Parameters
    ----------
    messages
        Dicts with ``role`` (``system``, ``user``, ``assistant``, ``tool``) and ``content``.
        An assistant message may carry ``tool_calls`` (OpenAI form
        ``{"type": "function", "function": {"name", "arguments"}}``, a bare
        ``{"name", "arguments"}``, or a :class:`~structgen.hermes.calls.ToolCall`); a ``tool``
        message carries one result as ``content`` (and ``name``, which ``"tool_use"`` requires).
    tools
        Functions, Pydantic model classes or tool dicts. ``"chatml"`` puts
        :func:`~structgen.hermes.prompts.tools_system_prompt` in a system turn of its own before
        the messages; ``"tool_use"`` always writes the template's tool preamble.
    add_generation_prompt
        End with ``"<|im_start|>assistant\\n"``.
    template
        ``"chatml"`` (default) or ``"tool_use"``; see :data:`ChatTemplate`.
    bos_token
        Text put first; by default none for ``"chatml"`` (the card's form; pass :data:`BOS` to
        match the ``default`` template) and :data:`BOS` for ``"tool_use"``. Do not let the
        tokenizer add a second one.
    tool_prompt_style
        ``"chatml"`` only: the system prompt style for ``tools``. It also sets the key order of
        rendered tool calls to the one that prompt shows: arguments first for ``"card"``, name
        first otherwise.
    date
        ``"chatml"`` with ``tool_prompt_style="repo"`` only; see ``tools_system_prompt``.

    Returns
    -------
    str
        ``"chatml"``: every turn is ``<|im_start|>{role}\\n{content}<|im_end|>\\n``. An assistant
        turn with calls is its content, a newline, then one
        ``<tool_call>\\n{json}\\n</tool_call>`` block per call joined by ``\\n`` (string
        arguments are decoded first, never double-encoded). Consecutive ``tool`` messages share
        one turn, one ``<tool_response>\\n{content}\\n</tool_response>\\n`` block each; content
        that already starts with ``<tool_response>`` is taken as written, non-string content is
        JSON-encoded. ``"tool_use"``: exactly what the template renders (no system header before
        the tool preamble, ``{"name": "NAME"}, "arguments": ...`` with the template's stray
        brace, string arguments double-encoded, no newline after a tool turn's ``<|im_end|>``).

    Raises
    ------
    TypeError
        A message content the template cannot concatenate (not a string).
    ValueError
        A ``tool`` message without ``name`` under ``"tool_use"``, or tool-call arguments that
        are not a JSON object under ``"chatml"``.
    UnsupportedSchemaError
        ``"tool_use"`` with a parameter type the template cannot print.
    """
    if template == "chatml":
        return _render_chatml(
            messages, tools, add_generation_prompt,
            bos_token="" if bos_token is None else bos_token,
            style=tool_prompt_style, date=date,
        )
    if template == "tool_use":
        bos = BOS if bos_token is None else bos_token
        return _render_tool_use(messages, tools, add_generation_prompt, bos_token=bos)
    raise ValueError(f"template must be 'chatml' or 'tool_use', got {template!r}")


def format_tool_call(
    name: str,
    arguments: Mapping[str, Any],
    *,
    key_order: Literal["arguments", "name"] = "arguments",
) -> str:
    """One ``<tool_call>`` block as Hermes writes it: ``<tool_call>\\n{json}\\n</tool_call>``.

    ``key_order="arguments"`` gives the card's ``{"arguments": ..., "name": ...}``; ``"name"``
    the repo's and the real model outputs' ``{"name": ..., "arguments": ...}``. JSON uses
    ``json.dumps`` separators and keeps non-ASCII characters.
    """
    body = (
        {"arguments": dict(arguments), "name": name}
        if key_order == "arguments"
        else {"name": name, "arguments": dict(arguments)}
    )
    return "<tool_call>\n" + json.dumps(body, ensure_ascii=False) + "\n</tool_call>"


def _render_chatml(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[ToolLike] | None,
    add_generation_prompt: bool,
    *,
    bos_token: str,
    style: ToolPromptStyle,
    date: _dt.date | str | None,
) -> str:
    parts = [bos_token]
    if tools:
        parts.append(_turn("system", tools_system_prompt(tools, style=style, date=date)))
    key_order: Literal["arguments", "name"] = "arguments" if style == "card" else "name"
    index = 0
    while index < len(messages):
        message = messages[index]
        role = message.get("role")
        if role == "tool":
            blocks = []
            while index < len(messages) and messages[index].get("role") == "tool":
                blocks.append(_tool_block(messages[index]))
                index += 1
            parts.append(_turn("tool", "".join(blocks)))
            continue
        if not isinstance(role, str):
            raise TypeError(f"message {index}: 'role' must be a string, got {role!r}")
        if role == "assistant" and message.get("tool_calls"):
            content = message.get("content") or ""
            _require_str(content, index, role)
            calls = [
                format_tool_call(*_call_name_arguments(call, index, decode=True),
                                 key_order=key_order)
                for call in message["tool_calls"]
            ]
            if content and not content.endswith("\n"):
                content += "\n"
            parts.append(_turn(role, content + "\n".join(calls)))
        else:
            content = message.get("content")
            _require_str(content, index, role)
            parts.append(_turn(role, content))
        index += 1
    if add_generation_prompt:
        parts.append(GENERATION_PROMPT)
    return "".join(parts)


def _turn(role: str, content: str) -> str:
    return IM_START + role + "\n" + content + IM_END + "\n"


def _tool_block(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False)
    if content.startswith("<tool_response>"):
        return content
    return _TOOL_RESPONSE_OPEN + content + _TOOL_RESPONSE_CLOSE


def _require_str(content: Any, index: int, role: str) -> None:
    if not isinstance(content, str):
        raise TypeError(
            f"message {index} ({role}): content must be a string, got {type(content).__name__}"
        )


def _call_name_arguments(call: Any, index: int, *, decode: bool) -> tuple[str, Any]:
    """``(name, arguments)`` of one tool call in any accepted form."""
    if isinstance(call, Mapping):
        function = call.get("function", call)
        if not isinstance(function, Mapping):
            raise TypeError(f"message {index}: tool call 'function' must be a dict: {call!r}")
        name, arguments = function.get("name"), function.get("arguments")
    elif hasattr(call, "name") and hasattr(call, "arguments"):
        name, arguments = call.name, call.arguments
    else:
        raise TypeError(f"message {index}: cannot read a tool call from {call!r}")
    if not isinstance(name, str):
        raise ValueError(f"message {index}: tool call without a string name: {call!r}")
    if not decode:
        return name, arguments
    if arguments is None:
        arguments = {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"message {index}: arguments of tool call {name!r} are not JSON: {exc}"
            ) from exc
    if not isinstance(arguments, Mapping):
        raise ValueError(
            f"message {index}: arguments of tool call {name!r} must be a JSON object, "
            f"got {type(arguments).__name__}"
        )
    return name, arguments


def _render_tool_use(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[ToolLike] | None,
    add_generation_prompt: bool,
    *,
    bos_token: str,
) -> str:
    parts = [bos_token, tools_system_prompt(tools, style="tool_use"), IM_END]
    last = len(messages) - 1
    for index, message in enumerate(messages):
        role = message.get("role")
        tool_calls = message.get("tool_calls")
        if role in ("user", "system") or (role == "assistant" and tool_calls is None):
            content = message.get("content")
            _require_str(content, index, str(role))
            parts.append(_turn(str(role), content))
        elif role == "assistant":
            parts.append(IM_START + "assistant")
            for call in tool_calls:
                parts.append(_template_call(call, index))
            parts.append(IM_END + "\n")
        elif role == "tool":
            if "name" not in message:
                raise ValueError(
                    f"message {index}: tool messages need a 'name' key (the called function) "
                    "for the tool_use template"
                )
            if index > 0 and messages[index - 1] and messages[index - 1].get("role") != "tool":
                parts.append(IM_START + "tool\n")
            content = message.get("content", "")
            parts.append("<tool_response>\n" + ("" if "content" not in message else str(content)))
            parts.append("\n</tool_response>" if index == last else "\n</tool_response>\n")
            if index == last or messages[index + 1].get("role") != "tool":
                parts.append(IM_END)
        # The template renders nothing for any other role.
    if add_generation_prompt:
        parts.append(GENERATION_PROMPT)
    return "".join(parts)


def _template_call(call: Any, index: int) -> str:
    """One call as the template writes it: ``{"name": "NAME"}, "arguments": ARGS``."""
    if isinstance(call, Mapping):
        function = call.get("function", call)
        if not isinstance(function, Mapping):
            raise TypeError(f"message {index}: tool call 'function' must be a dict: {call!r}")
        name = str(function["name"]) if "name" in function else ""
        has_arguments, arguments = "arguments" in function, function.get("arguments")
    else:
        name, arguments = _call_name_arguments(call, index, decode=False)
        has_arguments = True
    out = '\n<tool_call>\n{"name": "' + name + '"}, '
    if has_arguments:
        out += '"arguments": ' + json.dumps(arguments, ensure_ascii=False)
    return out + "\n</tool_call>"
