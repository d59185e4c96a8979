"""Compile hot loops with numba, caching the machine code on disk where a location is writable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

__all__ = ["dfa_step", "jit"]

F = TypeVar("F", bound=Callable[..., Any])


def jit(function: F) -> F:
    """``numba.njit(nogil=True)``, with ``cache=True`` unless no cache location is writable.

    numba caches next to the source file, or in the user's cache folder when the package is
    installed read-only; where neither can be written it refuses ``cache=True`` at decoration
    time, so fall back to compiling in each process (about a second per kernel on first use).
    """
    try:
        return numba.njit(nogil=True, cache=True)(function)  # type: ignore[no-any-return]
    except RuntimeError:
        return numba.njit(nogil=True)(function)  # type: ignore[no-any-return]


@jit
def dfa_step(row_of, rows, state, cls):  # type: ignore[no-untyped-def]
    """One move in a :class:`~structgen.automata.compact.CompactTable` (an empty ``row_of``
    is the dense fallback): the next state, negative when dead."""
    row = row_of[state] if row_of.shape[0] else state
    return state + rows[row, cls]
