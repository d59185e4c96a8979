"""The eager table's block-shared masks: byte-exact, smaller, and what nbytes reports."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from index_helpers import bits, random_dfa, random_vocab

import structgen
from structgen.guide import Guide
from structgen.index import Vocabulary, build_index
from structgen.index.mask_store import BLOCK_WORDS, MaskStore, MaskStoreBuilder

# Small schemas whose strings, enums and counted arrays give many alike masks over Llama-3.
SCHEMAS = [
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 5},
            "tags": {"type": "array", "items": {"enum": ["red", "green"]}, "maxItems": 2},
            "n": {"type": "integer"},
        },
        "required": ["name"],
    },
    {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}},
        "required": ["a", "b"],
    },
]


def _masks(seed: int, n_words: int, count: int) -> list[np.ndarray]:
    """Masks built from a few shared blocks plus a few one-off bits, with repeats."""
    rng = np.random.default_rng(seed)
    shared = [np.zeros(BLOCK_WORDS, np.uint32), np.full(BLOCK_WORDS, 0xFFFFFFFF, np.uint32)]
    shared.append(rng.integers(0, 1 << 32, BLOCK_WORDS, dtype=np.uint64).astype(np.uint32))
    n_chunks = -(-n_words // BLOCK_WORDS)
    out = []
    for _ in range(count):
        picks = rng.integers(0, len(shared), n_chunks)
        words = np.concatenate([shared[p] for p in picks])[:n_words].copy()
        if rng.random() < 0.5:
            words[rng.integers(n_words)] ^= np.uint32(1 << int(rng.integers(32)))
        out.append(words)
    return out + out[: count // 3]


@pytest.mark.parametrize(("seed", "n_words"), [(0, 1), (1, 31), (2, 32), (3, 100), (4, 4008)])
def test_builder_keeps_each_mask_once_and_gives_it_back_exactly(seed: int, n_words: int) -> None:
    uncounted = np.zeros(n_words, np.uint32)
    uncounted[0] = 0b101  # like EOS bits: not counted in n_text
    builder = MaskStoreBuilder(n_words, uncounted)
    masks = _masks(seed, n_words, 30)
    rows = [builder.add(m) for m in masks]
    store = builder.finish()
    distinct = {m.tobytes() for m in masks}
    assert len(store) == len(distinct)
    for words, row in zip(masks, rows, strict=True):
        got = store.words(row)
        assert got.dtype == np.uint32 and got.shape == (n_words,)
        assert np.array_equal(got, words) and not got.flags.writeable
        assert int(store.n_text[row]) == len(bits(words & ~uncounted))
    assert {r.tobytes() for r in store.dense()} == distinct
    assert store.block_ids.dtype == np.uint16
    if n_words == 4008:  # whole bitsets would take 16 KiB each; shared blocks far less
        assert store.nbytes < len(distinct) * n_words * 4 // 4


def test_store_refuses_inconsistent_arrays() -> None:
    blocks = np.zeros((2, BLOCK_WORDS), np.uint32)
    with pytest.raises(ValueError):
        MaskStore(blocks, np.array([[2]], np.uint16), np.zeros(1, np.int32), 10)  # bad id
    with pytest.raises(ValueError):
        MaskStore(blocks, np.array([[0, 1]], np.uint16), np.zeros(1, np.int32), 10)  # width


@pytest.mark.parametrize("seed", range(6))
def test_eager_masks_equal_lazy_ones_on_random_automata(seed: int) -> None:
    dfa, vocab = random_dfa(seed, n_states=30), random_vocab(seed)
    eager, lazy = build_index(dfa, vocab), build_index(dfa, vocab)
    eager.build_all()
    table, rows = eager.mask_table()
    for state in range(dfa.n_states):
        if rows[state] >= 0:
            want = lazy.entry(state)
            got = eager.entry(state)
            assert np.array_equal(got.words, want.words) and got.n_text == want.n_text
            assert np.array_equal(table[rows[state]], want.words)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_eager_masks_equal_lazy_ones_along_random_paths(schema: dict) -> None:
    vocab = Vocabulary.llama3()
    grammar = structgen.compile(schema)
    eager, lazy = grammar.index(vocab), grammar.index(vocab)
    eager.build_all()
    rng = random.Random(7)
    for _ in range(4):
        guide, twin = Guide(eager), Guide(lazy)
        for _ in range(60):
            assert np.array_equal(guide.mask(), twin.mask())
            assert guide.is_finished() == twin.is_finished()
            if guide.is_finished():
                break
            ids = [t for t in guide.allowed_token_ids().tolist() if not eager.is_eos(t)]
            token = rng.choice(ids)
            guide.advance(token)
            twin.advance(token)
    assert not lazy._eager  # the lazy twin really computed its own masks


@pytest.mark.parametrize("schema", SCHEMAS)
def test_build_all_holds_less_than_whole_bitsets_and_nbytes_counts_it(schema: dict) -> None:
    index = structgen.compile(schema).index(Vocabulary.llama3())
    before = index.nbytes
    index.build_all()
    table, rows = index.mask_table()
    store, state_row = index._eager
    grown = index.nbytes - before
    assert grown >= store.nbytes + state_row.nbytes  # what is held is counted
    assert store.nbytes < table.nbytes  # masks share blocks
    assert grown < table.nbytes + rows.nbytes


def test_exact_costs_after_build_all_need_no_second_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    dfa, vocab = random_dfa(3, n_states=40), random_vocab(3)
    index = build_index(dfa, vocab)
    index.build_all()
    want = build_index(dfa, vocab).tokens_to_accept(exact=True)

    def no_walk(*args: object, **kwargs: object) -> None:
        raise AssertionError("the token graph was walked again")

    monkeypatch.setattr(index, "_token_graph", no_walk)
    assert np.array_equal(index.tokens_to_accept(exact=True), want)
    assert index.tokens_to_accept_is_exact


def test_disk_cache_restores_the_blocks_and_exact_costs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dfa, vocab = random_dfa(9, n_states=40), random_vocab(9)
    first = build_index(dfa, vocab, cache_dir=tmp_path)
    first.build_all()
    restored = build_index(dfa, vocab, cache_dir=tmp_path)
    monkeypatch.setattr(restored, "_token_graph", None)  # any walk would fail
    for got, want in zip(restored.mask_table(), first.mask_table(), strict=True):
        assert np.array_equal(got, want)
    assert np.array_equal(
        restored.tokens_to_accept(exact=True), build_index(dfa, vocab).tokens_to_accept(exact=True)
    )
    assert restored.nbytes == first.nbytes  # the exact costs, now held as the costs
