"""The preorder byte trie: the fast builder agrees with the dict-trie reference."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import random_vocab

from structgen.index import Vocabulary
from structgen.index.cache import DiskCache
from structgen.index.trie import Trie, build_trie, build_trie_reference, vocabulary_trie


def _reference(vocab: Vocabulary) -> Trie:
    return build_trie_reference(
        {i: tuple(data) for i, data in enumerate(vocab.token_bytes) if data is not None}
    )


def _assert_same(a: Trie, b: Trie) -> None:
    for name, array in a.arrays().items():
        assert np.array_equal(array, b.arrays()[name]), name
    assert a.max_depth == b.max_depth


@pytest.mark.parametrize("seed", range(20))
def test_random_vocabularies_match_reference(seed: int) -> None:
    vocab = random_vocab(seed, n_tokens=30 + 10 * seed)
    _assert_same(build_trie(vocab), _reference(vocab))


def test_layout_invariants() -> None:
    vocab = Vocabulary.from_token_bytes([b"ab", b"a", b"b", b"abc", b"ab", None, b"ba"])
    trie = build_trie(vocab)
    # a, ab, abc, b, ba in preorder; "ab" holds tokens 0 and 4.
    assert trie.symbol.tolist() == [97, 98, 99, 98, 97]
    assert trie.depth.tolist() == [1, 2, 3, 1, 2]
    assert trie.end.tolist() == [3, 3, 3, 5, 5]
    assert trie.token_ptr.tolist() == [0, 1, 3, 4, 5, 6]
    assert trie.token_ids.tolist() == [1, 0, 4, 3, 2, 6]
    assert trie.max_depth == 3


def test_llama3_trie_matches_reference_and_design_numbers() -> None:
    vocab = Vocabulary.llama3()
    trie = vocabulary_trie(vocab)
    assert trie is vocabulary_trie(vocab)
    assert trie.n_nodes == 274_520
    assert trie.token_ids.shape == (128_000,)
    assert trie.max_depth == 128
    _assert_same(trie, _reference(vocab))


def test_trie_round_trips_through_the_disk_cache(tmp_path) -> None:
    vocab = random_vocab(99)
    trie = vocabulary_trie(vocab, cache=DiskCache(tmp_path))
    assert len(list(tmp_path.glob("*.npz"))) == 1
    (stored,) = [DiskCache(tmp_path).load(p.stem) for p in tmp_path.glob("*.npz")]
    assert stored is not None
    _assert_same(Trie.from_arrays(stored), trie)
