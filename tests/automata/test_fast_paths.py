"""Each compiled (numba) stage agrees exactly with its pure-Python reference on random automata."""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt
import pytest

from structgen.automata.determinize import determinize
from structgen.automata.determinize_fast import determinize_fast
from structgen.automata.dfa import ByteDFA, from_nfa
from structgen.automata.distance import bytes_to_accept
from structgen.automata.merge_classes import merge_classes
from structgen.automata.minimize import minimize, trim
from structgen.automata.minimize_fast import minimize_fast
from structgen.automata.nfa import NFA, byte_mask
from structgen.automata.search_fast import bytes_to_accept_fast, trim_fast
from structgen.errors import GrammarLimitError

N_SYMBOLS = 258  # bytes and two special tokens
SEEDS = range(40)


def _random_mask(rng: random.Random) -> int:
    kind = rng.random()
    if kind < 0.5:
        return 1 << rng.choice([*range(0x61, 0x66), 256, 257])
    if kind < 0.8:
        lo = rng.randrange(0x5E, 0x68)
        return byte_mask(lo, rng.randrange(lo, 0x6A))
    return byte_mask(0, 255) & ~(1 << rng.randrange(0x60, 0x68))


def _random_nfa(rng: random.Random, n: int) -> NFA:
    nfa = NFA(max_states=10_000, timeout_s=60)
    nfa.states(n)
    for _ in range(rng.randrange(n, 4 * n)):
        nfa.edge(rng.randrange(n), _random_mask(rng), rng.randrange(n))
    for _ in range(rng.randrange(0, n)):
        nfa.epsilon(rng.randrange(n), rng.randrange(n))
    return nfa


def _random_table(
    rng: random.Random, n: int, k: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    table = np.array(
        [[rng.randrange(n) if rng.random() < 0.3 else -1 for _ in range(k)] for _ in range(n)],
        dtype=np.int32,
    )
    accepting = np.array([rng.random() < 0.2 for _ in range(n)], dtype=np.bool_)
    return table, accepting


def _canonical(dfa: ByteDFA) -> tuple[list[list[int]], list[bool]]:
    """The per-symbol table renumbered breadth-first: equal iff the minimal DFAs are."""
    per_symbol = dfa.transitions[:, dfa.class_of].tolist()
    order, ids = [0], {0: 0}
    for s in order:
        for t in per_symbol[s]:
            if t >= 0 and t not in ids:
                ids[t] = len(order)
                order.append(t)
    table = [[ids[t] if t >= 0 else -1 for t in per_symbol[s]] for s in order]
    return table, [bool(dfa.accepting[s]) for s in order]


@pytest.mark.parametrize("seed", SEEDS)
def test_determinize_fast_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    nfa = _random_nfa(rng, rng.randrange(1, 25))
    start, accept = rng.randrange(len(nfa)), rng.randrange(len(nfa))
    rows, accepting, class_of = determinize(nfa, start, accept, n_symbols=N_SYMBOLS,
                                            max_states=10_000)
    table, fast_accepting, fast_class_of = determinize_fast(
        nfa, start, accept, n_symbols=N_SYMBOLS, max_states=10_000
    )
    assert table.tolist() == rows
    assert fast_accepting.tolist() == accepting
    assert fast_class_of == class_of


def test_determinize_fast_grows_its_arrays() -> None:
    """(a|b)*a(a|b){12}: 8,192 DFA states, past every initial capacity and chunk size."""
    nfa = NFA(max_states=100, timeout_s=60)
    start = nfa.state()
    nfa.edge(start, byte_mask(0x61, 0x62), start)
    cur = nfa.state()
    nfa.edge(start, 1 << 0x61, cur)
    for _ in range(12):
        nxt = nfa.state()
        nfa.edge(cur, byte_mask(0x61, 0x62), nxt)
        cur = nxt
    rows, accepting, _ = determinize(nfa, start, cur, n_symbols=256, max_states=100_000)
    table, fast_accepting, _ = determinize_fast(nfa, start, cur, n_symbols=256,
                                                max_states=100_000)
    assert len(rows) == 8192
    assert table.tolist() == rows
    assert fast_accepting.tolist() == accepting
    with pytest.raises(GrammarLimitError, match="more than 5000 DFA states"):
        determinize_fast(nfa, start, cur, n_symbols=256, max_states=5000)


@pytest.mark.parametrize("seed", SEEDS)
def test_trim_fast_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    table, accepting = _random_table(rng, rng.randrange(1, 60), rng.randrange(1, 6))
    expected = trim(table.tolist(), accepting.tolist())
    got = trim_fast(table, accepting)
    if expected is None:
        assert got is None
        return
    assert got is not None
    assert got[0].tolist() == expected[0]
    assert got[1].tolist() == expected[1]


@pytest.mark.parametrize("seed", SEEDS)
def test_minimize_fast_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    table, accepting = _random_table(rng, rng.randrange(1, 80), rng.randrange(1, 4))
    trimmed = trim(table.tolist(), accepting.tolist())
    if trimmed is None:
        return
    rows, flags = minimize(trimmed[0], trimmed[1])
    fast_table, fast_flags = minimize_fast(np.array(trimmed[0], dtype=np.int32),
                                           np.array(trimmed[1], dtype=np.bool_))
    assert fast_table.tolist() == rows
    assert fast_flags.tolist() == flags


@pytest.mark.parametrize("seed", SEEDS)
def test_bytes_to_accept_fast_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    table, accepting = _random_table(rng, rng.randrange(1, 60), rng.randrange(1, 6))
    expected = bytes_to_accept(table.tolist(), accepting.tolist())
    assert bytes_to_accept_fast(table, accepting).tolist() == expected.tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_classes_keeps_one_column_per_distinct_column(seed: int) -> None:
    rng = random.Random(seed)
    n, k = rng.randrange(1, 20), rng.randrange(1, 8)
    columns = [[rng.randrange(-1, 3) for _ in range(n)] for _ in range(rng.randrange(1, 4))]
    table = np.array([rng.choice(columns) for _ in range(k)], dtype=np.int32).T.copy()
    class_of = np.array([rng.randrange(k) for _ in range(300)], dtype=np.int32)
    distinct: list[list[int]] = []
    for c in range(k):
        if table[:, c].tolist() not in distinct:
            distinct.append(table[:, c].tolist())
    merged, merged_class_of = merge_classes(table, class_of)
    assert merged.T.tolist() == distinct
    assert merged.flags.c_contiguous
    for symbol, cls in enumerate(class_of):
        assert merged[:, merged_class_of[symbol]].tolist() == table[:, cls].tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_embedding_a_dfa_keeps_its_language(seed: int) -> None:
    rng = random.Random(seed)
    nfa = _random_nfa(rng, rng.randrange(2, 20))
    dfa = from_nfa(nfa, 0, 1, n_symbols=N_SYMBOLS, max_states=10_000)
    if dfa is None:
        return
    outer = NFA(max_states=10_000, timeout_s=60)
    src, dst = outer.state(), outer.state()
    dfa.embed(outer, src, dst)
    again = from_nfa(outer, src, dst, n_symbols=N_SYMBOLS, max_states=10_000)
    assert again is not None
    assert _canonical(again) == _canonical(dfa)
