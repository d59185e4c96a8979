"""ECMA-262 `pattern` regexes, checked and parsed with interegular into a syntax tree.

JSON Schema patterns are unanchored searches in ECMA-262 syntax; interegular parses
Python syntax and rejects anchors. This module bridges the two: it splits top-level
alternatives, records their anchors, rewrites ECMA-only spellings (``.``, ``\\uXXXX``,
``(?<name>``) and refuses what no finite automaton can express (lookaround,
backreferences, word boundaries) with a reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import interegular

__all__ = ["Branch", "Lookaheads", "PatternError", "leading_lookaheads", "parse_ecma", "search"]

# ECMA `.` matches anything but line terminators.
_DOT = "[^\n\r\u2028\u2029]"
_SPECIAL = set("\\^$.|?*+()[]{}-/")
# ECMA-262 WhiteSpace and LineTerminator, as literal characters for a class body.
_ECMA_SPACE = (
    " \t\n\x0b\x0c\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class PatternError(Exception):
    """A pattern structgen cannot enforce (``unsupported``) or that is not a regex."""

    def __init__(self, message: str, *, unsupported: bool) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass(frozen=True)
class Branch:
    """One top-level alternative: its syntax tree and whether it is anchored at each end."""

    tree: Any
    anchored_start: bool
    anchored_end: bool


@dataclass(frozen=True)
class Lookaheads:
    """A pattern that opens with lookaheads, as plain patterns: a string matches it when it
    matches ``rest`` and every one of ``required``, and none of ``forbidden``."""

    rest: str
    required: tuple[str, ...]
    forbidden: tuple[str, ...]


def leading_lookaheads(pattern: str) -> Lookaheads | None:
    """``^(?!X)(?=Y)R``: lookaheads at the start of the only branch, which test a prefix of
    the whole string (``^(?:X)``, ``^(?:Y)``); None for a pattern of another shape."""
    if not pattern.startswith("^(?") or len(_split_top_level(pattern)) != 1:
        return None
    rest, required, forbidden = pattern[1:], [], []
    while rest.startswith(("(?!", "(?=")):
        end = _group_end(rest)
        if end is None:
            return None
        (forbidden if rest[2] == "!" else required).append(f"^(?:{rest[3:end]})")
        rest = rest[end + 1:]
        if rest.startswith("^"):
            rest = rest[1:]  # a second start anchor, where the lookahead left the position
    if not required and not forbidden:
        return None
    return Lookaheads("^" + rest, tuple(required), tuple(forbidden))


def _group_end(text: str) -> int | None:
    """Index of the parenthesis closing the group ``text`` opens."""
    return next((i for i, c, depth in _structure(text) if c == ")" and depth == 0), None)


def _alternatives(pattern: str) -> list[str]:
    """The top-level branches, a branch that is one group holding anchors opened up:
    ``(^a$|b)`` is ``^a$`` or ``b`` (groups do not change what matches)."""
    out: list[str] = []
    stack = [pattern]
    while stack:
        for branch in _split_top_level(stack.pop()):
            inner = _whole_group(branch)
            if inner is not None and ("^" in inner or "$" in inner):
                stack.append(inner)
            else:
                out.append(branch)
    return out


def _whole_group(branch: str) -> str | None:
    """The inside of ``branch`` when it is one plain or non-capturing group, else None."""
    if branch.startswith("(?:"):
        start = 3
    elif branch.startswith("(") and not branch.startswith("(?"):
        start = 1
    else:
        return None
    return branch[start:-1] if _group_end(branch) == len(branch) - 1 else None


def _split_top_level(pattern: str) -> list[str]:
    branches, start = [], 0
    for i, c, depth in _structure(pattern):
        if c == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
    branches.append(pattern[start:])
    return branches


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """Each ``(``, ``)`` and ``|`` outside escapes and classes: its index, itself, and the
    group depth after it."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern.startswith("[]", i + 1) or pattern.startswith("[^]", i):
                i += 1
        elif c in "()|":
            depth += {"(": 1, ")": -1, "|": 0}[c]
            yield i, c, depth
        i += 1


def _escape_char(c: str) -> str:
    if c in _SPECIAL:
        return "\\" + c
    return c


def _translate(body: str) -> str:
    """Rewrite ECMA spellings into interegular's dialect, refusing the non-regular ones."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 >= len(body):
                raise PatternError("pattern ends with a lone backslash", unsupported=False)
            nxt = body[i + 1]
            if nxt == "u":
                hexdigits = body[i + 2 : i + 6]
                if len(hexdigits) == 4 and all(h in "0123456789abcdefABCDEF" for h in hexdigits):
                    out.append(_escape_char(chr(int(hexdigits, 16))))
                    i += 6
                    continue
                raise PatternError(f"unsupported escape {body[i:i + 6]!r}", unsupported=True)
            if not in_class and nxt in "bB":
                raise PatternError(
                    f"word boundary \\{nxt} is not a regular language", unsupported=True
                )
            if nxt in "123456789" or (nxt == "k" and body[i + 2 : i + 3] == "<"):
                raise PatternError("backreferences are not regular", unsupported=True)
            if nxt in "sS":
                # ECMA-262 \s is Unicode whitespace; interegular's is ASCII only.
                if in_class and nxt == "S":
                    raise PatternError("\\S inside a class is not supported", unsupported=True)
                negate = "^" if nxt == "S" else ""
                out.append(_ECMA_SPACE if in_class else f"[{negate}{_ECMA_SPACE}]")
                i += 2
                continue
            if nxt == "d" or nxt == "D" or nxt in "wWtnrfv0":
                out.append(body[i : i + 2])
            elif nxt.isalpha() and nxt not in "xcpP":
                raise PatternError(f"unknown escape \\{nxt}", unsupported=True)
            else:
                out.append(body[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            if body.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                in_class = False
                continue
            out.append(c)
            i += 1
            if i < len(body) and body[i] == "^":
                out.append("^")
                i += 1
            if i < len(body) and body[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(" and body.startswith("(?", i):
            ahead = body[i + 2 : i + 4]
            if ahead[:1] in ("=", "!") or ahead in ("<=", "<!"):
                raise PatternError("lookaround is not supported", unsupported=True)
            if ahead[:1] == "<":
                close = body.find(">", i)
                if close < 0:
                    raise PatternError("unterminated group name", unsupported=False)
                out.append("(?:")
                i = close + 1
                continue
        if c == ".":
            out.append(_DOT)
        elif c in "^$":
            raise PatternError(
                f"anchor {c!r} inside a group or mid-pattern is not supported", unsupported=True
            )
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _unescaped_suffix(branch: str, char: str) -> bool:
    if not branch.endswith(char):
        return False
    backslashes = len(branch) - 1 - len(branch[:-1].rstrip("\\"))
    return backslashes % 2 == 0


@functools.lru_cache(maxsize=4096)
def parse_ecma(pattern: str) -> tuple[Branch, ...]:
    """Parse an ECMA-262 pattern into anchored or unanchored branches.

    Raises
    ------
    PatternError
        With ``unsupported=True`` for valid regexes outside the regular subset, and
        ``unsupported=False`` for text that is not a regex at all.
    """
    branches: list[Branch] = []
    for raw in _alternatives(pattern):
        body = raw
        anchored_start = body.startswith("^")
        if anchored_start:
            body = body[1:]
        anchored_end = _unescaped_suffix(body, "$")
        if anchored_end:
            body = body[:-1]
        translated = _translate(body)
        if "\\p{" in translated or "\\P{" in translated:
            raise PatternError("Unicode property escapes are not supported", unsupported=True)
        try:
            re.compile(translated)
        except re.error as exc:
            raise PatternError(f"not a valid regex: {exc}", unsupported=False) from None
        except (ValueError, OverflowError, RecursionError) as exc:  # {10000...} past 4300 digits
            raise PatternError(f"regex too large: {exc}", unsupported=True) from None
        try:
            tree = interegular.parse_pattern(translated) if translated else None
        except interegular.patterns.Unsupported as exc:
            raise PatternError(f"{exc}", unsupported=True) from None
        except Exception as exc:  # interegular's parser raises several error types
            raise PatternError(f"regex syntax not supported: {exc}", unsupported=True) from None
        branches.append(Branch(tree, anchored_start, anchored_end))
    return tuple(branches)


# -- matching ------------------------------------------------------------------------------

_MAX_MATCHER_STATES = 20_000


class _Matcher:
    """A character NFA of one branch, simulated in step (Thompson): linear in the text, so a
    pattern like ``(a+)+$`` that makes a backtracking engine take exponential time cannot."""

    def __init__(self, branch: Branch) -> None:
        self.edges: list[list[tuple[frozenset[str], bool, int]]] = []
        self.eps: list[list[int]] = []
        self.anchored_start = branch.anchored_start
        self.anchored_end = branch.anchored_end
        self.start, self.accept = self._state(), self._state()
        if branch.tree is None:
            self.eps[self.start].append(self.accept)
        else:
            self._add(branch.tree, self.start, self.accept, False)

    def _state(self) -> int:
        if len(self.edges) >= _MAX_MATCHER_STATES:
            raise PatternError(
                f"pattern expands to more than {_MAX_MATCHER_STATES} states", unsupported=True
            )
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def _add(self, tree: Any, src: int, dst: int, fold: bool) -> None:
        kind = type(tree).__name__
        if kind == "Pattern":
            fold = fold or "CASE_INSENSITIVE" in str(getattr(tree, "added_flags", ""))
            for option in tree.options:
                self._add(option, src, dst, fold)
        elif kind == "_Concatenation":
            cur = src
            for part in tree.parts:
                nxt = self._state()
                self._add(part, cur, nxt, fold)
                cur = nxt
            self.eps[cur].append(dst)
        elif kind == "_Repeated":
            cur = src
            for _ in range(tree.min):
                nxt = self._state()
                self._add(tree.base, cur, nxt, fold)
                cur = nxt
            if tree.max is None:
                loop = self._state()
                self.eps[cur].append(loop)
                self._add(tree.base, loop, loop, fold)
                self.eps[loop].append(dst)
                return
            for _ in range(tree.max - tree.min):
                nxt = self._state()
                self.eps[cur].append(dst)
                self._add(tree.base, cur, nxt, fold)
                cur = nxt
            self.eps[cur].append(dst)
        elif kind == "_CharGroup":
            chars = frozenset(tree.chars)
            if fold:
                chars |= {c.lower() for c in chars} | {c.upper() for c in chars}
            self.edges[src].append((chars, bool(tree.negated), dst))
        elif kind == "__DotCls":
            self.edges[src].append((frozenset("\n"), True, dst))
        elif kind == "__EmptyCls":
            self.eps[src].append(dst)
        else:  # pragma: no cover - parse_ecma refuses everything else
            raise PatternError(f"unexpected regex node {kind}", unsupported=True)

    def _closure(self, states: set[int]) -> set[int]:
        stack = list(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in states:
                    states.add(nxt)
                    stack.append(nxt)
        return states

    def search(self, text: str) -> bool:
        current = self._closure({self.start})
        for char in text:
            if self.accept in current and not self.anchored_end:
                return True
            moved = {
                dst for s in current for chars, negated, dst in self.edges[s]
                if (char in chars) != negated
            }
            if not self.anchored_start:
                moved.add(self.start)
            if not moved and self.anchored_start:
                return False
            current = self._closure(moved)
        return self.accept in current


@functools.lru_cache(maxsize=1024)
def _matchers(pattern: str) -> tuple[_Matcher, ...]:
    return tuple(_Matcher(branch) for branch in parse_ecma(pattern))


def search(pattern: str, text: str) -> bool:
    """Whether the ECMA-262 ``pattern`` matches somewhere in ``text`` (JSON Schema semantics).

    Linear in ``len(text)`` times the pattern's size, whatever the pattern: schemas are
    inputs, and a backtracking engine (Python's ``re``) can take exponential time on them.

    Raises
    ------
    PatternError
        As :func:`parse_ecma`, or when the pattern is too large to match this way.
    """
    parts = leading_lookaheads(pattern)
    if parts is not None:
        try:
            return (search(parts.rest, text) and all(search(p, text) for p in parts.required)
                    and not any(search(p, text) for p in parts.forbidden))
        except PatternError:
            pass  # lookarounds inside: refused below as the whole pattern
    return any(matcher.search(text) for matcher in _matchers(pattern))
