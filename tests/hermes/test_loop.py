"""The tool loop's bookkeeping, driven by a scripted model: what runs, what is refused, what the
model is told, and when the loop stops."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from structgen.hermes import format_tool_call, run_tools
from structgen.integrations.model import Completion
from structgen.integrations.sampling import Sampling


class ScriptedModel:
    """Answers each round with the next scripted text and records the prompts it saw."""

    name = "scripted"
    vocab: Any = None
    context_length = 1_000_000

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []
        self._texts: dict[int, str] = {}

    def encode(self, text: str) -> list[int]:
        self._texts[len(self.prompts)] = text
        self.prompts.append(text)
        return [0] * (len(text) // 4 + 1)

    def decode(self, token_ids: Sequence[int]) -> str:
        raise NotImplementedError

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        raise NotImplementedError

    def generate_tokens(
        self, prompts: Sequence[Sequence[int]], guides: Any, *, max_tokens: int,
        sampling: Sampling, jump_forward: bool = True,
    ) -> list[Completion]:
        assert guides is None, "scripted replies cannot follow a guide"
        text = self.replies.pop(0)
        return [Completion((1,), text, "stop", len(prompts[0]), 1, 0, 0.0, 0.0, 0.0)]


def call(name: str, **arguments: Any) -> str:
    return format_tool_call(name, arguments)


class Calls:
    """Tools that count their calls."""

    def __init__(self) -> None:
        self.log: list[tuple[str, dict[str, Any]]] = []

    def add(self, a: int, b: int) -> int:
        """Add two integers.

        Args:
            a: First.
            b: Second.
        """
        self.log.append(("add", {"a": a, "b": b}))
        return a + b

    def fail(self, reason: str) -> str:
        """Always fails.

        Args:
            reason: Why.
        """
        self.log.append(("fail", {"reason": reason}))
        raise RuntimeError(f"cannot: {reason}")


def run(replies: Sequence[str], tools: Sequence[Any], **options: Any) -> tuple[Any, ScriptedModel]:
    model = ScriptedModel(replies)
    options.setdefault("constrain", False)
    result = run_tools(model, [{"role": "user", "content": "What is 1 + 2?"}], tools, **options)
    return result, model


def test_result_goes_back_as_a_tool_turn_and_the_model_answers() -> None:
    tools = Calls()
    result, model = run([call("add", a=1, b=2), "1 + 2 = 3."], [tools.add])
    assert tools.log == [("add", {"a": 1, "b": 2})]
    assert result.stopped_reason == "answered" and result.rounds == 2
    assert result.content == result.text == "1 + 2 = 3."
    assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "assistant"]
    assistant, tool = result.messages[1], result.messages[2]
    assert assistant["tool_calls"][0]["function"] == {"name": "add",
                                                      "arguments": '{"a": 1, "b": 2}'}
    assert tool == {"role": "tool", "tool_call_id": "r1_call_0", "name": "add",
                    "content": '{"name": "add", "content": 3}'}
    execution = result.calls[0]
    assert execution.ok and execution.result == 3 and execution.round == 1
    # The second prompt is the Hermes render: tools system prompt, the call, the response.
    second = model.prompts[1]
    assert second.startswith("<|im_start|>system\nYou are a function calling AI model.")
    assert ('<|im_start|>assistant\n<tool_call>\n{"arguments": {"a": 1, "b": 2}, "name": "add"}'
            "\n</tool_call><|im_end|>\n") in second
    assert ('<|im_start|>tool\n<tool_response>\n{"name": "add", "content": 3}\n'
            "</tool_response>\n<|im_end|>\n<|im_start|>assistant\n") in second


def test_parallel_calls_each_get_a_response() -> None:
    tools = Calls()
    turn = call("add", a=1, b=2) + "\n" + call("add", a=3, b=4)
    result, model = run([turn, "3 and 7"], [tools.add])
    assert [r for _, r in tools.log] == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "tool",
                                                    "assistant"]
    assert model.prompts[1].count("<tool_response>") == 2


def test_an_exception_is_reported_not_raised() -> None:
    tools = Calls()
    result, _ = run([call("fail", reason="disk full"), "Sorry."], [tools.fail])
    execution = result.calls[0]
    assert execution.status == "error" and execution.result is None
    content = json.loads(result.messages[2]["content"])["content"]
    assert "error when executing the function: fail" in content
    assert "RuntimeError: cannot: disk full" in content
    assert result.stopped_reason == "answered"


def test_invalid_arguments_are_refused_before_the_call() -> None:
    tools = Calls()
    result, _ = run([call("add", a="one", c=2), "ok"], [tools.add])
    assert tools.log == []
    execution = result.calls[0]
    assert execution.status == "invalid_arguments"
    content = json.loads(execution.content)["content"]
    assert "error validating function call against function signature: add" in content
    assert "'b' is a required property" in content
    assert "at /a: 'one' is not of type 'integer'" in content


def test_formats_are_checked_before_the_call() -> None:
    sent: list[str] = []
    spec = {"name": "send", "parameters": {"type": "object", "properties": {
        "to": {"type": "string", "format": "email"}}, "required": ["to"]}}
    result, _ = run([call("send", to="not an address"), "ok"], [spec],
                    functions={"send": sent.append})
    assert sent == [] and result.calls[0].status == "invalid_arguments"
    assert "is not a 'email'" in result.calls[0].content


def test_unregistered_functions_are_never_called() -> None:
    tools = Calls()
    spec_only = {"type": "function", "function": {
        "name": "delete_files", "description": "Delete files.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}
    turn = "\n".join([call("delete_files", path="/"), call("__import__", module="os"),
                      call("add", a=1, b=1)])
    result, _ = run([turn, "done"], [tools.add, spec_only])
    assert tools.log == [("add", {"a": 1, "b": 1})]
    assert [e.status for e in result.calls] == ["unknown_tool", "unknown_tool", "ok"]
    refused = json.loads(result.calls[0].content)["content"]
    assert "no function named 'delete_files'" in refused and "Available functions: add" in refused


def test_functions_give_implementations_to_tool_dicts() -> None:
    seen: list[str] = []
    spec = {"name": "lookup", "parameters": {"type": "object",
                                             "properties": {"key": {"type": "string"}},
                                             "required": ["key"]}}
    result, _ = run([call("lookup", key="k"), "v"], [spec],
                    functions={"lookup": lambda key: seen.append(key) or {"value": 1}})
    assert seen == ["k"]
    assert json.loads(result.calls[0].content) == {"name": "lookup", "content": {"value": 1}}
    with pytest.raises(ValueError, match="not one of the tools"):
        run(["x"], [spec], functions={"other": print})


def test_a_hanging_tool_times_out() -> None:
    release = threading.Event()

    def wait(seconds: int) -> str:
        """Wait.

        Args:
            seconds: How long.
        """
        release.wait(30)
        return "finally"

    try:
        result, _ = run([call("wait", seconds=1000), "gave up"], [wait], timeout_s=0.2)
    finally:
        release.set()
    execution = result.calls[0]
    assert execution.status == "timeout" and 0.2 <= execution.seconds < 5
    assert "timed out after 0.2 s" in execution.content
    assert result.stopped_reason == "answered"


def test_long_results_are_truncated() -> None:
    def dump(n: int) -> str:
        """Dump.

        Args:
            n: Size.
        """
        return "x" * n

    def rows(n: int) -> list[int]:
        """Rows.

        Args:
            n: Count.
        """
        return list(range(n))

    turn = call("dump", n=10_000) + "\n" + call("rows", n=5000)
    result, _ = run([turn, "ok"], [dump, rows], max_result_chars=100)
    text = json.loads(result.calls[0].content)["content"]
    assert text == "x" * 100 + "... [truncated 9900 characters]"
    listed = json.loads(result.calls[1].content)["content"]
    assert isinstance(listed, str) and listed.startswith("[0, 1, 2") and "truncated" in listed
    assert result.calls[0].result == "x" * 10_000  # the caller still gets the whole value


def test_max_rounds_bounds_a_model_that_never_stops_calling() -> None:
    tools = Calls()
    result, model = run([call("add", a=i, b=i) for i in range(10)], [tools.add], max_rounds=3)
    assert result.stopped_reason == "max_rounds" and result.rounds == 3
    assert result.content is None and result.text == ""
    assert len(tools.log) == 3 and len(result.completions) == 3 and len(model.prompts) == 3
    assert result.messages[-1]["role"] == "tool"
    ids = [m["tool_call_id"] for m in result.messages if m["role"] == "tool"]
    assert ids == ["r1_call_0", "r2_call_0", "r3_call_0"]
    with pytest.raises(ValueError, match="max_rounds"):
        run(["x"], [tools.add], max_rounds=0)


def test_unparseable_blocks_are_reported_back() -> None:
    tools = Calls()
    result, model = run(["<tool_call>\n{add: 1}\n</tool_call>", "no"], [tools.add])
    assert tools.log == [] and result.calls == []
    assert [e.reason for e in result.parse_errors] == ["invalid_json"]
    feedback = result.messages[2]
    assert feedback["role"] == "tool"
    assert feedback["content"].startswith("There was an error parsing function calls\n")
    assert "{add: 1}" in feedback["content"]
    assert result.rounds == 2 and result.stopped_reason == "answered"
    assert "<tool_response>\nThere was an error parsing" in model.prompts[1]


def test_an_answer_without_calls_ends_the_first_round() -> None:
    result, model = run(["Just 3."], [Calls().add])
    assert (result.rounds, result.stopped_reason, result.content) == (1, "answered", "Just 3.")
    assert result.messages[-1] == {"role": "assistant", "content": "Just 3."}
    assert len(model.prompts) == 1
