"""Guides through arrays of unique strings on Llama-3: a sampler that keeps trying to
repeat an item never can, never gets stuck, and finishes within its budget."""

from __future__ import annotations

import json
import random

import jsonschema
import numpy as np
import pytest

import structgen
from structgen.guide import Guide
from structgen.index import Vocabulary
from structgen.index.masks import mask_to_ids

SCHEMAS = [
    {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    {"type": "array", "items": {"type": "string", "maxLength": 1}, "uniqueItems": True},
    {"type": "array", "items": {"type": "string", "pattern": "^[ab]x?$"}, "uniqueItems": True},
    # one value per length: each new item must be longer than all before it
    {"type": "array", "items": {"type": "string", "pattern": "^a*$"}, "uniqueItems": True},
    {"type": "array", "items": {"anyOf": [{"type": "string", "maxLength": 2},
                                          {"enum": ["aaa", "bbb"]}]},
     "uniqueItems": True, "minItems": 1},
    {"type": "object", "properties": {
        "t": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
        "u": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
              "maxItems": 3}},
     "required": ["t", "u"]},
]
# Tokens spelled only with these bytes write short items that repeat easily.
_POOL_BYTES = set(b'ab"[], x')


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


@pytest.fixture(scope="module")
def pool(llama3: Vocabulary) -> np.ndarray:
    return np.array([t for t, data in enumerate(llama3.token_bytes)
                     if data and set(data) <= _POOL_BYTES], dtype=np.int64)


def _walk(guide: Guide, vocab: Vocabulary, pool: np.ndarray, rng: random.Random) -> bytes:
    """Mostly pool tokens, and seldom one that closes an array: long arrays of short
    items, where repeats are near at every step."""
    out = []
    while not guide.is_finished():
        allowed = guide.allowed_token_ids()
        assert allowed.size, f"a guide never dead-ends, after {b''.join(out)!r}"
        small = np.intersect1d(allowed, pool)
        staying = [t for t in small.tolist() if b"]" not in (vocab.token_bytes[t] or b"")]
        if staying and rng.random() < (0.9 if len(out) < 60 else 0.1):
            token = staying[rng.randrange(len(staying))]
        elif small.size and rng.random() < 0.9:
            token = int(small[rng.randrange(small.size)])
        else:
            token = int(allowed[rng.randrange(allowed.size)])
        guide.advance(token)
        out.append(vocab.token_bytes[token] or b"")
    return b"".join(out)


@pytest.mark.parametrize("whitespace", ["default", "flexible"])
@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_walks_never_repeat_an_item(llama3: Vocabulary, pool: np.ndarray, schema: dict,
                                    whitespace: str) -> None:
    index = structgen.compile(schema, whitespace=whitespace).index(llama3)
    for seed in range(6):
        guide = index.guide(max_tokens=None if seed % 2 else 120)
        value = json.loads(_walk(guide, llama3, pool, random.Random(seed)))
        jsonschema.validate(value, schema)


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_walks_finish_within_every_budget(llama3: Vocabulary, pool: np.ndarray,
                                          schema: dict) -> None:
    index = structgen.compile(schema).index(llama3)
    least = int(index.tokens_to_accept()[0]) + 1
    for seed, budget in enumerate([least, least + 1, least + 3, least + 8, 40]):
        guide = index.guide(max_tokens=budget)
        text = _walk(guide, llama3, pool, random.Random(seed))
        assert guide.remaining_budget is not None and guide.remaining_budget >= 1  # EOS
        jsonschema.validate(json.loads(text), schema)


@pytest.mark.parametrize("schema", SCHEMAS[:4], ids=range(4))
def test_masks_agree_with_single_token_checks(llama3: Vocabulary, pool: np.ndarray,
                                              schema: dict) -> None:
    """The mask takes out exactly the tokens advance() refuses, on every pool token and
    a sample of the rest of the DFA state's mask."""
    index = structgen.compile(schema).index(llama3)
    for seed in range(3):
        rng = random.Random(seed)
        guide = index.guide(max_tokens=30)
        while not guide.is_finished():
            static = mask_to_ids(index.entry(guide.state,
                                             guide.remaining_budget - 2).words)
            sample = np.union1d(np.intersect1d(static, pool),
                                rng.sample(static.tolist(), min(200, static.size)))
            allowed = set(guide.allowed_token_ids().tolist())
            for token in sample.tolist():
                assert (token in allowed) == guide.is_allowed(token), token
            choice = sorted(allowed & set(pool.tolist())) or sorted(allowed)
            guide.advance(rng.choice(choice))


def _feed(guide: Guide, vocab: Vocabulary, text: bytes) -> None:
    """Advance through ``text``, greedily in the longest tokens."""
    ids = {data: t for t, data in enumerate(vocab.token_bytes) if data}
    while text:
        size = max(n for n in range(1, len(text) + 1) if text[:n] in ids)
        guide.advance(ids[text[:size]])
        text = text[size:]


def _allowed_bytes(guide: Guide, vocab: Vocabulary) -> set[bytes]:
    return {vocab.token_bytes[t] or b"" for t in guide.allowed_token_ids().tolist()}


def test_a_finite_item_language_runs_out(llama3: Vocabulary) -> None:
    """Two possible items: after both, a separator would strand the walk."""
    schema = {"type": "array", "items": {"type": "string", "pattern": "^[ab]$"},
              "uniqueItems": True}
    guide = structgen.compile(schema).index(llama3).guide()
    _feed(guide, llama3, b'["a", "b"')
    allowed = _allowed_bytes(guide, llama3)
    assert b"]" in allowed and not any(b"," in t for t in allowed)


def test_closing_a_repeat_is_refused(llama3: Vocabulary) -> None:
    index = structgen.compile(SCHEMAS[0]).index(llama3)
    guide = index.guide()
    _feed(guide, llama3, b'["a", "a')
    allowed = _allowed_bytes(guide, llama3)
    assert not any(t.startswith(b'"') for t in allowed)  # "a" again
    assert {b'.', b'."', b'_"'} <= allowed
    guide = index.guide()
    _feed(guide, llama3, b'["a.", "a')
    allowed = _allowed_bytes(guide, llama3)
    assert b'."' not in allowed  # "a." again
    assert {b'"', b'"]', b'_"', b'.'} <= allowed


def test_escaped_spellings_under_a_budget(llama3: Vocabulary) -> None:
    """Items written with escapes (``\\u0061`` is ``a``): still one value per item, no dead
    end, within the budget; the mask agrees with advance() on every escape-pool token."""
    schema = {"type": "array", "items": {"type": "string", "maxLength": 2},
              "uniqueItems": True}
    index = structgen.compile(schema, unicode_escapes=True).index(llama3)
    pool = np.array([t for t, data in enumerate(llama3.token_bytes)
                     if data and set(data) <= set(b'a"[], \\u0016')], dtype=np.int64)
    for seed, budget in enumerate([8, 12, 20, 30, None]):
        rng = random.Random(seed)
        guide = index.guide(max_tokens=budget)
        out = []
        while not guide.is_finished():
            allowed = guide.allowed_token_ids()
            assert allowed.size
            for token in np.intersect1d(np.arange(llama3.vocab_size), pool).tolist():
                assert (token in set(allowed.tolist())) == guide.is_allowed(token)
            small = np.intersect1d(allowed, pool)
            pick = small if small.size and rng.random() < 0.95 else allowed
            token = int(pick[rng.randrange(pick.size)])
            guide.advance(token)
            out.append(llama3.token_bytes[token] or b"")
        value = json.loads(b"".join(out))
        jsonschema.validate(value, schema)


def test_an_escaped_quote_that_would_strand_the_item_is_refused(llama3: Vocabulary) -> None:
    """One character per item: after the item ``"`` (written ``\\"``), writing ``\\"``
    again leaves only a repeat to close."""
    schema = {"type": "array", "items": {"type": "string", "maxLength": 1},
              "uniqueItems": True}
    guide = structgen.compile(schema).index(llama3).guide()
    _feed(guide, llama3, b'["\\"", "')
    allowed = _allowed_bytes(guide, llama3)
    assert b'\\"' not in allowed and b"a" in allowed
