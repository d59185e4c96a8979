"""Keep some rows of a DFA table and renumber their targets, in one compiled pass.

The numpy spelling (``state_id[table[rows]]``) makes two passes and a temporary over
every entry: about 0.1 s on a 200,000-state table, paid after each trim and minimize.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["renumber"]


@njit(cache=True)
def _renumber(
    table: np.ndarray, rows: np.ndarray, state_id: np.ndarray
) -> np.ndarray:  # pragma: no cover
    k = table.shape[1]
    out = np.empty((rows.shape[0], k), np.int32)
    for i in range(rows.shape[0]):
        r = rows[i]
        for c in range(k):
            t = table[r, c]
            out[i, c] = state_id[t] if t >= 0 else -1
    return out


def renumber(
    table: npt.NDArray[np.int32], rows: npt.NDArray[np.integer], state_id: npt.NDArray[np.int32]
) -> npt.NDArray[np.int32]:
    """``table[rows]`` with each target ``t >= 0`` replaced by ``state_id[t]`` (-1 stays)."""
    return _renumber(np.ascontiguousarray(table, dtype=np.int32),
                     np.ascontiguousarray(rows, dtype=np.int64),
                     np.ascontiguousarray(state_id, dtype=np.int32))
