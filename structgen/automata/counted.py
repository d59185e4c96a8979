"""Long strings counted beside the DFA instead of spelled out in it.

A string of at most ``N`` characters needs about ``N`` copies of the one-character
automaton (20 states with ``\\uXXXX`` escapes): ``maxLength: 65535`` alone would pass any
state budget. Yet a token writes at most ``WINDOW`` characters, so while more than
``WINDOW`` remain, every position of the string allows the same tokens. Such a string is
built as:

* its first ``M`` (``minLength``) characters spelled out, as before;
* one *free* layer that loops on itself, where the guide counts the characters written;
* ``WINDOW + 1`` layers with ``WINDOW .. 0`` characters left, spelled out again.

When the count leaves ``WINDOW`` characters or fewer, the walk *jumps* from the free layer
to the same position in the layer with that many left. Masks stay per DFA state: the free
layer's masks are exact while more than ``WINDOW`` characters remain, which the jump keeps
so, and a token entering the string cannot pass ``maxLength`` as long as it is more than
``WINDOW`` above ``minLength`` (shorter strings are spelled out). Only a walk through a
counted string reads the count; a vocabulary with longer tokens is refused.

While the grammar is built, such a string body is one opaque symbol, a *hole*, so that
determinization and minimization treat it as a unit; :func:`expand` replaces each hole
transition by its layers once the whole DFA is minimal. A hole that shares its source
state with another way forward (``anyOf`` of two string schemas) cannot be counted apart:
:class:`CountedConflict` names those holes and the builder starts again with them spelled
out.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from structgen.schema import ir

__all__ = [
    "MAX_SPELLED_MIN",
    "WINDOW",
    "CountedConflict",
    "Counters",
    "count_walk",
    "counted_bounds",
    "expand",
    "holes_of",
    "settler",
]

# The most characters a token may write (Llama-3's longest token has 128 bytes).
WINDOW = 128
# minLength is spelled out: above this many characters the string is built as before.
MAX_SPELLED_MIN = 256
_QUOTE = 0x22
_FAR = 1 << 62
# Counters.kind
INSIDE, ENTRY, TICK, FREE_TICK, FREE = 1, 2, 3, 4, 5


class CountedConflict(Exception):
    """Counted strings whose bodies share their first state with another way forward."""

    def __init__(self, bounds: set[tuple[int, int]]) -> None:
        super().__init__(f"counted strings {sorted(bounds)}")
        self.bounds = bounds


@dataclass(eq=False)
class Counters:
    """Per DFA state, how a walk keeps the character count of the counted string it is in.

    ``kind`` (one byte per state): 0 outside counted strings, else inside one, and
    ``ENTRY``: the string starts (the count restarts at 0), ``TICK``: one more character
    is complete, ``FREE_TICK`` and ``FREE``: the same in the free layer. Per free layer,
    sorted by state: its first state, the string's ``maxLength``, the first state of the
    layer with ``WINDOW`` characters left, and the layer size (the layer with ``r`` left
    starts ``(WINDOW - r) * stride`` states after that one).
    """

    kind: npt.NDArray[np.int8]
    free_start: npt.NDArray[np.int64]
    free_bound: npt.NDArray[np.int64]
    free_jump: npt.NDArray[np.int64]
    free_stride: npt.NDArray[np.int64]

    @property
    def nbytes(self) -> int:
        return int(sum(getattr(self, f.name).nbytes for f in dataclasses.fields(self)))

    @cached_property
    def kind_list(self) -> list[int]:
        return self.kind.tolist()  # type: ignore[no-any-return]

    @cached_property
    def _layers(self) -> tuple[list[int], list[tuple[int, int, int, int]]]:
        starts = self.free_start.tolist()
        rest = zip(starts, self.free_bound.tolist(), self.free_jump.tolist(),
                   self.free_stride.tolist(), strict=True)
        return starts, list(rest)

    def _layer(self, state: int) -> tuple[int, int, int, int]:
        starts, layers = self._layers
        return layers[bisect.bisect_right(starts, state) - 1]

    def settle(self, state: int, count: int) -> int:
        """The state to be in at free-layer ``state`` after ``count`` characters: the
        spelled-out layers once ``WINDOW`` or fewer are left."""
        start, bound, jump, stride = self._layer(state)
        if bound - count > WINDOW:
            return state
        return jump + (WINDOW - (bound - count)) * stride + state - start

    def jumps(self, state: int) -> list[int]:
        """Every state a free-layer ``state`` may settle to (none elsewhere)."""
        if self.kind_list[state] < FREE_TICK:
            return []
        start, _, jump, stride = self._layer(state)
        first = jump + state - start
        return list(range(first, first + (WINDOW + 1) * stride, stride))


def settler(counters: Counters) -> Callable[[int, int, int], tuple[int, int]]:
    """:func:`count_walk`'s rules for one symbol, for walks that also keep other state:
    ``(state after the symbol, count before, symbol) -> (state, count)``."""
    kinds = counters.kind_list

    def settle(state: int, count: int, symbol: int) -> tuple[int, int]:
        kind = kinds[state]
        if kind == ENTRY:
            count = 0
        elif kind in (TICK, FREE_TICK):
            count += 1
        if kind >= FREE_TICK:
            state = counters.settle(state, count)
        return state, count

    return settle


def count_walk(
    step: Callable[[int, int], int],
    counters: Counters,
    symbols: bytes | Sequence[int],
    state: int = 0,
    count: int = 0,
) -> tuple[int, int]:
    """The state and count after ``symbols`` from ``state`` (-1: they leave the language)."""
    settle = settler(counters)
    for symbol in symbols:
        state = step(state, symbol)
        if state < 0:
            return -1, count
        state, count = settle(state, count, symbol)
    return state, count


def counted_bounds(node: ir.StringNode) -> tuple[int, int] | None:
    """``(minLength, maxLength)`` if the string is long enough to count, else None."""
    if (
        node.max_length is None
        or node.patterns
        or node.formats
        or node.excluded
        or node.forbidden_patterns
        or node.min_length > MAX_SPELLED_MIN
        or node.max_length - node.min_length <= WINDOW
    ):
        return None
    # Past 2**62 characters no text in memory can tell the bound apart: cap it.
    return node.min_length, min(node.max_length, _FAR)


def holes_of(node: ir.Node, limit: int = 64) -> list[tuple[int, int]]:
    """The distinct bounds of countable strings in ``node`` (a hole symbol each; at most
    ``limit``, the rest are spelled out)."""
    found: dict[tuple[int, int], None] = {}
    for item in ir.walk(node):
        if isinstance(item, ir.StringNode) and (bounds := counted_bounds(item)) is not None:
            found[bounds] = None
            if len(found) >= limit:
                break
    return sorted(found)


def expand(
    transitions: npt.NDArray[np.int32],
    class_of: npt.NDArray[np.int32],
    accepting: npt.NDArray[np.bool_],
    holes: dict[int, tuple[int, int]],
    char: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], int],
    n_symbols: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.bool_],
           Counters] | None:
    """Replace every hole transition of a minimal DFA by its counted layers.

    ``holes`` maps a hole symbol to its ``(minLength, maxLength)``; ``char`` is the
    one-character DFA (transitions, class_of, its single accepting state, which has no
    way out). Returns the table, class map (over the first ``n_symbols`` symbols, holes
    dropped), accepting flags and the counters; None when no hole is used.

    Raises
    ------
    CountedConflict
        If a hole's source state has any other way forward.
    """
    live = transitions >= 0
    sources: list[tuple[int, int, int]] = []  # (state, hole, target)
    conflicts: set[int] = set()
    for h in holes:
        column = int(class_of[h])
        shared = np.flatnonzero(class_of == column)
        for p in np.flatnonzero(live[:, column]).tolist():
            if int(live[p].sum()) != 1 or len(shared) != 1 or accepting[p]:
                conflicts.update(int(x) for x in shared if x in holes)
                conflicts.update(int(x) for x in holes if live[p, class_of[x]])
            sources.append((p, h, int(transitions[p, column])))
    if conflicts:
        raise CountedConflict({holes[h] for h in conflicts})
    if not sources:
        return None

    c_table, c_class, c_end = char
    # Classes of the expanded DFA: what the outer DFA and the character DFA both tell apart.
    keys = np.stack([class_of[:n_symbols], c_class[:n_symbols]], axis=1)
    keys = np.concatenate([keys, (np.arange(n_symbols) == _QUOTE)[:, None]], axis=1)
    _, new_class = np.unique(keys, axis=0, return_inverse=True)
    new_class = new_class.reshape(-1).astype(np.int32)
    n_classes = int(new_class.max()) + 1
    first = np.zeros(n_classes, dtype=np.int64)
    first[new_class[::-1]] = np.arange(n_symbols)[::-1]  # a symbol of each new class
    outer = transitions[:, class_of[first]]
    inner = c_table[:, c_class[first]]
    quote = int(new_class[_QUOTE])

    # Phases of one layer: the character DFA's states but its end (phase 0: the start).
    phase_of = np.full(c_table.shape[0], -1, dtype=np.int64)
    phases = [s for s in range(c_table.shape[0]) if s != c_end]
    phase_of[phases] = np.arange(len(phases))
    stride = len(phases)

    rows: list[npt.NDArray[np.int32]] = [outer]
    n = outer.shape[0]
    kinds: list[tuple[int, int, int]] = []  # (first state, states, kind)
    free_layers: list[tuple[int, int, int, int]] = []  # (first state, maxLength, jump, stride)
    after: dict[int, tuple[int, int]] = {}  # entry state -> (first body state, states)
    for p, h, q in sources:
        low, high = holes[h]
        # Layers: entry (count 0), spelled minimum (1 .. low-1), free, then WINDOW .. 0 left.
        free = max(low, 1)
        n_layers = free + 1 + WINDOW + 1
        base = n
        body = np.full((n_layers * stride, n_classes), -1, dtype=np.int32)
        for layer in range(n_layers):
            start = base + layer * stride
            if layer < free:
                following = layer + 1
            elif layer == free:
                following = free
            else:
                following = layer + 1 if layer < n_layers - 1 else -1
            nxt = base + following * stride if following >= 0 else -1
            if following >= 0:
                targets = inner[phases]
                mapped = np.where(targets == c_end, nxt,
                                  np.where(targets >= 0, start + phase_of[targets], -1))
                body[layer * stride:(layer + 1) * stride] = mapped
            closable = (layer >= free) or (low == 0 and layer == 0)
            if closable:
                body[layer * stride, quote] = q
        # p stands in for the entry's first phase (whose own row stays unused).
        rows[0][p] = body[0]
        body[0] = -1
        rows.append(body)
        free_start = base + free * stride
        kinds += [(p, 1, ENTRY), (base, n_layers * stride, INSIDE)]
        kinds += [(base + layer * stride, 1, TICK) for layer in range(1, free)]
        kinds += [(free_start, stride, FREE), (free_start, 1, FREE_TICK)]
        free_layers.append((free_start, high, free_start + stride, stride))
        after[p] = (base, n_layers * stride)
        n += n_layers * stride

    kind = np.zeros(n, dtype=np.int8)
    for first, size, value in kinds:
        kind[first:first + size] = value
    table = np.concatenate(rows, axis=0)
    flags = np.concatenate([accepting, np.zeros(n - accepting.shape[0], dtype=np.bool_)])
    # Each body right after its entry state: copies of one structure (the same field in
    # each item of an array) then have the same relative targets, which the compact table
    # shares (:mod:`.compact`).
    order: list[int] = []
    for state in range(outer.shape[0]):
        order.append(state)
        if state in after:
            first, size = after[state]
            order.extend(range(first, first + size))
    perm = np.array(order, dtype=np.int64)
    new_id = np.empty(n, dtype=np.int32)
    new_id[perm] = np.arange(n, dtype=np.int32)
    moved = table[perm]
    table = np.where(moved >= 0, new_id[np.maximum(moved, 0)], -1).astype(np.int32)
    flags = flags[perm]
    layers = sorted((int(new_id[a]), b, int(new_id[c]), d) for a, b, c, d in free_layers)
    columns = np.array(layers, dtype=np.int64).reshape(-1, 4).T
    counters = Counters(kind[perm], *(np.ascontiguousarray(c) for c in columns))
    for array in dataclasses.astuple(counters):
        array.flags.writeable = False
    return table, new_class, flags, counters
