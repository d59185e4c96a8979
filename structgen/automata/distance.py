"""Fewest steps from each state to acceptance: a breadth-first search from the accepting states."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["bytes_to_accept", "steps_to_accept"]


def steps_to_accept(
    reverse: Sequence[Iterable[int]], accepting: Sequence[bool], unreachable: int
) -> list[int]:
    """``reverse[t]`` lists the states with a one-step move to ``t``; ``unreachable`` marks
    states that never reach acceptance."""
    dist = [unreachable] * len(reverse)
    queue: deque[int] = deque()
    for s, is_accepting in enumerate(accepting):
        if is_accepting:
            dist[s] = 0
            queue.append(s)
    while queue:
        t = queue.popleft()
        for s in reverse[t]:
            if dist[s] == unreachable:
                dist[s] = dist[t] + 1
                queue.append(s)
    return dist


def bytes_to_accept(
    transitions: Sequence[Sequence[int]], accepting: Sequence[bool]
) -> npt.NDArray[np.int32]:
    """Per state of a DFA table (-1: no move), the fewest symbols to an accepting state."""
    reverse: list[set[int]] = [set() for _ in range(len(transitions))]
    for s, row in enumerate(transitions):
        for t in row:
            if t >= 0:
                reverse[t].add(s)
    big = int(np.iinfo(np.int32).max)
    return np.array(steps_to_accept(reverse, accepting, big), dtype=np.int32)
