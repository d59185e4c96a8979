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
from dataclasses import dataclass
from typing import Any

import interegular

__all__ = ["Branch", "PatternError", "parse_ecma"]

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


def _split_top_level(pattern: str) -> list[str]:
    branches, depth, start, i, in_class = [], 0, 0, 0, False
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
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    branches.append(pattern[start:])
    return branches


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
    for raw in _split_top_level(pattern):
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
        try:
            tree = interegular.parse_pattern(translated) if translated else None
        except interegular.patterns.Unsupported as exc:
            raise PatternError(f"{exc}", unsupported=True) from None
        except Exception as exc:  # interegular's parser raises several error types
            try:
                re.compile(translated)
            except re.error:
                raise PatternError(f"not a valid regex: {exc}", unsupported=False) from None
            raise PatternError(f"regex syntax not supported: {exc}", unsupported=True) from None
        branches.append(Branch(tree, anchored_start, anchored_end))
    return tuple(branches)
