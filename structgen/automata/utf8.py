"""Lower sets of Unicode code points to byte paths: raw UTF-8 and JSON string escapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from structgen.automata.nfa import NFA, byte_mask

__all__ = ["ANY_CHAR", "Lowerer", "Ranges", "add_chars", "complement", "normalize", "subtract"]

Ranges = tuple[tuple[int, int], ...]
MAX_CODE_POINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)
ANY_CHAR: Ranges = ((0, 0xD7FF), (0xE000, MAX_CODE_POINT))

_SHORT_ESCAPES = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x08: b"b", 0x0C: b"f", 0x0A: b"n",
                  0x0D: b"r", 0x09: b"t"}
_CONTROLS: Ranges = ((0, 0x1F),)  # JSON must escape them; most have no short escape
_HEX_DIGIT_BYTES = [
    [ord(c) for c in {f"{v:x}", f"{v:X}"}] for v in range(16)
]


def normalize(ranges: list[tuple[int, int]] | Ranges) -> Ranges:
    """Sort and merge ranges; drop surrogates (they are not characters)."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        for a, b in _without_surrogates(lo, hi):
            if out and a <= out[-1][1] + 1:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
    return tuple((a, b) for a, b in out)


def _without_surrogates(lo: int, hi: int) -> Iterator[tuple[int, int]]:
    if hi < SURROGATES[0] or lo > SURROGATES[1]:
        yield lo, hi
        return
    if lo < SURROGATES[0]:
        yield lo, SURROGATES[0] - 1
    if hi > SURROGATES[1]:
        yield SURROGATES[1] + 1, hi


def complement(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for lo, hi in ranges:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return normalize(out)


def subtract(ranges: Ranges, removed: Ranges) -> Ranges:
    return intersect(ranges, complement(removed))


def intersect(a: Ranges, b: Ranges) -> Ranges:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def utf8_sequences(lo: int, hi: int) -> Iterator[list[tuple[int, int]]]:
    """Split a code point range into byte-range sequences (as regex engines do)."""
    if lo > hi:
        return
    for boundary in (0x7F, 0x7FF, 0xFFFF):
        if lo <= boundary < hi:
            yield from utf8_sequences(lo, boundary)
            yield from utf8_sequences(boundary + 1, hi)
            return
    if hi < 0x80:
        yield [(lo, hi)]
        return
    for i in range(1, 4):
        m = (1 << (6 * i)) - 1
        if lo & ~m != hi & ~m:
            if lo & m != 0:
                yield from utf8_sequences(lo, lo | m)
                yield from utf8_sequences((lo | m) + 1, hi)
                return
            if hi & m != m:
                yield from utf8_sequences(lo, (hi & ~m) - 1)
                yield from utf8_sequences(hi & ~m, hi)
                return
    a, b = chr(lo).encode(), chr(hi).encode()
    yield list(zip(a, b, strict=True))


def hex_sequences(lo: int, hi: int, width: int = 4) -> Iterator[list[tuple[int, int]]]:
    """Split ``lo..hi`` into sequences of per-digit ranges of fixed-width base-16 numbers."""
    if width == 0:
        yield []
        return
    unit = 16 ** (width - 1)
    lo_d, lo_r = divmod(lo, unit)
    hi_d, hi_r = divmod(hi, unit)
    if lo_d == hi_d:
        for rest in hex_sequences(lo_r, hi_r, width - 1):
            yield [(lo_d, lo_d), *rest]
        return
    start, end = lo_d, hi_d
    if lo_r != 0:
        for rest in hex_sequences(lo_r, unit - 1, width - 1):
            yield [(lo_d, lo_d), *rest]
        start += 1
    if hi_r != unit - 1:
        end -= 1
    if start <= end:
        yield [(start, end)] + [(0, 15)] * (width - 1)
    if hi_r != unit - 1:
        for rest in hex_sequences(0, hi_r, width - 1):
            yield [(hi_d, hi_d), *rest]


def _hex_mask(lo: int, hi: int) -> int:
    mask = 0
    for v in range(lo, hi + 1):
        for b in _HEX_DIGIT_BYTES[v]:
            mask |= 1 << b
    return mask


class Lowerer:
    """Shares suffix states per target so repeated character sets stay small."""

    def __init__(self, nfa: NFA, *, unicode_escapes: bool | Literal["controls"] = True) -> None:
        self.nfa = nfa
        self.unicode_escapes = unicode_escapes
        self.memo: dict[tuple[object, ...], int] = {}

    def chain(self, src: int, masks: list[int], dst: int) -> None:
        cur = dst
        for j in range(len(masks) - 1, 0, -1):
            key = (dst, *masks[j:])
            state = self.memo.get(key)
            if state is None:
                state = self.nfa.state()
                self.nfa.edge(state, masks[j], cur)
                self.memo[key] = state
            cur = state
        self.nfa.edge(src, masks[0], cur)


def add_chars(
    nfa: NFA, src: int, dst: int, ranges: Ranges, *, json_string: bool, lowerer: Lowerer | None
) -> Lowerer:
    """Connect ``src`` to ``dst`` by any one character of ``ranges``.

    In a JSON string every character may be written raw (UTF-8; never for ``"``, ``\\``
    and controls) or escaped (``\\n``, ``\\uXXXX``, surrogate pairs); all are accepted
    because ``json.dumps`` writes non-ASCII as escapes and models write it raw. A lowerer
    made with ``unicode_escapes=False`` leaves out ``\\uXXXX`` forms: every character
    but the rare controls without a short escape stays writable, at a fraction of the
    states (each ``\\u`` path costs four states per position of a counted string);
    ``"controls"`` keeps ``\\u00XX`` for those controls only, so every string is
    writable (non-ASCII raw) at half the cost of every ``\\uXXXX`` form.
    """
    low = lowerer or Lowerer(nfa)
    raw = ranges
    if json_string:
        raw = subtract(ranges, ((0, 0x1F), (0x22, 0x22), (0x5C, 0x5C)))
    for lo, hi in raw:
        for seq in utf8_sequences(lo, hi):
            low.chain(src, [byte_mask(a, b) for a, b in seq], dst)
    if not json_string or not ranges:
        return low
    short = any(lo <= cp <= hi for cp in _SHORT_ESCAPES for lo, hi in ranges)
    if not short and (
        not low.unicode_escapes
        or (low.unicode_escapes == "controls" and not intersect(ranges, _CONTROLS))
    ):
        return low
    key = ("escape", dst, ranges)
    after_backslash = low.memo.get(key)
    if after_backslash is None:
        after_backslash = nfa.state()
        low.memo[key] = after_backslash
        _add_escapes(nfa, low, after_backslash, dst, ranges)
    nfa.edge(src, 1 << 0x5C, after_backslash)
    return low


def _add_escapes(nfa: NFA, low: Lowerer, src: int, dst: int, ranges: Ranges) -> None:
    short = 0
    for cp, letter in _SHORT_ESCAPES.items():
        if any(lo <= cp <= hi for lo, hi in ranges):
            short |= 1 << letter[0]
    if short:
        nfa.edge(src, short, dst)
    if not low.unicode_escapes:
        return
    if low.unicode_escapes == "controls":
        bmp, astral = intersect(ranges, _CONTROLS), []
    else:
        bmp = intersect(ranges, ((0, 0xFFFF),))
        astral = intersect(ranges, ((0x10000, MAX_CODE_POINT),))
    if not bmp and not astral:
        return
    after_u = nfa.state()
    nfa.edge(src, 1 << ord("u"), after_u)
    for lo, hi in bmp:
        for seq in hex_sequences(lo, hi):
            low.chain(after_u, [_hex_mask(a, b) for a, b in seq], dst)
    for lo, hi in astral:
        for high_lo, high_hi, low_lo, low_hi in _surrogate_pieces(lo, hi):
            low_key = ("low-surrogate", dst, low_lo, low_hi)
            low_start = low.memo.get(low_key)
            if low_start is None:
                low_start = nfa.state()
                low.memo[low_key] = low_start
                after_u2 = nfa.state()
                nfa.text(low_start, after_u2, b"\\u")
                for seq in hex_sequences(low_lo, low_hi):
                    low.chain(after_u2, [_hex_mask(a, b) for a, b in seq], dst)
            for seq in hex_sequences(high_lo, high_hi):
                low.chain(after_u, [_hex_mask(a, b) for a, b in seq], low_start)


def _surrogate_pieces(lo: int, hi: int) -> Iterator[tuple[int, int, int, int]]:
    a, b = lo - 0x10000, hi - 0x10000
    ha, la = 0xD800 + (a >> 10), 0xDC00 + (a & 0x3FF)
    hb, lb = 0xD800 + (b >> 10), 0xDC00 + (b & 0x3FF)
    if ha == hb:
        yield ha, ha, la, lb
        return
    start, end = ha, hb
    if la != 0xDC00:
        yield ha, ha, la, 0xDFFF
        start += 1
    if lb != 0xDFFF:
        end -= 1
    if start <= end:
        yield start, end, 0xDC00, 0xDFFF
    if lb != 0xDFFF:
        yield hb, hb, 0xDC00, lb
