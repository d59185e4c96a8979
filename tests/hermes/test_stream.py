"""Streaming tool-call parser: same result as the whole-text parser for any split."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.hermes.calls import ToolCall, ToolCallParse
from structgen.hermes.parser import parse_tool_calls
from structgen.hermes.stream import (
    ContentDelta,
    StreamEvent,
    ToolCallDone,
    ToolCallFailed,
    ToolCallStarted,
    ToolCallStreamParser,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "hermes"
CASES: list[dict[str, Any]] = json.loads(
    (DATA / "model_outputs_expected.json").read_text(encoding="utf-8")
)["cases"]

EXTRA = [
    'Sure. <tool_call>{"name": "x", "arguments": {"s": "</tool_call> & <tool_call>"}}'
    "</tool_call> ok",
    "<tool_call>\n{'a': \"it's</tool_call> more <tool_call>{\"name\": \"g\"}</tool_call>",
    '<tool_call>{"name": "f"}, "arguments": {"a": 1}}\n</tool_call>',
    '<tool_call>{"name": "f", "arguments": {}}\nthen prose',
    '<tool_call>{"name": "f"}<tool_call>{"name": "g"}</tool_call><|im_e',
    'hi <|im_<|im_end|>end|> <tool_<|im_end|>call>{"name": "f"}</tool_call>',
    '<tool_call>{"name": "f", "arguments": {"s": "a\\\\"}}</tool_call>  \n  trailing  ',
    "<tool_call>",
    "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"unclosed",
]
TEXTS = [case["raw"] for case in CASES] + EXTRA


def _run(pieces: list[str]) -> tuple[list[StreamEvent], ToolCallParse]:
    parser = ToolCallStreamParser()
    events: list[StreamEvent] = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.close()
    return events, parser.result()


def _assert_same_as_whole(text: str, pieces: list[str]) -> None:
    assert "".join(pieces) == text
    events, result = _run(pieces)
    expected = parse_tool_calls(text)
    assert result == expected
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert content == (expected.content or "")
    # Events tell the same story as the result, in text order.
    assert [e.call for e in events if isinstance(e, ToolCallDone)] == expected.calls
    assert [e.error for e in events if isinstance(e, ToolCallFailed)] == expected.errors
    warnings = [w for e in events if isinstance(e, ToolCallDone) for w in e.warnings]
    assert warnings == expected.warnings
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [s.index for s in started] == list(range(len(started)))
    assert len(started) == len(expected.calls) + len(expected.errors)
    # Positions point into the text as given (an eos inside a tag is skipped over).
    assert all(
        text[s.position :].replace("<|im_end|>", "").startswith("<tool_call>") for s in started
    )


@pytest.mark.parametrize("text", TEXTS)
def test_every_two_piece_split(text: str) -> None:
    for cut in range(len(text) + 1):
        _assert_same_as_whole(text, [text[:cut], text[cut:]])


@pytest.mark.parametrize("text", TEXTS)
def test_one_character_at_a_time(text: str) -> None:
    _assert_same_as_whole(text, list(text))


_FRAGMENTS = st.sampled_from(
    [
        "<tool_call>", "</tool_call>", "<tool_", "</tool", "<|im_end|>", "<|im_", "<", ">",
        '{"name": "f", "arguments": {"a": 1}}', '{"name": "g"}', '"', "'", "\\", "{", "}",
        '"</tool_call>"', "'<tool_call>'", ", ", '"arguments": ', "\n", "  ", "x", "é", "&",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(_FRAGMENTS, max_size=16),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_any_split_gives_the_whole_text_result(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    points = sorted({min(c, len(text)) for c in cuts})
    bounds = [0, *points, len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    _assert_same_as_whole(text, pieces)


@settings(max_examples=200, deadline=None)
@given(
    arguments=st.dictionaries(
        st.text(max_size=6),
        st.text(st.sampled_from('</tool_call>&{}"\\\'x'), max_size=24)
        | st.integers()
        | st.lists(st.text(max_size=4), max_size=3),
        max_size=4,
    ),
    data=st.data(),
)
def test_streamed_calls_round_trip(arguments: dict[str, Any], data: st.DataObject) -> None:
    body = json.dumps({"name": "tool", "arguments": arguments}, ensure_ascii=False)
    text = f"Let me check.\n<tool_call>\n{body}\n</tool_call>\n<|im_end|>"
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=10))
    bounds = [0, *sorted(cuts), len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    _, result = _run(pieces)
    assert result.calls == [ToolCall("tool", arguments, "call_0")]
    assert result.content == "Let me check."
    _assert_same_as_whole(text, pieces)


def test_holds_back_a_partial_tag() -> None:
    parser = ToolCallStreamParser()
    assert parser.feed("Hello <tool_") == [ContentDelta("Hello")]
    assert parser.feed("call>") == [ToolCallStarted(0, 6)]
    assert parser.feed('{"name": "f", "arguments": {}}\n</tool_') == []
    (done,) = parser.feed("call>")
    assert done == ToolCallDone(ToolCall("f", {}, "call_0"))  # before close()
    assert parser.feed(" bye<|im_") == [ContentDelta("  bye")]  # with the held-back space
    assert parser.feed("end|>") == []
    assert parser.close() == []
    assert parser.result() == ToolCallParse("Hello  bye", [ToolCall("f", {}, "call_0")], [], [])


def test_holds_back_whitespace_until_it_is_not_trailing() -> None:
    parser = ToolCallStreamParser()
    assert parser.feed("  \n") == []
    assert parser.feed("a  ") == [ContentDelta("a")]
    assert parser.feed(" b\n") == [ContentDelta("   b")]
    assert parser.close() == []
    assert parser.result().content == "a   b"


def test_a_partial_tag_at_the_end_is_content() -> None:
    parser = ToolCallStreamParser()
    assert parser.feed("see <tool_ca") == [ContentDelta("see")]
    assert parser.close() == [ContentDelta(" <tool_ca")]


def test_unterminated_block_is_settled_on_close() -> None:
    parser = ToolCallStreamParser()
    parser.feed('<tool_call>\n{"name": "f", "arguments": {"q": "A')
    (failed,) = parser.close()
    assert isinstance(failed, ToolCallFailed)
    assert failed.error.reason == "unterminated_tool_call_invalid_json"
    assert failed.error.raw == '\n{"name": "f", "arguments": {"q": "A'


def test_misuse() -> None:
    parser = ToolCallStreamParser()
    with pytest.raises(ValueError, match="close"):
        parser.result()
    parser.close()
    assert parser.close() == []
    with pytest.raises(ValueError, match="after close"):
        parser.feed("x")


def test_eos_none_keeps_the_text() -> None:
    parser = ToolCallStreamParser(eos=None)
    events = parser.feed("a<|im_end|>") + parser.close()
    assert events == [ContentDelta("a<|im_end|>")]
