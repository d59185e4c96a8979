"""A byte-level NFA under construction, with state and time budgets."""

from __future__ import annotations

import time

from structgen.errors import GrammarLimitError

__all__ = ["NFA", "byte_mask", "symbol_mask"]


def byte_mask(lo: int, hi: int) -> int:
    """The symbol set ``lo..hi`` (inclusive) as an integer bitmask."""
    return ((1 << (hi + 1)) - 1) ^ ((1 << lo) - 1)


def symbol_mask(symbol: int) -> int:
    return 1 << symbol


class NFA:
    """States are ints; edges carry symbol sets as int bitmasks; epsilon edges apart.

    Symbols 0..255 are bytes; 256 and up are special tokens.
    """

    __slots__ = ("deadline", "edges", "eps", "max_states", "timeout_s")

    def __init__(self, *, max_states: int, timeout_s: float, deadline: float | None = None) -> None:
        self.edges: list[list[tuple[int, int]]] = []
        self.eps: list[list[int]] = []
        self.max_states = max_states
        self.timeout_s = timeout_s
        self.deadline = deadline if deadline is not None else time.monotonic() + timeout_s

    def __len__(self) -> int:
        return len(self.edges)

    def state(self) -> int:
        n = len(self.edges)
        if n >= self.max_states:
            raise GrammarLimitError(
                f"the automaton needs more than {self.max_states} NFA states; raise "
                "state_budget or simplify the schema (large maxLength/maxItems multiply states)",
                limit="state_budget",
                reached=n,
            )
        if n % 4096 == 0:
            self.check_time()
        self.edges.append([])
        self.eps.append([])
        return n

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise GrammarLimitError(
                f"compiling took longer than timeout_s={self.timeout_s}",
                limit="timeout_s",
                reached=self.timeout_s,
            )

    def edge(self, src: int, mask: int, dst: int) -> None:
        self.edges[src].append((mask, dst))

    def epsilon(self, src: int, dst: int) -> None:
        if src != dst:
            self.eps[src].append(dst)

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
