"""The disk cache: atomic writes, checksums, two processes, and the index's use of it."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from index_helpers import random_dfa, random_vocab

from structgen._version import __version__
from structgen.index import build_index
from structgen.index.cache import DiskCache, cache_key
from structgen.index.trie import _TRIES


def _arrays(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "table": rng.integers(0, 2**32, (64, 100), dtype=np.uint32),
        "rows": rng.integers(-1, 64, 5000).astype(np.int32),
        "flag": np.array(True),
    }


def _equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a
    )


def test_round_trip_and_miss(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "new")
    key = cache_key("a", b"b")
    assert cache.load(key) is None
    path = cache.store(key, _arrays(0))
    assert path.name == f"{key}.npz"
    loaded = cache.load(key)
    assert loaded is not None and _equal(loaded, _arrays(0))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_keys_are_length_prefixed_digests() -> None:
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("x") == cache_key(b"x")
    with pytest.raises(ValueError, match="hex"):
        DiskCache(".").path("../escape")


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_damaged_files_are_misses_then_rewritten(tmp_path: Path, damage: str) -> None:
    cache = DiskCache(tmp_path)
    key = cache_key("damaged")
    path = cache.store(key, _arrays(1))
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        middle = len(data) // 2  # inside the table's bytes
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    else:
        path.write_bytes(b"")
    assert cache.load(key) is None
    cache.store(key, _arrays(1))
    loaded = cache.load(key)
    assert loaded is not None and _equal(loaded, _arrays(1))


def test_a_valid_file_with_a_wrong_checksum_is_rejected(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    key = cache_key("forged")
    arrays = _arrays(2)
    np.savez(tmp_path / f"{key}.npz", __checksum__=np.array("0" * 64), **arrays)
    assert cache.load(key) is None


def _writer(directory: str, key: str, seed: int, repeats: int) -> None:
    cache = DiskCache(directory)
    for _ in range(repeats):
        cache.store(key, _arrays(seed))


def test_two_processes_writing_one_entry_never_expose_a_partial_file(tmp_path: Path) -> None:
    key = cache_key("contended")
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(str(tmp_path), key, 3, 40)) for _ in range(2)]
    for w in writers:
        w.start()
    cache = DiskCache(tmp_path)
    seen = 0
    path = cache.path(key)
    while any(w.is_alive() for w in writers):
        existed = path.exists()  # once there, the entry is only ever replaced
        loaded = cache.load(key)
        if loaded is not None:
            assert _equal(loaded, _arrays(3))
            seen += 1
        elif existed:
            pytest.fail("an existing entry failed to load: a partial file was visible")
    for w in writers:
        w.join()
        assert w.exitcode == 0
    final = cache.load(key)
    assert final is not None and _equal(final, _arrays(3))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".npz"]


def _build(directory: str, seed: int) -> None:
    index = build_index(random_dfa(seed, n_states=30), random_vocab(seed), cache_dir=directory)
    index.build_all()
    index.tokens_to_accept(exact=True)


def test_two_processes_building_the_same_index(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    builders = [context.Process(target=_build, args=(str(tmp_path), 7)) for _ in range(2)]
    for b in builders:
        b.start()
    for b in builders:
        b.join()
        assert b.exitcode == 0
    dfa, vocab = random_dfa(7, n_states=30), random_vocab(7)
    restored = build_index(dfa, vocab, cache_dir=tmp_path)
    assert restored.tokens_to_accept_is_exact
    table, rows = restored.mask_table()
    fresh = build_index(dfa, vocab)
    for state in range(dfa.n_states):
        if rows[state] >= 0:
            assert np.array_equal(table[rows[state]], fresh.mask(state))
    assert np.array_equal(restored.tokens_to_accept(), fresh.tokens_to_accept(exact=True))


def test_index_rebuilds_over_a_corrupted_entry(tmp_path: Path) -> None:
    dfa, vocab = random_dfa(11, n_states=20), random_vocab(11)
    first = build_index(dfa, vocab, cache_dir=tmp_path)
    first.build_all()
    entries = {p.name: p.stat().st_size for p in tmp_path.glob("*.npz")}
    assert len(entries) == 2  # the vocabulary's trie and this index
    (index_file,) = [p for p in tmp_path.glob("*.npz") if p.name == first._cache_key() + ".npz"]
    index_file.write_bytes(index_file.read_bytes()[:100])
    second = build_index(dfa, vocab, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="build_all"):
        second.mask_table()  # the damaged entry was not used
    second.build_all()
    third = build_index(dfa, vocab, cache_dir=tmp_path)
    assert np.array_equal(third.mask_table()[0], first.mask_table()[0])
    assert np.array_equal(third.mask_table()[1], first.mask_table()[1])


def test_a_different_dfa_is_a_different_entry(tmp_path: Path) -> None:
    vocab = random_vocab(12)
    a = build_index(random_dfa(12), vocab, cache_dir=tmp_path)
    b = build_index(random_dfa(13), vocab, cache_dir=tmp_path)
    assert a._cache_key() != b._cache_key()


def test_threads_storing_and_loading_one_entry(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    key = cache_key("threads")
    start = threading.Barrier(8)

    def work(k: int) -> int:
        start.wait()
        seen = 0
        for _ in range(15):
            if k % 2:
                cache.store(key, _arrays(4))
            else:
                loaded = cache.load(key)
                if loaded is not None:
                    assert _equal(loaded, _arrays(4))
                    seen += 1
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    final = cache.load(key)
    assert final is not None and _equal(final, _arrays(4))
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".npz"]


def test_a_corrupted_vocabulary_trie_is_rebuilt(tmp_path: Path) -> None:
    vocab = random_vocab(21)  # a fingerprint no other test shares: not in the process memo
    dfa = random_dfa(21, n_states=10)
    build_index(dfa, vocab, cache_dir=tmp_path)
    key = cache_key("Trie", __version__, vocab.fingerprint)
    path = DiskCache(tmp_path).path(key)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 3])
    _TRIES.pop(vocab.fingerprint)
    index = build_index(dfa, vocab, cache_dir=tmp_path)
    assert np.array_equal(index.mask(0), build_index(dfa, vocab).mask(0))
    assert DiskCache(tmp_path).load(key) is not None  # rewritten whole


def test_an_intact_entry_of_the_wrong_shape_is_ignored(tmp_path: Path) -> None:
    dfa, vocab = random_dfa(22, n_states=12), random_vocab(22)
    index = build_index(dfa, vocab, cache_dir=tmp_path)
    # Checksummed, but not this index's shapes (a foreign writer, a changed layout).
    DiskCache(tmp_path).store(index._cache_key(), {
        "tokens_to_accept": np.zeros(3, np.int32),
        "mask_table": np.zeros((2, 5), np.uint32),
        "state_row": np.zeros(4, np.int32),
    })
    restored = build_index(dfa, vocab, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="build_all"):
        restored.mask_table()
    assert np.array_equal(restored.tokens_to_accept(), build_index(dfa, vocab).tokens_to_accept())


def _build_repeatedly(directory: str, seed: int, repeats: int) -> None:
    for _ in range(repeats):
        _build(directory, seed)


def test_processes_building_while_the_entry_is_damaged(tmp_path: Path) -> None:
    """Four builders race while the parent truncates whatever entry is on disk: every
    builder succeeds, and what stays on disk is whole and right."""
    context = multiprocessing.get_context("spawn")
    builders = [context.Process(target=_build_repeatedly, args=(str(tmp_path), 31, 2))
                for _ in range(4)]
    for b in builders:
        b.start()
    dfa, vocab = random_dfa(31, n_states=30), random_vocab(31)
    path = DiskCache(tmp_path).path(build_index(dfa, vocab)._cache_key())
    while any(b.is_alive() for b in builders):
        with contextlib.suppress(OSError):
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        time.sleep(0.01)
    for b in builders:
        b.join()
        assert b.exitcode == 0
    _build(str(tmp_path), 31)  # the last write may have been damaged: a build repairs it
    restored = build_index(dfa, vocab, cache_dir=tmp_path)
    table, rows = restored.mask_table()
    fresh = build_index(dfa, vocab)
    for state in range(dfa.n_states):
        if rows[state] >= 0:
            assert np.array_equal(table[rows[state]], fresh.mask(state))
