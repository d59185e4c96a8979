"""Token indexes over the compact DFA agree with the dense layout, mask for mask."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import structgen
from structgen.automata.compact import CompactDFA, CompactTable
from structgen.guide.forced import forced_symbols
from structgen.index import TokenIndex, Vocabulary, build_index

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def _layouts(grammar: structgen.Grammar) -> tuple[CompactDFA, CompactDFA]:
    """The grammar's DFA with rows shared, and the same DFA as the dense fallback."""
    dfa = grammar.dfa
    dense = dfa.transitions.dense()
    return tuple(  # type: ignore[return-value]
        CompactDFA(CompactTable.from_dense(dense, dedupe=d), dfa.accepting, dfa.class_of,
                   dfa.bytes_to_accept)
        for d in (True, False)
    )


def _random_path(index: TokenIndex, rng: np.random.Generator, length: int) -> list[int]:
    """States along a random token path from the start (allowed tokens only)."""
    state, states = 0, [0]
    for _ in range(length):
        allowed = [t for t in index.allowed_token_ids(state).tolist() if not index.is_eos(t)]
        if not allowed:
            break
        state = index.next_state(state, int(rng.choice(allowed)))
        assert state >= 0
        states.append(state)
    return states


@pytest.mark.parametrize("name", ["address", "invoice", "resume"])
def test_masks_agree_along_random_paths(llama3: Vocabulary, name: str) -> None:
    grammar = structgen.compile(json.loads((SCHEMAS / f"{name}.json").read_text()))
    shared, dense = _layouts(grammar)
    assert shared.transitions.row_of.size and not dense.transitions.row_of.size
    a, b = build_index(shared, llama3), build_index(dense, llama3)
    assert np.array_equal(a.tokens_to_accept(), b.tokens_to_accept())
    rng = np.random.default_rng(len(name))
    for _ in range(3):
        for state in _random_path(a, rng, 40):
            assert np.array_equal(a.mask(state), b.mask(state))
            limit = int(a.tokens_to_accept()[state]) + 1
            assert np.array_equal(a.mask(state, limit=limit), b.mask(state, limit=limit))
            assert forced_symbols(a, state) == forced_symbols(b, state)
            for token in rng.integers(0, llama3.vocab_size, 50).tolist():
                assert a.next_state(state, token) == b.next_state(state, token)


def test_eager_tables_and_exact_costs_agree(llama3: Vocabulary) -> None:
    grammar = structgen.compile(json.loads((SCHEMAS / "address.json").read_text()))
    shared, dense = _layouts(grammar)
    a, b = build_index(shared, llama3), build_index(dense, llama3)
    a.build_all()
    b.build_all()
    masks_a, rows_a = a.mask_table()
    masks_b, rows_b = b.mask_table()
    assert np.array_equal(rows_a, rows_b) and np.array_equal(masks_a, masks_b)
    assert np.array_equal(a.tokens_to_accept(exact=True), b.tokens_to_accept(exact=True))


def test_nbytes_counts_the_compact_table(llama3: Vocabulary) -> None:
    grammar = structgen.compile(json.loads((SCHEMAS / "resume.json").read_text()))
    index = grammar.index(llama3)
    assert index.dfa is grammar.dfa
    table = grammar.dfa.transitions
    assert index.nbytes >= grammar.dfa.nbytes > table.nbytes
    dense_bytes = table.n_states * table.shape[1] * 4
    assert index.nbytes * 10 < dense_bytes
    index.mask(0)
    assert index.nbytes >= grammar.dfa.nbytes + index.n_words * 4


def test_disk_cache_round_trip_of_a_compiled_grammar(llama3: Vocabulary, tmp_path) -> None:
    schema = json.loads((SCHEMAS / "address.json").read_text())
    first = structgen.compile(schema).index(llama3, cache_dir=str(tmp_path))
    first.build_all()
    again = structgen.compile(schema).index(llama3, cache_dir=str(tmp_path))
    assert again._eager is not None  # restored, not rebuilt
    assert again.tokens_to_accept_is_exact == first.tokens_to_accept_is_exact
    for state in range(0, first.n_states, 97):
        assert np.array_equal(again.mask(state), first.mask(state))
    # The other layout of the same DFA is another key: it misses rather than misreads.
    _, dense = _layouts(first_grammar := structgen.compile(schema))
    other = build_index(dense, llama3, cache_dir=tmp_path)
    assert other._cache_key() != first_grammar.index(llama3)._cache_key()
    assert other._eager is None
