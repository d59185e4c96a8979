"""Unique string items, told apart beside the DFA instead of inside it.

``uniqueItems`` over open strings is not regular: the automaton would have to remember
every value written. So a *tracked* array (``uniqueItems`` whose items are strings) is
built as if its items could repeat, with four marker symbols standing in for its opening
``[``, its item separators' ``,`` and each item's opening and closing quotes. Markers keep
those positions apart through determinization and minimization; :func:`relabel` then
writes them back as the bytes they stand for and keeps, per state, what its quote or
bracket does (:class:`UniqueItems`). A walk (:func:`track_walk`) keeps the values written
so far and refuses a closing quote that would repeat one.

Values compare as JSON strings do, by code points: ``"/"`` and ``"\\/"``, ``"A"`` and
``"\\u0041"`` are the same item (:func:`decode`).

A marker that shares its state with the byte it stands for (``anyOf`` of a tracked array
and another array, at the same position) raises :class:`UniqueConflict`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from structgen.schema import ir

__all__ = [
    "ARRAY",
    "CLOSE",
    "COMMA",
    "MARKERS",
    "OPEN",
    "SHORT_ESCAPES",
    "UniqueConflict",
    "UniqueItems",
    "decode",
    "finished",
    "has_tracked",
    "relabel",
    "track_walk",
    "untracked",
]

# Marker roles, in the order of their symbols, and the byte each stands for.
ARRAY, COMMA, OPEN, CLOSE = range(4)
MARKERS = (0x5B, 0x2C, 0x22, 0x22)  # [ , " "
# UniqueItems.mark bits: what the state's quote or bracket does.
OPENS, CLOSES, RESETS = 1, 2, 4
# UniqueItems.zone: outside tracked arrays, between items (the array may close),
# committed to one more item (after a separator), inside an item.
OUTSIDE, BETWEEN, COMMITTED, ITEM = 0, 1, 2, 3
_QUOTE, _BRACKET = 0x22, 0x5B

Position = tuple[int, int, frozenset[bytes], bytes | None]
"""A walk's place: DFA state, long-string count, values of the tracked array, and the raw
bytes of the item being written (None between items)."""


class UniqueConflict(Exception):
    """A tracked array starts where another way forward starts too."""


@dataclass(eq=False)
class UniqueItems:
    """Per DFA state: ``mark`` (bits: its ``"`` opens an item, closes one, its ``[``
    starts a tracked array) and ``zone`` (see the module constants)."""

    mark: npt.NDArray[np.int8]
    zone: npt.NDArray[np.int8]

    @property
    def nbytes(self) -> int:
        return int(self.mark.nbytes + self.zone.nbytes)

    @cached_property
    def mark_list(self) -> list[int]:
        return self.mark.tolist()  # type: ignore[no-any-return]

    @cached_property
    def zone_list(self) -> list[int]:
        return self.zone.tolist()  # type: ignore[no-any-return]


def has_tracked(node: ir.Node) -> bool:
    """Whether any array in ``node`` is tracked (the build then needs the markers)."""
    return any(isinstance(item, ir.ArrayNode) and item.tracked for item in ir.walk(node))


def untracked(node: ir.Node) -> ir.Node:
    """``node`` with every tracked array's uniqueness dropped (for a lenient grammar that
    checks it after generation instead)."""
    memo: dict[int, object] = {}

    def visit(value: object) -> object:
        if isinstance(value, tuple):
            return tuple(visit(v) for v in value)
        if not isinstance(value, ir.Node):
            return value
        found = memo.get(id(value))
        if found is None:
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            changes = {k: new for k, v in fields.items() if (new := visit(v)) is not v
                       and new != v}
            if isinstance(value, ir.ArrayNode) and value.tracked:
                changes["unique"] = False
            found = memo[id(value)] = dataclasses.replace(value, **changes) if changes else value
        return found

    result = visit(node)
    assert isinstance(result, ir.Node)
    return result


def relabel(
    transitions: npt.NDArray[np.int32],
    class_of: npt.NDArray[np.int32],
    markers: Sequence[int],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], UniqueItems] | None:
    """Write the marker symbols (``markers``: the four symbols, by role) back as their
    bytes. Returns the table, the class map without the markers, and the per-state
    roles; None when no marker is used (the class map then just drops them).

    Raises
    ------
    UniqueConflict
        If a state has a marker and the byte it stands for, or two markers of one byte.
    """
    n_states = transitions.shape[0]
    columns = [int(class_of[m]) for m in markers]
    live = [transitions[:, c] >= 0 for c in columns]
    if not any(bool(x.any()) for x in live):
        return None
    for role, byte in enumerate(MARKERS):
        if bool((live[role] & (transitions[:, class_of[byte]] >= 0)).any()):
            raise UniqueConflict(f"a tracked array's {chr(byte)!r} shares its state")
    if bool((live[OPEN] & live[CLOSE]).any()):
        raise UniqueConflict("an item opens and closes at one state")

    n_symbols = int(min(markers))
    marked = {byte: [r for r in range(4) if MARKERS[r] == byte] for byte in set(MARKERS)}
    keys = np.stack([class_of[:n_symbols], np.full(n_symbols, -1, dtype=np.int32)], axis=1)
    for byte in marked:
        keys[byte, 1] = byte
    _, new_class = np.unique(keys, axis=0, return_inverse=True)
    new_class = new_class.reshape(-1).astype(np.int32)
    n_classes = int(new_class.max()) + 1
    first = np.zeros(n_classes, dtype=np.int64)
    first[new_class[::-1]] = np.arange(n_symbols)[::-1]
    table = transitions[:, class_of[first]].copy()
    for byte, roles in marked.items():
        column = int(new_class[byte])
        for role in roles:
            table[:, column] = np.where(live[role], transitions[:, columns[role]],
                                        table[:, column])

    mark = np.zeros(n_states, dtype=np.int8)
    mark[live[OPEN]] |= OPENS
    mark[live[CLOSE]] |= CLOSES
    mark[live[ARRAY]] |= RESETS
    zone = _zones(transitions, columns, live, class_of)
    return table.astype(np.int32), new_class, UniqueItems(mark, zone)


def _zones(
    transitions: npt.NDArray[np.int32],
    columns: list[int],
    live: list[npt.NDArray[np.bool_]],
    class_of: npt.NDArray[np.int32],
) -> npt.NDArray[np.int8]:
    """Each state's zone, by closures over the marked DFA: items from the opening quotes
    up to the closing ones, committed states from a separator up to an opening quote,
    and between-items states from ``[`` and closing quotes up to ``]``."""
    zone = np.zeros(transitions.shape[0], dtype=np.int8)
    bracket = int(class_of[0x5D])

    def close(seeds: npt.NDArray[np.int32], value: int, stop: set[int]) -> None:
        queue = deque(int(s) for s in seeds.tolist())
        while queue:
            state = queue.popleft()
            if zone[state] == value or (value == BETWEEN and zone[state] == COMMITTED):
                continue  # after "[" as after "," where an item must follow: committed
            if zone[state]:
                raise UniqueConflict("a state lies in two parts of a tracked array")
            zone[state] = value
            for column, target in enumerate(transitions[state].tolist()):
                if target >= 0 and column not in stop and zone[target] != value:
                    queue.append(target)

    def targets(role: int) -> npt.NDArray[np.int32]:
        return np.unique(transitions[live[role], columns[role]])

    every = set(columns)
    close(targets(OPEN), ITEM, {columns[CLOSE]})
    close(targets(COMMA), COMMITTED, every)
    close(np.concatenate([targets(ARRAY), targets(CLOSE)]), BETWEEN, every | {bracket})
    return zone


def decode(raw: bytes) -> bytes | None:
    """The UTF-8 bytes of JSON string content ``raw``; None while an escape is unfinished.

    Raw bytes stay as they are (a token may end inside a UTF-8 sequence); escapes become
    the UTF-8 of their code point, surrogate pairs joined.
    """
    if b"\\" not in raw:
        return raw
    if len(finished(raw)) != len(raw):
        return None
    return _ESCAPE.sub(_unescape, raw)


def finished(raw: bytes) -> bytes:
    """``raw`` up to an escape it leaves unfinished (a high surrogate waits for its pair)."""
    if b"\\" not in raw:
        return raw
    match = _COMPLETE.match(raw)
    return raw[:match.end()] if match else b""


def _unescape(match: re.Match[bytes]) -> bytes:
    high, low, code, letter = match.groups()
    if high is not None:
        value = 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)
    elif code is not None:
        value = int(code, 16)
    else:
        return SHORT_ESCAPES.get(letter[0], b"")
    return chr(value).encode("utf-8", "surrogatepass")


_HIGH = rb"[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"[dD][c-fC-F][0-9a-fA-F]{2}"
_ESCAPE = re.compile(rb"\\(?:u(" + _HIGH + rb")\\u(" + _LOW + rb")|u([0-9a-fA-F]{4})|(.))",
                     re.DOTALL)
# Whole characters: raw bytes, a surrogate pair, another \uXXXX, a short escape.
_COMPLETE = re.compile(rb"(?:[^\\]+|\\u" + _HIGH + rb"\\u" + _LOW
                       + rb"|\\u(?!" + _HIGH + rb")[0-9a-fA-F]{4}|\\[^u])*", re.DOTALL)
SHORT_ESCAPES = {ord(k): v.encode() for k, v in
                 {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                  "t": "\t"}.items()}
"""The letter after a backslash -> the UTF-8 bytes it stands for."""


def track_walk(
    step: Callable[[int, int], int],
    unique: UniqueItems,
    symbols: bytes | Sequence[int],
    position: Position,
    settle: Callable[[int, int, int], tuple[int, int]] | None = None,
) -> Position | None:
    """The position after ``symbols`` (None: they leave the language or repeat an item).

    ``settle(state, count, symbol)``, where the grammar counts long strings, gives the
    state and count after the count's rules (:func:`~structgen.automata.counted.count_walk`).
    """
    state, count, seen, item = position
    marks = unique.mark_list
    for symbol in symbols:
        mark = marks[state]
        target = step(state, symbol)
        if target < 0:
            return None
        if mark and symbol == _QUOTE:
            if mark & OPENS:
                item = b""
            elif mark & CLOSES:
                value = decode(item or b"")
                if value is None or value in seen:
                    return None
                seen = seen | {value}
                item = None
        elif item is not None:
            item += bytes((symbol,))
        elif mark & RESETS and symbol == _BRACKET:
            seen = frozenset()
        state = target
        if settle is not None:
            state, count = settle(state, count, symbol)
    return state, count, seen, item
