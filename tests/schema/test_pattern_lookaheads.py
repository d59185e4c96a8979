"""Lookaheads at the start of a pattern, enforced as plain patterns: ``^(?!X)R`` is ``^R``
but no string that starts with ``X``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen import UnsupportedSchemaError
from structgen.schema.patterns import Lookaheads, leading_lookaheads, search
from structgen.testing import assert_agrees_with_jsonschema, assert_compile_error

PATTERNS = [
    "^(?![i|I][o|O][b|B][r|R][o|O][k|K][e|E][r|R])",
    "^(?!.*\\/)^(.*[^.]+.*)$",
    "^(?=a)(?!ab)[a-z]+$",
    "^(?!-)(?!.*--)[a-z-]+$",
]
WORDS = ["", "a", "ab", "abc", "ac", "b", "A", "a/b", "/", "..", ".a.", "a\n/b", "iobroker",
         "ioBroker.js", "xiobroker", "io", "-a", "a--b", "a-b"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_agrees_with_jsonschema_on_chosen_words(pattern: str) -> None:
    assert_agrees_with_jsonschema({"type": "string", "pattern": pattern}, WORDS)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PATTERNS), st.text(alphabet="aAbioB/.-\n", max_size=8))
def test_agrees_with_jsonschema_on_any_word(pattern: str, word: str) -> None:
    assert_agrees_with_jsonschema({"type": "string", "pattern": pattern}, [word])


def test_the_parts() -> None:
    assert leading_lookaheads("^(?!a|b)(?=c)d") == Lookaheads("^d", ("^(?:c)",), ("^(?:a|b)",))
    assert leading_lookaheads("^(?!a)b|c") is None  # a second branch: not a conjunction
    assert leading_lookaheads("a(?!b)") is None


@pytest.mark.parametrize("pattern", ["a(?!b)", "^(?!a)b|c", "(?<=a)b", "^(?!a(?=b))c"])
def test_other_lookarounds_stay_unsupported(pattern: str) -> None:
    assert_compile_error({"type": "string", "pattern": pattern}, UnsupportedSchemaError,
                         pointer="/pattern", keyword="pattern")


def test_the_validator_reads_them_as_ecma_does() -> None:
    pattern = "^(?!.*\\/)^(.*[^.]+.*)$"
    assert not search(pattern, "\n.\n")  # Python's $ would match before the last newline
    assert search(pattern, "a.") and not search(pattern, "a/b")
