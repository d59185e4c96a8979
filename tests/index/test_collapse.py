"""Collapsing the byte trie through byte classes: fast merge versus translate-and-dedupe."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import random_vocab

import structgen
from structgen.index import Vocabulary
from structgen.index.collapse import collapse, collapse_reference
from structgen.index.trie import Trie, build_trie, vocabulary_trie


def _assert_same(a: Trie, b: Trie) -> None:
    for name, array in a.arrays().items():
        assert np.array_equal(array, b.arrays()[name]), name


def _text(vocab: Vocabulary) -> dict[int, bytes]:
    return {i: data for i, data in enumerate(vocab.token_bytes) if data is not None}


@pytest.mark.parametrize("seed", range(20))
def test_random_partitions_match_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocab = random_vocab(seed, n_tokens=60 + 5 * seed)
    byte_class = rng.integers(0, 1 + seed % 7, 256).astype(np.int32) * 3  # sparse class ids
    collapsed = collapse(build_trie(vocab), byte_class)
    _assert_same(collapsed, collapse_reference(_text(vocab), byte_class))
    # Every token is still there, once.
    assert sorted(collapsed.token_ids.tolist()) == sorted(_text(vocab))


def test_identity_partition_is_the_byte_trie() -> None:
    vocab = random_vocab(5, n_tokens=200)
    trie = build_trie(vocab)
    _assert_same(collapse(trie, np.arange(256, dtype=np.int32)), trie)


def test_one_class_merges_by_length() -> None:
    vocab = Vocabulary.from_token_bytes([b"ab", b"x", b"yz", b"q"])
    collapsed = collapse(build_trie(vocab), np.zeros(256, dtype=np.int32))
    assert collapsed.depth.tolist() == [1, 2]
    assert collapsed.token_ids.tolist() == [3, 1, 0, 2]  # by bytes within a node


def test_llama3_with_a_real_grammar_matches_reference() -> None:
    grammar = structgen.compile(
        {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    )
    vocab = Vocabulary.llama3()
    byte_class = grammar.dfa.class_of[:256].astype(np.int32)
    collapsed = collapse(vocabulary_trie(vocab), byte_class)
    assert collapsed.n_nodes < vocabulary_trie(vocab).n_nodes
    _assert_same(collapsed, collapse_reference(_text(vocab), byte_class))
