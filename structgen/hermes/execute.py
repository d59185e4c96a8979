"""Run one parsed tool call safely: registered functions only, arguments validated first, time
and result size bounded, every failure turned into text the model can read."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema

from structgen.hermes.calls import ToolCall

__all__ = ["ExecutionStatus", "ToolExecution", "ToolRegistry", "execute_call", "truncate"]

ExecutionStatus = Literal["ok", "error", "invalid_arguments", "unknown_tool", "timeout"]
"""``ok``: the function returned. ``error``: it raised. ``invalid_arguments``: the arguments do
not validate against the tool's parameter schema (the function was not called).
``unknown_tool``: no registered function has that name (nothing was called). ``timeout``: it
ran past ``timeout_s`` (its thread is abandoned, not killed: Python cannot kill a thread)."""


@dataclass(frozen=True, slots=True)
class ToolExecution:
    """One call of the loop: what the model asked for and what went back to it.

    ``content`` is the text of the ``tool`` turn; ``result`` the function's return value when
    ``status == "ok"`` (``None`` otherwise); ``round`` is one-based.
    """

    call: ToolCall
    round: int
    status: ExecutionStatus
    content: str
    result: Any = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class ToolRegistry:
    """The functions the loop may call and the parameter schema each call must satisfy."""

    functions: Mapping[str, Callable[..., Any]]
    parameters: Mapping[str, Mapping[str, Any]]

    def names(self) -> list[str]:
        return sorted(self.functions)


def execute_call(
    call: ToolCall,
    registry: ToolRegistry,
    *,
    round: int,
    timeout_s: float,
    max_result_chars: int,
) -> ToolExecution:
    """Look the function up, validate, run it in a thread with a timeout, and report.

    Only ``registry.functions[call.name]`` can run, with the parsed JSON arguments as
    keywords; model output is never evaluated. Error texts follow the Hermes agent loop's
    wording ("There was an error when executing the function: ..."), which the model saw in
    training.
    """
    function = registry.functions.get(call.name)
    if function is None:
        available = ", ".join(registry.names()) or "none"
        message = (f"There is no function named {call.name!r}. Available functions: "
                   f"{available}. Please call one of them within XML tags "
                   "<tool_call></tool_call>")
        return ToolExecution(call, round, "unknown_tool", _payload(call.name, message))
    problems = _validate(call.arguments, registry.parameters.get(call.name))
    if problems:
        message = (f"There was an error validating function call against function signature: "
                   f"{call.name}\nHere's the error traceback: {'; '.join(problems)}\n"
                   "Please call this function again with correct arguments within XML tags "
                   "<tool_call></tool_call>")
        return ToolExecution(call, round, "invalid_arguments", _payload(call.name, message))
    started = time.perf_counter()
    outcome = _run_with_timeout(function, call.arguments, timeout_s)
    seconds = time.perf_counter() - started
    if outcome is None:
        message = (f"There was an error when executing the function: {call.name}\n"
                   f"Here's the error traceback: timed out after {timeout_s:g} s\n"
                   "The function did not finish; do not call it again with the same arguments")
        return ToolExecution(call, round, "timeout", _payload(call.name, message), None, seconds)
    value, error = outcome
    if error is not None:
        message = (f"There was an error when executing the function: {call.name}\n"
                   f"Here's the error traceback: {type(error).__name__}: {error}\n"
                   "Please call this function again with correct arguments within XML tags "
                   "<tool_call></tool_call>")
        return ToolExecution(call, round, "error", _payload(call.name, message), None, seconds)
    content = _payload(call.name, _result_text(value, max_result_chars))
    return ToolExecution(call, round, "ok", content, value, seconds)


def truncate(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters, saying how much was cut."""
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + f"... [truncated {len(text) - max_chars} characters]"


def _validate(arguments: Mapping[str, Any], schema: Mapping[str, Any] | None) -> list[str]:
    """At most three readable jsonschema errors, each with the pointer it concerns."""
    if schema is None:
        return []
    validator = jsonschema.Draft202012Validator(
        dict(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.path))[:3]:
        where = "/" + "/".join(str(part) for part in error.absolute_path)
        problems.append(f"at {where}: {error.message}")
    return problems


def _run_with_timeout(
    function: Callable[..., Any], arguments: Mapping[str, Any], timeout_s: float
) -> tuple[Any, BaseException | None] | None:
    """``(value, exception)``, or ``None`` on timeout.

    A daemon thread, not an executor: a tool that never returns must not block interpreter
    exit (executors join their workers at exit).
    """
    box: list[tuple[Any, BaseException | None]] = []

    def target() -> None:
        try:
            box.append((function(**arguments), None))
        except BaseException as exc:  # reported to the model, never re-raised
            box.append((None, exc))

    thread = threading.Thread(target=target, name="structgen-tool", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive() or not box:
        return None
    return box[0]


def _result_text(value: Any, max_chars: int) -> Any:
    """The value as the model will see it: JSON-able values kept whole when short enough,
    anything else (or anything too long) as text, truncated."""
    if isinstance(value, str):
        return truncate(value, max_chars)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return truncate(repr(value), max_chars)
    return value if len(text) <= max_chars else truncate(text, max_chars)


def _payload(name: str, content: Any) -> str:
    """The ``tool`` turn content as Nous's notebook writes it: ``{"name": ..., "content": ...}``."""
    return json.dumps({"name": name, "content": content}, ensure_ascii=False)
