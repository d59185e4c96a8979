"""Many guides over one shared index in a thread pool decode as they would alone, and an
index, its grammar and its lazy tables may be built from many threads at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from guide_helpers import grammar

from structgen.guide import Guide
from structgen.index import Vocabulary, build_index
from structgen.testing import random_walk


def test_thread_pool_over_one_index_matches_sequential() -> None:
    vocab = Vocabulary.llama3()
    g = grammar("nested_optional")
    sequential_index = build_index(g, vocab)
    budget = int(sequential_index.tokens_to_accept()[0]) + 20
    seeds = range(24)
    expected = [random_walk(Guide(sequential_index, max_tokens=budget), s) for s in seeds]

    shared = build_index(g, vocab)  # fresh: masks are computed concurrently
    shared.tokens_to_accept()

    def run(seed: int) -> list[int]:
        return random_walk(Guide(shared, max_tokens=budget), seed)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, seeds))
    assert results == expected
    for state in {*range(0, shared.n_states, 97)}:
        assert np.array_equal(shared.mask(state), sequential_index.mask(state))


def test_one_fresh_index_built_from_many_threads_at_once() -> None:
    """Lazy masks, the exact distances, the eager table and the grammar's own methods, all
    asked for at the same moment from a pool: the answers are those of one thread alone."""
    vocab = Vocabulary.llama3()
    g = grammar("nested_optional")
    reference = build_index(g, vocab)
    reference.build_all()
    expected_costs = reference.tokens_to_accept(exact=True).copy()
    table, rows = reference.mask_table()
    instance = {"id": 7, "tags": ["a"], "owner": {"name": "x"}, "score": None}
    text = g.serialize(instance)

    shared = build_index(g, vocab)
    start = threading.Barrier(8)

    def work(k: int) -> bool:
        start.wait()
        if k % 4 == 0:
            shared.build_all()
        elif k % 4 == 1:
            assert np.array_equal(shared.tokens_to_accept(exact=True), expected_costs)
        elif k % 4 == 2:
            for state in range(0, shared.n_states, 7):
                if rows[state] >= 0:
                    assert np.array_equal(shared.mask(state), table[rows[state]])
        else:
            assert g.serialize(instance) == text and g.accepts(text)
            assert build_index(g, vocab).n_states == shared.n_states
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))
    got_table, got_rows = shared.mask_table()
    assert np.array_equal(got_rows, rows) and np.array_equal(got_table, table)
