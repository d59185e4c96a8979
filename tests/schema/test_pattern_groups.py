"""Anchors inside a group that is a whole branch: ``(^a$)`` is ``^a$``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen import UnsupportedSchemaError
from structgen.testing import assert_agrees_with_jsonschema, assert_compile_error

PATTERNS = [
    "(^[0-9]+\\.[0-9]+$)",
    "^$|(^(?:\\S+\\s+){0,3}\\S+$)",
    "(?:^a|b$)",
    "((^a)|(b$))",
]
WORDS = ["", "a", "b", "ab", "ba", "1.2", "x1.2", "1.2x", "a b", " a", "a  b c d e"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_agrees_with_jsonschema_on_chosen_words(pattern: str) -> None:
    assert_agrees_with_jsonschema({"type": "string", "pattern": pattern}, WORDS)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PATTERNS), st.text(alphabet="ab1. x", max_size=8))
def test_agrees_with_jsonschema_on_any_word(pattern: str, word: str) -> None:
    assert_agrees_with_jsonschema({"type": "string", "pattern": pattern}, [word])


@pytest.mark.parametrize("pattern", ["(^a)+", "a(^b)", "(^a)(b$)"])
def test_anchors_elsewhere_stay_unsupported(pattern: str) -> None:
    assert_compile_error({"type": "string", "pattern": pattern}, UnsupportedSchemaError,
                         pointer="/pattern", keyword="pattern")
