"""Subset construction compiled with numba, for NFAs too large for pure Python.

Same result as :func:`structgen.automata.determinize.determinize`, state numbering
included (a test checks they agree). The kernel works in chunks and returns whenever an
array must grow or a chunk is done, so the driver can resize and check the time budget.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from structgen.automata.determinize import label_classes, limit_error
from structgen.automata.nfa import NFA

__all__ = ["determinize_fast"]

_DONE, _CHUNK, _GROW_ROWS, _GROW_POOL, _GROW_HASH, _LIMIT = range(6)
_CHUNK_ROWS = 2048
# meta: states found, next state to expand, pool entries used, closure stamp.
_FOUND, _NEXT, _USED, _STAMP = range(4)


@njit(cache=True)
def _hash(values: np.ndarray, n: int) -> np.uint64:  # pragma: no cover
    h = np.uint64(14695981039346656037)
    for i in range(n):
        h = (h ^ np.uint64(values[i])) * np.uint64(1099511628211)
    return h


@njit(cache=True)
def _closure(
    seeds: np.ndarray, e_off: np.ndarray, e_dst: np.ndarray, mark: np.ndarray, stamp: int,
    stack: np.ndarray, out: np.ndarray,
) -> int:  # pragma: no cover
    """Epsilon closure of ``seeds`` into ``out`` (unsorted); returns its size."""
    m = 0
    top = 0
    for d in seeds:
        if mark[d] != stamp:
            mark[d] = stamp
            out[m] = d
            m += 1
            stack[top] = d
            top += 1
    while top > 0:
        top -= 1
        s = stack[top]
        for e in range(e_off[s], e_off[s + 1]):
            t = e_dst[e]
            if mark[t] != stamp:
                mark[t] = stamp
                out[m] = t
                m += 1
                stack[top] = t
                top += 1
    return m


@njit(cache=True)
def _find(
    values: np.ndarray, m: int, h: np.uint64, pool: np.ndarray, set_off: np.ndarray,
    hashes: np.ndarray, htable: np.ndarray,
) -> tuple[int, int]:  # pragma: no cover
    """(state with this set or -1, its slot or the free slot where it belongs)."""
    hmask = htable.shape[0] - 1
    slot = np.int64(h & np.uint64(hmask))
    while True:
        j = htable[slot]
        if j < 0:
            return -1, slot
        lo = set_off[j]
        if hashes[j] == h and set_off[j + 1] - lo == m:
            same = True
            for x in range(m):
                if pool[lo + x] != values[x]:
                    same = False
                    break
            if same:
                return j, slot
        slot = (slot + 1) & hmask


@njit(cache=True)
def _rehash(hashes: np.ndarray, n: int, htable: np.ndarray) -> None:  # pragma: no cover
    hmask = htable.shape[0] - 1
    for j in range(n):
        slot = np.int64(hashes[j] & np.uint64(hmask))
        while htable[slot] >= 0:
            slot = (slot + 1) & hmask
        htable[slot] = j


@njit(cache=True)
def _expand(
    meta: np.ndarray, start: int, accept: int, n_classes: int, max_states: int,
    t_off: np.ndarray, t_label: np.ndarray, t_dst: np.ndarray,
    lc_off: np.ndarray, lc_cls: np.ndarray, e_off: np.ndarray, e_dst: np.ndarray,
    pool: np.ndarray, set_off: np.ndarray, hashes: np.ndarray, htable: np.ndarray,
    trans: np.ndarray, accepting: np.ndarray, mark: np.ndarray,
) -> int:  # pragma: no cover
    n_nfa = mark.shape[0]
    stack = np.empty(n_nfa, np.int32)
    buf = np.empty(n_nfa, np.int32)
    found, i, used, stamp = meta[_FOUND], meta[_NEXT], meta[_USED], meta[_STAMP]
    if found == 0:
        stamp += 1
        seeds = np.full(1, start, np.int32)
        m = _closure(seeds, e_off, e_dst, mark, stamp, stack, buf)
        buf[:m].sort()
        h = _hash(buf, m)
        _, slot = _find(buf, m, h, pool, set_off, hashes, htable)
        pool[:m] = buf[:m]
        set_off[1] = m
        hashes[0] = h
        htable[slot] = 0
        accepting[0] = mark[accept] == stamp
        found, used = 1, m
    counts = np.zeros(n_classes + 1, np.int64)
    fill = np.zeros(n_classes, np.int64)
    ends = np.zeros(n_classes, np.int64)
    bucket = np.empty(1024, np.int32)
    size = 1
    while size < 2 * n_classes:
        size *= 2
    row_slots = np.full(size, -1, np.int64)
    row_hash = np.zeros(n_classes, np.uint64)
    row_mask = row_slots.shape[0] - 1
    status = _DONE
    done = 0
    while i < found:
        if done >= _CHUNK_ROWS:
            status = _CHUNK
            break
        if trans.shape[0] - found < n_classes:
            status = _GROW_ROWS
            break
        if 2 * (found + n_classes) > htable.shape[0]:
            status = _GROW_HASH
            break
        row_found, row_used = found, used
        # Targets of each class, bucketed by class (counting sort).
        counts[:] = 0
        for p in range(set_off[i], set_off[i + 1]):
            s = pool[p]
            for e in range(t_off[s], t_off[s + 1]):
                lab = t_label[e]
                for q in range(lc_off[lab], lc_off[lab + 1]):
                    counts[lc_cls[q] + 1] += 1
        for c in range(n_classes):
            counts[c + 1] += counts[c]
        if counts[n_classes] > bucket.shape[0]:
            bucket = np.empty(2 * counts[n_classes], np.int32)
        fill[:] = counts[:n_classes]
        for p in range(set_off[i], set_off[i + 1]):
            s = pool[p]
            for e in range(t_off[s], t_off[s + 1]):
                d = t_dst[e]
                lab = t_label[e]
                for q in range(lc_off[lab], lc_off[lab + 1]):
                    c = lc_cls[q]
                    bucket[fill[c]] = d
                    fill[c] += 1
        failed = False
        for c in range(n_classes):
            lo, hi = counts[c], counts[c + 1]
            trans[i, c] = -1
            if lo == hi:
                continue
            bucket[lo:hi].sort()
            end = lo + 1
            for x in range(lo + 1, hi):
                if bucket[x] != bucket[end - 1]:
                    bucket[end] = bucket[x]
                    end += 1
            ends[c] = end
            # Classes of this row with the same target set share one closure.
            h = _hash(bucket[lo:end], end - lo)
            row_hash[c] = h
            slot = np.int64(h & np.uint64(row_mask))
            twin = -1
            while row_slots[slot] >= 0:
                c2 = row_slots[slot]
                if row_hash[c2] == h and ends[c2] - counts[c2] == end - lo:
                    same = True
                    for x in range(end - lo):
                        if bucket[counts[c2] + x] != bucket[lo + x]:
                            same = False
                            break
                    if same:
                        twin = c2
                        break
                slot = (slot + 1) & row_mask
            if twin >= 0:
                trans[i, c] = trans[i, twin]
                continue
            row_slots[slot] = c
            stamp += 1
            m = _closure(bucket[lo:end], e_off, e_dst, mark, stamp, stack, buf)
            buf[:m].sort()
            h2 = _hash(buf, m)
            target, slot2 = _find(buf, m, h2, pool, set_off, hashes, htable)
            if target < 0:
                if found >= max_states:
                    status = _LIMIT
                    failed = True
                    break
                if used + m > pool.shape[0]:
                    status = _GROW_POOL
                    failed = True
                    break
                target = found
                pool[used:used + m] = buf[:m]
                set_off[found + 1] = used + m
                hashes[found] = h2
                htable[slot2] = found
                accepting[found] = mark[accept] == stamp
                found += 1
                used += m
            trans[i, c] = target
        row_slots[:] = -1
        if failed:
            # Undo this row's new states, newest first: linear probing then restores
            # the hash table exactly.
            hmask = htable.shape[0] - 1
            for j in range(found - 1, row_found - 1, -1):
                slot = np.int64(hashes[j] & np.uint64(hmask))
                while htable[slot] != j:
                    slot = (slot + 1) & hmask
                htable[slot] = -1
            found, used = row_found, row_used
            break
        i += 1
        done += 1
    meta[_FOUND], meta[_NEXT], meta[_USED], meta[_STAMP] = found, i, used, stamp
    return status


def _csr(keys: npt.NDArray[np.int32], n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    order = np.argsort(keys, kind="stable")
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=offsets[1:])
    return offsets, order


def determinize_fast(
    nfa: NFA, start: int, accept: int, *, n_symbols: int, max_states: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_], list[int]]:
    """Build the DFA of the NFA fragment ``start -> accept``: ``(table, accepting, class_of)``."""
    n = len(nfa)
    src, label, dst, eps_src, eps_dst = nfa.arrays()
    class_of, per_label = label_classes(nfa.label_masks, n_symbols)
    n_classes = max(class_of) + 1
    lc_off = np.zeros(len(per_label) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in per_label], out=lc_off[1:])
    lc_cls = np.array([c for classes in per_label for c in classes], dtype=np.int32)
    t_off, order = _csr(src, n)
    e_off, eps_order = _csr(eps_src, n)
    arrays = (t_off, label[order], dst[order], lc_off, lc_cls, e_off, eps_dst[eps_order])
    rows = 1024
    pool = np.empty(n + 4096, dtype=np.int32)
    set_off = np.zeros(rows + 1, dtype=np.int64)
    hashes = np.zeros(rows, dtype=np.uint64)
    htable = np.full(4 * rows, -1, dtype=np.int64)
    trans = np.full((rows, n_classes), -1, dtype=np.int32)
    accepting = np.zeros(rows, dtype=np.bool_)
    mark = np.zeros(n, dtype=np.int64)
    meta = np.zeros(4, dtype=np.int64)
    while True:
        status = _expand(meta, start, accept, n_classes, max_states, *arrays, pool, set_off,
                         hashes, htable, trans, accepting, mark)
        if status == _DONE:
            break
        if status == _LIMIT:
            raise limit_error(max_states)
        if status == _GROW_ROWS:
            rows = 2 * trans.shape[0]
            trans = np.concatenate([trans, np.full_like(trans, -1)])
            accepting = np.concatenate([accepting, np.zeros_like(accepting)])
            set_off = np.concatenate([set_off, np.zeros(rows + 1 - len(set_off), np.int64)])
            hashes = np.concatenate([hashes, np.zeros_like(hashes)])
        elif status == _GROW_POOL:
            pool = np.concatenate([pool, np.empty(len(pool) + n, dtype=np.int32)])
        elif status == _GROW_HASH:
            htable = np.full(2 * len(htable), -1, dtype=np.int64)
            _rehash(hashes, int(meta[_FOUND]), htable)
        nfa.check_time()
    found = int(meta[_FOUND])
    return trans[:found].copy(), accepting[:found].copy(), class_of
