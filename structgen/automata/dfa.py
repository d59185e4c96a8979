"""The compiled byte automaton: a minimal DFA over byte classes, and its algebra."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from structgen.automata.counted import Counters, count_walk, settler
from structgen.automata.determinize import symbol_classes
from structgen.automata.determinize_fast import determinize_fast
from structgen.automata.distance import bytes_to_accept
from structgen.automata.merge_classes import merge_classes
from structgen.automata.minimize import minimize, trim
from structgen.automata.minimize_fast import minimize_fast
from structgen.automata.nfa import NFA
from structgen.automata.search_fast import bytes_to_accept_fast, trim_fast
from structgen.automata.unique import UniqueItems, track_walk
from structgen.errors import GrammarLimitError

if TYPE_CHECKING:
    from structgen.automata.compact import CompactDFA

__all__ = ["ByteDFA", "accept_distances", "accepts", "finish", "from_nfa"]

# Below this size pure Python is faster than calling into numba.
_FAST_ABOVE = 256


@dataclass(frozen=True, eq=False)
class ByteDFA:
    """A minimal, trimmed DFA over bytes (0..255) and special-token symbols (256 and up).

    ``transitions[state, class]`` is the next state or -1; ``class_of[symbol]`` maps a
    symbol to its class. State 0 is the start. ``bytes_to_accept[state]`` is the fewest
    symbols that lead to an accepting state, the basis of budget-aware decoding.
    """

    transitions: npt.NDArray[np.int32]
    accepting: npt.NDArray[np.bool_]
    class_of: npt.NDArray[np.int32]
    bytes_to_accept: npt.NDArray[np.int32] = field(repr=False)
    counters: Counters | None = field(default=None, repr=False)
    unique: UniqueItems | None = field(default=None, repr=False)

    @property
    def n_states(self) -> int:
        return int(self.transitions.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.transitions.shape[1])

    @property
    def n_symbols(self) -> int:
        return int(self.class_of.shape[0])

    def step(self, state: int, symbol: int) -> int:
        return int(self.transitions[state, self.class_of[symbol]])

    def walk(self, symbols: bytes | list[int], state: int = 0) -> int:
        """The state after ``symbols`` from ``state``, or -1 if they leave the language."""
        table = self._rows
        class_of = self._class_list
        for symbol in symbols:
            state = table[state][class_of[symbol]]
            if state < 0:
                return -1
        return state

    def accepts(self, symbols: bytes | list[int]) -> bool:
        return accepts(self, symbols)

    @property
    def _rows(self) -> list[list[int]]:
        rows = self.__dict__.get("_rows_cache")
        if rows is None:
            rows = self.transitions.tolist()
            object.__setattr__(self, "_rows_cache", rows)
        return rows

    @property
    def _class_list(self) -> list[int]:
        got = self.__dict__.get("_class_cache")
        if got is None:
            got = self.class_of.tolist()
            object.__setattr__(self, "_class_cache", got)
        return got

    def class_masks(self) -> list[int]:
        """For each class, the set of symbols in it as an int bitmask."""
        masks = self.__dict__.get("_masks_cache")
        if masks is None:
            masks = [0] * self.n_classes
            for symbol, cls in enumerate(self._class_list):
                masks[cls] |= 1 << symbol
            object.__setattr__(self, "_masks_cache", masks)
        return list(masks)

    @property
    def _moves(self) -> tuple[npt.NDArray[np.int32], ...]:
        """(source, class, target) of every transition, and the accepting states."""
        moves = self.__dict__.get("_moves_cache")
        if moves is None:
            src, cls = np.nonzero(self.transitions >= 0)
            moves = (src.astype(np.int32), cls.astype(np.int32),
                     self.transitions[src, cls], np.flatnonzero(self.accepting).astype(np.int32))
            object.__setattr__(self, "_moves_cache", moves)
        return moves

    def embed(self, nfa: NFA, src: int, dst: int) -> None:
        """Copy this DFA into ``nfa`` between ``src`` and ``dst`` (in bulk: no per-edge work)."""
        s, c, t, finals = self._moves
        base = nfa.states(self.n_states)
        labels = np.array([nfa.label_of(m) for m in self.class_masks()], dtype=np.int32)
        nfa.epsilon(src, base)
        nfa.add_block((s + base, labels[c], t + base, finals + base,
                       np.full(len(finals), dst, dtype=np.int32)))

    def intersect(self, other: ByteDFA, *, max_states: int) -> ByteDFA | None:
        """The product automaton (``None`` if the intersection is empty)."""
        masks = {m for m in self.class_masks()} | {m for m in other.class_masks()}
        class_of, blocks = symbol_classes(masks, self.n_symbols)
        reps = [(b & -b).bit_length() - 1 for b in blocks]
        a_cls = [self._class_list[r] for r in reps]
        b_cls = [other._class_list[r] for r in reps]
        ids = {(0, 0): 0}
        order = [(0, 0)]
        transitions: list[list[int]] = []
        accepting: list[bool] = []
        a_rows, b_rows = self._rows, other._rows
        i = 0
        while i < len(order):
            sa, sb = order[i]
            i += 1
            accepting.append(bool(self.accepting[sa] and other.accepting[sb]))
            row = []
            for c in range(len(blocks)):
                ta, tb = a_rows[sa][a_cls[c]], b_rows[sb][b_cls[c]]
                if ta < 0 or tb < 0:
                    row.append(-1)
                    continue
                key = (ta, tb)
                target = ids.get(key)
                if target is None:
                    target = len(order)
                    if target >= max_states:
                        raise GrammarLimitError(
                            f"intersecting string constraints needs more than {max_states} "
                            "states; raise state_budget or simplify the constraints",
                            limit="state_budget",
                            reached=target,
                        )
                    ids[key] = target
                    order.append(key)
                row.append(target)
            transitions.append(row)
        return finish(transitions, accepting, class_of)

    def complement_within(self, universe: ByteDFA, *, max_states: int) -> ByteDFA | None:
        """``universe`` minus this language."""
        n = self.n_states
        rows = [[t if t >= 0 else n for t in row] for row in self._rows]
        rows.append([n] * self.n_classes)
        accepting = [not a for a in self.accepting.tolist()] + [True]
        total = _from_lists(rows, accepting, self._class_list)
        return universe.intersect(total, max_states=max_states)


def _from_lists(
    transitions: list[list[int]], accepting: list[bool], class_of: list[int]
) -> ByteDFA:
    table = np.array(transitions, dtype=np.int32).reshape(len(transitions), -1)
    return ByteDFA(
        transitions=table,
        accepting=np.array(accepting, dtype=np.bool_),
        class_of=np.array(class_of, dtype=np.int32),
        bytes_to_accept=bytes_to_accept(transitions, accepting),
    )


def finish(
    transitions: list[list[int]] | npt.NDArray[np.int32],
    accepting: list[bool] | npt.NDArray[np.bool_],
    class_of: list[int],
) -> ByteDFA | None:
    """Trim, minimize and merge classes; numba above ``_FAST_ABOVE`` states."""
    if len(transitions) > _FAST_ABOVE:
        trimmed = trim_fast(np.asarray(transitions, dtype=np.int32).reshape(len(transitions), -1),
                            np.asarray(accepting, dtype=np.bool_))
        if trimmed is None:
            return None
        table, finals = minimize_fast(*trimmed)
    else:
        rows = transitions.tolist() if isinstance(transitions, np.ndarray) else transitions
        flags = accepting.tolist() if isinstance(accepting, np.ndarray) else accepting
        small = trim(rows, flags)
        if small is None:
            return None
        rows, flags = minimize(small[0], small[1])
        table = np.array(rows, dtype=np.int32).reshape(len(rows), -1)
        finals = np.array(flags, dtype=np.bool_)
    table, new_class_of = merge_classes(table, np.array(class_of, dtype=np.int32))
    return ByteDFA(transitions=table, accepting=finals, class_of=new_class_of,
                   bytes_to_accept=accept_distances(table, finals))


def accept_distances(
    table: npt.NDArray[np.int32], accepting: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int32]:
    """Per state, the fewest symbols to an accepting state; numba above ``_FAST_ABOVE``."""
    if len(table) > _FAST_ABOVE:
        return bytes_to_accept_fast(table, accepting)
    return bytes_to_accept(table.tolist(), accepting.tolist())


def accepts(dfa: ByteDFA | CompactDFA, symbols: bytes | list[int]) -> bool:
    """Whether ``symbols`` take ``dfa`` from its start to an accepting state (counting the
    characters of long strings where the DFA has counters, and refusing a repeated item
    of an array it tracks)."""
    if dfa.unique is not None:
        settle = None if dfa.counters is None else settler(dfa.counters)
        end = track_walk(dfa.step, dfa.unique, symbols, (0, 0, frozenset(), None), settle)
        state = -1 if end is None else end[0]
    elif dfa.counters is None:
        state = dfa.walk(symbols)
    else:
        state = count_walk(dfa.step, dfa.counters, symbols)[0]
    return state >= 0 and bool(dfa.accepting[state])


def from_nfa(
    nfa: NFA, start: int, accept: int, *, n_symbols: int, max_states: int
) -> ByteDFA | None:
    """Determinize, trim and minimize an NFA fragment (``None``: empty language)."""
    table, accepting, class_of = determinize_fast(
        nfa, start, accept, n_symbols=n_symbols, max_states=max_states
    )
    return finish(table, accepting, class_of)
