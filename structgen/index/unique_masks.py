"""Masks inside arrays whose string items must differ (:mod:`structgen.automata.unique`).

A DFA state's mask allows every item; at run time a token is taken out when it would

* close an item equal to one written before,
* or leave the walk where no distinct item can be finished, or none within the budget.

Both checks read :meth:`UniqueMasks.cost`: the fewest tokens to acceptance from a position,
values written so far included. Inside tracked arrays the token index plans with one-byte
tokens only (:meth:`~structgen.index.TokenIndex.tokens_to_accept`; a byte without a token of
its own is not planned with), so the cost is exact over those moves: a search over the bytes
that keep the item a prefix of a value already written, every other byte ending the search
at the state's planned cost. Each allowed token then has a successor whose cost is one less,
so a guide under a budget still always finishes (:mod:`structgen.guide.budget`).

Only the tokens that can matter are walked: those that open or close items (they contain a
quote), separators, escapes (which may end half-way), and tokens whose bytes continue a
value already written. The rest keep the DFA state's answer.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from structgen.automata.unique import (
    BETWEEN,
    CLOSES,
    COMMITTED,
    ITEM,
    OPENS,
    OUTSIDE,
    SHORT_ESCAPES,
    Position,
    UniqueItems,
    decode,
    finished,
)
from structgen.index.distance import UNREACHABLE
from structgen.index.masks import mask_to_ids

__all__ = ["MAX_SEARCH", "TokenGroups", "UniqueMasks"]

MAX_SEARCH = 100_000
"""Positions one cost search may visit; past it the position counts as a dead end."""
_QUOTE, _BACKSLASH = 0x22, 0x5C
# A state's one-byte moves: (cost after, byte, target) for plain bytes, (byte, target) else.
_Moves = tuple[list[tuple[int, int, int]], list[tuple[int, int]]]
_SEPARATOR_BYTES = frozenset(b", \t\n\r")


@dataclass(frozen=True)
class TokenGroups:
    """The vocabulary sorted by what a token can do to a tracked array."""

    quoted: npt.NDArray[np.int64]  # contain a quote
    twice_quoted: npt.NDArray[np.int64]  # contain two quotes or more
    thrice_quoted: npt.NDArray[np.int64]  # three or more: from inside an item, a second
    entering: npt.NDArray[np.int64]  # and a "[" before them: may open an array, fill items
    separators: npt.NDArray[np.int64]  # only commas and whitespace
    escapes: npt.NDArray[np.int64]  # a backslash, and no quote a string would end at
    continuing_close: npt.NDArray[np.int64]  # after their first quote, a comma or quote
    plain: dict[bytes, list[int]]  # no quote, no backslash: by their bytes
    closing: dict[bytes, list[int]]  # from inside an item: by the value before the quote
    longest: int

    @classmethod
    def of(cls, token_bytes: Iterable[bytes | None]) -> TokenGroups:
        quoted, twice, thrice, entering, separators, escapes, continuing = (
            [], [], [], [], [], [], [])
        plain: dict[bytes, list[int]] = {}
        closing: dict[bytes, list[int]] = {}
        longest = 0
        for token_id, data in enumerate(token_bytes):
            if not data:
                continue
            longest = max(longest, len(data))
            quotes = data.count(_QUOTE)
            if set(data) <= _SEPARATOR_BYTES:
                separators.append(token_id)
            if not quotes and _BACKSLASH not in data:
                plain.setdefault(data, []).append(token_id)
                continue
            end = _closing_quote(data)
            if end is None:  # inside a string it stays inside: escapes, escaped quotes
                escapes.append(token_id)
            if not quotes:
                continue
            quoted.append(token_id)
            if quotes > 2:
                thrice.append(token_id)
            if quotes > 1:
                twice.append(token_id)
                if 0x5B in data[:data.rindex(_QUOTE)]:
                    entering.append(token_id)
            if end is None:
                continue
            value = decode(data[:end])
            if value is not None:
                closing.setdefault(value, []).append(token_id)
            rest = data[end + 1:]
            if _QUOTE in rest or 0x2C in rest:
                continuing.append(token_id)

        def array(ids: list[int]) -> npt.NDArray[np.int64]:
            return np.asarray(ids, dtype=np.int64)

        return cls(array(quoted), array(twice), array(thrice), array(entering),
                   array(separators), array(escapes), array(continuing), plain, closing,
                   longest)


def _closing_quote(data: bytes) -> int | None:
    """Where the first unescaped quote is, read as the inside of a string."""
    i = 0
    while i < len(data):
        if data[i] == _BACKSLASH:
            i += 2
        elif data[i] == _QUOTE:
            return i
        else:
            i += 1
    return None


class UniqueMasks:
    """The run-time part of one token index's masks over tracked arrays."""

    def __init__(
        self,
        unique: UniqueItems,
        groups: TokenGroups,
        step: Callable[[int, int], int],
        walk: Callable[[Position, int], Position | None],
        costs: Callable[[], npt.NDArray[np.int32]],
        single_bytes: frozenset[int],
    ) -> None:
        self.unique = unique
        self.groups = groups
        self._step = step
        self._walk = walk
        self._costs = costs
        self._single = single_bytes
        # The costs the cached moves were sorted by, with the cache: swapped as one, so a
        # walk that began with one set of costs reads moves of those costs only.
        self._moves: tuple[npt.NDArray[np.int32] | None, dict[int, _Moves]] = (None, {})
        self._open: list[bool] | None = None
        self._all_open: bool | None = None

    # -- costs -----------------------------------------------------------------------------

    def cost(self, position: Position) -> int:
        """Fewest tokens from ``position`` to acceptance (:data:`UNREACHABLE`: none)."""
        state, _, seen, item = position
        costs = self._costs()
        zone = self.unique.zone_list[state]
        if zone not in (COMMITTED, ITEM) or not seen:
            return int(costs[state])
        if zone == ITEM:
            text = decode(finished(item or b""))
            assert text is not None
            if not any(value.startswith(text) for value in seen):
                return int(costs[state])  # no value written goes on from here
        return self._search(state, seen, item if zone == ITEM else None, costs)

    def needs_cost(self, position: Position, limit: int | None) -> bool:
        """Whether :meth:`cost` can rule ``position`` out: under a budget, or where few
        enough values remain that those written could be all of them."""
        if limit is not None:
            return True
        state, _, seen, _ = position
        return (self.unique.zone_list[state] in (COMMITTED, ITEM) and bool(seen)
                and not self._open_ended()[state])

    def _search(self, state: int, seen: frozenset[bytes], item: bytes | None,
                costs: npt.NDArray[np.int32]) -> int:
        """Cheapest ending with a new value, over the item's plain bytes (escapes are
        followed only to finish one already begun): each step's cost is one less, so
        the guide's rule stays consistent (:mod:`structgen.guide.budget`)."""
        zones, marks = self.unique.zone_list, self.unique.mark_list
        best = UNREACHABLE
        heap: list[tuple[int, int, bytes | None]] = [(0, state, item)]
        visited: set[tuple[int, bytes | None]] = set()
        while heap:
            spent, state, raw = heapq.heappop(heap)
            if spent >= best:
                break
            if (state, raw) in visited:
                continue
            visited.add((state, raw))
            if len(visited) > MAX_SEARCH:
                return UNREACHABLE
            zone, mark = zones[state], marks[state]
            ordered, special = self._moves_of(state, costs)
            if zone != ITEM:  # committed: whitespace, then the opening quote
                for byte, target in special:
                    raw_next = b"" if byte == _QUOTE and mark & OPENS else raw
                    heapq.heappush(heap, (spent + 1, target, raw_next))
                continue
            raw = raw or b""
            text = decode(raw)
            if text is None:  # inside an escape begun before
                clean = finished(raw)
                if not _may_spell(raw[len(clean):], decode(clean) or b"", seen):
                    best = min(best, spent + int(costs[state]))  # a new value whatever follows
                    continue
                moves = [(b, t) for _, b, t in ordered] + special
                for byte, target in moves:
                    heapq.heappush(heap, (spent + 1, target, raw + bytes((byte,))))
                continue
            following = {value[len(text)] for value in seen
                         if len(value) > len(text) and value.startswith(text)}
            if not following and text not in seen:
                best = min(best, spent + int(costs[state]))  # no value goes on from here
                continue
            for cost, byte, _ in ordered:  # the cheapest byte no value goes on with
                if byte not in following:
                    best = min(best, spent + 1 + cost)
                    break
            for byte, target in special:
                if byte == _QUOTE and mark & CLOSES and text not in seen:
                    best = min(best, spent + 1 + int(costs[target]))
            for byte in following & self._single:
                target = self._step(state, byte)
                if target >= 0 and byte not in (_QUOTE, _BACKSLASH):
                    heapq.heappush(heap, (spent + 1, target, raw + bytes((byte,))))
        return best

    def _moves_of(self, state: int, costs: npt.NDArray[np.int32]) -> _Moves:
        """A state's one-byte tokens: ``(cost after, byte, target)`` by cost for the plain
        ones, and ``(byte, target)`` for the quote and backslash (every one outside items)."""
        of, cache = self._moves
        if of is not costs:
            cache = {}
            self._moves = (costs, cache)
        found = cache.get(state)
        if found is None:
            step, inside = self._step, self.unique.zone_list[state] == ITEM
            ordered: list[tuple[int, int, int]] = []
            special: list[tuple[int, int]] = []
            for byte in self._single:
                target = step(state, byte)
                if target < 0:
                    continue
                if not inside or byte in (_QUOTE, _BACKSLASH):
                    special.append((byte, target))
                else:
                    ordered.append((int(costs[target]), byte, target))
            ordered.sort()
            found = cache[state] = (ordered, special)
        return found

    def _every_open_ended(self) -> bool:
        """Whether every item has endless values from each of its states (then no written
        values can strand a walk)."""
        if self._all_open is None:
            zones, open_ended = self.unique.zone_list, self._open_ended()
            self._all_open = all(open_ended[s] for s, z in enumerate(zones)
                                 if z in (COMMITTED, ITEM))
        return self._all_open

    def _open_ended(self) -> list[bool]:
        """Per state, whether the item it is in (or must write next) has endless values."""
        if self._open is None:
            zones = self.unique.zone_list
            inside = [s for s, z in enumerate(zones) if z in (COMMITTED, ITEM)]
            successors: dict[int, set[int]] = {}
            for state in inside:
                mark = self.unique.mark_list[state]
                successors[state] = {
                    t for byte in range(256)
                    if (t := self._step(state, byte)) >= 0 and zones[t] in (COMMITTED, ITEM)
                    and not (byte == _QUOTE and mark & CLOSES)
                }
            # Peel states whose every way on is peeled: what stays reaches a cycle.
            remaining = {s: len(n) for s, n in successors.items()}
            before: dict[int, list[int]] = {}
            for s, targets in successors.items():
                for t in targets:
                    before.setdefault(t, []).append(s)
            queue = [s for s, n in remaining.items() if n == 0]
            while queue:
                s = queue.pop()
                for p in before.get(s, ()):
                    remaining[p] -= 1
                    if remaining[p] == 0:
                        queue.append(p)
            self._open = [False] * len(zones)
            for s, n in remaining.items():
                self._open[s] = n > 0
        return self._open

    # -- masks -----------------------------------------------------------------------------

    def forbidden(self, position: Position, words: npt.NDArray[np.uint32],
                  limit: int | None) -> list[int]:
        """The tokens ``words`` allows at ``position`` that the values written rule out."""
        state, _, seen, item = position
        zone = self.unique.zone_list[state]
        groups = self.groups
        out: list[int] = []
        walk: list[npt.NDArray[np.int64] | list[int]] = []
        # Where the landing position cannot matter (no budget, no item of few values),
        # only tokens that close an item inside them are walked.
        careful = limit is not None or not self._every_open_ended()
        landing = bool(seen) and careful
        if zone == OUTSIDE:  # items are complete in one token only after its "["
            walk.append(groups.entering)
        elif zone in (BETWEEN, COMMITTED):
            walk += [groups.quoted, groups.separators] if landing else [groups.twice_quoted]
        else:
            text = decode(item or b"")
            if text is None:
                walk.append(mask_to_ids(words).astype(np.int64))
            else:
                walk.append(groups.continuing_close if careful else groups.thrice_quoted)
                if landing:
                    walk.append(groups.escapes)
                for value in seen:
                    if len(value) < len(text) or not value.startswith(text):
                        continue
                    rest = value[len(text):]
                    out += groups.closing.get(rest, ())
                    if landing:
                        for k in range(1, min(len(rest), groups.longest) + 1):
                            walk.append(groups.plain.get(rest[:k], []))
        # Landings grouped by place: more values written only raise the cost, so one
        # search with the union of a group's values clears the whole group when it fits.
        landings: dict[tuple[int, bytes | None], list[tuple[int, frozenset[bytes]]]] = {}
        for token_id in _allowed(words, walk).tolist():
            after = self._walk(position, token_id)
            if after is None:
                out.append(token_id)
            elif self.needs_cost(after, limit):
                landings.setdefault((after[0], after[3]), []).append((token_id, after[2]))
        for (state, item), group in landings.items():
            if len(group) > 1:
                union = frozenset().union(*(values for _, values in group))
                if self.fits(self.cost((state, 0, union, item)), limit):
                    continue
            costs: dict[frozenset[bytes], int] = {}
            for token_id, values in group:
                if values not in costs:
                    costs[values] = self.cost((state, 0, values, item))
                if not self.fits(costs[values], limit):
                    out.append(token_id)
        return _allowed(words, [out]).tolist()  # type: ignore[no-any-return]

    @staticmethod
    def fits(cost: int, limit: int | None) -> bool:
        """Whether a position of ``cost`` can still finish within ``limit``."""
        return cost != UNREACHABLE and (limit is None or cost <= limit)


def _may_spell(pending: bytes, text: bytes, seen: frozenset[bytes]) -> bool:
    """Whether the unfinished escape ``pending``, after ``text``, may still spell the
    next character of a value in ``seen``."""
    for value in seen:
        if len(value) <= len(text) or not value.startswith(text):
            continue
        rest = value[len(text):]
        size = next((n for n in range(1, min(4, len(rest)) + 1)
                     if _complete_utf8(rest[:n])), 1)
        char = rest[:size].decode("utf-8", "surrogatepass") if _complete_utf8(rest[:size]) \
            else ""
        for spelling in _escapes(char):
            if spelling[:len(pending)].lower() == pending.lower():
                return True
    return False


def _complete_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def _escapes(char: str) -> list[bytes]:
    """Every escaped spelling of one character (hex digits in lower case)."""
    if len(char) != 1:
        return []
    code = ord(char)
    spelled = char.encode("utf-8", "surrogatepass")
    out = [b"\\" + bytes((letter,)) for letter, value in SHORT_ESCAPES.items()
           if value == spelled]
    if code < 0x10000:
        out.append(b"\\u%04x" % code)
    else:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        out.append(b"\\u%04x\\u%04x" % (high, low))
    return out


def _allowed(words: npt.NDArray[np.uint32],
             groups: list[npt.NDArray[np.int64] | list[int]]) -> npt.NDArray[np.int64]:
    """The distinct token ids of ``groups`` that ``words`` allows, ascending."""
    parts = [np.asarray(g, dtype=np.int64) for g in groups if len(g)]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    ids = np.concatenate(parts)
    bits = (words[ids >> 5] >> (ids & 31).astype(np.uint32)) & 1
    return np.unique(ids[bits.astype(bool)])
