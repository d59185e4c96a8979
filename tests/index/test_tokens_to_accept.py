"""Tokens-to-accept: exact on the token graph, an achievable upper bound without it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from index_helpers import random_dfa, random_vocab

import structgen
from structgen.index import TokenIndex, Vocabulary, build_index
from structgen.index.distance import UNREACHABLE, tokens_to_accept_reference

SPECIALS = ("<a>", "<b>")


def _symbols(index: TokenIndex) -> list[list[int] | None]:
    out: list[list[int] | None] = []
    for token_id, data in enumerate(index.vocab.token_bytes):
        symbol = index.special_symbol(token_id)
        out.append(list(data) if data is not None else None if symbol is None else [symbol])
    return out


def _assert_achievable(index: TokenIndex, costs: np.ndarray) -> None:
    """From every state with a finite value d > 0, some token reaches a state with d - 1."""
    for state in range(index.n_states):
        d = int(costs[state])
        if d in (0, UNREACHABLE):
            continue
        moves = [index.next_state(state, t) for t in range(index.vocab.vocab_size)]
        assert any(q >= 0 and int(costs[q]) == d - 1 for q in moves), state
    accepting = np.asarray(index.dfa.accepting)
    assert (costs[accepting] == 0).all() and (costs[~accepting] > 0).all()


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("all_single_bytes", [True, False])
def test_random_exact_matches_reference_and_default_is_an_upper_bound(
    seed: int, all_single_bytes: bool
) -> None:
    dfa = random_dfa(seed, n_states=5 + seed % 8, n_classes=2 + seed % 5, n_specials=2)
    vocab = random_vocab(seed, all_single_bytes=all_single_bytes, special_texts=SPECIALS)
    index = build_index(dfa, vocab, special_tokens=SPECIALS)
    default = index.tokens_to_accept().copy()
    assert not index.tokens_to_accept_is_exact
    _assert_achievable(index, default)
    bound = tokens_to_accept_reference(
        _symbols(index), dfa.transitions, dfa.class_of, dfa.accepting, dfa.bytes_to_accept
    )
    assert default.tolist() == bound
    exact = index.tokens_to_accept(exact=True)
    assert index.tokens_to_accept_is_exact
    reference = tokens_to_accept_reference(
        _symbols(index), dfa.transitions, dfa.class_of, dfa.accepting
    )
    # The exact pass walks the states reachable by tokens from the start.
    (graph_ptr, graph_dst), _ = index._token_graph()
    reachable = {0}
    frontier = [0]
    while frontier:
        s = frontier.pop()
        for t in graph_dst[graph_ptr[s] : graph_ptr[s + 1]].tolist():
            if t not in reachable:
                reachable.add(t)
                frontier.append(t)
    for state in sorted(reachable):
        assert exact[state] == reference[state], state
    assert (exact <= default).all()
    _assert_achievable(index, exact)
    # Once exact, the default call returns the exact result.
    assert index.tokens_to_accept() is exact


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def test_llama3_real_grammar(llama3: Vocabulary) -> None:
    path = Path(__file__).resolve().parents[2] / "schemas" / "tool_search.json"
    schema = (
        json.loads(path.read_text())
        if path.exists()
        else {
            "type": "object",
            "properties": {"query": {"type": "string", "maxLength": 20}},
            "required": ["query"],
        }
    )
    grammar = structgen.compile(schema)
    index = build_index(grammar, llama3)
    default = index.tokens_to_accept().copy()
    bytes_needed = grammar.dfa.bytes_to_accept
    # Every byte is a Llama-3 token, so tokens never exceed bytes; multi-byte tokens help.
    assert (default <= bytes_needed).all()
    assert default[0] < bytes_needed[0]
    exact = index.tokens_to_accept(exact=True)
    assert (exact <= default).all() and exact[0] >= 1
    # Check achievability on a sample of states (every token from every state is slow).
    for state in range(0, index.n_states, max(1, index.n_states // 25)):
        d = int(exact[state])
        if d:
            ids = index.allowed_token_ids(state)
            assert any(
                int(exact[index.next_state(state, int(t))]) == d - 1
                for t in ids
                if not index.is_eos(int(t))
            )
