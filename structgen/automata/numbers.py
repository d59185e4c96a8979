"""Integer and decimal ranges as byte automata, exact for numbers written without exponent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from structgen.automata.dfa import from_nfa
from structgen.automata.nfa import NFA, byte_mask
from structgen.automata.regex import add_branches
from structgen.automata.utf8 import Lowerer
from structgen.schema.patterns import parse_ecma

__all__ = ["add_decimal_multiple", "add_decimal_range", "add_integer_range", "add_multiple_of"]

_DIGIT = byte_mask(0x30, 0x39)
_NONZERO = byte_mask(0x31, 0x39)


def _digits(lo: int, hi: int) -> int:
    return byte_mask(0x30 + lo, 0x30 + hi)


def _same_length(lo: str, hi: str) -> Iterator[tuple[str, int, int, int]]:
    """Split ``lo..hi`` (equal length) into (fixed prefix, digit range, free tail length)."""
    n = len(lo)
    if n == 0:
        return
    i = 0
    while i < n and lo[i] == hi[i]:
        i += 1
    if i == n:
        yield lo[:-1], int(lo[-1]), int(lo[-1]), 0
        return
    prefix = lo[:i]
    tail = n - i - 1
    if lo[i + 1 :] == "0" * tail and hi[i + 1 :] == "9" * tail:
        yield prefix, int(lo[i]), int(hi[i]), tail
        return
    low_digit, high_digit = int(lo[i]), int(hi[i])
    if lo[i + 1 :] == "0" * tail:
        low_start = low_digit
    else:
        for p, a, b, t in _same_length(lo[i + 1 :], "9" * tail):
            yield prefix + lo[i] + p, a, b, t
        low_start = low_digit + 1
    high_end = high_digit if hi[i + 1 :] == "9" * tail else high_digit - 1
    if low_start <= high_end:
        yield prefix, low_start, high_end, tail
    if hi[i + 1 :] != "9" * tail:
        for p, a, b, t in _same_length("0" * tail, hi[i + 1 :]):
            yield prefix + hi[i] + p, a, b, t


class _Digits:
    """Adds digit sequences sharing prefixes (forward) and free tails (backward)."""

    def __init__(self, nfa: NFA, lowerer: Lowerer) -> None:
        self.nfa = nfa
        self.lowerer = lowerer
        self.prefixes: dict[tuple[int, str], int] = {}

    def prefix(self, src: int, digits: str) -> int:
        cur = src
        for i in range(1, len(digits) + 1):
            key = (src, digits[:i])
            nxt = self.prefixes.get(key)
            if nxt is None:
                nxt = self.nfa.state()
                self.nfa.edge(cur, 1 << ord(digits[i - 1]), nxt)
                self.prefixes[key] = nxt
            cur = nxt
        return cur

    def piece(self, src: int, dst: int, prefix: str, lo: int, hi: int, tail: int) -> None:
        start = self.prefix(src, prefix)
        self.lowerer.chain(start, [_digits(lo, hi)] + [_DIGIT] * tail, dst)

    def uint(self, src: int, dst: int, lo: int, hi: int | None) -> None:
        """Unsigned integers without leading zeros in ``lo..hi`` (``None``: unbounded)."""
        if hi is not None and lo > hi:
            return
        lo_s = str(lo)
        top = len(str(hi)) if hi is not None else len(lo_s)
        for length in range(len(lo_s), top + 1):
            a = lo_s if length == len(lo_s) else "1" + "0" * (length - 1)
            b = str(hi) if hi is not None and length == top else "9" * length
            for p, x, y, t in _same_length(a, b):
                self.piece(src, dst, p, x, y, t)
        if hi is None:
            # Longer than every bound digit count: [1-9] then at least `top` more digits.
            loop = self.nfa.state()
            self.lowerer.chain(src, [_NONZERO] + [_DIGIT] * top, loop)
            self.nfa.edge(loop, _DIGIT, loop)
            self.nfa.epsilon(loop, dst)


def add_integer_range(
    nfa: NFA, src: int, dst: int, lo: int | None, hi: int | None, *, lowerer: Lowerer
) -> None:
    """JSON integers in ``lo..hi`` (``None``: unbounded), no leading zeros, ``-0`` allowed."""
    digits = _Digits(nfa, lowerer)
    if hi is None or hi >= 0:
        digits.uint(src, dst, max(lo, 0) if lo is not None else 0, hi)
    if lo is None or lo <= 0:
        neg = nfa.state()
        nfa.edge(src, 1 << ord("-"), neg)
        # -0 equals 0, which is in range whenever the negative side is reached at lo <= 0.
        low = 0 if hi is None or hi >= 0 else -hi
        digits.uint(neg, dst, low, -lo if lo is not None else None)


def _fraction_ge(f: str, exclusive: bool) -> str:
    """Regex for digit strings d (non-empty) with 0.d >= 0.f (or >)."""
    options = [f"{f[:i]}[{int(f[i]) + 1}-9][0-9]*" for i in range(len(f)) if f[i] != "9"]
    options.append(f"{f}[0-9]*[1-9][0-9]*" if exclusive or not f else f"{f}[0-9]*")
    if not f and not exclusive:
        options.append("[0-9]+")
    return "(?:" + "|".join(options) + ")"


def _fraction_le(f: str, exclusive: bool) -> str | None:
    """Regex for digit strings d (non-empty) with 0.d <= 0.f (or <); None when empty."""
    options = [f"{f[:i]}[0-{int(f[i]) - 1}][0-9]*" for i in range(len(f)) if f[i] != "0"]
    options += [f"{f[:i]}0*" for i in range(1, len(f))]
    if not exclusive:
        options.append(f"{f}0*" if f else "0+")
    return "(?:" + "|".join(options) + ")" if options else None


def _split(value: Decimal) -> tuple[int, str]:
    integer = int(value)
    text = format(value - integer, "f")
    fraction = text.split(".")[1].rstrip("0") if "." in text else ""
    return integer, fraction


def add_decimal_range(
    nfa: NFA, src: int, dst: int, lo: Decimal | None, hi: Decimal | None,
    lo_exclusive: bool, hi_exclusive: bool, *, lowerer: Lowerer,
) -> None:
    """Unsigned decimals (``I`` or ``I.F``) with ``lo <= x <= hi``; 0 <= lo, hi may be None.

    Built as a union of pieces by integer part, so it is exact without arithmetic.
    """
    digits = _Digits(nfa, lowerer)
    low = lo if lo is not None else Decimal(0)
    a_int, a_frac = _split(low)
    any_fraction = "(?:\\.[0-9]+)?"
    if hi is None:
        # Integer part above a: any fraction.
        frac_state = nfa.state()
        digits.uint(src, frac_state, a_int + 1, None)
        _regex(nfa, frac_state, dst, any_fraction, lowerer)
        # Integer part equal to a: fraction at least a's.
        _equal_part(nfa, digits, src, dst, a_int, _ge_tail(a_frac, lo_exclusive), lowerer)
        return
    b_int, b_frac = _split(hi)
    if a_int == b_int:
        both = _intersect_tails(a_frac, lo_exclusive, b_frac, hi_exclusive)
        if both is not None:
            _equal_part(nfa, digits, src, dst, a_int, both, lowerer)
        return
    middle = nfa.state()
    digits.uint(src, middle, a_int + 1, b_int - 1)
    _regex(nfa, middle, dst, any_fraction, lowerer)
    _equal_part(nfa, digits, src, dst, a_int, _ge_tail(a_frac, lo_exclusive), lowerer)
    le = _le_tail(b_frac, hi_exclusive)
    if le is not None:
        _equal_part(nfa, digits, src, dst, b_int, le, lowerer)


def _ge_tail(f: str, exclusive: bool) -> str:
    if not f and not exclusive:
        return "(?:\\.[0-9]+)?"
    return "\\." + _fraction_ge(f, exclusive)


def _le_tail(f: str, exclusive: bool) -> str | None:
    if not f:
        return None if exclusive else "(?:\\.0+)?"
    inner = _fraction_le(f, exclusive)
    return f"(?:\\.{inner})?" if inner else ""


def _intersect_tails(a: str, a_ex: bool, b: str, b_ex: bool) -> str | None:
    """Fractions F with 0.a <=/< 0.F <=/< 0.b, as a regex; exact by enumerating cases."""
    ge, le = _ge_tail(a, a_ex), _le_tail(b, b_ex)
    if le is None:
        return None
    # Lookahead-free intersection: interegular's parser cannot intersect, so build both
    # fragments and let the determinizer intersect via product in the caller.
    return f"(?:{ge})&&(?:{le})"


def _equal_part(
    nfa: NFA, digits: _Digits, src: int, dst: int, integer: int, tail: str, lowerer: Lowerer
) -> None:
    start = digits.prefix(src, str(integer))
    if "&&" in tail:
        _intersect_regex(nfa, start, dst, tail.split("&&"))
    else:
        _regex(nfa, start, dst, tail, lowerer)


def _regex(nfa: NFA, src: int, dst: int, regex: str, lowerer: Lowerer) -> None:
    add_branches(nfa, src, dst, parse_ecma(f"^{regex}$"), json_string=False, lowerer=lowerer)


def _intersect_regex(nfa: NFA, src: int, dst: int, parts: list[str]) -> None:
    dfas = []
    for part in parts:
        sub = NFA(max_states=nfa.max_states, timeout_s=nfa.timeout_s, deadline=nfa.deadline)
        s, e = sub.state(), sub.state()
        add_branches(sub, s, e, parse_ecma(f"^{part}$"), json_string=False, lowerer=Lowerer(sub))
        dfas.append(from_nfa(sub, s, e, n_symbols=256, max_states=nfa.max_states))
    first, second = dfas
    if first is None or second is None:
        return
    both = first.intersect(second, max_states=nfa.max_states)
    if both is not None:
        both.embed(nfa, src, dst)


def add_multiple_of(nfa: NFA, src: int, dst: int, divisor: int) -> None:
    """Integers (``-?(0|[1-9][0-9]*)``) divisible by ``divisor``: one state per remainder."""
    rem = [nfa.state() for _ in range(divisor)]
    start_digits = nfa.state()
    nfa.epsilon(src, start_digits)
    minus = nfa.state()
    nfa.edge(src, 1 << ord("-"), minus)
    nfa.epsilon(minus, start_digits)
    nfa.edge(start_digits, 1 << ord("0"), dst)
    for d in range(1, 10):
        nfa.edge(start_digits, 1 << (0x30 + d), rem[d % divisor])
    for r in range(divisor):
        for d in range(10):
            nfa.edge(rem[r], 1 << (0x30 + d), rem[(r * 10 + d) % divisor])
    nfa.epsilon(rem[0], dst)


def add_decimal_multiple(nfa: NFA, src: int, dst: int, m: int, k: int) -> None:
    """Numbers ``-?(0|[1-9][0-9]*)(\\.[0-9]+)?`` that are multiples of ``m * 10**-k`` (k >= 0).

    ``I.F`` is such a multiple iff no digit of ``F`` past position ``k`` is non-zero and
    ``I * 10**k + F`` (``F`` padded to ``k`` digits) is divisible by ``m``; states track
    the remainder mod ``m`` and the fraction position (at most ``k``), then only zeros.
    """
    start = nfa.state()
    nfa.epsilon(src, start)
    minus = nfa.state()
    nfa.edge(src, 1 << ord("-"), minus)
    nfa.epsilon(minus, start)
    whole = [nfa.state() for _ in range(m)]  # integer part read, remainder r
    dot = [nfa.state() for _ in range(m)]  # '.' read after an integer part of remainder r
    # frac[j - 1][r]: j fraction digits read (1 <= j <= k), remainder r of I*10**j + F_j.
    frac = [[nfa.state() for _ in range(m)] for _ in range(k)]
    zeros = nfa.state()  # past position k: only zeros may follow
    zero = nfa.state()  # the integer part "0"
    nfa.edge(start, 1 << ord("0"), zero)
    nfa.edge(zero, 1 << ord("."), dot[0])
    nfa.epsilon(zero, dst)
    for d in range(1, 10):
        nfa.edge(start, 1 << (0x30 + d), whole[d % m])
    for r in range(m):
        for d in range(10):
            nfa.edge(whole[r], 1 << (0x30 + d), whole[(r * 10 + d) % m])
            if k:
                nfa.edge(dot[r], 1 << (0x30 + d), frac[0][(r * 10 + d) % m])
            for j in range(k - 1):
                nfa.edge(frac[j][r], 1 << (0x30 + d), frac[j + 1][(r * 10 + d) % m])
        nfa.edge(whole[r], 1 << ord("."), dot[r])
        if r * 10**k % m == 0:
            nfa.epsilon(whole[r], dst)
        for j in range(1, k + 1):
            if r * 10 ** (k - j) % m == 0:
                nfa.epsilon(frac[j - 1][r], dst)
    # k digits read (k = 0: just the point) with remainder 0: zeros may follow.
    nfa.edge(frac[k - 1][0] if k else dot[0], 1 << ord("0"), zeros)
    nfa.edge(zeros, 1 << ord("0"), zeros)
    nfa.epsilon(zeros, dst)
