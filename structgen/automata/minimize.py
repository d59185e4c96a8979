"""Trim states that cannot reach acceptance, then merge equivalent states (Hopcroft)."""

from __future__ import annotations

from collections import deque

__all__ = ["minimize", "trim"]


def trim(
    transitions: list[list[int]], accepting: list[bool], start: int = 0
) -> tuple[list[list[int]], list[bool], int] | None:
    """Drop states unreachable from ``start`` or unable to reach acceptance.

    Returns ``None`` when the language is empty.
    """
    n = len(transitions)
    reverse: list[list[int]] = [[] for _ in range(n)]
    for s, row in enumerate(transitions):
        for t in row:
            if t >= 0:
                reverse[t].append(s)
    alive = [False] * n
    queue = deque(s for s in range(n) if accepting[s])
    for s in queue:
        alive[s] = True
    while queue:
        t = queue.popleft()
        for s in reverse[t]:
            if not alive[s]:
                alive[s] = True
                queue.append(s)
    if not alive[start]:
        return None
    reach = [False] * n
    reach[start] = True
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for t in transitions[s]:
            if t >= 0 and alive[t] and not reach[t]:
                reach[t] = True
                queue.append(t)
    new_id = [-1] * n
    order = [start] + [s for s in range(n) if reach[s] and s != start]
    for index, s in enumerate(order):
        new_id[s] = index
    new_transitions = [
        [new_id[t] if t >= 0 else -1 for t in transitions[s]] for s in order
    ]
    return new_transitions, [accepting[s] for s in order], 0


def minimize(
    transitions: list[list[int]], accepting: list[bool]
) -> tuple[list[list[int]], list[bool]]:
    """Hopcroft's partition refinement on a trimmed DFA whose start state is 0.

    Missing transitions go to an explicit sink that starts in a block of its own and is
    never used as a splitter (two of the three initial blocks suffice), so the work is
    proportional to the real transitions rather than to states x classes.
    """
    n = len(transitions)
    if n == 0:
        return transitions, accepting
    dead = n
    # Per target state: class -> predecessors (the sink's predecessors are never needed).
    inverse: list[dict[int, list[int]]] = [{} for _ in range(n)]
    for s, row in enumerate(transitions):
        for c, t in enumerate(row):
            if t >= 0:
                inverse[t].setdefault(c, []).append(s)
    finals = [s for s in range(n) if accepting[s]]
    others = [s for s in range(n) if not accepting[s]]
    blocks: list[set[int]] = [set(b) for b in (finals, others) if b]
    block_of = [0] * (n + 1)
    for index, block in enumerate(blocks):
        for s in block:
            block_of[s] = index
    blocks.append({dead})
    block_of[dead] = len(blocks) - 1
    work = deque(range(len(blocks) - 1))
    in_work = set(work)
    while work:
        a = work.popleft()
        in_work.discard(a)
        by_class: dict[int, list[int]] = {}
        for q in blocks[a]:
            for c, preds in inverse[q].items():
                by_class.setdefault(c, []).extend(preds)
        for preds in by_class.values():
            hit_by_block: dict[int, set[int]] = {}
            for p in preds:
                hit_by_block.setdefault(block_of[p], set()).add(p)
            for b, hit in hit_by_block.items():
                block = blocks[b]
                if len(hit) == len(block):
                    continue
                block -= hit
                new_index = len(blocks)
                blocks.append(hit)
                for p in hit:
                    block_of[p] = new_index
                if b in in_work or len(hit) <= len(block):
                    work.append(new_index)
                    in_work.add(new_index)
                else:
                    work.append(b)
                    in_work.add(b)
    new_id: dict[int, int] = {}
    order: list[int] = []
    for s in range(n):
        b = block_of[s]
        if b not in new_id:
            new_id[b] = len(order)
            order.append(s)
    new_transitions = [
        [new_id[block_of[t]] if t >= 0 else -1 for t in transitions[s]] for s in order
    ]
    return new_transitions, [accepting[s] for s in order]
