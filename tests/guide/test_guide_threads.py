"""Many guides over one shared index in a thread pool decode as they would alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from guide_helpers import grammar, random_walk

from structgen.guide import Guide
from structgen.index import Vocabulary, build_index


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
