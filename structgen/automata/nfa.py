"""A byte-level NFA under construction, with state and time budgets."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from structgen.errors import GrammarLimitError

__all__ = ["NFA", "Edges", "byte_mask", "symbol_mask"]

# (src, label, dst) of the labelled edges and (src, dst) of the epsilon edges.
Edges = tuple[
    npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32],
    npt.NDArray[np.int32], npt.NDArray[np.int32],
]


def byte_mask(lo: int, hi: int) -> int:
    """The symbol set ``lo..hi`` (inclusive) as an integer bitmask."""
    return ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)


def symbol_mask(symbol: int) -> int:
    return 1 << symbol


class NFA:
    """States are ints; edges carry symbol sets, epsilon edges apart.

    Symbols 0..255 are bytes; 256 and up are special tokens. Edges live in flat lists
    (and numpy blocks for embedded DFAs) rather than per-state lists, so that handing
    hundreds of thousands of them to the compiled determinizer costs one conversion.
    A symbol set (an int bitmask) is interned once as a *label*: ``label_masks[label]``.
    """

    __slots__ = (
        "_blocks", "_labels", "deadline", "dst", "eps_dst", "eps_src", "label", "label_masks",
        "max_states", "n_states", "src", "timeout_s",
    )

    def __init__(self, *, max_states: int, timeout_s: float, deadline: float | None = None) -> None:
        self.n_states = 0
        self.src: list[int] = []
        self.label: list[int] = []
        self.dst: list[int] = []
        self.eps_src: list[int] = []
        self.eps_dst: list[int] = []
        self.label_masks: list[int] = []
        self._labels: dict[int, int] = {}
        self._blocks: list[Edges] = []
        self.max_states = max_states
        self.timeout_s = timeout_s
        self.deadline = deadline if deadline is not None else time.monotonic() + timeout_s

    def __len__(self) -> int:
        return self.n_states

    def state(self) -> int:
        return self.states(1)

    def states(self, count: int) -> int:
        """Allocate ``count`` consecutive states; returns the first."""
        n = self.n_states
        if n + count > self.max_states:
            raise GrammarLimitError(
                f"the automaton needs more than {self.max_states} NFA states; raise "
                "state_budget or simplify the schema (large maxLength/maxItems multiply states)",
                limit="state_budget",
                reached=n + count,
            )
        if n // 4096 != (n + count) // 4096:
            self.check_time()
        self.n_states = n + count
        return n

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise GrammarLimitError(
                f"compiling took longer than timeout_s={self.timeout_s}",
                limit="timeout_s",
                reached=self.timeout_s,
            )

    def label_of(self, mask: int) -> int:
        """The label interned for the symbol set ``mask``."""
        got = self._labels.get(mask)
        if got is None:
            got = self._labels[mask] = len(self.label_masks)
            self.label_masks.append(mask)
        return got

    def edge(self, src: int, mask: int, dst: int) -> None:
        self.src.append(src)
        self.label.append(self.label_of(mask))
        self.dst.append(dst)

    def epsilon(self, src: int, dst: int) -> None:
        if src != dst:
            self.eps_src.append(src)
            self.eps_dst.append(dst)

    def add_block(self, edges: Edges) -> None:
        """Add many edges at once (labels already interned), as ``arrays()`` returns them."""
        self._blocks.append(edges)

    def text(self, src: int, dst: int, data: bytes) -> None:
        """Connect ``src`` to ``dst`` by exactly ``data``."""
        if not data:
            self.epsilon(src, dst)
            return
        cur = src
        for byte in data[:-1]:
            nxt = self.state()
            self.edge(cur, 1 << byte, nxt)
            cur = nxt
        self.edge(cur, 1 << data[-1], dst)

    def arrays(self) -> Edges:
        """Every edge as int32 arrays: ``(src, label, dst, eps_src, eps_dst)``."""
        own: Edges = tuple(  # type: ignore[assignment]
            np.array(values, dtype=np.int32)
            for values in (self.src, self.label, self.dst, self.eps_src, self.eps_dst)
        )
        if not self._blocks:
            return own
        return tuple(  # type: ignore[return-value]
            np.concatenate([own[i], *(block[i] for block in self._blocks)])
            for i in range(5)
        )
