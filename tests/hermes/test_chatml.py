"""ChatML rendering: golden renders and equality with the Hermes Jinja templates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.hermes.calls import ToolCall
from structgen.hermes.chatml import BOS, format_tool_call, render
from structgen.hermes.parser import parse_tool_calls
from structgen.hermes.prompts import tools_system_prompt

Text = Callable[[str], str]
Data = Callable[[str], Any]
Jinja = Callable[..., str]


def multiply(a: int, b: int):  # type: ignore[no-untyped-def]
    """
    A function that multiplies two numbers

    Args:
        a: The first number to multiply
        b: The second number to multiply
    """
    return int(a) * int(b)


def _plain(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


# -- golden renders ----------------------------------------------------------------------------


def test_reference_renderer_reproduces_the_golden_files(
    golden_text: Text, golden_json: Data, jinja_render: Jinja
) -> None:
    # The Jinja reference used below is itself checked against the recorded renders.
    conv = golden_json("conversation.json")
    assert jinja_render("tool_use", conv["hf_messages"], conv["hf_tools"]) == golden_text(
        "conversation_template.txt"
    )
    mi = golden_json("multiply_input.json")
    assert jinja_render("tool_use", mi["messages"], [mi["tool_schema"]], True) == golden_text(
        "template_multiply.txt"
    )


def test_card_conversation(golden_text: Text, golden_json: Data) -> None:
    messages = _plain(golden_json("conversation.json")["chatml_messages"])
    assert render(messages, add_generation_prompt=False) == golden_text("conversation.txt")
    assert render(messages[:4]) == golden_text("conversation_prompt.txt")


def test_card_conversation_from_structured_messages(golden_text: Text, golden_json: Data) -> None:
    # The same exchange from OpenAI-style messages: tools become the card system prompt, the
    # call is written arguments-first, the tool result is wrapped in <tool_response>.
    conv = golden_json("conversation.json")
    tools = golden_json("tool_input.json")["tools"]
    assert render(conv["hf_messages"], tools, add_generation_prompt=False) == golden_text(
        "conversation.txt"
    )
    assert render(conv["hf_messages"][:3], tools) == golden_text("conversation_prompt.txt")


def test_tool_use_template_conversation(golden_text: Text, golden_json: Data) -> None:
    conv = golden_json("conversation.json")
    assert render(
        conv["hf_messages"], conv["hf_tools"], add_generation_prompt=False, template="tool_use"
    ) == golden_text("conversation_template.txt")
    assert render(conv["hf_messages"][:3], conv["hf_tools"], template="tool_use") == golden_text(
        "conversation_template_genprompt.txt"
    )


def test_tool_use_template_multiply(golden_text: Text, golden_json: Data) -> None:
    mi = golden_json("multiply_input.json")
    expected = golden_text("template_multiply.txt")
    assert render(mi["messages"], [mi["tool_schema"]], template="tool_use") == expected
    assert render(mi["messages"], [multiply], template="tool_use") == expected


def test_json_mode_prompts(golden_text: Text, golden_json: Data) -> None:
    jm = golden_json("jsonmode_input.json")
    system = jm["system_template"].replace("{schema}", jm["schema_json"])
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": jm["user_query"]},
    ]
    assert render(messages) == golden_text("jsonmode_prompt.txt")
    assert render(messages, bos_token=BOS) == golden_text("jsonmode_prompt_default_template.txt")


# -- chatml behaviour --------------------------------------------------------------------------


def test_consecutive_tool_results_share_one_turn() -> None:
    messages = [
        {"role": "user", "content": "Weather and TSLA?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_0", "type": "function",
                 "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
                ToolCall("stock", {"symbol": "TSLA"}, "call_1"),
            ],
        },
        {"role": "tool", "name": "weather", "content": '{"temp": 21}'},
        {"role": "tool", "name": "stock", "content": {"price": 177.48}},
    ]
    assert render(messages) == (
        "<|im_start|>user\nWeather and TSLA?<|im_end|>\n"
        "<|im_start|>assistant\n"
        '<tool_call>\n{"arguments": {"city": "Paris"}, "name": "weather"}\n</tool_call>\n'
        '<tool_call>\n{"arguments": {"symbol": "TSLA"}, "name": "stock"}\n</tool_call>'
        "<|im_end|>\n"
        "<|im_start|>tool\n"
        '<tool_response>\n{"temp": 21}\n</tool_response>\n'
        '<tool_response>\n{"price": 177.48}\n</tool_response>\n'
        "<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_assistant_prose_before_calls_and_repo_key_order() -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Let me check.",
         "tool_calls": [{"name": "f", "arguments": {"é": "<&>"}}]},
    ]
    out = render(messages, [multiply], add_generation_prompt=False, tool_prompt_style="repo",
                 date="2024-05-01")
    assert out.startswith(
        "<|im_start|>system\n" + tools_system_prompt([multiply], style="repo", date="2024-05-01")
        + "<|im_end|>\n"
    )
    assert out.endswith(
        '<|im_start|>assistant\nLet me check.\n<tool_call>\n{"name": "f", "arguments": '
        '{"é": "<&>"}}\n</tool_call><|im_end|>\n'
    )


def test_rendered_calls_parse_back() -> None:
    calls = [ToolCall("search", {"q": "AT&T </tool_call> {x}"}, "call_0"),
             ToolCall("noop", {}, "call_1")]
    for key_order in ("arguments", "name"):
        text = "Sure.\n" + "\n".join(
            format_tool_call(c.name, c.arguments, key_order=key_order) for c in calls  # type: ignore[arg-type]
        )
        parsed = parse_tool_calls(text + "<|im_end|>")
        assert parsed.calls == calls
        assert parsed.content == "Sure."
        assert parsed.errors == [] and parsed.warnings == []


def test_chatml_errors() -> None:
    with pytest.raises(TypeError, match="content must be a string"):
        render([{"role": "user", "content": None}])
    with pytest.raises(ValueError, match="JSON object"):
        render([{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "[1]"}]}])
    with pytest.raises(ValueError, match="not JSON"):
        render([{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{oops"}]}])
    with pytest.raises(ValueError, match="template"):
        render([], template="llama3")  # type: ignore[arg-type]


def test_tool_use_needs_tool_names() -> None:
    with pytest.raises(ValueError, match="'name'"):
        render([{"role": "tool", "content": "42"}], template="tool_use")


def test_tool_use_string_arguments_are_double_encoded_like_the_template(
    jinja_render: Jinja,
) -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [
            {"type": "function", "function": {"name": "w", "arguments": '{"city": "SF"}'}}]},
    ]
    out = render(messages, template="tool_use", add_generation_prompt=False)
    assert '{"name": "w"}, "arguments": "{\\"city\\": \\"SF\\"}"\n</tool_call>' in out
    assert out == jinja_render("tool_use", messages)


# -- equality with the Jinja templates on generated conversations ------------------------------

_TEXT = st.text(st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ["", "\n", "<tool_call>", "</tool_response>", "{\"a\": 1}", "it's \"quoted\""]
)
_FIXTURE_OK = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_NAMES = st.sampled_from(["multiply", "get_stock_fundamentals", "search", "f"])


@st.composite
def _tool_call(draw: st.DrawFn) -> dict[str, Any]:
    function: dict[str, Any] = {"name": draw(_NAMES)}
    if draw(st.booleans()):
        function["arguments"] = draw(
            st.dictionaries(_TEXT, _JSON, max_size=3) | _TEXT.map(json.dumps)
        )
    return {"type": "function", "function": function} if draw(st.booleans()) else function


@st.composite
def _message(draw: st.DrawFn, *, tools: bool) -> dict[str, Any]:
    roles = ["system", "user", "assistant"] + (["assistant_calls", "tool"] if tools else [])
    role = draw(st.sampled_from(roles))
    if role == "assistant_calls":
        message: dict[str, Any] = {
            "role": "assistant", "tool_calls": draw(st.lists(_tool_call(), max_size=3))
        }
        if draw(st.booleans()):
            message["content"] = draw(_TEXT)
        return message
    if role == "tool":
        return {"role": "tool", "name": draw(_NAMES), "content": draw(_TEXT)}
    return {"role": role, "content": draw(_TEXT)}


def _tool_pool(golden_json: Data) -> list[dict[str, Any]]:
    return [
        golden_json("multiply_input.json")["tool_schema"],
        golden_json("conversation.json")["hf_tools"][0],
        {"name": "search", "description": "Search <&> 'it'",
         "parameters": {"type": "object", "properties": {
             "q": {"type": "string"}, "n": {"type": ["integer", "number"]},
             "tags": {"type": "array", "items": {"type": "string"}}}}},
    ]


@settings(_FIXTURE_OK, max_examples=150)
@given(
    messages=st.lists(_message(tools=True), max_size=7),
    tool_mask=st.lists(st.booleans(), min_size=3, max_size=3),
    add_generation_prompt=st.booleans(),
)
def test_tool_use_equals_template(
    messages: list[dict[str, Any]],
    tool_mask: list[bool],
    add_generation_prompt: bool,
    golden_json: Data,
    jinja_render: Jinja,
) -> None:
    tools = [tool for tool, keep in zip(_tool_pool(golden_json), tool_mask, strict=True) if keep]
    ours = render(messages, tools, add_generation_prompt, template="tool_use")
    assert ours == jinja_render("tool_use", messages, tools, add_generation_prompt)


@settings(_FIXTURE_OK, max_examples=100)
@given(messages=st.lists(_message(tools=False), max_size=6), add_generation_prompt=st.booleans())
def test_plain_chatml_equals_default_template(
    messages: list[dict[str, Any]], add_generation_prompt: bool, jinja_render: Jinja
) -> None:
    ours = render(messages, add_generation_prompt=add_generation_prompt, bos_token=BOS)
    assert ours == jinja_render("default", messages, None, add_generation_prompt)
