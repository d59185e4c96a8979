"""Guides through long counted strings on Llama-3: every walk stops at the exact length."""

from __future__ import annotations

import contextlib
import json
import random

import jsonschema
import numpy as np
import pytest

import structgen
from structgen.automata.counted import WINDOW
from structgen.guide import Guide
from structgen.index import Vocabulary

SCHEMAS = [
    {"type": "string", "maxLength": 300},
    {"type": "string", "minLength": 20, "maxLength": 400},
    {"type": "object", "properties": {"a": {"type": "string", "maxLength": 200},
                                      "b": {"type": ["string", "null"], "maxLength": 5000}},
     "required": ["a", "b"]},
    {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 150},
     "maxItems": 3},
]


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


@pytest.fixture(scope="module")
def plain(llama3: Vocabulary) -> np.ndarray:
    """Per token, the characters it writes inside a string when it is plain text (valid
    UTF-8 without quote, backslash or controls), else -1."""
    chars = np.full(llama3.vocab_size, -1, dtype=np.int64)
    for token, data in enumerate(llama3.token_bytes):
        if data and b'"' not in data and b"\\" not in data and min(data) >= 0x20:
            with contextlib.suppress(UnicodeDecodeError):
                chars[token] = len(data.decode("utf-8"))
    return chars


def _walk(guide: Guide, vocab: Vocabulary, plain: np.ndarray, rng: random.Random,
          greedy: bool) -> bytes:
    """Sample tokens; ``greedy`` mostly takes the longest plain token, so strings run to
    their maximum."""
    out = []
    while not guide.is_finished():
        allowed = guide.allowed_token_ids()
        assert allowed.size, "a guide never dead-ends"
        pool = allowed[plain[allowed] >= 0]
        if greedy and pool.size and rng.random() < 0.95:
            longest = pool[plain[pool] == plain[pool].max()]
            token = int(longest[rng.randrange(longest.size)])
        else:
            token = int(allowed[rng.randrange(allowed.size)])
        guide.advance(token)
        out.append(vocab.token_bytes[token] or b"")
    return b"".join(out)


@pytest.mark.parametrize("escapes", [False, True])
@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_walks_stay_valid_and_reach_the_bound(
    llama3: Vocabulary, plain: np.ndarray, schema: dict, escapes: bool
) -> None:
    grammar = structgen.compile(schema, unicode_escapes=escapes)
    assert grammar.dfa.counters is not None
    index = grammar.index(llama3)
    lengths = set()
    for seed in range(4):
        rng = random.Random(seed)
        guide = index.guide(max_tokens=160)
        value = json.loads(_walk(guide, llama3, plain, rng, greedy=seed % 2 == 0))
        jsonschema.validate(value, schema)
        strings = value.values() if isinstance(value, dict) else (
            value if isinstance(value, list) else [value])
        lengths |= {len(s) for s in strings if isinstance(s, str)}
    bounds = {s.get("maxLength") for s in [schema, *schema.get("properties", {}).values(),
                                           schema.get("items", {})]}
    assert lengths & bounds, "greedy walks write strings up to their maxLength"


def test_masks_are_exact_near_the_bound(llama3: Vocabulary, plain: np.ndarray) -> None:
    high = WINDOW + 40
    index = structgen.compile({"type": "string", "maxLength": high}).index(llama3)
    guide = index.guide()
    guide.advance(llama3.token_bytes.index(b'"'))
    a = llama3.token_bytes.index(b"a")
    for written in range(high + 1):
        allowed = guide.allowed_token_ids()
        is_allowed = np.zeros(llama3.vocab_size, dtype=np.bool_)
        is_allowed[allowed[allowed < llama3.vocab_size]] = True
        fits = (plain >= 0) & (plain <= high - written)
        # Plain tokens are allowed exactly when they fit in what is left.
        assert np.array_equal(is_allowed[plain >= 0], fits[plain >= 0]), written
        for token in allowed.tolist()[::211]:  # and advance takes every allowed token
            guide.copy().advance(token)
        if written < high:
            guide.advance(a)
    assert not guide.is_allowed(a)
    guide.advance(llama3.token_bytes.index(b'"'))
    assert guide.is_finished()


def test_eager_masks_cover_the_counted_layers(llama3: Vocabulary) -> None:
    grammar = structgen.compile({"type": "string", "maxLength": 300})
    index = grammar.index(llama3)
    index.build_all()
    _, rows = index.mask_table()
    counters = grammar.dfa.counters
    assert counters is not None
    guide = index.guide()
    rng = random.Random(3)
    while not guide.is_finished():
        assert rows[guide.state] >= 0, "every state a guide can be in has an eager mask"
        token = rng.choice(guide.allowed_token_ids().tolist())
        guide.advance(token)
    assert counters.free_start.size == 1


def test_vocabulary_with_longer_tokens_is_refused() -> None:
    vocab = Vocabulary.from_token_bytes([b'"', b"a", b"a" * (WINDOW + 1), None],
                                        eos_token_ids=[3])
    grammar = structgen.compile({"type": "string", "maxLength": 1000})
    with pytest.raises(ValueError, match="token of 129 bytes"):
        grammar.index(vocab)
