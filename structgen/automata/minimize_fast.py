"""Hopcroft minimization compiled with numba, for automata too large for pure Python.

Same algorithm and result as :func:`structgen.automata.minimize.minimize` (a test checks
they agree); about two orders of magnitude faster on DFAs of 10^4-10^5 states.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from structgen.automata.renumber import renumber

__all__ = ["minimize_fast"]


@njit(cache=True)
def _blocks(table: np.ndarray, accepting: np.ndarray) -> np.ndarray:  # pragma: no cover
    n, k = table.shape
    total = n + 1  # state n is the sink for missing transitions
    start = np.zeros(total + 1, np.int64)
    for s in range(n):
        for c in range(k):
            t = table[s, c]
            if t >= 0:
                start[t + 1] += 1
    for i in range(total):
        start[i + 1] += start[i]
    inv_class = np.empty(start[total], np.int32)
    inv_src = np.empty(start[total], np.int32)
    fill = start[:-1].copy()
    for s in range(n):
        for c in range(k):
            t = table[s, c]
            if t >= 0:
                inv_class[fill[t]] = c
                inv_src[fill[t]] = s
                fill[t] += 1
    elems = np.empty(total, np.int32)
    loc = np.empty(total, np.int32)
    block_of = np.empty(total, np.int32)
    bstart = np.empty(total, np.int32)
    bend = np.empty(total, np.int32)
    marked = np.zeros(total, np.int32)
    nblocks = 0
    pos = 0
    for want in (True, False):
        first = pos
        for s in range(n):
            if accepting[s] == want:
                elems[pos] = s
                loc[s] = pos
                block_of[s] = nblocks
                pos += 1
        if pos > first:
            bstart[nblocks] = first
            bend[nblocks] = pos
            nblocks += 1
    live_blocks = nblocks
    elems[pos] = n
    loc[n] = pos
    block_of[n] = nblocks
    bstart[nblocks] = pos
    bend[nblocks] = pos + 1
    nblocks += 1
    work = np.empty(total + 1, np.int32)
    in_work = np.zeros(total + 1, np.bool_)
    top = 0
    for b in range(live_blocks):
        work[top] = b
        top += 1
        in_work[b] = True
    counts = np.zeros(k + 1, np.int64)
    touched = np.empty(total, np.int32)
    while top > 0:
        top -= 1
        a = work[top]
        in_work[a] = False
        size = 0
        for i in range(bstart[a], bend[a]):
            q = elems[i]
            size += start[q + 1] - start[q]
        if size == 0:
            continue
        pcls = np.empty(size, np.int32)
        psrc = np.empty(size, np.int32)
        j = 0
        for i in range(bstart[a], bend[a]):
            q = elems[i]
            for e in range(start[q], start[q + 1]):
                pcls[j] = inv_class[e]
                psrc[j] = inv_src[e]
                j += 1
        counts[:] = 0
        for e in range(size):
            counts[pcls[e] + 1] += 1
        for c in range(k):
            counts[c + 1] += counts[c]
        order = np.empty(size, np.int32)
        slot = counts[:-1].copy()
        for e in range(size):
            c = pcls[e]
            order[slot[c]] = psrc[e]
            slot[c] += 1
        for c in range(k):
            lo, hi = counts[c], counts[c + 1]
            if lo == hi:
                continue
            ntouched = 0
            for e in range(lo, hi):
                p = order[e]
                b = block_of[p]
                first_unmarked = bstart[b] + marked[b]
                if loc[p] < first_unmarked:
                    continue
                other = elems[first_unmarked]
                elems[loc[p]] = other
                loc[other] = loc[p]
                elems[first_unmarked] = p
                loc[p] = first_unmarked
                if marked[b] == 0:
                    touched[ntouched] = b
                    ntouched += 1
                marked[b] += 1
            for t in range(ntouched):
                b = touched[t]
                m = marked[b]
                marked[b] = 0
                bsize = bend[b] - bstart[b]
                if m == bsize:
                    continue
                nb = nblocks
                nblocks += 1
                bstart[nb] = bstart[b]
                bend[nb] = bstart[b] + m
                bstart[b] = bstart[b] + m
                for i in range(bstart[nb], bend[nb]):
                    block_of[elems[i]] = nb
                if in_work[b] or m <= bsize - m:
                    work[top] = nb
                    in_work[nb] = True
                else:
                    work[top] = b
                    in_work[b] = True
                top += 1
    return block_of


def minimize_fast(
    table: npt.NDArray[np.int32], accepting: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    """Minimize a trimmed DFA (start state 0, -1 for no transition)."""
    n = table.shape[0]
    block_of = _blocks(np.ascontiguousarray(table, dtype=np.int32), accepting.astype(np.bool_))
    live = block_of[:n]
    dead_block = block_of[n]
    _, first = np.unique(live, return_index=True)
    reps = np.sort(first)  # state 0 comes first, so its block becomes 0
    new_id = np.full(block_of.max() + 1, -1, dtype=np.int32)
    new_id[live[reps]] = np.arange(len(reps), dtype=np.int32)
    new_id[dead_block] = -1
    return renumber(table, reps, new_id[live]), accepting[reps]
