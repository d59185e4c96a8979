"""TokenIndex: special tokens, EOS, padding rows, eager tables and the mask cache."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import bits, random_dfa, random_vocab

import structgen
from structgen.index import TokenIndex, Vocabulary, build_index
from structgen.index.masks import mask_reference

SPECIALS = ("<a>", "<b>")


def _expected(index: TokenIndex, state: int, costs=None, limit: int = 0) -> set[int]:
    """Reference: text tokens through the DFA, grammar specials as one symbol, EOS if accepting."""
    dfa, vocab = index.dfa, index.vocab
    words = mask_reference(
        vocab.token_bytes,
        dfa.transitions.dense(),
        dfa.class_of,
        state,
        index.n_words,
        costs=costs,
        limit=limit,
    )
    out = bits(words)
    for token_id, text in vocab.special_tokens.items():
        if token_id in vocab.eos_token_ids:
            if dfa.accepting[state]:
                out.add(token_id)
        elif text in index.special_tokens:
            q = dfa.step(state, 256 + index.special_tokens.index(text))
            if q >= 0 and (costs is None or costs[q] <= limit):
                out.add(token_id)
    return out


@pytest.mark.parametrize("seed", range(15))
def test_masks_match_reference_lazy_and_eager(seed: int) -> None:
    dfa = random_dfa(seed, n_states=4 + seed % 10, n_classes=2 + seed % 5, n_specials=3)
    vocab = random_vocab(seed, special_texts=("<a>", "<b>", "<c>"))
    # The DFA knows symbols 256..258; only "<a>" and "<b>" are named as grammar specials.
    index = build_index(dfa, vocab, special_tokens=SPECIALS)
    assert index.n_words == (vocab.embedding_rows + 31) // 32
    index.build_all()
    table, rows = index.mask_table()
    assert table.shape[1] == index.n_words and len(table) == len({r.tobytes() for r in table})
    lazy = build_index(dfa, vocab, special_tokens=SPECIALS)
    costs = lazy.tokens_to_accept()
    for state in range(dfa.n_states):
        expected = _expected(lazy, state)
        assert bits(lazy.mask(state)) == expected
        assert lazy.allowed_token_ids(state).tolist() == sorted(expected)
        if rows[state] >= 0:
            assert bits(table[rows[state]]) == expected
            assert bits(index.mask(state)) == expected
        for limit in (-1, 0, 2):
            assert bits(lazy.mask(state, limit=limit)) == _expected(lazy, state, costs, limit)
        n_text = lazy.entry(state).n_text
        assert n_text == len(expected - vocab.eos_token_ids)
        # Nothing beyond vocab_size, and "<c>" (not a grammar special) never.
        assert max(expected, default=0) < vocab.vocab_size
        assert vocab.special_token_id("<c>") not in expected


def test_eos_exactly_in_accepting_states() -> None:
    dfa = random_dfa(3, n_states=10)
    vocab = random_vocab(3)
    index = build_index(dfa, vocab)
    (eos,) = vocab.eos_token_ids
    for state in range(dfa.n_states):
        assert (eos in bits(index.mask(state))) == bool(dfa.accepting[state])


def test_an_eos_named_like_a_grammar_special_stays_eos() -> None:
    dfa = random_dfa(4, n_states=6, n_specials=1)
    vocab = random_vocab(4, special_texts=())
    (eos,) = vocab.eos_token_ids
    index = build_index(dfa, vocab, special_tokens=("<eos>",))
    assert index.special_symbol(eos) is None
    assert index.next_state(0, eos) == -1


def test_next_state_follows_the_dfa() -> None:
    dfa = random_dfa(5, n_states=8, n_specials=2)
    vocab = random_vocab(5)
    index = build_index(dfa, vocab, special_tokens=SPECIALS)
    for state in range(dfa.n_states):
        for token_id, data in enumerate(vocab.token_bytes):
            if data is not None:
                assert index.next_state(state, token_id) == dfa.walk(data, state)
        a = vocab.special_token_id("<a>")
        assert index.next_state(state, a) == dfa.step(state, 256)
    assert index.next_state(0, vocab.vocab_size + 1) == -1
    with pytest.raises(ValueError, match="outside the DFA"):
        index.mask(dfa.n_states)


def test_mask_cache_is_bounded_and_masks_are_read_only() -> None:
    dfa = random_dfa(6, n_states=12)
    vocab = random_vocab(6)
    index = build_index(dfa, vocab, max_cached_masks=3)
    first = [index.mask(s).copy() for s in range(dfa.n_states)]
    assert len(index._masks) == 3
    again = [index.mask(s) for s in range(dfa.n_states)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    with pytest.raises(ValueError):
        again[0][0] = 1
    assert "TokenIndex(states=12" in repr(index) and index.nbytes > 0


def test_build_index_takes_grammars_and_dfas_only() -> None:
    grammar = structgen.compile({"enum": ["yes", "no"]})
    vocab = random_vocab(0, alphabet=b'yesno"')
    from_grammar = build_index(grammar, vocab)
    from_dfa = build_index(grammar.dfa, vocab)
    assert np.array_equal(from_grammar.mask(0), from_dfa.mask(0))
    with pytest.raises(TypeError, match="Grammar, ByteDFA or CompactDFA"):
        build_index({"enum": ["yes"]}, vocab)


def test_llama3_special_symbols_padding_and_guide() -> None:
    vocab = Vocabulary.llama3(embedding_rows=128_288)
    grammar = structgen.compile({"enum": ["yes", "no"]})
    index = build_index(grammar, vocab)
    assert index.n_words == 128_288 // 32
    start = set(index.allowed_token_ids(0).tolist())
    assert start and max(start) < 128_000  # no specials, nothing in the padding rows
    done = grammar.dfa.walk(b'"yes"')
    assert set(index.allowed_token_ids(done).tolist()) == {128_001, 128_009}
    guide = index.guide()
    assert type(guide).__name__ == "Guide" and guide.state == 0
