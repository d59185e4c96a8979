"""Subset construction over symbol classes, within the state and time budgets."""

from __future__ import annotations

from structgen.automata.nfa import NFA
from structgen.errors import GrammarLimitError

__all__ = ["Table", "determinize", "symbol_classes"]

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


def determinize(
    nfa: NFA, start: int, accept: int, *, n_symbols: int, max_states: int
) -> Table:
    """Build the DFA of the NFA fragment ``start -> accept``, reachable states only."""
    masks = {mask for edges in nfa.edges for mask, _ in edges}
    class_of, blocks = symbol_classes(masks, n_symbols)
    n_classes = len(blocks)
    # Per NFA state: class -> targets, computed once.
    by_class: list[dict[int, list[int]] | None] = [None] * len(nfa.edges)
    closure_memo: dict[int, frozenset[int]] = {}
    mask_classes: dict[int, tuple[int, ...]] = {}

    def classes_in(mask: int) -> tuple[int, ...]:
        got = mask_classes.get(mask)
        if got is None:
            found = set()
            b = mask
            while b:
                low = b & -b
                found.add(class_of[low.bit_length() - 1])
                b &= ~blocks[class_of[low.bit_length() - 1]]
            got = tuple(sorted(found))
            mask_classes[mask] = got
        return got

    def closure_of(state: int) -> frozenset[int]:
        got = closure_memo.get(state)
        if got is not None:
            return got
        seen = {state}
        stack = [state]
        while stack:
            s = stack.pop()
            for t in nfa.eps[s]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        result = frozenset(seen)
        closure_memo[state] = result
        return result

    def classes_of(state: int) -> dict[int, list[int]]:
        got = by_class[state]
        if got is None:
            got = {}
            for mask, dst in nfa.edges[state]:
                for index in classes_in(mask):
                    got.setdefault(index, []).append(dst)
            by_class[state] = got
        return got

    start_set = closure_of(start)
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
            for cls, dsts in classes_of(s).items():
                merged.setdefault(cls, set()).update(dsts)
        row = [-1] * n_classes
        cache: dict[frozenset[int], int] = {}
        for cls, dsts in merged.items():
            key = frozenset(dsts)
            target = cache.get(key)
            if target is None:
                closed: set[int] = set()
                for d in dsts:
                    closed |= closure_of(d)
                target_set = frozenset(closed)
                target = ids.get(target_set)
                if target is None:
                    target = len(order)
                    if target >= max_states:
                        raise GrammarLimitError(
                            f"the automaton needs more than {max_states} DFA states; raise "
                            "state_budget or simplify the schema",
                            limit="state_budget",
                            reached=target,
                        )
                    ids[target_set] = target
                    order.append(target_set)
                cache[key] = target
            row[cls] = target
        transitions.append(row)
    return transitions, accepting, class_of
