"""Tool calls out of model output: golden cases, hard strings, and round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.hermes.calls import ToolCall, ToolCallParse
from structgen.hermes.chatml import format_tool_call
from structgen.hermes.parser import parse_tool_calls

DATA = Path(__file__).resolve().parents[1] / "data" / "hermes"
CASES: list[dict[str, Any]] = json.loads(
    (DATA / "model_outputs_expected.json").read_text(encoding="utf-8")
)["cases"]


def _raw_from_txt() -> dict[str, str]:
    """model_outputs.txt: each raw output after '=== case: ID ===' and before one newline."""
    text = (DATA / "model_outputs.txt").read_bytes().decode("utf-8")
    assert text.endswith("=== end ===\n")
    raws: dict[str, str] = {}
    for chunk in text[: -len("=== end ===\n")].split("=== case: ")[1:]:
        header, body = chunk.split(" ===\n", 1)
        assert body.endswith("\n")
        raws[header] = body[:-1]
    return raws


def _summary(result: ToolCallParse) -> dict[str, Any]:
    """The fields of model_outputs_expected.json, computed from a parse."""
    return {
        "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in result.calls],
        "content": result.content,
        "errors": [e.reason + (f"@{e.index}" if result.calls else "") for e in result.errors],
        "warnings": [w.reason for w in result.warnings],
    }


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden_cases(case: dict[str, Any]) -> None:
    assert _summary(parse_tool_calls(case["raw"])) == case["expected"]


def test_model_outputs_txt_holds_the_same_raw_texts() -> None:
    raws = _raw_from_txt()
    assert raws == {case["id"]: case["raw"] for case in CASES}
    for case in CASES:
        assert _summary(parse_tool_calls(raws[case["id"]])) == case["expected"]


def test_ids_positions_and_raw_bodies() -> None:
    case = next(c for c in CASES if c["id"] == "one_valid_one_malformed")
    raw = case["raw"]
    result = parse_tool_calls(raw)
    assert [c.id for c in result.calls] == ["call_0"]
    (error,) = result.errors
    assert error.index == 1
    assert error.position == raw.index("<tool_call>", 1)
    assert error.raw == '\n{"arguments": {"symbol": "AAPL", "name": "get_current_stock_price"}\n'
    assert "Expecting" in error.message

    parallel = parse_tool_calls(next(c for c in CASES if c["id"] == "parallel_calls")["raw"])
    assert [c.id for c in parallel.calls] == ["call_0", "call_1"]


def test_positions_count_removed_eos() -> None:
    text = 'a<|im_end|>b<tool_call>{"name": "f", "arguments": {}}</tool_call><tool_call>x'
    result = parse_tool_calls(text)
    assert result.content == "ab"
    (error,) = result.errors
    assert error.reason == "unterminated_tool_call_invalid_json"
    assert error.position == text.index("<tool_call>x")
    assert parse_tool_calls("x<|im_end|>", eos=None).content == "x<|im_end|>"


HARD_STRINGS = [
    "AT&T <2024> & more",
    "</tool_call>",
    "<tool_call>",
    "<tool_call>{\"name\": \"evil\"}</tool_call>",
    "{{nested}} [braces] }{",
    "it's a \"quote\" and a \\ backslash",
    "</tool_call></tool_call><tool_call",
    "x < 5 && y > 3",
]


@pytest.mark.parametrize("value", HARD_STRINGS)
@pytest.mark.parametrize("key_order", ["arguments", "name"])
def test_strings_that_look_like_markup(value: str, key_order: Any) -> None:
    arguments = {"text": value, "nested": {"list": [value, {"deep": value}]}}
    text = "Before " + format_tool_call("act", arguments, key_order=key_order) + " after<|im_end|>"
    result = parse_tool_calls(text)
    assert result.calls == [ToolCall("act", arguments, "call_0")]
    assert result.content == "Before  after"
    assert result.errors == [] and result.warnings == []


def test_ampersand_breaks_the_reference_parser_but_not_this_one() -> None:
    case = next(c for c in CASES if c["id"] == "ampersand_and_lt")
    assert case["reference_parser"]["tool_calls"] == []
    assert _summary(parse_tool_calls(case["raw"]))["tool_calls"] == case["expected"]["tool_calls"]


def test_template_history_form_is_repaired() -> None:
    # What the tool_use template writes into the history, so what a model may copy.
    text = '<tool_call>\n{"name": "multiply"}, "arguments": {"a": "6", "b": "7"}\n</tool_call>'
    result = parse_tool_calls(text)
    assert result.calls == [ToolCall("multiply", {"a": "6", "b": "7"}, "call_0")]
    assert [w.reason for w in result.warnings] == ["template_brace_repaired"]
    closed = parse_tool_calls('<tool_call>{"name": "f"}, "arguments": {"a": 1}}</tool_call>')
    assert closed.calls == [ToolCall("f", {"a": 1}, "call_0")]


def test_unterminated_call_followed_by_another_block() -> None:
    text = (
        '<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n'
        '<tool_call>\n{"name": "b", "arguments": {}}\n</tool_call>'
    )
    result = parse_tool_calls(text)
    assert [(c.name, c.id) for c in result.calls] == [("a", "call_0"), ("b", "call_1")]
    assert [(w.reason, w.call_id) for w in result.warnings] == [
        ("unterminated_tool_call", "call_0")
    ]


def test_prose_after_an_unclosed_complete_call_is_content() -> None:
    result = parse_tool_calls('<tool_call>{"name": "a", "arguments": {}}\nDone, waiting.')
    assert result.calls == [ToolCall("a", {}, "call_0")]
    assert result.content == "Done, waiting."
    cut = parse_tool_calls('<tool_call>{"name": "a", "arguments": {}}\n</tool_ca')
    assert cut.calls == [ToolCall("a", {}, "call_0")]
    assert cut.content is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "invalid_json"),
        ("[1, 2]", "not_an_object"),
        ('{"name": 3, "arguments": {}}', "missing_name"),
        ('{"name": "", "arguments": {}}', "missing_name"),
        ('{"name": "f", "arguments": [1]}', "invalid_arguments"),
        ('{"name": "f", "arguments": "[1]"}', "invalid_arguments"),
        ('{"name": "f", "arguments": "{broken"}', "invalid_arguments"),
        ("{'name': {1, 2}}", "invalid_json"),  # a Python set has no JSON form
    ],
)
def test_bad_blocks_are_errors(body: str, reason: str) -> None:
    text = "<tool_call>" + body + "</tool_call>"
    result = parse_tool_calls(text)
    assert result.calls == []
    assert [(e.reason, e.raw, e.position) for e in result.errors] == [(reason, body, 0)]


def test_missing_arguments_is_an_empty_object() -> None:
    result = parse_tool_calls('<tool_call>{"name": "now"}</tool_call><tool_call>{"name": '
                              '"later", "arguments": null}</tool_call>')
    assert [(c.name, c.arguments) for c in result.calls] == [("now", {}), ("later", {})]
    assert [w.reason for w in result.warnings] == ["missing_arguments", "missing_arguments"]


def test_unclosed_string_falls_back_to_the_literal_tag() -> None:
    text = "<tool_call>{'q': \"it's</tool_call> later <tool_call>{\"name\": \"g\"}</tool_call>"
    result = parse_tool_calls(text)
    assert [e.reason for e in result.errors] == ["invalid_json"]
    assert result.errors[0].raw == "{'q': \"it's"
    assert [c.name for c in result.calls] == ["g"]
    assert result.content == "later"


def test_plain_text() -> None:
    assert parse_tool_calls("") == ToolCallParse(None, [], [], [])
    assert parse_tool_calls("  \n<|im_end|>") == ToolCallParse(None, [], [], [])
    result = parse_tool_calls("Use <tool_call ...> tags? No. </tool_call> stays.")
    assert result.calls == [] and result.errors == []
    assert result.content == "Use <tool_call ...> tags? No. </tool_call> stays."


def test_to_openai() -> None:
    call = ToolCall("f", {"city": "Zürich"}, "call_3")
    assert call.to_openai() == {
        "id": "call_3",
        "type": "function",
        "function": {"name": "f", "arguments": '{"city": "Zürich"}'},
    }


# -- property: any JSON arguments round-trip ---------------------------------------------------

_MARKUP = st.sampled_from(
    ["</tool_call>", "<tool_call>", "&", "<", ">", "{", "}", "[", "]", '"', "'", "\\", "\n", " "]
)
_STRING = st.lists(_MARKUP | st.text(max_size=5), max_size=8).map("".join).filter(
    lambda s: "<|im_end|>" not in s
)
_JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _STRING,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_STRING, inner, max_size=4),
    max_leaves=12,
)
_PROSE = st.lists(
    st.sampled_from(["&", "<", "x", " ", "\n", "{", "}", "'", '"', "é", "tool_call>", "/"]),
    max_size=10,
).map("".join).filter(lambda s: "<tool_call>" not in s and "<|im_end|>" not in s)


@settings(max_examples=300, deadline=None)
@given(
    calls=st.lists(
        st.tuples(_STRING.filter(bool), st.dictionaries(_STRING, _JSON_VALUE, max_size=4)),
        max_size=3,
    ),
    prose=st.lists(_PROSE, min_size=4, max_size=4),
    key_order=st.sampled_from(["arguments", "name"]),
    eos=st.booleans(),
)
def test_any_json_arguments_round_trip(
    calls: list[tuple[str, dict[str, Any]]], prose: list[str], key_order: Any, eos: bool
) -> None:
    blocks = [format_tool_call(name, args, key_order=key_order) for name, args in calls]
    pieces = [prose[0]]
    for i, block in enumerate(blocks):
        pieces += [block, prose[1 + i]]
    text = "".join(pieces) + ("<|im_end|>" if eos else "")
    result = parse_tool_calls(text)
    assert result.errors == [] and result.warnings == []
    assert [(c.name, c.arguments, c.id) for c in result.calls] == [
        (name, args, f"call_{i}") for i, (name, args) in enumerate(calls)
    ]
    outside = "".join(pieces[0::2])
    assert result.content == (outside.strip() or None)
    # Also as a model would space it: one block per line, JSON with other separators.
    compact = "\n".join(
        "<tool_call>\n"
        + json.dumps({"name": n, "arguments": a}, separators=(",", ":"), ensure_ascii=True)
        + "\n</tool_call>"
        for n, a in calls
    )
    assert [(c.name, c.arguments) for c in parse_tool_calls(compact).calls] == calls


def test_json_escapes_are_decoded() -> None:
    text = '<tool_call>{"name": "f", "arguments": {"s": "\\u003c/tool_call\\u003e\\n"}}</tool_call>'
    assert parse_tool_calls(text).calls == [ToolCall("f", {"s": "</tool_call>\n"}, "call_0")]
