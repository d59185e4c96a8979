"""Modules joined by calls: one table for every module's DFA, and a stack of return states.

A schema whose ``$ref`` targets are used in many places, or recursively, unrolls into a
flat DFA that copies each target once per place and per level: the WashingtonPost content
schemas pass a million states at one level of recursion. Called instead (``ir.Call``),
each target is one module: a minimal DFA built once. The run-time position is then a
*configuration*: the return states of the open calls, then the current state.

A step on a symbol from state ``s``:

* takes ``s``'s own transition when there is one;
* else, when ``s`` calls a module (``call_start[s] >= 0``), pushes ``call_return[s]`` and
  takes the transition from the module's start;
* after either, while the state reached ends a called module's value (``returns``), pops:
  the caller goes on from the return state.

This is deterministic: a called module only writes objects and arrays, so its values end
at their closing bracket, where the module has no transition left; and :func:`join`
refuses a state that could both call and move on the same byte, or call two modules.
Every transition and call left in the table can still reach the end of its module
(``bytes_to_accept`` is finite), so every configuration reached can still finish.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from numba import njit

from structgen.automata.compact import CompactTable, TableSizes
from structgen.automata.dfa import ByteDFA

__all__ = ["CallConflict", "Configuration", "StackDFA", "join"]

Configuration = tuple[int, ...]
"""The return states of the open calls, outermost first, then the current state."""

_INFINITE = np.int64(1) << 40


class CallConflict(Exception):
    """Where calls make the modules nondeterministic (the flat DFA would tell them apart)."""


@dataclass(frozen=True, eq=False)
class StackDFA(TableSizes):
    """Every module's DFA in one compact table (the main document's first, starting at 0).

    ``bytes_to_accept[s]`` counts the symbols from ``s`` to the end of its own module, a
    call counting the shortest value of the called module: the cost of a configuration is
    the sum over its states, an upper bound of the tokens still needed (each symbol can be
    one token) that drops by exactly one along the shortest way on.
    """

    transitions: CompactTable
    accepting: npt.NDArray[np.bool_]
    returns: npt.NDArray[np.bool_]
    call_start: npt.NDArray[np.int32]
    call_return: npt.NDArray[np.int32]
    class_of: npt.NDArray[np.int32]
    bytes_to_accept: npt.NDArray[np.int32] = field(repr=False)
    n_modules: int
    """The main document's and the called ones."""

    start: Configuration = (0,)

    @property
    def nbytes(self) -> int:
        return int(self.transitions.nbytes + self.accepting.nbytes + self.returns.nbytes
                   + self.call_start.nbytes + self.call_return.nbytes + self.class_of.nbytes
                   + self.bytes_to_accept.nbytes)

    def walk(self, symbols: bytes | Sequence[int],
             config: Configuration = (0,)) -> Configuration | None:
        """The configuration after ``symbols`` from ``config`` (None: they leave the
        language)."""
        table = self.transitions
        class_of = self.class_of
        call_start, call_return, returns = self.call_start, self.call_return, self.returns
        stack = list(config[:-1])
        state = config[-1]
        for symbol in symbols:
            if not 0 <= symbol < class_of.shape[0]:
                return None
            cls = class_of.item(symbol)
            target = table[state, cls]
            if target < 0:
                callee = call_start.item(state)
                if callee < 0 or (target := table[callee, cls]) < 0:
                    return None
                stack.append(call_return.item(state))
            while returns.item(target):
                target = stack.pop()
            state = target
        return (*stack, state)

    def is_accepting(self, config: Configuration) -> bool:
        """The document is complete: no call open, and the main module accepts."""
        return len(config) == 1 and bool(self.accepting[config[0]])

    def accepts(self, symbols: bytes | Sequence[int]) -> bool:
        end = self.walk(symbols)
        return end is not None and self.is_accepting(end)

    def cost(self, config: Configuration) -> int:
        """Symbols still needed to finish from ``config`` (see the class docstring)."""
        return int(sum(self.bytes_to_accept.item(s) for s in config))


def join(dfas: Sequence[ByteDFA | None], n_plain: int) -> StackDFA | None:
    """One :class:`StackDFA` from the main document's DFA and each called module's (over
    ``n_plain`` symbols, bytes and special tokens, then one call symbol per module); None
    when no complete document is left.

    Raises
    ------
    CallConflict
        If a state could call two modules, or call one and move on by the same byte; or a
        called module's value could go on after an accepting state.
    """
    main = dfas[0]
    if main is None:
        return None
    present = [(k, dfa) for k, dfa in enumerate(dfas) if dfa is not None]
    keys = np.stack([dfa.class_of[:n_plain] for _, dfa in present], axis=1)
    _, first, class_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    class_of = class_of.reshape(-1).astype(np.int32)
    offset = np.full(len(dfas), -1, dtype=np.int64)
    total = 0
    for k, dfa in present:
        offset[k] = total
        total += dfa.n_states
    table = np.full((total, first.shape[0]), -1, dtype=np.int32)
    accepting = np.zeros(total, dtype=np.bool_)
    returns = np.zeros(total, dtype=np.bool_)
    call_start = np.full(total, -1, dtype=np.int32)
    call_return = np.full(total, -1, dtype=np.int32)
    for k, dfa in present:
        lo, hi = int(offset[k]), int(offset[k]) + dfa.n_states
        block = dfa.transitions[:, dfa.class_of[first]]
        table[lo:hi] = np.where(block >= 0, block + lo, -1)
        (accepting if k == 0 else returns)[lo:hi] = dfa.accepting
        for callee in range(1, len(dfas)):
            if offset[callee] < 0:
                continue  # an empty module: its calls lead nowhere
            column = dfa.transitions[:, dfa.class_of[n_plain + callee - 1]]
            for state in np.flatnonzero(column >= 0).tolist():
                if call_start[lo + state] >= 0:
                    raise CallConflict("one point of the grammar calls two modules")
                call_start[lo + state] = offset[callee]
                call_return[lo + state] = lo + column[state]
    _check(table, returns, call_start, offset[offset >= 0])
    costs = _costs(table, accepting | returns, call_start, call_return)
    if costs[0] >= _INFINITE:
        return None
    _trim(table, call_start, call_return, costs)
    return StackDFA(
        CompactTable.from_dense(table),
        accepting,
        returns,
        call_start,
        call_return,
        class_of,
        costs.astype(np.int32),
        len(present),
    )


def _check(table: npt.NDArray[np.int32], returns: npt.NDArray[np.bool_],
           call_start: npt.NDArray[np.int32], starts: npt.NDArray[np.int64]) -> None:
    if (table[returns] >= 0).any() or (call_start[returns] >= 0).any():
        raise CallConflict("a called module's value could go on after it is complete")
    if (call_start[starts] >= 0).any():
        raise CallConflict("a module starts with a call")
    callers = np.flatnonzero(call_start >= 0)
    if callers.size and ((table[callers] >= 0) & (table[call_start[callers]] >= 0)).any():
        raise CallConflict("a point of the grammar both calls a module and goes on by "
                           "a byte that module starts with")


def _costs(table: npt.NDArray[np.int32], ends: npt.NDArray[np.bool_],
           call_start: npt.NDArray[np.int32],
           call_return: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """Per state, the fewest symbols to the end of its module, a call weighing its
    callee's shortest value: shortest paths, again until the callees' weights settle."""
    n = table.shape[0]
    src, cls = np.nonzero(table >= 0)
    dst = table[src, cls].astype(np.int64)
    callers = np.flatnonzero(call_start >= 0)
    # Reverse edges grouped by their end: byte moves (weight 1) then calls.
    ends_at = np.concatenate([dst, call_return[callers].astype(np.int64)])
    starts_at = np.concatenate([src.astype(np.int64), callers.astype(np.int64)])
    order = np.argsort(ends_at, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, ends_at + 1, 1)
    ptr = np.cumsum(ptr)
    weight = np.concatenate([np.ones(src.shape[0], dtype=np.int64),
                             np.full(callers.shape[0], _INFINITE, dtype=np.int64)])
    callee = call_start[callers].astype(np.int64)
    for _ in range(np.unique(callee).size + 2):  # each round settles a callee's weight
        costs = _shortest(ptr, starts_at[order], weight[order], ends)
        settled = costs[callee]
        if np.array_equal(settled, weight[src.shape[0]:]):
            return costs
        weight[src.shape[0]:] = settled
    raise AssertionError("call weights did not settle")  # pragma: no cover


@njit(cache=True)
def _shortest(ptr, src, weight, ends):  # type: ignore[no-untyped-def]
    """Dijkstra from every end state backwards over the reverse edges."""
    n = ptr.shape[0] - 1
    dist = np.full(n, _INFINITE, np.int64)
    heap = [(np.int64(0), np.int64(0))]
    heap.pop()
    for s in range(n):
        if ends[s]:
            dist[s] = 0
            heap.append((np.int64(0), np.int64(s)))
    heapq.heapify(heap)
    while heap:
        d, t = heapq.heappop(heap)
        if d > dist[t]:
            continue
        for e in range(ptr[t], ptr[t + 1]):
            w = weight[e]
            if w >= _INFINITE:
                continue
            s = src[e]
            if d + w < dist[s]:
                dist[s] = d + w
                heapq.heappush(heap, (d + w, s))
    return dist


def _trim(table: npt.NDArray[np.int32], call_start: npt.NDArray[np.int32],
          call_return: npt.NDArray[np.int32], costs: npt.NDArray[np.int64]) -> None:
    """Drop the moves and calls into states that cannot reach their module's end."""
    dead = costs >= _INFINITE
    table[(table >= 0) & dead[np.maximum(table, 0)]] = -1
    lost = (call_start >= 0) & (dead[np.maximum(call_start, 0)]
                                | dead[np.maximum(call_return, 0)])
    call_start[lost] = -1
    call_return[lost] = -1
