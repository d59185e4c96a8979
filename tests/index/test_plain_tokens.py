"""Inside string text the index takes plain tokens from per-vocabulary bitsets: the masks,
token counts and cost ceilings must be those of a walk over the whole trie."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from index_helpers import bits, random_vocab

import structgen
from structgen.index import Vocabulary
from structgen.index.masks import walk
from structgen.index.plain import PlainTokens, is_plain
from structgen.index.trie import build_trie, build_trie_reference, subtrie

# (schema, options, whether some state's plain characters all lead to one live state)
SCHEMAS: list[tuple[Any, dict[str, Any], bool]] = [
    ({"type": "string"}, {}, True),
    ({"type": "string"}, {"unicode_escapes": True}, True),
    ({"type": "string", "maxLength": 4}, {}, True),
    ({"type": "string", "minLength": 2, "maxLength": 9}, {"spec_faithful": True}, True),
    ({"type": "string", "maxLength": 300}, {}, True),  # counted beside the DFA
    ({"type": "string", "pattern": "^[a-z ]*$"}, {}, False),
    ({"type": "string", "format": "date"}, {}, False),
    ({"type": "object", "additionalProperties": True}, {}, True),
    ({"type": "array", "items": {"type": "string", "maxLength": 3}, "uniqueItems": True}, {},
     True),
    ({"type": "object", "properties": {"a": {"type": "string"}, "n": {"type": "integer"}},
      "required": ["a"]}, {"whitespace": "flexible"}, True),
]


def _reference(index: Any, state: int, costs: Any, limit: int) -> tuple[np.ndarray, int, int]:
    """The mask over the whole trie, as before plain tokens were split off."""
    words = np.zeros(index.n_words, dtype=np.uint32)
    n_text, ceiling, _ = walk(
        index.trie, index.dfa.transitions, index.dfa.class_of[:256].astype(np.int32), state,
        words=words, costs=np.zeros(0, np.int32) if costs is None else costs, limit=limit,
    )
    for token_id, symbol in index.special_token_symbols.items():
        if index.dfa.step(state, symbol) >= 0:
            words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
            n_text += 1
    if index.is_accepting(state):
        for token_id in index.vocab.eos_token_ids:
            words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
    return words, n_text, ceiling


def _check_every_state(index: Any) -> int:
    """Compare every state's masks, plain and under budgets; how many took the split."""
    costs = index.tokens_to_accept()
    split = 0
    for state in range(index.n_states):
        split += index._plain[1](state) is not None
        entry = index.entry(state)
        words, n_text, _ = _reference(index, state, None, 0)
        assert np.array_equal(entry.words, words), state
        assert entry.n_text == n_text, state
        for limit in (0, 1, 2, 5, 40):
            words, n_text, ceiling = _reference(index, state, costs, limit)
            got_words, got_n_text, got_ceiling = index._compute(state, costs, limit)
            assert np.array_equal(got_words, words), (state, limit)
            assert (got_n_text, got_ceiling) == (n_text, ceiling), (state, limit)
    return split


@pytest.mark.parametrize(("schema", "options", "splits"), SCHEMAS)
@pytest.mark.parametrize("seed", range(3))
def test_random_vocabularies(schema: Any, options: dict[str, Any], splits: bool, seed: int
                             ) -> None:
    # Tokens over letters, quotes, backslashes, and the bytes of é and €, whole or cut.
    vocab = random_vocab(seed, n_tokens=200)
    index = structgen.compile(schema, **options).index(vocab)
    assert (_check_every_state(index) > 0) == splits


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


@pytest.mark.parametrize(("schema", "options", "splits"), [SCHEMAS[i] for i in (1, 3, 5, 9)])
def test_llama3(llama3: Vocabulary, schema: Any, options: dict[str, Any], splits: bool) -> None:
    index = structgen.compile(schema, **options).index(llama3)
    assert (_check_every_state(index) > 0) == splits


def test_chains_follow_the_character_count(llama3: Vocabulary) -> None:
    grammar = structgen.compile({"type": "string", "maxLength": 3})
    chains = grammar.index(llama3)._plain[1]
    opened = grammar.dfa.walk(b'"')
    chain = chains(opened)
    assert chain is not None
    assert [grammar.dfa.walk(b'"' + b"x" * n) for n in range(4)] == chain[:4]
    assert chain[4] == -1  # a fourth character is one too many
    free = structgen.compile({"type": "string"})
    inside = free.dfa.walk(b'"')
    assert set(free.index(llama3)._plain[1](inside)) == {inside}  # a loop
    letters = structgen.compile({"type": "string", "pattern": "^[a-z]*$"})
    assert letters.index(llama3)._plain[1](letters.dfa.walk(b'"')) is None


def test_is_plain() -> None:
    assert is_plain(b"hello world") and is_plain("é€😀".encode())
    assert not is_plain(b'say "hi"') and not is_plain(b"a\\n") and not is_plain(b"tab\t")
    assert not is_plain("é".encode()[:1])  # half a character
    assert not is_plain(b"\xed\xa0\x80")  # an encoded surrogate is not UTF-8


def test_plain_tokens_of_a_vocabulary() -> None:
    vocab = random_vocab(4, n_tokens=150)
    plain = PlainTokens.of(vocab, build_trie(vocab))
    expected = {i for i, data in enumerate(vocab.token_bytes)
                if data is not None and is_plain(data)}
    assert bits(plain.upto[plain.longest]) == expected
    assert sum(plain.counts) == len(expected)
    for n in range(plain.longest + 1):
        assert bits(plain.upto[n]) == {
            i for i in expected if len(vocab.token_bytes[i].decode()) <= n}  # type: ignore[union-attr]
    assert set(plain.rest.token_ids.tolist()) == {
        i for i, data in enumerate(vocab.token_bytes) if data is not None} - expected


@pytest.mark.parametrize("seed", range(5))
def test_subtrie_is_the_trie_of_the_kept_tokens(seed: int) -> None:
    vocab = random_vocab(seed)
    keep = np.random.default_rng(seed).random(vocab.embedding_rows) < 0.4
    strings = {i: tuple(data) for i, data in enumerate(vocab.token_bytes)
               if data is not None and keep[i]}
    got = subtrie(build_trie(vocab), keep)
    expected = build_trie_reference(strings)
    for name in ("symbol", "depth", "end", "token_ptr", "token_ids"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name
    assert got.max_depth == expected.max_depth


@pytest.mark.parametrize(("schema", "options"), [case[:2] for case in SCHEMAS])
def test_eager_tables_and_exact_costs(schema: Any, options: dict[str, Any]) -> None:
    vocab = random_vocab(7, n_tokens=200)
    grammar = structgen.compile(schema, **options)
    split = grammar.index(vocab)
    whole = grammar.index(vocab)
    whole.__dict__["_plain"] = (whole._plain[0], lambda state: None)  # never split
    for index in (split, whole):
        index.build_all()
    assert np.array_equal(split.tokens_to_accept(exact=True), whole.tokens_to_accept(exact=True))
    table, rows = split.mask_table()
    expected_table, expected_rows = whole.mask_table()
    for state in range(grammar.dfa.n_states):
        assert (rows[state] < 0) == (expected_rows[state] < 0)
        if rows[state] >= 0:
            assert np.array_equal(table[rows[state]], expected_table[expected_rows[state]])


def test_too_many_forms_fall_back_to_whole_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("structgen.index.plain.MAX_FORMS", 1)
    index = structgen.compile({"type": "string"}).index(random_vocab(2, n_tokens=120))
    assert _check_every_state(index) == 0  # no chains, and the masks are still right
