"""The trie walk agrees bit for bit with running every token through the DFA."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import bits, random_dfa, random_vocab

import structgen
from structgen.automata.compact import CompactTable
from structgen.index import Vocabulary, build_index
from structgen.index.collapse import collapse
from structgen.index.masks import any_token_below, mask_reference, mask_to_ids, walk
from structgen.index.trie import build_trie, vocabulary_trie


def _end_states(vocab: Vocabulary, dfa, state: int) -> set[int]:
    ends = set()
    for data in vocab.token_bytes:
        if data is not None:
            q = dfa.walk(data, state)
            if q >= 0:
                ends.add(q)
    return ends


@pytest.mark.parametrize("dedupe", [True, False])
@pytest.mark.parametrize("seed", range(25))
def test_random_dfas_and_vocabularies(seed: int, dedupe: bool) -> None:
    dfa = random_dfa(seed, n_states=4 + seed % 9, n_classes=2 + seed % 6)
    table = CompactTable.from_dense(dfa.transitions, dedupe=dedupe)
    vocab = random_vocab(seed)
    trie = build_trie(vocab)
    class_trie = collapse(trie, dfa.class_of[:256])
    identity = np.arange(dfa.n_classes, dtype=np.int32)
    byte_class = dfa.class_of[:256].astype(np.int32)
    n_words = (vocab.embedding_rows + 31) // 32
    costs = np.random.default_rng(seed).integers(0, 5, dfa.n_states).astype(np.int32)
    for state in range(dfa.n_states):
        expected = mask_reference(vocab.token_bytes, dfa.transitions, dfa.class_of, state, n_words)
        for tr, classes in ((trie, byte_class), (class_trie, identity)):
            words = np.zeros(n_words, dtype=np.uint32)
            targets = np.empty(dfa.n_states, dtype=np.int32)
            stamp = np.full(dfa.n_states, -1, dtype=np.int32)
            allowed, max_cost, n_targets = walk(
                tr, table, classes, state, words=words, targets=targets, stamp=stamp
            )
            assert np.array_equal(words, expected)
            assert allowed == len(bits(expected)) and max_cost == -1
            plain = np.zeros(n_words, dtype=np.uint32)  # the run-emitting kernel
            assert walk(tr, table, classes, state, words=plain) == (allowed, -1, 0)
            assert np.array_equal(plain, expected)
            assert set(targets[:n_targets].tolist()) == _end_states(vocab, dfa, state)
            assert n_targets == len(set(targets[:n_targets].tolist()))
            for limit in (-1, 1, 3):
                limited = np.zeros(n_words, dtype=np.uint32)
                _, ceiling, _ = walk(
                    tr, table, classes, state, words=limited, costs=costs, limit=limit
                )
                want = mask_reference(
                    vocab.token_bytes,
                    dfa.transitions,
                    dfa.class_of,
                    state,
                    n_words,
                    costs=costs,
                    limit=limit,
                )
                assert np.array_equal(limited, want)
                ends = _end_states(vocab, dfa, state)
                assert ceiling == max((int(costs[q]) for q in ends), default=-1)


@pytest.mark.parametrize("dedupe", [True, False])
@pytest.mark.parametrize("seed", range(10))
def test_any_token_below_matches_brute_force(seed: int, dedupe: bool) -> None:
    dfa = random_dfa(seed, n_states=6, n_classes=3)
    table = CompactTable.from_dense(dfa.transitions, dedupe=dedupe)
    vocab = random_vocab(seed, n_tokens=60)
    trie = build_trie(vocab)
    byte_class = dfa.class_of[:256].astype(np.int32)
    texts = [d for d in vocab.token_bytes if d is not None]
    prefixes = {d[:k] for d in texts for k in range(1, len(d) + 1)}
    for prefix in sorted(prefixes)[:40]:
        node = -1
        for byte in prefix:  # find the node of ``prefix``
            j = 0 if node < 0 else node + 1
            stop = trie.n_nodes if node < 0 else int(trie.end[node])
            while trie.symbol[j] != byte:
                j = int(trie.end[j])
                assert j < stop
            node = j
        for state in range(dfa.n_states):
            expected = any(
                len(d) > len(prefix)
                and d.startswith(prefix)
                and dfa.walk(d[len(prefix) :], state) >= 0
                for d in texts
            )
            assert any_token_below(trie, table, byte_class, node, state) == expected


def test_mask_to_ids_round_trip() -> None:
    words = np.zeros(5, dtype=np.uint32)
    for t in (0, 31, 32, 100, 159):
        words[t >> 5] |= np.uint32(1 << (t & 31))
    assert mask_to_ids(words).tolist() == [0, 31, 32, 100, 159]


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


@pytest.fixture(scope="module")
def note_grammar() -> structgen.Grammar:
    return structgen.compile(
        {
            "type": "object",
            "properties": {"note": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["note", "n"],
        }
    )


def test_llama3_masks_match_reference_on_a_real_grammar(llama3, note_grammar) -> None:
    dfa = note_grammar.dfa
    index = build_index(note_grammar, llama3)
    inside = dfa.walk(b'{"note": "x')
    middle = dfa.walk(b'{"note": "\xe2\x80')  # between the bytes of a 3-byte character
    number = dfa.walk(b'{"note": "", "n": 1')
    assert min(inside, middle, number) >= 0
    for state in (0, inside, middle, number):
        expected = mask_reference(
            llama3.token_bytes, dfa.transitions.dense(), dfa.class_of, state, index.n_words
        )
        # EOS ids are added by the index in accepting states only (none of these).
        assert not dfa.accepting[state]
        assert np.array_equal(index.mask(state), expected)


def test_llama3_partial_utf8_tokens(llama3, note_grammar) -> None:
    dfa = note_grammar.dfa
    index = build_index(note_grammar, llama3)
    by_bytes = {data: i for i, data in enumerate(llama3.token_bytes) if data is not None}
    inside = dfa.walk(b'{"note": "')
    allowed = set(index.allowed_token_ids(inside).tolist())
    lead = by_bytes[b"\xe2\x80"]  # the first two bytes of an em dash, quotes, ellipsis
    assert lead in allowed
    assert by_bytes[b"\x94"] not in allowed  # a lone continuation byte is not UTF-8
    middle = index.next_state(inside, lead)
    after = set(index.allowed_token_ids(middle).tolist())
    assert by_bytes[b"\x94"] in after  # completes "—"
    assert by_bytes[b"a"] not in after and by_bytes[b'"'] not in after
    # The index's walk visits the byte trie: the same trie object for every grammar.
    assert index.trie is vocabulary_trie(llama3)
