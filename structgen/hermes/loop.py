"""The Hermes tool loop: generate a constrained turn, run the calls it makes, feed results back."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from structgen.hermes.calls import ToolCallParseError
from structgen.hermes.chatml import render
from structgen.hermes.execute import ToolExecution, ToolRegistry, execute_call, truncate
from structgen.hermes.parser import CLOSE_TAG, OPEN_TAG, parse_tool_calls
from structgen.hermes.prompts import ToolPromptStyle
from structgen.hermes.tool_grammar import ToolChoice, tool_call_grammar
from structgen.hermes.tools import ToolLike, as_tool, tool_name
from structgen.index import TokenIndex, Vocabulary
from structgen.integrations.model import Completion, Model, fit_context
from structgen.integrations.sampling import Sampling

__all__ = ["StopReason", "ToolLoopResult", "run_tools"]

StopReason = Literal["answered", "max_rounds"]
"""``answered``: the model's last turn made no call (``content`` is its answer).
``max_rounds``: every round called tools and the limit was reached; the last messages are
``tool`` turns the model has not answered yet."""


@dataclass(frozen=True)
class ToolLoopResult:
    """What a tool loop did.

    ``messages`` is the whole conversation (the caller's messages, then each assistant turn
    with its OpenAI-style ``tool_calls`` and the ``tool`` turns that answered them), ready
    for :func:`~structgen.hermes.render` or another :func:`run_tools`. ``calls`` lists every
    executed (or refused) call in order; ``parse_errors`` the ``<tool_call>`` blocks that
    gave no call (only possible with ``constrain=False``); ``completions`` one per round.
    Call ids are ``r{round}_call_{block}``, unique over the conversation.
    """

    content: str | None
    messages: list[dict[str, Any]]
    calls: list[ToolExecution]
    rounds: int
    stopped_reason: StopReason
    completions: list[Completion] = field(default_factory=list)
    parse_errors: list[ToolCallParseError] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The final answer, ``""`` when the loop stopped without one."""
        return self.content or ""


def run_tools(
    model: Model,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[ToolLike],
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    max_rounds: int = 5,
    tool_choice: ToolChoice | str = "auto",
    then: ToolChoice | str = "auto",
    parallel: bool = True,
    max_tokens: int = 256,
    temperature: float = 0.8,
    top_p: float = 1.0,
    repetition_penalty: float = 1.1,
    seed: int | None = None,
    timeout_s: float = 10.0,
    max_result_chars: int = 2000,
    constrain: bool = True,
    tool_prompt_style: ToolPromptStyle = "card",
    key_order: Literal["name", "arguments"] = "name",
    jump_forward: bool = True,
) -> ToolLoopResult:
    """Answer a conversation with tools, Hermes 2 Pro style, until the model answers.

    Each round renders the messages with the Hermes tools system prompt
    (:func:`~structgen.hermes.render`), generates one assistant turn under
    :func:`~structgen.hermes.tool_call_grammar`, parses it, and runs each call: the name must
    be a registered function, the arguments must validate against its parameter schema
    (``jsonschema``) before it is called, and it runs in a thread bounded by ``timeout_s``.
    Results, exceptions, validation errors and timeouts all go back as ``tool`` turns, so the
    model can correct itself. Model output is only ever parsed as JSON, never evaluated.

    Parameters
    ----------
    model
        A :class:`~structgen.integrations.model.Model` whose tokenizer speaks ChatML
        (Hermes 2 Pro, SmolLM2, Qwen...). The prompt is rendered with the Hermes format, not
        the model's own template. The tags are written as text unless the vocabulary has them
        as special tokens.
    messages
        The conversation so far (``role``/``content`` dicts; see ``render``).
    tools
        Functions (callable by the loop), Pydantic model classes or tool dicts. A tool that
        is not a function is shown to the model but runs only if ``functions`` names an
        implementation for it; otherwise a call to it is refused and reported.
    functions
        Extra implementations by tool name; called with the arguments as keywords.
    max_rounds
        At most this many generated turns; each round that calls tools uses one.
    tool_choice
        For the first round: ``"auto"``, ``"required"``, ``"none"`` or a tool name (see
        ``tool_call_grammar``).
    then
        For later rounds; ``"auto"`` lets the model answer once it has the results.
    parallel
        Allow several calls in one turn.
    max_tokens
        Per round. Under the grammar every turn ends complete within this budget.
    temperature, top_p, repetition_penalty, seed
        Sampling (defaults follow the Hermes card); round ``r`` is seeded ``seed + r``.
    timeout_s
        Wall time allowed to each tool call. A call past it is reported as timed out; its
        thread cannot be killed and is left to finish in the background.
    max_result_chars
        Longer results are cut (and say so) before going back to the model.
    constrain
        ``False`` generates freely and relies on parsing and validation alone (to measure
        what the grammar buys).
    tool_prompt_style
        The system prompt: ``"card"`` (the model card's), ``"repo"`` or ``"tool_use"``
        (see :data:`~structgen.hermes.prompts.ToolPromptStyle`).
    key_order
        Which key each call is generated with first. ``"name"`` (real Hermes outputs' order)
        lets the model pick the tool before its arguments; with ``"arguments"`` (the card
        prompt's example) the arguments' shape ends up choosing the tool. On SmolLM2-135M
        name first matched the expected tool in 84% of records against 52% (see
        ``benchmarks/RESULTS.md``, "Function calling").

    Returns
    -------
    ToolLoopResult

    Raises
    ------
    ValueError
        ``max_rounds < 1``, or a ``tool_choice``/``then`` that names no tool.
    TokenBudgetError
        ``max_tokens`` is below the shortest complete tool call.
    ContextLengthError
        The conversation no longer fits the model's context.
    """
    if max_rounds < 1:
        raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
    specs = [as_tool(tool) for tool in tools]
    registry = _registry(tools, specs, functions or {})
    history: list[dict[str, Any]] = [dict(m) for m in messages]
    executions: list[ToolExecution] = []
    completions: list[Completion] = []
    parse_errors: list[ToolCallParseError] = []
    for round_ in range(1, max_rounds + 1):
        choice = tool_choice if round_ == 1 else then
        prompt = model.encode(render(history, tools=specs, tool_prompt_style=tool_prompt_style))
        budget = fit_context(len(prompt), max_tokens, model.context_length)
        guides = None
        if constrain:
            index = _index(specs, choice, parallel, key_order, model.vocab)
            guides = [index.guide(max_tokens=budget)]
        sampling = Sampling(
            temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty,
            seed=None if seed is None else seed + round_,
        )
        completion = model.generate_tokens(
            [prompt], guides, max_tokens=budget, sampling=sampling, jump_forward=jump_forward
        )[0]
        completions.append(completion)
        parsed = parse_tool_calls(completion.text)
        calls = [replace(call, id=f"r{round_}_{call.id}") for call in parsed.calls]
        parse_errors.extend(parsed.errors)
        if not calls and not parsed.errors:
            history.append({"role": "assistant", "content": parsed.content or ""})
            return ToolLoopResult(parsed.content, history, executions, round_, "answered",
                                  completions, parse_errors)
        assistant: dict[str, Any] = {"role": "assistant", "content": parsed.content or ""}
        if calls:
            assistant["tool_calls"] = [call.to_openai() for call in calls]
        history.append(assistant)
        for call in calls:
            execution = execute_call(call, registry, round=round_, timeout_s=timeout_s,
                                     max_result_chars=max_result_chars)
            executions.append(execution)
            history.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                            "content": execution.content})
        for error in parsed.errors:
            history.append({"role": "tool", "name": "", "content": _parse_error_text(
                error, max_result_chars)})
    return ToolLoopResult(None, history, executions, max_rounds, "max_rounds", completions,
                          parse_errors)


def _registry(
    tools: Sequence[ToolLike],
    specs: Sequence[Mapping[str, Any]],
    functions: Mapping[str, Callable[..., Any]],
) -> ToolRegistry:
    """Callable tools by name (Pydantic classes are tools, not functions), plus ``functions``."""
    names = [tool_name(spec) for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"tool names must be unique, got {names}")
    registered: dict[str, Callable[..., Any]] = {}
    for tool, name in zip(tools, names, strict=True):
        if callable(tool) and not isinstance(tool, type) and not isinstance(tool, Mapping):
            registered[name] = tool
    for name, function in functions.items():
        if name not in names:
            raise ValueError(f"functions names {name!r}, which is not one of the tools {names}")
        registered[name] = function
    parameters = {
        name: spec["function"].get("parameters") or {"type": "object", "properties": {}}
        for name, spec in zip(names, specs, strict=True)
    }
    return ToolRegistry(registered, parameters)


def _parse_error_text(error: ToolCallParseError, max_chars: int) -> str:
    """The Hermes agent loop's parse-error message, with the reason and the raw block."""
    return (
        "There was an error parsing function calls\n"
        f"Here's the error stack trace: {error.reason}: {error.message}; block: "
        f"{truncate(error.raw.strip(), max_chars)}\n"
        f"Please call the function again with correct syntax within XML tags "
        f"{OPEN_TAG}{CLOSE_TAG}"
    )


_indexes: OrderedDict[tuple[str, ...], TokenIndex] = OrderedDict()
_indexes_lock = threading.Lock()
_MAX_INDEXES = 32


def _index(
    specs: Sequence[Mapping[str, Any]],
    choice: str,
    parallel: bool,
    key_order: Literal["arguments", "name"],
    vocab: Vocabulary,
) -> TokenIndex:
    """The tool grammar's token index, cached by tool specs, options and vocabulary: building
    one costs about a second for a 128k vocabulary, and every round needs one."""
    special = _has_special_tags(vocab)
    key = (json.dumps(list(specs), sort_keys=True, default=str), choice, str(parallel),
           key_order, str(special), vocab.fingerprint)
    with _indexes_lock:
        cached = _indexes.get(key)
        if cached is not None:
            _indexes.move_to_end(key)
            return cached
    grammar = tool_call_grammar(specs, tool_choice=choice, parallel=parallel,
                                special_tags=special, key_order=key_order)
    index = grammar.index(vocab)
    with _indexes_lock:
        _indexes[key] = index
        while len(_indexes) > _MAX_INDEXES:
            _indexes.popitem(last=False)
    return index


def _has_special_tags(vocab: Vocabulary) -> bool:
    """Whether the vocabulary has ``<tool_call>``/``</tool_call>`` as special tokens (Hermes 2
    Pro's own tokenizer may); a tokenizer that spells them as text gets text tags."""
    names = set(vocab.special_tokens.values())
    return OPEN_TAG in names and CLOSE_TAG in names
