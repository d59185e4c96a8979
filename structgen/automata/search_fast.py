"""Breadth-first searches over DFA tables compiled with numba, for automata too large for Python.

:func:`trim_fast` gives the same result as :func:`structgen.automata.minimize.trim`
and :func:`bytes_to_accept_fast` as :func:`structgen.automata.distance.bytes_to_accept`
(a test checks they agree).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from structgen.automata.renumber import renumber

__all__ = ["bytes_to_accept_fast", "trim_fast"]

_UNREACHABLE = int(np.iinfo(np.int32).max)


@njit(cache=True)
def _steps_back(table: np.ndarray, accepting: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Fewest steps from each state to an accepting one (-1: never)."""
    n, k = table.shape
    off = np.zeros(n + 1, np.int64)
    for s in range(n):
        for c in range(k):
            t = table[s, c]
            if t >= 0:
                off[t + 1] += 1
    for i in range(n):
        off[i + 1] += off[i]
    preds = np.empty(off[n], np.int32)
    fill = off[:-1].copy()
    for s in range(n):
        for c in range(k):
            t = table[s, c]
            if t >= 0:
                preds[fill[t]] = s
                fill[t] += 1
    dist = np.full(n, -1, np.int64)
    queue = np.empty(n, np.int32)
    head, tail = 0, 0
    for s in range(n):
        if accepting[s]:
            dist[s] = 0
            queue[tail] = s
            tail += 1
    while head < tail:
        t = queue[head]
        head += 1
        for e in range(off[t], off[t + 1]):
            s = preds[e]
            if dist[s] < 0:
                dist[s] = dist[t] + 1
                queue[tail] = s
                tail += 1
    return dist


@njit(cache=True)
def _reach(table: np.ndarray, alive: np.ndarray) -> np.ndarray:  # pragma: no cover
    """States reachable from state 0 through ``alive`` states."""
    n, k = table.shape
    seen = np.zeros(n, np.bool_)
    queue = np.empty(n, np.int32)
    seen[0] = True
    queue[0] = 0
    head, tail = 0, 1
    while head < tail:
        s = queue[head]
        head += 1
        for c in range(k):
            t = table[s, c]
            if t >= 0 and alive[t] and not seen[t]:
                seen[t] = True
                queue[tail] = t
                tail += 1
    return seen


def trim_fast(
    table: npt.NDArray[np.int32], accepting: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]] | None:
    """Drop states unreachable from state 0 or unable to reach acceptance (``None``: empty)."""
    alive = _steps_back(table, accepting) >= 0
    if not alive[0]:
        return None
    keep = np.flatnonzero(_reach(table, alive))
    new_id = np.full(len(table), -1, dtype=np.int32)
    new_id[keep] = np.arange(len(keep), dtype=np.int32)
    return renumber(table, keep, new_id), accepting[keep]


def bytes_to_accept_fast(
    table: npt.NDArray[np.int32], accepting: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int32]:
    """Per state, the fewest symbols to an accepting state (int32 max: never)."""
    dist = _steps_back(table, accepting)
    return np.where(dist >= 0, dist, _UNREACHABLE).astype(np.int32)
