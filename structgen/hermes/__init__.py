"""The Hermes 2 Pro formats: system prompts, ChatML, tool calls, the tool loop, tokenizer tags.

``structgen.hermes.tokenizer`` is not imported here: it needs ``tokenizers``/``transformers``.
"""

from __future__ import annotations

from structgen.hermes.calls import (
    ToolCall,
    ToolCallParse,
    ToolCallParseError,
    ToolCallWarning,
)
from structgen.hermes.chatml import (
    BOS,
    GENERATION_PROMPT,
    IM_END,
    IM_START,
    format_tool_call,
    render,
)
from structgen.hermes.execute import ExecutionStatus, ToolExecution
from structgen.hermes.loop import StopReason, ToolLoopResult, run_tools
from structgen.hermes.parser import CLOSE_TAG, OPEN_TAG, parse_tool_calls
from structgen.hermes.prompts import FUNCTION_CALL_SCHEMA, json_mode_prompt, tools_system_prompt
from structgen.hermes.stream import (
    ContentDelta,
    StreamEvent,
    ToolCallDone,
    ToolCallFailed,
    ToolCallStarted,
    ToolCallStreamParser,
)
from structgen.hermes.tool_grammar import tool_call_grammar
from structgen.hermes.tools import ToolLike, as_tool, as_tools

__all__ = [
    "BOS",
    "CLOSE_TAG",
    "FUNCTION_CALL_SCHEMA",
    "GENERATION_PROMPT",
    "IM_END",
    "IM_START",
    "OPEN_TAG",
    "ContentDelta",
    "ExecutionStatus",
    "StopReason",
    "StreamEvent",
    "ToolCall",
    "ToolCallDone",
    "ToolCallFailed",
    "ToolCallParse",
    "ToolCallParseError",
    "ToolCallStarted",
    "ToolCallStreamParser",
    "ToolCallWarning",
    "ToolExecution",
    "ToolLike",
    "ToolLoopResult",
    "as_tool",
    "as_tools",
    "format_tool_call",
    "hermes_tokenizer",
    "json_mode_prompt",
    "parse_tool_calls",
    "render",
    "run_tools",
    "special_token_ids",
    "tool_call_grammar",
    "tools_system_prompt",
]


def __getattr__(name: str) -> object:
    # The tokenizer helpers import tokenizers/transformers, so they load on first use only.
    if name in ("hermes_tokenizer", "special_token_ids"):
        from structgen.hermes import tokenizer

        return getattr(tokenizer, name)
    raise AttributeError(f"module 'structgen.hermes' has no attribute {name!r}")
