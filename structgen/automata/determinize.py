"""Subset construction over symbol classes, within the state and time budgets.

This is the pure-Python reference; :mod:`structgen.automata.determinize_fast` computes
the same table (same state numbering) in compiled code, and a test checks they agree.
"""

from __future__ import annotations

from structgen.automata.nfa import NFA
from structgen.errors import GrammarLimitError

__all__ = ["Table", "determinize", "label_classes", "limit_error", "symbol_classes"]

# transitions[state][class] (-1: no transition), accepting[state], class_of[symbol]
Table = tuple[list[list[int]], list[bool], list[int]]


def symbol_classes(masks: set[int], n_symbols: int) -> tuple[list[int], list[int]]:
    """Partition symbols into classes no mask tells apart; returns (class_of, class masks)."""
    full = (1 << n_symbols) - 1
    blocks = [full]
    for mask in masks:
        mask &= full
        if mask == 0 or mask == full:
            continue
        nxt = []
        for block in blocks:
            inside = block & mask
            if inside and inside != block:
                nxt.append(inside)
                nxt.append(block & ~mask)
            else:
                nxt.append(block)
        blocks = nxt
    class_of = [0] * n_symbols
    for index, block in enumerate(blocks):
        b = block
        while b:
            low = b & -b
            class_of[low.bit_length() - 1] = index
            b ^= low
    return class_of, blocks


def label_classes(label_masks: list[int], n_symbols: int) -> tuple[list[int], list[list[int]]]:
    """Symbol classes for an NFA's labels: ``(class_of, classes of each label, ascending)``."""
    class_of, blocks = symbol_classes(set(label_masks), n_symbols)
    per_label = []
    for mask in label_masks:
        found = set()
        b = mask & ((1 << n_symbols) - 1)
        while b:
            cls = class_of[(b & -b).bit_length() - 1]
            found.add(cls)
            b &= ~blocks[cls]
        per_label.append(sorted(found))
    return class_of, per_label


def limit_error(max_states: int) -> GrammarLimitError:
    return GrammarLimitError(
        f"the automaton needs more than {max_states} DFA states; raise "
        "state_budget or simplify the schema",
        limit="state_budget",
        reached=max_states,
    )


def determinize(
    nfa: NFA, start: int, accept: int, *, n_symbols: int, max_states: int
) -> Table:
    """Build the DFA of the NFA fragment ``start -> accept``, reachable states only.

    States are numbered in breadth-first order, classes visited in ascending order.
    """
    src, label, dst, eps_src, eps_dst = (a.tolist() for a in nfa.arrays())
    class_of, per_label = label_classes(nfa.label_masks, n_symbols)
    n_classes = max(class_of) + 1
    by_class: list[dict[int, set[int]]] = [{} for _ in range(len(nfa))]
    for s, lab, d in zip(src, label, dst, strict=True):
        for cls in per_label[lab]:
            by_class[s].setdefault(cls, set()).add(d)
    eps: list[list[int]] = [[] for _ in range(len(nfa))]
    for s, d in zip(eps_src, eps_dst, strict=True):
        eps[s].append(d)

    def closure(states: set[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(states)
        while stack:
            for t in eps[stack.pop()]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return frozenset(seen)

    start_set = closure({start})
    ids: dict[frozenset[int], int] = {start_set: 0}
    order = [start_set]
    transitions: list[list[int]] = []
    accepting: list[bool] = []
    i = 0
    while i < len(order):
        current = order[i]
        i += 1
        if i % 512 == 0:
            nfa.check_time()
        accepting.append(accept in current)
        merged: dict[int, set[int]] = {}
        for s in current:
            for cls, dsts in by_class[s].items():
                merged.setdefault(cls, set()).update(dsts)
        row = [-1] * n_classes
        for cls in sorted(merged):
            target_set = closure(merged[cls])
            target = ids.get(target_set)
            if target is None:
                target = len(order)
                if target >= max_states:
                    raise limit_error(max_states)
                ids[target_set] = target
                order.append(target_set)
            row[cls] = target
        transitions.append(row)
    return transitions, accepting, class_of
