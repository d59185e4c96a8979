"""The compiled grammar's DFA in compact form: deduplicated rows of relative targets.

Counted strings and arrays make long runs of states whose transition rows are the same
row shifted by one state, so rows of *offsets* (target minus state) repeat: the 98,690
states of ``schemas/resume.json`` have 1,520 distinct ones, 0.8 MiB instead of the
27 MiB dense table. The build keeps dense tables; a :class:`~structgen.grammar.Grammar`
holds only this form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from structgen.automata.counted import Counters
from structgen.automata.dfa import ByteDFA, accepts
from structgen.automata.unique import UniqueItems

__all__ = ["DEAD", "CompactDFA", "CompactTable", "TableSizes"]

DEAD = int(np.iinfo(np.int32).min)
"""The offset of a missing transition: ``state + DEAD`` is negative for every state."""


@dataclass(frozen=True, eq=False)
class CompactTable:
    """Transitions as ``next = state + rows[row_of[state], class]``, negative when dead.

    An empty ``row_of`` is the dense fallback (row ``state`` is the state's own row), kept
    when deduplication would not save memory.
    """

    row_of: npt.NDArray[np.int32]
    rows: npt.NDArray[np.int32]

    @classmethod
    def from_dense(
        cls, table: npt.NDArray[np.int32], *, dedupe: bool | None = None
    ) -> CompactTable:
        """Offsets of ``int32[n_states, n_classes]`` (-1: dead), deduplicated when that
        takes less memory (``dedupe`` forces either layout, for tests)."""
        table = np.asarray(table, dtype=np.int32)
        n_states = table.shape[0]
        # |target - state| < n_states: int32 arithmetic cannot overflow.
        states = np.arange(n_states, dtype=np.int32)[:, None]
        offsets = np.where(table >= 0, table - states, np.int32(DEAD))
        dense = cls(np.zeros(0, dtype=np.int32), np.ascontiguousarray(offsets))
        if dedupe is False or n_states == 0:
            return dense
        compact = cls(*_dedupe(offsets))
        return compact if dedupe or compact.nbytes < dense.nbytes else dense

    @property
    def n_states(self) -> int:
        return int(self.row_of.shape[0] if self.row_of.size else self.rows.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_states, n_classes)``, as of the dense table."""
        return self.n_states, int(self.rows.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.row_of.nbytes + self.rows.nbytes)

    def __getitem__(self, key: tuple[int, int]) -> int:
        """The next state after class ``key[1]`` from state ``key[0]``, or -1."""
        state, cls = int(key[0]), int(key[1])
        if not 0 <= state < self.n_states:
            raise IndexError(f"state {state} is outside [0, {self.n_states})")
        row = self.row_of.item(state) if self.row_of.size else state
        return max(state + self.rows.item(row, cls), -1)

    def targets(self, state: int) -> npt.NDArray[np.int32]:
        """Row ``state`` of the dense table (-1: dead)."""
        row = self.rows[self.row_of[state] if self.row_of.size else state]
        return np.maximum(row.astype(np.int64) + state, -1).astype(np.int32)

    def dense(self) -> npt.NDArray[np.int32]:
        """The dense ``int32[n_states, n_classes]`` table (-1: dead); for tests and drawing."""
        rows = self.rows[self.row_of] if self.row_of.size else self.rows
        states = np.arange(self.n_states, dtype=np.int64)[:, None]
        return np.maximum(rows.astype(np.int64) + states, -1).astype(np.int32)


def _dedupe(
    offsets: npt.NDArray[np.int32],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """``(row_of, rows)`` with ``rows[row_of] == offsets``: rows grouped by a 64-bit hash
    (a sort of one word per state, 20x faster than ``np.unique(axis=0)``), checked, and
    grouped exactly only if two distinct rows collide."""
    weights = np.random.default_rng(0x5EED).integers(
        1, 1 << 62, size=offsets.shape[1], dtype=np.int64) | 1
    with np.errstate(over="ignore"):
        hashes = offsets.astype(np.int64) @ weights
    _, first, row_of = np.unique(hashes, return_index=True, return_inverse=True)
    rows = offsets[first]
    row_of = row_of.reshape(-1).astype(np.int32)
    if not np.array_equal(rows[row_of], offsets):
        rows, row_of = np.unique(offsets, axis=0, return_inverse=True)
        row_of = row_of.reshape(-1).astype(np.int32)
    return row_of, np.ascontiguousarray(rows, dtype=np.int32)


class TableSizes:
    """Sizes read off a compact table and a symbol-to-class map (for the automata that
    hold one: :class:`CompactDFA`, :class:`~structgen.automata.stack.StackDFA`)."""

    transitions: CompactTable
    class_of: npt.NDArray[np.int32]

    @property
    def n_states(self) -> int:
        return self.transitions.n_states

    @property
    def n_classes(self) -> int:
        return int(self.transitions.rows.shape[1])

    @property
    def n_symbols(self) -> int:
        return int(self.class_of.shape[0])


@dataclass(frozen=True, eq=False)
class CompactDFA(TableSizes):
    """A :class:`ByteDFA` whose ``transitions`` is a :class:`CompactTable`: what a compiled
    grammar and its token index read at run time."""

    transitions: CompactTable
    accepting: npt.NDArray[np.bool_]
    class_of: npt.NDArray[np.int32]
    bytes_to_accept: npt.NDArray[np.int32] = field(repr=False)
    counters: Counters | None = field(default=None, repr=False)
    unique: UniqueItems | None = field(default=None, repr=False)

    @classmethod
    def from_dfa(cls, dfa: ByteDFA) -> CompactDFA:
        return cls(
            CompactTable.from_dense(dfa.transitions),
            np.ascontiguousarray(dfa.accepting, dtype=np.bool_),
            np.ascontiguousarray(dfa.class_of, dtype=np.int32),
            np.ascontiguousarray(dfa.bytes_to_accept, dtype=np.int32),
            dfa.counters,
            dfa.unique,
        )

    def to_dfa(self) -> ByteDFA:
        """The dense :class:`ByteDFA` (``n_states * n_classes`` words: small grammars only)."""
        return ByteDFA(self.transitions.dense(), self.accepting, self.class_of,
                       self.bytes_to_accept, self.counters, self.unique)

    @property
    def nbytes(self) -> int:
        """Memory of the arrays: transitions, classes, accepting flags and distances."""
        return int(self.transitions.nbytes + self.accepting.nbytes + self.class_of.nbytes
                   + self.bytes_to_accept.nbytes
                   + (self.counters.nbytes if self.counters else 0)
                   + (self.unique.nbytes if self.unique else 0))

    def step(self, state: int, symbol: int) -> int:
        return self.transitions[state, self.class_of.item(symbol)]

    def walk(self, symbols: bytes | list[int], state: int = 0) -> int:
        """The state after ``symbols`` from ``state``, or -1 if they leave the language."""
        row_of, rows, class_of = self.transitions.row_of, self.transitions.rows, self.class_of
        shared = row_of.size > 0
        for symbol in symbols:
            row = row_of.item(state) if shared else state
            state += rows.item(row, class_of.item(symbol))
            if state < 0:
                return -1
        return state

    @cached_property
    def fast_step(self) -> Callable[[int, int], int]:
        """:meth:`step` without its checks, for walks that read every state they pass
        (long strings: :func:`~structgen.automata.counted.count_walk`)."""
        row_of, offset = self.transitions.row_of.item, self.transitions.rows.item
        class_of = self.class_of.tolist()
        if self.transitions.row_of.size == 0:
            return lambda state, symbol: max(state + offset(state, class_of[symbol]), -1)
        return lambda state, symbol: max(state + offset(row_of(state), class_of[symbol]), -1)

    def accepts(self, symbols: bytes | list[int]) -> bool:
        return accepts(self, symbols)

    def class_masks(self) -> list[int]:
        """For each class, the set of symbols in it as an int bitmask."""
        masks = [0] * self.n_classes
        for symbol, cls in enumerate(self.class_of.tolist()):
            masks[cls] |= 1 << symbol
        return masks
