"""The compiled ByteDFA: shape, UTF-8 lowering, minimality, trimming, bytes-to-accept."""

from __future__ import annotations

import json
from collections import deque
from typing import ClassVar

import numpy as np
import pytest

from structgen import compile
from structgen.automata.dfa import ByteDFA
from structgen.testing import assert_language

SCHEMAS = [
    {"type": "string", "minLength": 3},
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    {"type": "integer", "minimum": -5, "maximum": 123},
    {"type": "number", "minimum": 0.5, "maximum": 2.25},
    {"type": "string", "format": "date"},
    {"enum": ["a", "bb", None, 1, {"k": [True]}]},
    {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 4},
    {"type": "string", "pattern": "^(ab|c)*d$"},
]


def _shortest_length(dfa: ByteDFA) -> int:
    """Breadth-first search over the table: a reference for bytes_to_accept[0]."""
    seen = {0: 0}
    queue = deque([0])
    while queue:
        s = queue.popleft()
        if dfa.accepting[s]:
            return seen[s]
        for t in dfa.transitions[s]:
            if t >= 0 and int(t) not in seen:
                seen[int(t)] = seen[s] + 1
                queue.append(int(t))
    raise AssertionError("no accepting state is reachable")


def _minimal_state_count(dfa: ByteDFA) -> int:
    """Moore's partition refinement: a reference for the number of minimal states."""
    table = dfa.transitions.tolist()
    block = [int(a) for a in dfa.accepting]
    while True:
        signature = {}
        new_block = []
        for s, row in enumerate(table):
            key = (block[s], tuple(block[t] if t >= 0 else -1 for t in row))
            new_block.append(signature.setdefault(key, len(signature)))
        if len(signature) == len(set(block)):
            return len(signature)
        block = new_block


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: json.dumps(s)[:40])
def test_table_shape_and_types(schema: dict) -> None:
    dfa = compile(schema).dfa.to_dfa()
    assert dfa.transitions.dtype == np.int32
    assert dfa.transitions.shape == (dfa.n_states, dfa.n_classes)
    assert dfa.class_of.shape == (256,)
    assert set(np.unique(dfa.class_of).tolist()) == set(range(dfa.n_classes))
    assert dfa.transitions.min() >= -1
    assert dfa.transitions.max() < dfa.n_states
    assert dfa.accepting.shape == (dfa.n_states,)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: json.dumps(s)[:40])
def test_dfa_is_minimal(schema: dict) -> None:
    dfa = compile(schema).dfa.to_dfa()
    assert _minimal_state_count(dfa) == dfa.n_states


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: json.dumps(s)[:40])
def test_dfa_is_trimmed(schema: dict) -> None:
    # Every state is reachable from the start and can still reach acceptance.
    dfa = compile(schema).dfa.to_dfa()
    reachable = {0}
    queue = deque([0])
    while queue:
        for t in dfa.transitions[queue.popleft()]:
            if t >= 0 and int(t) not in reachable:
                reachable.add(int(t))
                queue.append(int(t))
    assert reachable == set(range(dfa.n_states))
    assert int(dfa.bytes_to_accept.max()) < np.iinfo(np.int32).max


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: json.dumps(s)[:40])
def test_bytes_to_accept(schema: dict) -> None:
    dfa = compile(schema).dfa.to_dfa()
    dist = dfa.bytes_to_accept
    assert int(dist[0]) == _shortest_length(dfa)
    for s in range(dfa.n_states):
        targets = [int(t) for t in dfa.transitions[s] if t >= 0]
        if dfa.accepting[s]:
            assert dist[s] == 0
        else:
            assert dist[s] == 1 + min(int(dist[t]) for t in targets)


@pytest.mark.parametrize(
    ("schema", "shortest"),
    [
        ({"type": "string", "minLength": 3}, '"aaa"'),
        ({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
         '{"name": ""}'),
        ({"type": "integer", "minimum": 100}, "100"),
        ({"type": "boolean"}, "true"),
        ({"type": "array", "items": {"type": "null"}, "minItems": 2}, "[null, null]"),
    ],
)
def test_bytes_to_accept_from_the_start_is_the_shortest_document(
    schema: dict, shortest: str
) -> None:
    grammar = compile(schema)
    assert grammar.accepts(shortest)
    assert int(grammar.dfa.bytes_to_accept[0]) == len(shortest.encode())


def test_walk_and_step_agree_with_accepts() -> None:
    dfa = compile({"type": "string", "pattern": "^ab$"}).dfa
    state = dfa.walk(b'"a')
    assert state >= 0 and not dfa.accepting[state]
    state = dfa.step(state, ord("b"))
    state = dfa.step(state, ord('"'))
    assert dfa.accepting[state]
    assert dfa.walk(b'"ax') == -1
    assert dfa.accepts(b'"ab"') and not dfa.accepts(b'"ab')


class TestUtf8Lowering:
    # Code points at every UTF-8 length boundary, raw and escaped.
    BOUNDARIES: ClassVar[list[str]] = [
        "\x7f", "\x80", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\U00010000",
        "\U0010ffff",
    ]

    def test_every_encoding_length_raw_and_escaped(self) -> None:
        assert_language(
            {"type": "string", "minLength": 1, "maxLength": 1},
            accepts=[json.dumps(c, ensure_ascii=False) for c in self.BOUNDARIES]
            + [json.dumps(c) for c in self.BOUNDARIES],
            unicode_escapes=True,
        )
        assert_language(
            {"type": "string", "minLength": 1, "maxLength": 1},
            accepts=[json.dumps(c, ensure_ascii=False) for c in self.BOUNDARIES],
            unicode_escapes=False,
        )

    @pytest.mark.parametrize(
        "data",
        [
            b'"\x80"',  # lone continuation byte
            b'"\xc3"',  # truncated 2-byte sequence
            b'"\xe2\x82"',  # truncated 3-byte sequence
            b'"\xc0\x80"',  # overlong NUL
            b'"\xc1\xbf"',  # overlong 0x7F
            b'"\xe0\x80\x80"',  # overlong 3-byte
            b'"\xf0\x80\x80\x80"',  # overlong 4-byte
            b'"\xed\xa0\x80"',  # UTF-16 surrogate D800 encoded
            b'"\xed\xbf\xbf"',  # surrogate DFFF
            b'"\xf4\x90\x80\x80"',  # beyond U+10FFFF
            b'"\xf5\x80\x80\x80"',
            b'"\xff"',
            b'"\xfe"',
        ],
    )
    def test_invalid_utf8_is_rejected(self, data: bytes) -> None:
        assert_language({"type": "string"}, rejects=[data])

    def test_range_spanning_encoding_lengths(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^[\\u00e0-\\u4e00]$"},
            accepts=[json.dumps(c, ensure_ascii=False)
                     for c in ["\u00e0", "\u00ff", "\u07ff", "\u0800", "\u4e00"]]
            + ['"\\u00e0"', '"\\u4E00"'],
            rejects=[json.dumps(c, ensure_ascii=False)
                     for c in ["\u00df", "\u4e01", "a", "\U00010000"]],
            unicode_escapes=True,
        )

    def test_negated_class_includes_astral_characters(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^[^a]$"},
            accepts=['"😀"', '"\\ud83d\\ude00"', '"b"', '"\\u0000"'],
            rejects=['"a"', '"\\u0061"', '"😀😀"'],
            unicode_escapes=True,
        )

    def test_escaped_surrogate_pairs_must_pair_up(self) -> None:
        assert_language(
            {"type": "string"},
            accepts=['"\\ud83d\\ude00"', '"\\uDBFF\\uDFFF"'],
            rejects=['"\\ude00\\ud83d"', '"\\ud83d\\u0041"'],
            unicode_escapes=True,
        )
