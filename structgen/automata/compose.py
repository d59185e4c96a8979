"""Join minimal DFAs ("parts") through a small NFA without subset construction over the parts.

A composite value is a little glue (brackets, keys, separators: a small NFA) between big
already-minimal DFAs (its member values, its repeated items). Running subset construction
over the embedded parts rebuilds each of them state by state. It is not needed when every
part is entered *deterministically*: at each glue point, the bytes that start a part are
disjoint from every other way forward (other parts, glue edges, and the continuations of
the part just finished). JSON makes this common: a value never starts with ``,``, ``]``
or ``}``, and no value continues with them. Then every reachable subset is either a set of
glue states, or one part state together with the glue reachable when that part may end
there; the table is copied per part in bulk, and only the glue is determinized (in
Python: it is small). Where the condition fails, :class:`NotDeterministic` is raised and
the caller embeds the parts and runs the general subset construction instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from structgen.automata.determinize import symbol_classes
from structgen.automata.dfa import ByteDFA
from structgen.automata.nfa import NFA

__all__ = ["NotDeterministic", "Part", "compose"]

# Glue larger than this (NFA states, or subsets) is left to the compiled subset
# construction: in Python it would cost more than the parts it saves copying.
MAX_GLUE_STATES = 1024


class NotDeterministic(Exception):
    """Some part is not entered deterministically: use the general construction."""


@dataclass(frozen=True, slots=True)
class Part:
    """The DFA ``dfa`` connects glue state ``src`` to glue state ``dst``."""

    src: int
    dfa: ByteDFA
    dst: int


def compose(
    nfa: NFA, parts: list[Part], start: int, accept: int, *, n_symbols: int, max_states: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_], list[int]]:
    """The (unminimized) DFA of glue ``nfa`` with ``parts``: ``(table, accepting, class_of)``.

    Raises :class:`NotDeterministic` where a part is not entered deterministically, where
    the glue is too large for this path, or where the result would exceed ``max_states``
    before trimming (the general construction then decides, within its own budget).
    """
    if len(nfa) > MAX_GLUE_STATES:
        raise NotDeterministic("glue too large for the Python path")
    if any(bool(p.dfa.accepting[0]) for p in parts):
        raise NotDeterministic("a part accepts the empty string")
    total = sum(p.dfa.n_states for p in parts)
    if total > max_states:
        raise NotDeterministic("leave the budget to the general construction")
    class_of, reps = _common_classes(nfa, parts, n_symbols)
    n_classes = len(reps)
    glue = _Glue(nfa, parts, reps, n_classes)
    ids, rows, accepting = glue.determinize(start, accept, [p.dst for p in parts])
    n_glue = len(rows)
    if n_glue + total > max_states:
        raise NotDeterministic("leave the budget to the general construction")
    table = np.empty((n_glue + total, n_classes), dtype=np.int32)
    final = np.zeros(n_glue + total, dtype=np.bool_)
    glue_rows = np.array(rows, dtype=np.int64).reshape(n_glue, n_classes)
    inside = glue_rows <= -2  # a move into a part: -2 - (part offset + state)
    glue_rows[inside] = n_glue + (-2 - glue_rows[inside])
    table[:n_glue] = glue_rows
    final[:n_glue] = accepting
    base = n_glue
    for part in parts:
        after = ids[glue.closure({part.dst})]
        if not _copy_part(table, part.dfa.transitions, glue.columns[id(part.dfa)],
                          part.dfa.accepting, base, after):
            raise NotDeterministic("a part may continue where the glue goes on")
        final[base:base + part.dfa.n_states] = part.dfa.accepting & final[after]
        base += part.dfa.n_states
    return table, final, class_of


@njit(cache=True)
def _copy_part(
    table: np.ndarray, part: np.ndarray, columns: np.ndarray, exits: np.ndarray, base: int,
    after: int,
) -> bool:  # pragma: no cover
    """Copy ``part`` into ``table`` at ``base``; its accepting rows also take row ``after``.

    False where an accepting row and row ``after`` both move on one class.
    """
    n, k = part.shape[0], columns.shape[0]
    for s in range(n):
        for c in range(k):
            t = part[s, columns[c]]
            table[base + s, c] = t + base if t >= 0 else -1
        if exits[s]:
            for c in range(k):
                g = table[after, c]
                if g >= 0:
                    if table[base + s, c] >= 0:
                        return False
                    table[base + s, c] = g
    return True


def _common_classes(
    nfa: NFA, parts: list[Part], n_symbols: int
) -> tuple[list[int], npt.NDArray[np.intp]]:
    """Symbol classes refining the glue labels and every part's classes; one symbol each."""
    glue_class_of, _ = symbol_classes(set(nfa.label_masks), n_symbols)
    rows = [np.array(glue_class_of, dtype=np.int64)]
    seen: set[int] = set()
    for part in parts:
        if id(part.dfa) not in seen:
            seen.add(id(part.dfa))
            rows.append(part.dfa.class_of.astype(np.int64))
    stacked = np.stack(rows)
    _, first, inverse = np.unique(stacked, axis=1, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # number classes by first symbol
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)].tolist(), first[order]


class _Glue:
    """Subset construction over the glue NFA, entering parts as single states."""

    def __init__(
        self, nfa: NFA, parts: list[Part], reps: npt.NDArray[np.intp], n_classes: int
    ) -> None:
        self.nfa = nfa
        self.n_classes = n_classes
        rep_list = reps.tolist()
        per_label = [
            [c for c, r in enumerate(rep_list) if mask >> r & 1] for mask in nfa.label_masks
        ]
        src, label, dst, eps_src, eps_dst = (a.tolist() for a in nfa.arrays())
        self.moves: dict[int, list[tuple[list[int], int]]] = {}
        for s, lab, d in zip(src, label, dst, strict=True):
            self.moves.setdefault(s, []).append((per_label[lab], d))
        self.eps: dict[int, list[int]] = {}
        for s, d in zip(eps_src, eps_dst, strict=True):
            self.eps.setdefault(s, []).append(d)
        self.columns: dict[int, npt.NDArray[np.int32]] = {}
        self.starts: dict[int, list[tuple[int, int]]] = {}  # glue state -> (class, code)
        offset = 0
        for part in parts:
            dfa = part.dfa
            cols = self.columns.get(id(dfa))
            if cols is None:
                cols = self.columns[id(dfa)] = dfa.class_of[reps].astype(np.int32)
            first = dfa.transitions[0, cols].tolist()
            entry = self.starts.setdefault(part.src, [])
            entry.extend((c, -2 - (offset + t)) for c, t in enumerate(first) if t >= 0)
            offset += dfa.n_states

    def closure(self, states: set[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(states)
        while stack:
            for t in self.eps.get(stack.pop(), ()):
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return frozenset(seen)

    def determinize(
        self, start: int, accept: int, seeds: list[int]
    ) -> tuple[dict[frozenset[int], int], list[list[int]], list[bool]]:
        """Glue subsets from ``start`` and from each part's end: ids, rows, acceptance."""
        ids: dict[frozenset[int], int] = {}
        order: list[frozenset[int]] = []

        def intern(key: frozenset[int]) -> int:
            got = ids.get(key)
            if got is None:
                if len(order) >= MAX_GLUE_STATES:
                    raise NotDeterministic("glue too large for the Python path")
                got = ids[key] = len(order)
                order.append(key)
            return got

        intern(self.closure({start}))
        for seed in seeds:
            intern(self.closure({seed}))
        rows: list[list[int]] = []
        accepting: list[bool] = []
        i = 0
        while i < len(order):
            current = order[i]
            i += 1
            if i % 512 == 0:
                self.nfa.check_time()
            merged: dict[int, set[int]] = {}
            row = [-1] * self.n_classes
            for s in current:
                for classes, d in self.moves.get(s, ()):
                    for c in classes:
                        merged.setdefault(c, set()).add(d)
            for s in current:
                for c, code in self.starts.get(s, ()):
                    if c in merged or row[c] != -1:
                        raise NotDeterministic("a part's first byte is ambiguous")
                    row[c] = code
            for c, targets in merged.items():
                row[c] = intern(self.closure(targets))
            rows.append(row)
            accepting.append(accept in current)
        return ids, rows, accepting
