"""Budget-aware completion: random walks always finish, valid, within max_tokens."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
from guide_helpers import grammar, schema, schema_names, sequence_dfa

from structgen.errors import TokenBudgetError
from structgen.guide import Guide
from structgen.index import Vocabulary, build_index
from structgen.testing import random_walk


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def _validator(name: str) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema(name), default=jsonschema.Draft202012Validator)
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("name", schema_names())
def test_random_walks_finish_valid_within_budget(name: str, llama3: Vocabulary) -> None:
    g = grammar(name)
    index = build_index(g, llama3)
    shortest = int(index.tokens_to_accept()[0])
    validator = _validator(name)
    for seed, slack in enumerate((0, 3, 12, 30)):
        max_tokens = shortest + 1 + slack
        guide = Guide(index, max_tokens=max_tokens)
        tokens = random_walk(guide, seed)
        assert len(tokens) <= max_tokens
        assert guide.remaining_budget == max_tokens - len(tokens)
        eos = [t for t in tokens if index.is_eos(t)]
        assert eos in ([], [tokens[-1]])  # EOS, if taken, is the last token
        data = b"".join(llama3.token_bytes[t] or b"" for t in tokens if not index.is_eos(t))
        text = data.decode("utf-8")
        assert g.accepts(text), text
        instance = json.loads(text)
        errors = [e.message for e in validator.iter_errors(instance)]
        assert not errors, (text, errors)


def test_budget_below_the_minimum_is_refused_up_front(llama3: Vocabulary) -> None:
    index = build_index(grammar("bounded_array"), llama3)
    exact = int(index.tokens_to_accept(exact=True)[0])
    Guide(index, max_tokens=exact + 1)
    with pytest.raises(TokenBudgetError, match=rf"{exact} tokens plus 1 for EOS"):
        Guide(build_index(grammar("bounded_array"), llama3), max_tokens=exact)
    with pytest.raises(ValueError, match="at least 1"):
        Guide(index, max_tokens=0)


def test_the_default_bound_never_refuses_a_feasible_budget(llama3: Vocabulary) -> None:
    # Fresh index: check_budget sees only the fast bound first and must fall back to exact.
    index = build_index(grammar("enum_and_const"), llama3)
    fast = int(index.tokens_to_accept()[0])
    exact = int(build_index(grammar("enum_and_const"), llama3).tokens_to_accept(exact=True)[0])
    assert exact <= fast
    guide = Guide(index, max_tokens=exact + 1)
    tokens = random_walk(guide, 0)
    assert len(tokens) <= exact + 1
    assert index.tokens_to_accept_is_exact == (exact < fast)


def test_tight_budget_leaves_exactly_the_shortest_outputs(llama3: Vocabulary) -> None:
    index = build_index(grammar("top_level_string"), llama3)
    shortest = int(index.tokens_to_accept(exact=True)[0])
    for seed in range(5):
        guide = Guide(index, max_tokens=shortest + 1)
        tokens = random_walk(guide, seed)
        assert len(tokens) == shortest + 1 or (
            len(tokens) == shortest and index.is_accepting(guide.state)
        )


def test_vocabulary_without_some_single_bytes() -> None:
    # Like SmolLM2: no token for the lone byte "b", so "ab" must be written as one token.
    dfa = sequence_dfa([b"x", (b"ab", "+"), b"y"])
    tokens = [b"x", b"a", b"y", b"ab", b"xa", b"aby"]
    vocab = Vocabulary.from_token_bytes(
        [*tokens, None], special_tokens={6: "<eos>"}, eos_token_ids=[6]
    )
    index = build_index(dfa, vocab)
    costs = index.tokens_to_accept()
    assert int(costs[0]) == 2  # "xa" + "by" is impossible; "x" + "aby" works
    for seed in range(20):
        guide = Guide(index, max_tokens=3 + seed % 4)
        walk = random_walk(guide, seed)
        text = b"".join(vocab.token_bytes[t] or b"" for t in walk)
        assert dfa.accepts(text) and len(walk) <= 3 + seed % 4
    with pytest.raises(TokenBudgetError):
        Guide(index, max_tokens=2)


def test_unreachable_grammar_for_a_vocabulary() -> None:
    dfa = sequence_dfa([b"q"])
    vocab = Vocabulary.from_token_bytes(
        [b"x", None], special_tokens={1: "<eos>"}, eos_token_ids=[1]
    )
    with pytest.raises(TokenBudgetError, match="lacks tokens"):
        Guide(build_index(dfa, vocab), max_tokens=10)
    assert np.iinfo(np.int32).max == build_index(dfa, vocab).tokens_to_accept()[0]
