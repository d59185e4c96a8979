"""Merge the symbol classes a minimal DFA no longer tells apart (identical table columns)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["merge_classes"]


@njit(cache=True)
def _column_hashes(table: np.ndarray) -> np.ndarray:  # pragma: no cover
    n, k = table.shape
    hashes = np.full(k, np.uint64(14695981039346656037))
    for s in range(n):
        for c in range(k):
            hashes[c] = (hashes[c] ^ np.uint64(table[s, c] + 1)) * np.uint64(1099511628211)
    return hashes


def merge_classes(
    table: npt.NDArray[np.int32], class_of: npt.NDArray[np.int32]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """``(table, class_of)`` with equal columns merged; classes keep first-occurrence order.

    Columns are grouped by a hash over all rows, then compared exactly within a group.
    """
    reps: list[int] = []
    groups: dict[int, list[int]] = {}
    new_class = np.empty(table.shape[1], dtype=np.int32)
    for c, key in enumerate(_column_hashes(table).tolist()):
        group = groups.setdefault(key, [])
        for r in group:
            if np.array_equal(table[:, c], table[:, reps[r]]):
                new_class[c] = r
                break
        else:
            new_class[c] = len(reps)
            group.append(len(reps))
            reps.append(c)
    if len(reps) < table.shape[1]:
        table = np.take(table, reps, axis=1)
    return table, new_class[class_of]
