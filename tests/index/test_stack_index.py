"""Masks over a stack configuration (`StackIndex`): the kernel's walk, which carries the
stack through each token, must allow exactly the tokens whose bytes the configuration
takes, under budgets too; and guides over it must keep the budget guarantee."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest
from index_helpers import bits, random_vocab

import structgen
from structgen.automata.stack import Configuration
from structgen.errors import TokenBudgetError
from structgen.guide import Guide
from structgen.index import StackIndex, Vocabulary
from structgen.schema.validator import validator_for
from structgen.testing import random_walk

TREE = {
    "$defs": {"node": {
        "type": "object",
        "properties": {"v": {"type": "integer"}, "s": {"type": "string", "maxLength": 3},
                       "t": {"type": "string"},  # plain tokens from bitsets in its text
                       "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        "required": ["v"], "additionalProperties": False,
    }},
    "$ref": "#/$defs/node",
}
MUTUAL = {
    "$defs": {
        "a": {"type": "object", "properties": {"b": {"$ref": "#/$defs/b"},
                                              "x": {"enum": ["ab", "é"]},
                                              "n": {"type": "string", "maxLength": 9}},
              "additionalProperties": False},
        "b": {"type": "array", "items": {"$ref": "#/$defs/a"}, "maxItems": 2},
    },
    "type": "object", "properties": {"a": {"$ref": "#/$defs/a"}, "b": {"$ref": "#/$defs/b"}},
    "required": ["a"], "additionalProperties": False,
}
SCHEMAS = {"tree": TREE, "mutual": MUTUAL}


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def _reference(index: StackIndex, config: Configuration, limit: int | None) -> set[int]:
    """Every token run through the stack automaton byte by byte."""
    dfa = index.dfa
    allowed = set()
    for token_id, data in enumerate(index.vocab.token_bytes):
        if data is None:
            continue
        after = dfa.walk(data, config)
        if after is not None and (limit is None or index.cost(after) <= limit):
            allowed.add(token_id)
    if dfa.is_accepting(config):
        allowed |= set(index.vocab.eos_token_ids)
    return allowed


def _configs(grammar: structgen.Grammar, rng: random.Random, n: int) -> list[Configuration]:
    """Configurations on the way through random documents of the grammar."""
    from structgen.testing import random_document

    found: dict[Configuration, None] = {}
    while len(found) < n:
        text = random_document(grammar, rng, rng.randrange(5, 60))
        config = grammar.dfa.start
        for byte in text:
            after = grammar.dfa.walk([byte], config)
            assert after is not None
            config = after
            found[config] = None
    return list(found)[:n]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_masks_match_the_byte_walk_on_random_vocabularies(name: str, seed: int) -> None:
    # Every byte has a token (budgets need them); most longer tokens are JSON-ish.
    alphabet = b'{}[]":, abvsxk0123-\xc3\xa9' * 12 + bytes(range(256))
    vocab = random_vocab(seed, n_tokens=1000, alphabet=alphabet)
    grammar = structgen.compile(SCHEMAS[name], recursion="stack")
    index = grammar.index(vocab)
    assert isinstance(index, StackIndex)
    rng = random.Random(seed)
    for config in _configs(grammar, rng, 40):
        expected = _reference(index, config, None)
        entry = index.entry(config)
        assert bits(entry.words) == expected, config
        assert entry.n_text == len(expected - set(vocab.eos_token_ids))
        for limit in (0, 3, 10, 25):
            assert bits(index.mask(config, limit=limit)) == _reference(index, config, limit), \
                (config, limit)


def test_masks_match_the_byte_walk_on_llama3(llama3: Vocabulary) -> None:
    grammar = structgen.compile(MUTUAL, recursion="stack")
    index = grammar.index(llama3)
    configs = _configs(grammar, random.Random(5), 80)
    in_text = [c for c in configs if index._plain[1](c[-1]) is not None]  # plain from bitsets
    assert in_text
    for config in [*configs[:4], *in_text[:4]]:
        assert bits(index.mask(config)) == _reference(index, config, None), config
        assert bits(index.mask(config, limit=12)) == _reference(index, config, 12), config


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("max_tokens", [14, 40, 120])
def test_random_walks_finish_valid_within_the_budget(
    name: str, max_tokens: int, llama3: Vocabulary
) -> None:
    schema = SCHEMAS[name]
    grammar = structgen.compile(schema, recursion="stack")
    index = grammar.index(llama3)
    validator = validator_for(schema)
    for seed in range(4):
        tokens = random_walk(Guide(index, max_tokens=max_tokens), seed, max_steps=max_tokens)
        data = b"".join(llama3.token_bytes[t] or b"" for t in tokens if not index.is_eos(t))
        assert grammar.accepts(data), data
        assert validator.is_valid(json.loads(data)), data


def test_cost_falls_by_one_along_some_token(llama3: Vocabulary) -> None:
    """The budget's induction: from every configuration short of the end, some allowed
    token leads to a configuration costing one less; and no cost is above the symbols
    still needed (each byte a token of its own)."""
    for schema in SCHEMAS.values():
        grammar = structgen.compile(schema, recursion="stack")
        index = grammar.index(llama3)
        eos = set(llama3.eos_token_ids)
        for config in _configs(grammar, random.Random(3), 60):
            cost = index.cost(config)
            assert cost <= grammar.dfa.cost(config)
            if cost == 0:
                assert grammar.dfa.is_accepting(config)
                continue
            assert bits(index.mask(config, limit=cost - 1)) - eos, config


def test_budget_below_the_shortest_output_is_refused(llama3: Vocabulary) -> None:
    grammar = structgen.compile(TREE, recursion="stack")
    index = grammar.index(llama3)
    shortest = index.cost(index.start)  # '{"v": 0}' in tokens, fewer than its 8 bytes
    assert 0 < shortest < len('{"v": 0}')
    Guide(index, max_tokens=shortest + 1)
    with pytest.raises(TokenBudgetError, match="below the shortest valid output"):
        Guide(index, max_tokens=shortest)


def test_budgets_need_a_token_for_each_byte() -> None:
    vocab = random_vocab(0, alphabet=b'{}"v: 0123', all_single_bytes=False, n_tokens=30)
    index = structgen.compile(TREE, recursion="stack").index(vocab)
    with pytest.raises(ValueError, match="a token for each byte"):
        index.cost(index.start)


def test_guide_moves_copies_and_refusals(llama3: Vocabulary) -> None:
    index = structgen.compile(TREE, recursion="stack").index(llama3)
    guide = Guide(index)
    for piece in ['{"', 'v', '":', ' ', '1', ',', ' "', 'kids', '":', ' [{"', 'v', '":', ' ',
                  '2']:
        token = llama3.token_bytes.index(piece.encode())
        assert guide.is_allowed(token)
        guide.advance(token)
    assert len(guide.state) == 2  # inside one call
    twin = guide.copy()
    guide.advance(llama3.token_bytes.index(b"}]"))  # leaves the call in one token
    assert guide.state != twin.state and len(guide.state) == 1
    guide.advance(llama3.token_bytes.index(b"}"))
    assert index.is_accepting(guide.state)
    eos = min(llama3.eos_token_ids)
    assert not twin.is_allowed(eos)
    with pytest.raises(ValueError, match="not allowed"):
        twin.advance(llama3.token_bytes.index(b"x"))
    guide.advance(eos)
    assert guide.is_finished()


def test_forced_tokens_cross_calls(llama3: Vocabulary) -> None:
    schema = {"$defs": {"p": {"type": "object", "properties": {"name": {"type": "string"}},
                              "required": ["name"], "additionalProperties": False}},
              "type": "object", "properties": {"owner": {"$ref": "#/$defs/p"}},
              "required": ["owner"], "additionalProperties": False}
    grammar = structgen.compile(schema, recursion="stack")
    guide = Guide(grammar.index(llama3))
    forced = guide.forced_tokens()
    text = b"".join(llama3.token_bytes[t] for t in forced)
    assert text and b'{"owner": {"name": "'.startswith(text)
    for token in forced:
        guide.advance(token)
    assert len(guide.state) == 2  # the call is open


def test_build_all_is_refused_with_the_way_out(llama3: Vocabulary) -> None:
    index = structgen.compile(TREE, recursion="stack").index(llama3)
    with pytest.raises(NotImplementedError, match="recursion='unroll'"):
        index.build_all()


def test_masks_are_cached_per_configuration(llama3: Vocabulary) -> None:
    index = structgen.compile(TREE, recursion="stack").index(llama3, max_cached_masks=2)
    first = index.mask(index.start)
    assert index.mask(index.start) is first
    for config in _configs(structgen.compile(TREE, recursion="stack"), random.Random(0), 4):
        index.mask(config)
        index.mask(config, limit=3)
    assert len(index._masks) <= 2 and len(index._limited) <= 2
    assert np.array_equal(index.mask(index.start), first)


def test_kernel_refuses_a_pop_below_the_stack(llama3: Vocabulary) -> None:
    """A configuration is never left with a called module's end and nothing to return
    to; fed one anyway, the walk finds no token (instead of reading past the stack)."""
    grammar = structgen.compile(TREE, recursion="stack")
    dfa = grammar.dfa
    inside: Any = dfa.walk(b'{"v": 1, "kids": [{"v": 2', dfa.start)
    assert inside is not None and len(inside) == 2
    orphan = (inside[-1],)  # the callee's state without its caller
    words = grammar.index(llama3).mask(orphan)
    assert llama3.token_bytes.index(b"}") not in bits(words)
