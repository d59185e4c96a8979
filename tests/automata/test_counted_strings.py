"""Long strings counted beside the DFA: exact lengths, any size, at a fixed number of states."""

from __future__ import annotations

import json

import pytest

import structgen
from structgen.automata.build import BuildOptions, build_dfa
from structgen.automata.counted import WINDOW, counted_bounds
from structgen.schema import ir
from structgen.schema.from_jsonschema import NormalizeOptions, normalize

SPELLINGS = {
    # unicode_escapes -> ways to write one character, each counted once
    False: ["x", "é", "€", "😀", "\\n", '\\"', "\\\\"],
    "controls": ["x", "é", "😀", "\\t", "\\u0001"],
    True: ["x", "😀", "\\u00e9", "\\ud83d\\ude00", "\\/"],
}


def _string(spelling: str, count: int) -> str:
    return '"' + spelling * count + '"'


@pytest.mark.parametrize("escapes", [False, "controls", True])
@pytest.mark.parametrize(("low", "high"), [(0, WINDOW + 1), (1, 300), (40, 1000), (0, 5000)])
def test_lengths_are_exact_in_every_spelling(escapes: bool | str, low: int, high: int) -> None:
    grammar = structgen.compile(
        {"type": "string", "minLength": low, "maxLength": high}, unicode_escapes=escapes
    )
    assert grammar.dfa.counters is not None
    lengths = {0, 1, low - 1, low, low + 1, high - WINDOW - 1, high - WINDOW, high - 1, high,
               high + 1, high + 2}
    for spelling in SPELLINGS[escapes]:
        for n in sorted(x for x in lengths if x >= 0):
            text = _string(spelling, n)
            assert grammar.accepts(text) == (low <= n <= high), (spelling, n)


def test_mixed_spellings_count_characters_not_bytes() -> None:
    grammar = structgen.compile({"type": "string", "maxLength": 200}, unicode_escapes=True)
    text = "é" * 100 + "\\u00e9" * 50 + "😀" * 50
    assert grammar.accepts(f'"{text}"')
    assert not grammar.accepts(f'"{text}a"')
    assert grammar.accepts(json.dumps("😀" * 200, ensure_ascii=False))
    assert not grammar.accepts(json.dumps("😀" * 201, ensure_ascii=False))


def test_states_do_not_grow_with_max_length() -> None:
    def states(high: int) -> int:
        schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": high}}}
        return structgen.compile(schema).stats.states

    assert states(1_000) == states(65_535) == states(10**9)
    assert states(1_000) < states(WINDOW) * 2  # about WINDOW layers, not a thousand
    grammar = structgen.compile({"type": "string", "maxLength": 65_535})
    assert grammar.accepts(_string("x", 65_535)) and not grammar.accepts(_string("x", 65_536))


def test_strings_in_objects_and_arrays() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "maxLength": 500},
            "b": {"type": ["string", "null"], "minLength": 2, "maxLength": 4096},
            "c": {"type": "array", "items": {"type": "string", "maxLength": 300}, "maxItems": 3},
        },
        "required": ["a", "b", "c"],
    }
    grammar = structgen.compile(schema)
    ok = {"a": "x" * 500, "b": "y" * 4096, "c": ["z" * 300, "", "w" * 299]}
    assert grammar.accepts(json.dumps(ok))
    assert grammar.accepts(json.dumps({**ok, "b": None}))
    for bad in ({**ok, "a": "x" * 501}, {**ok, "b": "y"}, {**ok, "b": "y" * 4097},
                {**ok, "c": ["z" * 301]}, {**ok, "c": ["", "", "z" * 301]}):
        assert not grammar.accepts(json.dumps(bad)), bad


def test_a_string_after_a_counted_one_starts_from_zero() -> None:
    schema = {"type": "array", "items": {"type": "string", "maxLength": 300}}
    grammar = structgen.compile(schema)
    assert grammar.accepts(json.dumps(["a" * 300] * 4))
    assert not grammar.accepts(json.dumps(["a" * 300, "a" * 301]))


def test_union_with_another_string_is_spelled_out_and_still_exact() -> None:
    # Both branches start with '"': the counted body cannot be told apart, so it is built
    # as before (no counters) and stays exact.
    schema = {"anyOf": [{"type": "string", "maxLength": 400},
                        {"type": "string", "pattern": "^a*$"}]}
    grammar = structgen.compile(schema)
    assert grammar.dfa.counters is None
    assert grammar.accepts(_string("b", 400))
    assert not grammar.accepts(_string("b", 401))
    assert grammar.accepts(_string("a", 900))


def test_union_with_other_types_keeps_the_counter() -> None:
    schema = {"anyOf": [{"type": "string", "maxLength": 400}, {"type": "integer"}]}
    grammar = structgen.compile(schema)
    assert grammar.dfa.counters is not None
    assert grammar.accepts("12") and grammar.accepts(_string("b", 400))
    assert not grammar.accepts(_string("b", 401))


@pytest.mark.parametrize(
    ("node", "bounds"),
    [
        (ir.StringNode(max_length=WINDOW), None),
        (ir.StringNode(max_length=WINDOW + 1), (0, WINDOW + 1)),
        (ir.StringNode(min_length=10, max_length=WINDOW + 10), None),
        (ir.StringNode(min_length=300, max_length=10_000), None),  # minLength spelled out
        (ir.StringNode(max_length=1000, patterns=("^a",)), None),
        (ir.StringNode(max_length=1000, formats=("email",)), None),
        (ir.StringNode(min_length=5, max_length=1000), (5, 1000)),
    ],
)
def test_which_strings_are_counted(node: ir.StringNode, bounds: tuple[int, int] | None) -> None:
    assert counted_bounds(node) == bounds


def test_reference_build_agrees() -> None:
    schema = {"type": "array", "items": {"type": "string", "minLength": 3, "maxLength": 200},
              "maxItems": 2}
    node, _ = normalize(schema, NormalizeOptions())
    options = BuildOptions(unicode_escapes="controls")
    direct = build_dfa(node, options)
    reference = build_dfa(node, options, direct=False)
    assert direct is not None and reference is not None
    for items in ([], ["abc"], ["ab"], ["a" * 200, "b" * 3], ["a" * 201], ["\\u0001" * 200]):
        text = json.dumps(items).encode()
        assert direct.accepts(text) == reference.accepts(text), items


def test_a_bound_past_any_text_is_capped() -> None:
    grammar = structgen.compile({"type": "string", "maxLength": 10**30})
    assert grammar.dfa.counters is not None
    assert grammar.accepts(_string("x", 5000)) and not grammar.accepts(_string("x", 5000)[:-1])
