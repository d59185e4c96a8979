"""The Hermes parsers on hostile text: never an exception, streaming equals whole-text."""

from __future__ import annotations

import itertools
import random

import pytest
from fuzz_hermes import check_output, random_output, random_split
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.hermes.parser import parse_tool_calls

FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True)


@FUZZ
@given(rng=st.randoms(use_true_random=False))
def test_random_outputs_stream_like_whole_text(rng: random.Random) -> None:
    text = random_output(rng)
    assert check_output(text, random_split(text, rng, mean=rng.choice([1, 4, 40]))) == []


@FUZZ
@given(text=st.text(alphabet=list("<>/{}[]\"'\\: \nab_|")) | st.text(),
       cuts=st.lists(st.integers(0, 200), max_size=6))
def test_any_text_any_split(text: str, cuts: list[int]) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    assert check_output(text, pieces) == []


@pytest.mark.parametrize("body", [
    '{"name": "f", "arguments": {"a": ' + "9" * 5000 + "}}",
    '{"name": "f", "arguments": "' + "9" * 5000 + '"}',
    "9" * 5000,
    "{'name': 'f', 'arguments': {'a': " + "9" * 5000 + "}}",
])
@pytest.mark.parametrize("close", ["</tool_call>", ""])
def test_integers_past_the_conversion_limit_are_errors_not_exceptions(
    body: str, close: str
) -> None:
    # Regression: json.loads raised ValueError (not JSONDecodeError) past 4300 digits.
    text = f"<tool_call>{body}{close}"
    result = parse_tool_calls(text)
    assert result.calls == [] and len(result.errors) == 1
    assert check_output(text, random_split(text, random.Random(0))) == []


@pytest.mark.parametrize("text", [
    "<tool_call>" + "[" * 100_000,
    "<tool_call>" + '"' * 100_001,
    "<tool_call>{" * 20_000,
    ("<tool_call>" + '{"name": "f", "arguments": {"s": "</tool_call>"}}' + "</tool_call>") * 2000,
    "x" * 1_000_000 + "<tool_",
])
@pytest.mark.parametrize("mean", [0, 4])
def test_long_outputs(text: str, mean: int) -> None:
    # Regression: the stream parser re-sliced its buffer per block and per feed, which
    # took minutes (quadratic time) on megabyte outputs; ``mean=0`` feeds the text at once.
    pieces = random_split(text, random.Random(1), mean=mean) if mean else [text]
    assert check_output(text, pieces) == []
