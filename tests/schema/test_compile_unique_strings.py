"""uniqueItems over strings: items told apart at run time, as JSON compares them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import structgen
from structgen import UnsupportedSchemaError
from structgen.automata.unique import COMMITTED, ITEM, decode
from structgen.testing import assert_agrees_with_jsonschema, assert_compile_error, assert_language

WHITESPACE = ["default", "compact", "flexible"]
OPEN = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}


@pytest.mark.parametrize("whitespace", WHITESPACE)
def test_repeated_strings_are_refused(whitespace: str) -> None:
    sep = ", " if whitespace == "default" else ","
    assert_language(
        OPEN,
        accepts=["[]", '["a"]', f'["a"{sep}"b"]', f'["ab"{sep}"a"{sep}"b"]', f'[""{sep}"a"]'],
        rejects=[f'["a"{sep}"a"]', f'["a"{sep}"b"{sep}"a"]', f'[""{sep}""]'],
        whitespace=whitespace,
    )


@pytest.mark.parametrize(("first", "second"), [
    ("\\/", "/"), ("\\u0041", "A"), ("\\u00e9", "é"), ("\\ud83d\\ude00", "😀"),
    ("\\n", "\\u000a"), ("\\u001F", "\\u001f"), ('\\"', "\\u0022"),
])
def test_spellings_of_one_value_are_one_item(first: str, second: str) -> None:
    grammar = structgen.compile(OPEN, unicode_escapes=True)
    assert grammar.accepts(f'["{first}"]') and grammar.accepts(f'["{second}"]')
    assert not grammar.accepts(f'["{first}", "{second}"]')
    assert grammar.accepts(f'["{first}", "{second}x"]')


def test_items_of_every_string_kind() -> None:
    schema = {"type": "array", "uniqueItems": True, "items": {"anyOf": [
        {"type": "string", "pattern": "^[0-9]+x$"}, {"enum": ["aa", "bb"]},
        {"type": "string", "format": "date"}, {"type": "string", "maxLength": 1}]}}
    assert_language(
        schema,
        accepts=['["1x", "12x", "aa", "2024-01-02", "b", "bb"]', '["", "a"]'],
        rejects=['["1x", "1x"]', '["aa", "bb", "aa"]', '["2024-01-02", "2024-01-02"]',
                 '["b", "b"]', '["ab"]'],
    )


def test_nested_in_objects_and_arrays() -> None:
    schema = {"type": "array", "items": {"type": "object", "properties": {
        "tags": OPEN}, "required": ["tags"], "additionalProperties": False}}
    grammar = assert_language(
        schema,
        accepts=['[{"tags": ["a", "b"]}, {"tags": ["a", "b"]}]', '[{"tags": []}]'],
        rejects=['[{"tags": ["a", "a"]}]', '[{"tags": ["a"]}, {"tags": ["b", "b"]}]'],
    )
    unique = grammar.dfa.unique
    assert unique is not None and {COMMITTED, ITEM} <= set(unique.zone.tolist())


def test_a_union_with_another_array_is_unsupported_or_checked_after() -> None:
    schema = {"anyOf": [OPEN, {"type": "array", "items": {"type": "integer"}}]}
    assert_compile_error(schema, UnsupportedSchemaError, keyword="uniqueItems")
    lenient = structgen.compile(schema, strict=False)
    assert [u.keyword for u in lenient.unenforced] == ["uniqueItems"]
    assert lenient.accepts('["a", "a"]') and lenient.accepts("[1, 1]")
    assert lenient.dfa.unique is None


def test_decode_keeps_unfinished_escapes_apart() -> None:
    assert decode(b"a\\u00e9") == "aé".encode()
    assert decode(b"\\ud83d\\ude00") == "😀".encode()
    for unfinished in (b"a\\", b"\\u00", b"\\ud83d", b"\\ud83d\\u"):
        assert decode(unfinished) is None


_WORDS = st.lists(st.sampled_from(["", "a", "b", "ab", "a/b", "é", "\n", '"']), max_size=5)


@settings(max_examples=150, deadline=None)
@given(_WORDS)
def test_agrees_with_jsonschema(items: list[str]) -> None:
    assert_agrees_with_jsonschema(OPEN, [items])


@settings(max_examples=100, deadline=None)
@given(_WORDS, st.sampled_from(["\\/", "\\u0061", "\\u00e9"]))
def test_escaped_spellings_agree_with_jsonschema(items: list[str], escape: str) -> None:
    grammar = structgen.compile(OPEN, unicode_escapes=True)
    value = json.loads(f'"{escape}"')
    text = "[" + ", ".join([*map(json.dumps, items), f'"{escape}"']) + "]"
    expected = len({*items, value}) == len(items) + 1
    assert grammar.accepts(text) == expected, text


def test_more_literal_strings_than_the_automaton_spells_out_are_tracked() -> None:
    values = [f"v{i}" for i in range(15)]
    grammar = assert_language(
        {"type": "array", "items": {"enum": values}, "uniqueItems": True},
        accepts=["[]", '["v1", "v14", "v0"]', "[" + ", ".join(f'"{v}"' for v in values) + "]"],
        rejects=['["v1", "v1"]', '["v3", "v2", "v3"]', '["v15"]'],
    )
    assert grammar.dfa.unique is not None
    few = structgen.compile({"type": "array", "items": {"enum": values[:12]}, "uniqueItems": True})
    assert few.dfa.unique is None  # 2**12 sets of values used, spelled out
