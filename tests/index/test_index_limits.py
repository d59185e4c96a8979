"""The eager mask table stays under its memory limit, with a clear error past it."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import random_dfa, random_vocab

import structgen
from structgen.errors import GrammarLimitError
from structgen.index import build_index


def test_build_all_refuses_a_table_past_max_bytes() -> None:
    dfa, vocab = random_dfa(5, n_states=40), random_vocab(5)
    index = build_index(dfa, vocab)
    with pytest.raises(GrammarLimitError, match="max_bytes") as info:
        index.build_all(max_bytes=2 * index.n_words * 4)
    assert info.value.limit == "index_memory"
    with pytest.raises(ValueError, match="build_all"):
        index.mask_table()  # nothing half-built was kept
    index.build_all()
    table, rows = index.mask_table()
    assert table.nbytes <= 1 << 30
    assert np.array_equal(table[rows[0]], build_index(dfa, vocab).mask(0))


def test_grammar_index_passes_the_mask_cache_bound() -> None:
    grammar = structgen.compile({"type": "string", "maxLength": 8})
    index = grammar.index(structgen.Vocabulary.llama3(), max_cached_masks=2)
    assert index.max_cached_masks == 2
    for state in range(index.n_states):
        index.mask(state)
    assert len(index._masks) <= 2 < index.n_states
