"""Regex syntax trees (parsed by interegular) to byte NFA fragments."""

from __future__ import annotations

from typing import Any

from structgen.automata.nfa import NFA
from structgen.automata.utf8 import ANY_CHAR, Lowerer, Ranges, add_chars, complement, normalize
from structgen.schema.patterns import Branch

__all__ = ["add_branches", "add_regex"]

_NOT_NEWLINE = complement(((0x0A, 0x0A),))


def add_branches(
    nfa: NFA, src: int, dst: int, branches: tuple[Branch, ...], *, json_string: bool,
    lowerer: Lowerer,
) -> None:
    """Connect ``src`` to ``dst`` by every string a JSON Schema ``pattern`` search accepts."""
    for branch in branches:
        start, end = src, dst
        if not branch.anchored_start:
            start = nfa.state()
            nfa.epsilon(src, start)
            add_chars(nfa, start, start, ANY_CHAR, json_string=json_string, lowerer=lowerer)
        if not branch.anchored_end:
            end = nfa.state()
            nfa.epsilon(end, dst)
            add_chars(nfa, end, end, ANY_CHAR, json_string=json_string, lowerer=lowerer)
        if branch.tree is None:
            nfa.epsilon(start, end)
        else:
            _Builder(nfa, json_string, lowerer).add(branch.tree, start, end, False)


def add_regex(
    nfa: NFA, src: int, dst: int, tree: Any, *, json_string: bool, lowerer: Lowerer
) -> None:
    """Connect ``src`` to ``dst`` by the strings a parsed regex matches in full."""
    _Builder(nfa, json_string, lowerer).add(tree, src, dst, False)


class _Builder:
    def __init__(self, nfa: NFA, json_string: bool, lowerer: Lowerer) -> None:
        self.nfa = nfa
        self.json_string = json_string
        self.lowerer = lowerer

    def add(self, tree: Any, src: int, dst: int, ignore_case: bool) -> None:
        kind = type(tree).__name__
        nfa = self.nfa
        if kind == "Pattern":
            flags = str(getattr(tree, "added_flags", ""))
            case = ignore_case or "CASE_INSENSITIVE" in flags
            for option in tree.options:
                self.add(option, src, dst, case)
        elif kind == "_Concatenation":
            cur = src
            parts = tree.parts
            for i, part in enumerate(parts):
                nxt = dst if i == len(parts) - 1 else nfa.state()
                self.add(part, cur, nxt, ignore_case)
                cur = nxt
            if not parts:
                nfa.epsilon(src, dst)
        elif kind == "_Repeated":
            self._repeat(tree.base, tree.min, tree.max, src, dst, ignore_case)
        elif kind == "_CharGroup":
            chars = set(tree.chars)
            if ignore_case:
                chars |= {c.lower() for c in chars} | {c.upper() for c in chars}
            ranges: Ranges = normalize([(ord(c), ord(c)) for c in chars if len(c) == 1])
            if tree.negated:
                ranges = complement(ranges)
            add_chars(nfa, src, dst, ranges, json_string=self.json_string, lowerer=self.lowerer)
        elif kind == "__DotCls":
            add_chars(
                nfa, src, dst, _NOT_NEWLINE, json_string=self.json_string, lowerer=self.lowerer
            )
        elif kind == "__EmptyCls":
            nfa.epsilon(src, dst)
        else:  # pragma: no cover - patterns.parse_ecma refuses everything else
            raise ValueError(f"unexpected regex node {kind}")

    def _repeat(
        self, base: Any, low: int, high: int | None, src: int, dst: int, ignore_case: bool
    ) -> None:
        nfa = self.nfa
        cur = src
        for _ in range(low):
            nxt = nfa.state()
            self.add(base, cur, nxt, ignore_case)
            cur = nxt
        if high is None:
            loop = nfa.state()
            nfa.epsilon(cur, loop)
            self.add(base, loop, loop, ignore_case)
            nfa.epsilon(loop, dst)
            return
        for _ in range(high - low):
            nxt = nfa.state()
            nfa.epsilon(cur, dst)
            self.add(base, cur, nxt, ignore_case)
            cur = nxt
        nfa.epsilon(cur, dst)
