"""IR to byte NFA: JSON structure, separators, declared property order, budgets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from itertools import product
from typing import Any, Literal

import numpy as np

from structgen.automata.compose import NotDeterministic, Part, compose
from structgen.automata.counted import CountedConflict, counted_bounds, expand, holes_of
from structgen.automata.determinize import limit_error
from structgen.automata.dfa import ByteDFA, accept_distances, finish, from_nfa
from structgen.automata.nfa import NFA, byte_mask, symbol_mask
from structgen.automata.numbers import (
    add_decimal_multiple,
    add_decimal_range,
    add_integer_range,
    add_multiple_of,
)
from structgen.automata.regex import add_branches
from structgen.automata.unique import ARRAY, CLOSE, COMMA, OPEN, has_tracked, relabel
from structgen.automata.utf8 import ANY_CHAR, Lowerer, add_chars, normalize
from structgen.errors import GrammarLimitError, UnsupportedSchemaError
from structgen.schema import formats as _formats
from structgen.schema import ir
from structgen.schema.patterns import PatternError, parse_ecma

__all__ = ["BuildOptions", "build_dfa", "build_modules"]

Whitespace = Literal["default", "compact", "flexible"]
_COMPOSITE = (ir.AnyValue, ir.ArrayNode, ir.ObjectNode)
_VALUES = (*_COMPOSITE, ir.IntegerNode, ir.NumberNode, ir.StringNode)
# Built once as a minimal DFA, then joined to its surroundings as a part (see compose).
_OPAQUE = (*_VALUES, ir.Union, ir.Literal)
# Below this many part states, embedding them and the compiled subset construction is
# faster than the direct join (whose glue is determinized in Python).
_COMPOSE_ABOVE = 2048
_WORKING_FACTOR = 4  # unminimized states per state of budget
_WS_MASK = byte_mask(0x20, 0x20) | byte_mask(0x09, 0x0A) | byte_mask(0x0D, 0x0D)
# One spelling per number value (see schema.contains): plain, no trailing fraction zeros
# (but ".0" after an integer where integers may be written so), no "-0".
_CANONICAL = r"^(?:(?:0|-?[1-9][0-9]*)(?:\.[0-9]*[1-9])?|-0\.[0-9]*[1-9])$"
_CANONICAL_FRACTION = r"^(?:(?:0|-?[1-9][0-9]*)(?:\.0|\.[0-9]*[1-9])?|-0\.[0-9]*[1-9])$"


@dataclass(frozen=True)
class BuildOptions:
    """How values are written: separators, whitespace, integers, budgets."""

    item_separator: str = ", "
    key_separator: str = ": "
    whitespace: Whitespace = "default"
    max_whitespace: int = 2
    integer_fraction: bool = False  # accept 1.0 where an integer is expected
    unicode_escapes: bool | Literal["controls"] = True  # accept \uXXXX spellings in strings
    special_tokens: tuple[str, ...] = ()
    leap_seconds: Literal["utc", "any_offset"] = "utc"
    state_budget: int = 200_000
    timeout_s: float = 30.0


def build_dfa(node: ir.Node, options: BuildOptions, *, direct: bool = True) -> ByteDFA | None:
    """Compile an IR tree to a byte DFA (``None``: the language is empty): minimal, but
    for the layers of long strings counted beside it (:mod:`.counted`).

    ``direct=False`` builds everything through NFAs and subset construction only: the
    reference that tests compare the direct constructions (:mod:`.compose`) against.
    """
    holes = holes_of(node)
    tracked = has_tracked(node)
    deadline = time.monotonic() + options.timeout_s  # shared by the rebuilds
    while True:  # at most once per hole: each conflict spells some out
        try:
            return _build(node, options, direct, holes, tracked, deadline)
        except CountedConflict as conflict:
            holes = [bounds for bounds in holes if bounds not in conflict.bounds]


def build_modules(node: ir.Modules, options: BuildOptions) -> list[ByteDFA | None]:
    """The minimal DFA of the main document and of each called module (``None``: empty),
    over bytes, the special tokens, then one symbol per module for its calls.

    Long strings are spelled out (no counters) and arrays of unique strings are refused:
    both keep run-time state that a stack frame does not hold.
    """
    if has_tracked(node):
        raise UnsupportedSchemaError(
            "uniqueItems over strings inside a grammar with calls", keyword="uniqueItems")
    for item in ir.walk(node):
        if isinstance(item, ir.ArrayNode) and item.contains and any(
                isinstance(inner, ir.Call) for inner in ir.walk(item)):
            raise UnsupportedSchemaError(
                "contains over items matched by a call", keyword="contains")
    nfa = NFA(max_states=options.state_budget * _WORKING_FACTOR, timeout_s=options.timeout_s,
              deadline=time.monotonic() + options.timeout_s)
    builder = _Builder(nfa, options, calls=len(node.called))
    start, end = nfa.state(), nfa.state()
    body_end = nfa.state()
    builder.add(node.main, start, body_end)
    builder.ws(body_end, end)  # whitespace may trail the document (flexible policy only)
    dfas = [builder.determinize(nfa, builder.parts, start, end)]
    for called in node.called:
        dfas.append(builder._node_dfa(called))  # no leading whitespace: the caller writes it
    return dfas


def _build(node: ir.Node, options: BuildOptions, direct: bool, holes: list[tuple[int, int]],
           tracked: bool, deadline: float) -> ByteDFA | None:
    nfa = NFA(max_states=options.state_budget * _WORKING_FACTOR, timeout_s=options.timeout_s,
              deadline=deadline)
    builder = _Builder(nfa, options, direct=direct, holes=holes, tracked=tracked)
    opaque = _OPAQUE if direct else _COMPOSITE
    if isinstance(node, opaque) and not builder.flexible:
        dfa = builder._node_dfa(node)  # already minimal: no second subset construction
    else:
        start, end = nfa.state(), nfa.state()
        if builder.flexible:  # whitespace may also trail the document
            body_end = nfa.state()
            builder.add(node, start, body_end)
            builder.ws(body_end, end)
        else:
            builder.add(node, start, end)
        dfa = builder.determinize(nfa, builder.parts, start, end)
    return builder.relabel_markers(builder.expand_holes(dfa))


class _Builder:
    def __init__(self, nfa: NFA, options: BuildOptions, *, direct: bool = True,
                 holes: list[tuple[int, int]] | None = None, tracked: bool = False,
                 calls: int = 0) -> None:
        self.nfa = nfa
        self.options = options
        self.direct = direct
        # Values joined to self.nfa as whole DFAs; None: embed them at once (reference).
        self.parts: list[Part] | None = [] if direct else None
        self.lowerer = self._lowerer(nfa)
        base = 256 + len(options.special_tokens)
        # Calls of modules (ir.Call): one symbol each, read by automata.stack.
        self.call_base = base
        base += calls
        # Arrays with unique string items: four marker symbols while building (see unique).
        self.markers = [base + role for role in range(4)] if tracked else []
        self.tracking = False  # building the items of such an array
        base += len(self.markers)
        # Long strings: one symbol per (minLength, maxLength) while building (see counted).
        self.holes = {bounds: base + i for i, bounds in enumerate(holes or ())}
        self.n_symbols = base + len(self.holes)
        self.string_dfas: dict[ir.StringNode, ByteDFA | None] = {}
        # Keyed by the node and the modes below: tracking, spelled, canonical.
        self.node_dfas: dict[tuple[ir.Node, bool, bool, bool], ByteDFA | None] = {}
        # Items counted for `contains`: long strings spelled out (no holes), and, while
        # canonical, numbers written one way only.
        self.spelled = False
        self.canonical = False
        self.canonical_dfas: dict[ir.Node, ByteDFA | None] = {}
        self.item_classes: dict[tuple[ir.Node, tuple[ir.Contains, ...], bool],
                                list[tuple[tuple[int, ...], ByteDFA]]] = {}
        self.building: ir.Node | None = None
        # Subset construction and products may pass the budget before minimization
        # shrinks the result: they get this much, each minimal DFA the budget itself.
        self.working_budget = options.state_budget * _WORKING_FACTOR

    # -- plumbing -------------------------------------------------------------------
    def _lowerer(self, nfa: NFA) -> Lowerer:
        return Lowerer(nfa, unicode_escapes=self.options.unicode_escapes)

    def new(self) -> int:
        return self.nfa.state()

    def text(self, src: int, dst: int, data: str | bytes) -> None:
        self.nfa.text(src, dst, data.encode() if isinstance(data, str) else data)

    def ws(self, src: int, dst: int) -> None:
        """Optional whitespace where JSON allows it (only in the flexible policy)."""
        self.nfa.epsilon(src, dst)
        if self.options.whitespace != "flexible":
            return
        cur = src
        for _ in range(self.options.max_whitespace):
            nxt = self.new()
            self.nfa.edge(cur, _WS_MASK, nxt)
            self.nfa.epsilon(nxt, dst)
            cur = nxt

    @property
    def flexible(self) -> bool:
        return self.options.whitespace == "flexible"

    def punct(self, src: int, dst: int, data: str) -> None:
        """A structural token. In the flexible policy every gap between two tokens gets
        one whitespace run, placed before the second token: so closing brackets and
        separators carry it, while values (opening brackets included) get it in `add`.
        """
        if not self.flexible:
            self.text(src, dst, data)
            return
        token = data.strip() or data
        if token in "{[":
            self.text(src, dst, token)
            return
        a = self.new()
        self.ws(src, a)
        self.text(a, dst, token)

    def before_token(self, src: int) -> int:
        """The state after the optional whitespace that may precede a token."""
        if not self.flexible:
            return src
        after = self.new()
        self.ws(src, after)
        return after

    def item_sep(self, src: int, dst: int) -> None:
        self.punct(src, dst, self.options.item_separator)

    def key_sep(self, src: int, dst: int) -> None:
        self.punct(src, dst, self.options.key_separator)

    # -- dispatch -------------------------------------------------------------------
    def add(self, node: ir.Node, src: int, dst: int) -> None:
        if isinstance(node, (*_VALUES, ir.Call)) and node is not self.building:
            src = self.before_token(src)
        if self.parts is not None and isinstance(node, _OPAQUE) and node is not self.building:
            if not isinstance(node, ir.Never) and (dfa := self._node_dfa(node)) is not None:
                self.parts.append(Part(src, dfa, dst))
            return
        if isinstance(node, _COMPOSITE) and node is not self.building:
            # Minimize each composite value once and embed copies of the small DFA:
            # repeated $defs and unconstrained values then cost their minimal size.
            dfa = self._node_dfa(node)
            if dfa is not None:
                dfa.embed(self.nfa, src, dst)
            return
        method = getattr(self, "_" + type(node).__name__)
        method(node, src, dst)

    def _node_dfa(self, node: ir.Node) -> ByteDFA | None:
        key = (node, self.tracking, self.spelled, self.canonical)
        if key in self.node_dfas:
            return self.node_dfas[key]
        outer = self.nfa, self.lowerer, self.building, self.parts
        self.nfa = self._sub_nfa()
        self.lowerer = self._lowerer(self.nfa)
        self.building = node
        self.parts = [] if self.direct else None
        try:
            s, e = self.nfa.state(), self.nfa.state()
            self.add(node, s, e)
            dfa = self.determinize(self.nfa, self.parts, s, e)
        finally:
            self.nfa, self.lowerer, self.building, self.parts = outer
        self.node_dfas[key] = dfa
        return dfa

    def determinize(
        self, nfa: NFA, parts: list[Part] | None, start: int, end: int
    ) -> ByteDFA | None:
        """The minimal DFA of ``nfa`` with ``parts`` joined in: directly where every part is
        entered deterministically, else by embedding them and subset construction."""
        dfa = self._unchecked_determinize(nfa, parts, start, end)
        if dfa is not None and dfa.n_states > self.options.state_budget:
            raise limit_error(self.options.state_budget)
        return dfa

    def _unchecked_determinize(
        self, nfa: NFA, parts: list[Part] | None, start: int, end: int
    ) -> ByteDFA | None:
        budget = self.working_budget
        if parts and sum(part.dfa.n_states for part in parts) >= _COMPOSE_ABOVE:
            try:
                table, accepting, class_of = compose(
                    nfa, parts, start, end, n_symbols=self.n_symbols, max_states=budget
                )
            except NotDeterministic:
                pass
            else:
                return finish(table, accepting, class_of)
        for part in parts or ():
            part.dfa.embed(nfa, part.src, part.dst)
        return from_nfa(nfa, start, end, n_symbols=self.n_symbols, max_states=budget)

    def expand_holes(self, dfa: ByteDFA | None) -> ByteDFA | None:
        """Spell out the counted strings' layers in the finished DFA."""
        if dfa is None or not self.holes:
            return dfa
        char = self._char_dfa
        assert char is not None  # one character always has a spelling
        ends = np.flatnonzero(char.accepting)
        n_symbols = self.n_symbols - len(self.holes)
        expanded = expand(
            dfa.transitions, dfa.class_of, dfa.accepting,
            {symbol: bounds for bounds, symbol in self.holes.items()},
            (char.transitions, char.class_of, int(ends[0])), n_symbols,
        )
        if expanded is None:  # no counted string made it into the language
            return replace(dfa, class_of=np.ascontiguousarray(dfa.class_of[:n_symbols]))
        table, class_of, accepting, counters = expanded
        if table.shape[0] > self.options.state_budget:
            raise limit_error(self.options.state_budget)
        return ByteDFA(table, accepting, class_of, accept_distances(table, accepting), counters)

    def relabel_markers(self, dfa: ByteDFA | None) -> ByteDFA | None:
        """Write the tracked arrays' markers back as bytes (:mod:`.unique`)."""
        if dfa is None or not self.markers:
            return dfa
        relabeled = relabel(dfa.transitions, dfa.class_of, self.markers)
        if relabeled is None:  # no tracked array made it into the language
            return replace(dfa, class_of=np.ascontiguousarray(dfa.class_of[:self.markers[0]]))
        table, class_of, unique = relabeled
        return ByteDFA(table, dfa.accepting, class_of, accept_distances(table, dfa.accepting),
                       dfa.counters, unique)

    def _Call(self, node: ir.Call, src: int, dst: int) -> None:
        self.nfa.edge(src, symbol_mask(self.call_base + node.module), dst)

    def _Never(self, node: ir.Never, src: int, dst: int) -> None:
        """No edge: nothing gets from src to dst."""

    def _Union(self, node: ir.Union, src: int, dst: int) -> None:
        for option in node.options:
            self.add(option, src, dst)

    def _Literal(self, node: ir.Literal, src: int, dst: int) -> None:
        for text in node.texts:
            self._value(json.loads(text), src, dst)

    def _value(self, value: Any, src: int, dst: int) -> None:
        src = self.before_token(src)
        if isinstance(value, str):
            self._string_text(value, src, dst)
        elif isinstance(value, bool) or value is None:
            self.text(src, dst, json.dumps(value))
        elif isinstance(value, (int, float)) and self.canonical:
            self._canonical_value(value, src, dst)
        elif isinstance(value, int):
            self.text(src, dst, str(value))
            if self.options.integer_fraction:
                self._integer_fraction(str(value), src, dst)
        elif isinstance(value, float):
            self.text(src, dst, json.dumps(value))
            if value.is_integer() and abs(value) < 1e16:
                self.text(src, dst, str(int(value)))
        elif isinstance(value, list):
            self.punct(src, (cur := self.new()), "[")
            for i, item in enumerate(value):
                if i:
                    self.item_sep(cur, (cur2 := self.new()))
                    cur = cur2
                self._value(item, cur, (cur := self.new()))
            self.punct(cur, dst, "]")
        elif isinstance(value, dict):
            self.punct(src, (cur := self.new()), "{")
            for i, (key, item) in enumerate(value.items()):
                if i:
                    self.item_sep(cur, (cur2 := self.new()))
                    cur = cur2
                self._string_text(key, self.before_token(cur), (k := self.new()))
                self.key_sep(k, (v := self.new()))
                self._value(item, v, (cur := self.new()))
            self.punct(cur, dst, "}")

    def _canonical_value(self, value: int | float, src: int, dst: int) -> None:
        """A number literal in its canonical spelling (``.0`` too where integers may have it)."""
        if isinstance(value, float) and not value.is_integer():
            self.text(src, dst, format(Decimal(repr(value)), "f"))
            return
        digits = str(int(value))
        self.text(src, dst, digits)
        if self.options.integer_fraction:
            self.text(src, dst, digits + ".0")

    def _integer_fraction(self, digits: str, src: int, dst: int) -> None:
        point = self.new()
        self.text(src, point, digits + ".")
        zeros = self.new()
        self.nfa.edge(point, 1 << 0x30, zeros)
        self.nfa.edge(zeros, 1 << 0x30, zeros)
        self.nfa.epsilon(zeros, dst)

    def _string_text(self, value: str, src: int, dst: int) -> None:
        """A JSON string literal, accepting every escape spelling of each character."""
        cur = self.new()
        self.quote(src, cur, OPEN)
        for ch in value:
            nxt = self.new()
            cp = ord(ch)
            add_chars(self.nfa, cur, nxt, normalize([(cp, cp)]), json_string=True,
                      lowerer=self.lowerer)
            cur = nxt
        self.quote(cur, dst, CLOSE)

    def quote(self, src: int, dst: int, role: int) -> None:
        """A string's opening or closing quote: a marker in the items of a tracked array."""
        if self.tracking:
            self.nfa.edge(src, symbol_mask(self.markers[role]), dst)
        else:
            self.text(src, dst, b'"')

    def _AnyValue(self, node: ir.AnyValue, src: int, dst: int) -> None:
        self.text(src, dst, b"null")
        self.text(src, dst, b"true")
        self.text(src, dst, b"false")
        self._NumberNode(ir.NumberNode(), src, dst)
        self._StringNode(ir.StringNode(), src, dst)
        if node.depth > 0:
            inner = ir.AnyValue(node.depth - 1)
            self._ArrayNode(ir.ArrayNode(items=inner), src, dst)
            self._ObjectNode(
                ir.ObjectNode(extras=(ir.ExtraProperties(ir.StringNode(), inner),)), src, dst
            )

    # -- numbers --------------------------------------------------------------------
    def _IntegerNode(self, node: ir.IntegerNode, src: int, dst: int) -> None:
        if self.canonical:
            self._canonical_number(node, src, dst)
            return
        mid = self.new()
        if node.multiple_of is None:
            add_integer_range(self.nfa, src, mid, node.minimum, node.maximum,
                              lowerer=self.lowerer)
        else:
            self._multiple_of(node, src, mid)
        self.nfa.epsilon(mid, dst)
        if self.options.integer_fraction:
            self._integer_fraction("", mid, dst)

    def _multiple_of(self, node: ir.IntegerNode, src: int, dst: int) -> None:
        assert node.multiple_of is not None
        if node.multiple_of > self.options.state_budget:
            raise GrammarLimitError(
                f"multipleOf {node.multiple_of} needs one state per remainder",
                limit="state_budget", reached=node.multiple_of,
            )
        self._intersection(src, dst, (
            lambda n, s, e: add_integer_range(n, s, e, node.minimum, node.maximum,
                                              lowerer=Lowerer(n)),
            lambda n, s, e: add_multiple_of(n, s, e, node.multiple_of),
        ))

    def _intersection(
        self, src: int, dst: int, builds: tuple[Callable[[NFA, int, int], object], ...]
    ) -> None:
        """Connect src to dst by the strings every build accepts (bounds and multiples)."""
        parts = []
        for build in builds:
            sub = self._sub_nfa()
            s, e = sub.state(), sub.state()
            build(sub, s, e)
            part = from_nfa(sub, s, e, n_symbols=self.n_symbols, max_states=self.working_budget)
            if part is None:
                return
            parts.append(part)
        result = parts[0]
        for part in parts[1:]:
            narrowed = result.intersect(part, max_states=self.working_budget)
            if narrowed is None:
                return
            result = narrowed
        result.embed(self.nfa, src, dst)

    def _decimal_multiple(self, node: ir.NumberNode, src: int, dst: int) -> None:
        """Plain decimals (no exponent: every multiple has such a spelling) in the bounds
        that are multiples of ``node.multiple_of``."""
        assert node.multiple_of is not None
        _sign, digits, exponent = node.multiple_of.as_tuple()
        assert isinstance(exponent, int)
        m, k = int("".join(map(str, digits))) * 10 ** max(exponent, 0), max(-exponent, 0)
        while m % 10 == 0 and k > 0:  # keep k least: 0.50 is 5 * 10**-1
            m, k = m // 10, k - 1
        states = m * (k + 2 if k else 1) + 4  # k = 0: the remainders, then ".0*"
        if states > self.options.state_budget:
            raise GrammarLimitError(
                f"multipleOf {node.multiple_of} needs {states} states (remainder by "
                "fraction position)", limit="state_budget", reached=states,
            )
        unbounded = node.minimum is None and node.maximum is None
        if unbounded:
            add_decimal_multiple(self.nfa, src, dst, m, k)
            return
        self._intersection(src, dst, (
            lambda n, s, e: _plain_number_range(n, s, e, node, Lowerer(n)),
            lambda n, s, e: add_decimal_multiple(n, s, e, m, k),
        ))

    def _NumberNode(self, node: ir.NumberNode, src: int, dst: int) -> None:
        if self.canonical:
            self._canonical_number(node, src, dst)
            return
        if node.multiple_of is not None:
            self._decimal_multiple(node, src, dst)
            return
        lo, hi = node.minimum, node.maximum
        exponent = r"[eE][+-]?[0-9]+"
        unbounded = lo is None and hi is None
        _plain_number_range(self.nfa, src, dst, node, self.lowerer)
        # Exponent forms: only where a whole sign half lies inside the bounds.
        positive_ok = hi is None and (lo is None or lo <= 0)
        negative_ok = lo is None and (hi is None or hi >= 0)
        mantissa = r"(?:[1-9][0-9]*(?:\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)"
        if unbounded:
            mantissa = r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
        if positive_ok:
            self._regex(f"^{mantissa}{exponent}$", src, dst)
        if negative_ok:
            self._regex(f"^-{mantissa}{exponent}$", src, dst)

    def _canonical_number(self, node: ir.IntegerNode | ir.NumberNode, src: int, dst: int
                          ) -> None:
        """The node's numbers in their canonical spelling only: its language intersected
        with :data:`_CANONICAL`."""
        if node not in self.canonical_dfas:
            self.canonical = False
            try:
                written = self._node_dfa(node)
            finally:
                self.canonical = True
            plain = self._plain_numbers
            self.canonical_dfas[node] = None if written is None or plain is None else (
                written.intersect(plain, max_states=self.working_budget))
        dfa = self.canonical_dfas[node]
        if dfa is not None:
            self._join(dfa, src, dst)

    @cached_property
    def _plain_numbers(self) -> ByteDFA | None:
        pattern = _CANONICAL_FRACTION if self.options.integer_fraction else _CANONICAL
        return self._constraint_dfa(
            lambda n, s, e, low: add_branches(n, s, e, parse_ecma(pattern), json_string=False,
                                              lowerer=low)
        )

    def _join(self, dfa: ByteDFA, src: int, dst: int) -> None:
        """Connect src to dst by ``dfa``: as a part where parts are joined, else embedded."""
        if self.parts is not None:
            self.parts.append(Part(src, dfa, dst))
        else:
            dfa.embed(self.nfa, src, dst)

    def _regex(self, pattern: str, src: int, dst: int) -> None:
        add_branches(self.nfa, src, dst, parse_ecma(pattern), json_string=False,
                     lowerer=self.lowerer)

    # -- strings --------------------------------------------------------------------
    def _sub_nfa(self) -> NFA:
        return NFA(max_states=self.nfa.max_states, timeout_s=self.nfa.timeout_s,
                   deadline=self.nfa.deadline)

    def _constraint_dfa(self, fill: Any) -> ByteDFA | None:
        sub = self._sub_nfa()
        s, e = sub.state(), sub.state()
        fill(sub, s, e, self._lowerer(sub))
        return from_nfa(sub, s, e, n_symbols=self.n_symbols,
                        max_states=self.working_budget)

    def _content_dfa(self, node: ir.StringNode) -> ByteDFA | None:
        """The string's content (between quotes) as one DFA: all constraints intersected."""
        if node in self.string_dfas:
            return self.string_dfas[node]
        budget = self.working_budget
        dfas: list[ByteDFA | None] = []
        if node.min_length or node.max_length is not None:
            dfas.append(self._length_dfa(node.min_length, node.max_length))
        for pattern in node.patterns:
            branches = _parse(pattern, node.pointer, "pattern")
            dfas.append(self._constraint_dfa(
                lambda n, s, e, low, b=branches: add_branches(n, s, e, b, json_string=True,
                                                              lowerer=low)
            ))
        for name in node.formats:
            regex = _formats.format_regex(name, self.options.leap_seconds)
            branches = _parse(regex, node.pointer, "format")
            dfas.append(self._constraint_dfa(
                lambda n, s, e, low, b=branches: add_branches(n, s, e, b, json_string=True,
                                                              lowerer=low)
            ))
        if node.excluded or node.forbidden_patterns:
            universe = self._constraint_dfa(lambda n, s, e, low: _length(n, s, e, 0, None, low))
            forbidden_branches = [
                _parse(p, node.pointer, "patternProperties") for p in node.forbidden_patterns
            ]

            def fill(n: NFA, s: int, e: int, low: Lowerer) -> None:
                for name in node.excluded:
                    _chars_text(n, s, e, name, low)
                for b in forbidden_branches:
                    add_branches(n, s, e, b, json_string=True, lowerer=low)

            forbidden = self._constraint_dfa(fill)
            if universe is not None:
                dfas.append(
                    universe if forbidden is None
                    else forbidden.complement_within(universe, max_states=budget)
                )
        result: ByteDFA | None
        if not dfas:
            result = self._constraint_dfa(lambda n, s, e, low: _length(n, s, e, 0, None, low))
        else:
            result = dfas[0]
            for other in dfas[1:]:
                if result is None or other is None:
                    result = None
                    break
                result = result.intersect(other, max_states=budget)
        self.string_dfas[node] = result
        return result

    @cached_property
    def _char_dfa(self) -> ByteDFA | None:
        """One character inside a JSON string, in every spelling."""
        return self._constraint_dfa(
            lambda n, s, e, lo: add_chars(n, s, e, ANY_CHAR, json_string=True, lowerer=lo)
        )

    def _length_dfa(self, low: int, high: int | None) -> ByteDFA | None:
        """String content of ``low..high`` characters: copies of one character's DFA."""
        if not self.direct:
            return self._constraint_dfa(lambda n, s, e, lo: _length(n, s, e, low, high, lo))
        char = self._char_dfa
        sub = self._sub_nfa()
        end = sub.state()
        count = low if high is None else high
        joints = [sub.state() for _ in range(count + 1)]
        parts = [Part(joints[i], char, joints[i + 1]) for i in range(count)] if char else []
        for i in range(low, count + 1):
            sub.epsilon(joints[i], end)
        if high is None and char is not None:
            parts.append(Part(joints[low], char, joints[low]))
        return self.determinize(sub, parts, joints[0], end)

    def _StringNode(self, node: ir.StringNode, src: int, dst: int) -> None:
        bounds = counted_bounds(node)
        if bounds in self.holes and not (self.tracking or self.spelled):  # body, quote: a symbol
            opened = self.new()
            self.text(src, opened, b'"')
            self.nfa.edge(opened, symbol_mask(self.holes[bounds]), dst)
            return
        if node == ir.StringNode():
            loop = self.new()
            add_chars(self.nfa, loop, loop, ANY_CHAR, json_string=True, lowerer=self.lowerer)
            self.quote(src, loop, OPEN)
            self.quote(loop, dst, CLOSE)
            return
        content = self._content_dfa(node)
        if content is None:
            return
        open_quote, close_quote = self.new(), self.new()
        self.quote(src, open_quote, OPEN)
        content.embed(self.nfa, open_quote, close_quote)
        self.quote(close_quote, dst, CLOSE)

    # -- arrays ---------------------------------------------------------------------
    def _ArrayNode(self, node: ir.ArrayNode, src: int, dst: int) -> None:
        opened = self.new()
        tracked = node.tracked
        if tracked:
            self.nfa.edge(src, symbol_mask(self.markers[ARRAY]), opened)
        else:
            self.punct(src, opened, "[")
        if node.unique and not tracked:
            self._unique_items(node, opened, dst)
            return
        if node.contains:
            self._counted_items(node, opened, dst)
            return
        has_more = not isinstance(node.items, ir.Never)
        limit = node.max_items
        if not has_more:
            limit = len(node.prefix) if limit is None else min(limit, len(node.prefix))
        if node.min_items > (limit if limit is not None else node.min_items):
            return
        if node.min_items == 0:
            self.ws(opened, (w := self.new()))
            self.text(w, dst, b"]")
        unrolled = max(len(node.prefix), node.min_items, 1)
        if limit is not None:
            unrolled = limit
        cur = opened
        for i in range(unrolled):
            item = node.prefix[i] if i < len(node.prefix) else node.items
            if isinstance(item, ir.Never):
                return  # no array reaches position i, so none continues past it
            start = cur
            if i:
                start = self.new()
                self._item_sep(cur, start, tracked)
            after = self.new()
            self._item(item, start, after, tracked)
            cur = after
            if i + 1 >= node.min_items:
                self.punct(cur, dst, "]")
        if limit is None and has_more:
            # Unbounded tail: loop on the last unrolled position.
            start = self.new()
            self._item_sep(cur, start, tracked)
            self._item(node.items, start, cur, tracked)

    def _item_sep(self, src: int, dst: int, tracked: bool) -> None:
        """The item separator; its comma a marker in a tracked array."""
        if not tracked:
            self.item_sep(src, dst)
            return
        separator = self.options.item_separator
        if self.flexible:
            self.ws(src, (src := self.new()))
            separator = separator.strip() or separator
        before, _, after = separator.partition(",")
        if before:
            self.text(src, (src := self.new()), before)
        mid = self.new() if after else dst
        self.nfa.edge(src, symbol_mask(self.markers[COMMA]), mid)
        if after:
            self.text(mid, dst, after)

    def _item(self, item: ir.Node, src: int, dst: int, tracked: bool) -> None:
        outer, self.tracking = self.tracking, tracked
        try:
            self.add(item, src, dst)
        finally:
            self.tracking = outer

    def _unique_items(self, node: ir.ArrayNode, opened: int, dst: int) -> None:
        """Items drawn from finite literal sets, no value twice: a state is the set of
        values used so far (JSON-equal spellings, ``1`` and ``1.0``, count as one)."""
        layer: dict[frozenset[Any], int] = {frozenset(): opened}
        position = 0
        while layer:
            more = node.max_items is None or position < node.max_items
            choices = _value_classes(
                node.prefix[position] if position < len(node.prefix) else node.items
            ) if more else {}
            following: dict[frozenset[Any], int] = {}
            for used, state in layer.items():
                if position >= node.min_items:
                    self._close_array(state, position, dst)
                if not choices.keys() - used:
                    continue
                start = state
                if position:
                    self.item_sep(state, (start := self.new()))
                for key, literal in choices.items():
                    if key not in used:
                        self.add(literal, start, self._state(following, used | {key}))
            layer = following
            position += 1

    def _counted_items(self, node: ir.ArrayNode, opened: int, dst: int) -> None:
        """Items, with those each ``contains`` node matches counted: a state is (items
        written, matches so far per node, saturated at its largest bound). Past the prefix
        and ``minItems`` an unbounded array's layer loops on itself."""
        conditions = node.contains
        limit = node.max_items
        if isinstance(node.items, ir.Never):
            limit = len(node.prefix) if limit is None else min(limit, len(node.prefix))
        steady = max(len(node.prefix), node.min_items, 1)
        layer: dict[tuple[int, ...], int] = {(0,) * len(conditions): opened}
        position = 0
        while layer:
            if position >= node.min_items:
                for counts, state in layer.items():
                    if _enough(conditions, counts):
                        self._close_array(state, position, dst)
            if limit is not None and position >= limit:
                return
            item = node.prefix[position] if position < len(node.prefix) else node.items
            if isinstance(item, ir.Never):
                return
            classes = self._item_classes(item, conditions)
            if limit is None and position >= steady:
                self._counted_loop(layer, classes, conditions, position, dst)
                return
            following: dict[tuple[int, ...], int] = {}
            for counts, state in layer.items():
                start = state
                if position:
                    self.item_sep(state, (start := self.new()))
                for hits, dfa in classes:
                    after = _counted(conditions, counts, hits)
                    if after is not None:
                        self._join(dfa, start, self._state(following, after))
            layer = following
            position += 1

    def _counted_loop(
        self, layer: dict[tuple[int, ...], int], classes: list[tuple[tuple[int, ...], ByteDFA]],
        conditions: tuple[ir.Contains, ...], position: int, dst: int,
    ) -> None:
        """Any number of further items, each leading back into the layer (new counts get
        states of their own, closing the array where their bounds hold)."""
        todo = list(layer)
        while todo:
            counts = todo.pop()
            start = self.new()
            self.item_sep(layer[counts], start)
            for hits, dfa in classes:
                after = _counted(conditions, counts, hits)
                if after is None:
                    continue
                if after not in layer:
                    layer[after] = self.new()
                    todo.append(after)
                    if _enough(conditions, after):
                        self._close_array(layer[after], position, dst)
                self._join(dfa, start, layer[after])

    def _item_classes(
        self, item: ir.Node, conditions: tuple[ir.Contains, ...]
    ) -> list[tuple[tuple[int, ...], ByteDFA]]:
        """The item's texts split by which conditions they match (1) or miss (0). A match
        is any text of the item the condition accepts; a miss only a canonical spelling it
        rejects, which is exact where the condition accepts the canonical spelling of
        every value it matches (the normalizer checks: schema.contains)."""
        key = (item, conditions, self.canonical)
        if key in self.item_classes:
            return self.item_classes[key]
        outer = self.spelled
        self.spelled = True  # a hole would stand for strings that match and strings that miss
        try:
            written = self._value_dfa(item, self.canonical)
            canonical = self._value_dfa(item, True)
            matchers = [self._value_dfa(c.node, self.canonical) for c in conditions]
        finally:
            self.spelled = outer
        budget = self.working_budget
        classes = []
        for hits in product((1, 0), repeat=len(conditions)):
            dfa = written if all(hits) else canonical
            for hit, matcher in zip(hits, matchers, strict=True):
                if dfa is None:
                    break
                if hit:
                    dfa = None if matcher is None else dfa.intersect(matcher, max_states=budget)
                elif matcher is not None:
                    dfa = matcher.complement_within(dfa, max_states=budget)
            if dfa is not None:
                classes.append((hits, dfa))
        self.item_classes[key] = classes
        return classes

    def _value_dfa(self, node: ir.Node, canonical: bool) -> ByteDFA | None:
        """``node`` as one DFA with the whitespace that may precede it, so that item and
        condition DFAs agree on where a value starts."""
        outer, self.canonical = self.canonical, canonical
        try:
            return self._node_dfa(ir.Sequence((node,)))
        finally:
            self.canonical = outer

    def _close_array(self, state: int, count: int, dst: int) -> None:
        if count == 0:
            self.ws(state, (w := self.new()))
            self.text(w, dst, b"]")
        else:
            self.punct(state, dst, "]")

    # -- objects --------------------------------------------------------------------
    def _ObjectNode(self, node: ir.ObjectNode, src: int, dst: int) -> None:
        """Declared members in order, then extras. A state is (members written, saturated
        at the largest bound; names whose presence a later dependency or the presence rule
        still asks about):
        with no bounds and no dependencies that is just "none yet" / "some"."""
        opened = self.new()
        self.punct(src, opened, "{")
        rules = _ObjectRules(node)
        states: dict[tuple[int, frozenset[str]], int] = {(0, frozenset()): opened}
        for index, prop in enumerate(node.properties):
            states = self._declared_member(rules, index, prop, states)
        if not states:
            return  # a required member has no value: no object is valid
        counts = {count: state for (count, _), state in states.items()}
        extras = [e for e in node.extras if not isinstance(e.value, ir.Never)]
        if extras:
            counts = self._extra_members(rules, extras, counts)
        for count, state in counts.items():
            if count < node.min_properties:
                continue
            if count == 0:
                self.ws(state, (w := self.new()))
                self.text(w, dst, b"}")
            else:
                self.punct(state, dst, "}")

    def _declared_member(
        self, rules: _ObjectRules, index: int, prop: ir.Property,
        states: dict[tuple[int, frozenset[str]], int],
    ) -> dict[tuple[int, frozenset[str]], int]:
        """The states after deciding whether ``prop`` is written. Sources leading to the
        same state share one copy of the member, entered with or without a separator."""
        live = rules.live_after[index]
        after: dict[tuple[int, frozenset[str]], int] = {}
        members: dict[tuple[int, frozenset[str]], int] = {}
        present = frozenset((prop.name,))
        for (count, names), state in states.items():
            if (not prop.required and rules.may_skip(prop.name, names)
                    and rules.admits(index, names)):
                self.nfa.epsilon(state, self._state(after, (count, names & live)))
            if (isinstance(prop.value, ir.Never) or not rules.may_write(prop.name, names, count)
                    or not rules.admits(index, names | present)):
                continue
            key = (rules.step(count), (names | present) & live)
            if key not in members:
                members[key] = self.new()
                self._member(members[key], self._state(after, key), prop.name, prop.value)
            self._enter(state, count, members[key])
        return after

    def _extra_members(
        self, rules: _ObjectRules, extras: list[ir.ExtraProperties], counts: dict[int, int]
    ) -> dict[int, int]:
        """Any number of undeclared members, counted up to the largest bound."""
        loops: dict[int, int] = {}
        for count, state in counts.items():
            self.nfa.epsilon(state, self._state(loops, count))
        members: dict[int, int] = {}
        count = min(counts)
        while rules.has_room(count):
            target = rules.step(count)
            if target not in members:
                members[target] = self.new()
                for extra in extras:
                    key_end, value_start = self.new(), self.new()
                    self._StringNode(extra.key, self.before_token(members[target]), key_end)
                    self.key_sep(key_end, value_start)
                    self.add(extra.value, value_start, self._state(loops, target))
            self._enter(self._state(loops, count), count, members[target])
            if target == count:
                break
            count = target
        return loops

    def _state(self, states: dict[Any, int], key: Any) -> int:
        if key not in states:
            states[key] = self.new()
        return states[key]

    def _enter(self, state: int, count: int, member: int) -> None:
        """Into a member: directly when it is the first, else after a separator."""
        if count == 0:
            self.nfa.epsilon(state, member)
        else:
            self.item_sep(state, member)

    def _member(self, src: int, dst: int, name: str, value: ir.Node) -> None:
        key_end, value_start = self.new(), self.new()
        self._string_text(name, self.before_token(src), key_end)
        self.key_sep(key_end, value_start)
        self.add(value, value_start, dst)

    # -- grammar-level nodes --------------------------------------------------------
    def _Text(self, node: ir.Text, src: int, dst: int) -> None:
        self.text(src, dst, node.data)

    def _Special(self, node: ir.Special, src: int, dst: int) -> None:
        try:
            index = self.options.special_tokens.index(node.name)
        except ValueError:
            raise ValueError(
                f"special token {node.name!r} is not in special_tokens="
                f"{self.options.special_tokens!r}"
            ) from None
        self.nfa.edge(src, 1 << (256 + index), dst)

    def _Sequence(self, node: ir.Sequence, src: int, dst: int) -> None:
        cur = src
        for i, part in enumerate(node.parts):
            nxt = dst if i == len(node.parts) - 1 else self.new()
            self.add(part, cur, nxt)
            cur = nxt
        if not node.parts:
            self.nfa.epsilon(src, dst)

    def _Repeat(self, node: ir.Repeat, src: int, dst: int) -> None:
        if node.min == 0:
            self.nfa.epsilon(src, dst)
        cur = src
        count = max(node.min, 1) if node.max is None else node.max
        for i in range(count):
            start = cur
            if i:
                start = self.new()
                self.text(cur, start, node.separator)
            after = self.new()
            self.add(node.node, start, after)
            cur = after
            if i + 1 >= node.min:
                self.nfa.epsilon(cur, dst)
        if node.max is None:
            start = self.new()
            self.text(cur, start, node.separator)
            self.add(node.node, start, cur)

    def _FreeText(self, node: ir.FreeText, src: int, dst: int) -> None:
        budget = self.working_budget
        universe = self._constraint_dfa(
            lambda n, s, e, low: _free_length(n, s, e, node.max_bytes, low)
        )
        if universe is None:
            return
        if node.stop:
            containing = self._constraint_dfa(
                lambda n, s, e, low: [
                    add_branches(n, s, e, parse_ecma(_escape_regex(stop)), json_string=False,
                                 lowerer=low)
                    for stop in node.stop
                ]
            )
            if containing is not None:
                universe = containing.complement_within(universe, max_states=budget)
        if universe is not None:
            universe.embed(self.nfa, src, dst)


class _ObjectRules:
    """An object's counting bounds, dependencies and presence rule, as checks on builder
    states."""

    def __init__(self, node: ir.ObjectNode) -> None:
        self.cap = node.max_properties
        self.top = max(1, node.min_properties, node.max_properties or 0)
        position = {prop.name: i for i, prop in enumerate(node.properties)}
        # needs[a]: names declared before `a` that `a` depends on (written first, or `a`
        # is not written); needed_by[b]: names declared before `b` that depend on it (if
        # one was written, `b` cannot be skipped). live_after[i]: the names whose
        # presence a member after position i still asks about.
        self.needs: dict[str, set[str]] = {}
        self.needed_by: dict[str, set[str]] = {}
        self.live_after: list[frozenset[str]] = []
        spans = []
        for a, b in node.dependencies:
            if position[b] < position[a]:
                self.needs.setdefault(a, set()).add(b)
            elif position[a] < position[b]:
                self.needed_by.setdefault(b, set()).add(a)
            early, late = sorted((a, b), key=position.__getitem__)
            spans.append((position[early], position[late], early))
        # The presence rule's names stay live up to the last of them. prefixes[i]: the
        # sets of those names decided by position i that some allowed set extends, so a
        # state is dropped as soon as no completion can satisfy the rule.
        self.asked: frozenset[str] = frozenset()
        self.prefixes: dict[int, set[frozenset[str]]] = {}
        if node.presence is not None and node.presence.names:
            self.asked = frozenset(node.presence.names)
            last = max(position[n] for n in self.asked)
            spans += [(position[n], last, n) for n in self.asked]
            for name in self.asked:
                decided = frozenset(n for n in self.asked if position[n] <= position[name])
                self.prefixes[position[name]] = {a & decided for a in node.presence.allowed}
        for i in range(len(node.properties)):
            self.live_after.append(frozenset(n for lo, hi, n in spans if lo <= i < hi))

    def step(self, count: int) -> int:
        return min(count + 1, self.top)

    def has_room(self, count: int) -> bool:
        return self.cap is None or count < self.cap

    def may_write(self, name: str, written: frozenset[str], count: int) -> bool:
        return self.has_room(count) and self.needs.get(name, set()) <= written

    def may_skip(self, name: str, written: frozenset[str]) -> bool:
        return not (self.needed_by.get(name, set()) & written)

    def admits(self, index: int, written: frozenset[str]) -> bool:
        """Whether the presence rule can still hold once member ``index`` is decided."""
        prefixes = self.prefixes.get(index)
        return prefixes is None or written & self.asked in prefixes


def _counted(conditions: tuple[ir.Contains, ...], counts: tuple[int, ...],
             hits: tuple[int, ...]) -> tuple[int, ...] | None:
    """Match counts after one more item (None: past a ``maxContains``); a count without a
    maximum stops at its minimum, where it no longer matters."""
    after = []
    for condition, count, hit in zip(conditions, counts, hits, strict=True):
        count += hit
        if condition.maximum is not None and count > condition.maximum:
            return None
        after.append(count if condition.maximum is not None else min(count, condition.minimum))
    return tuple(after)


def _enough(conditions: tuple[ir.Contains, ...], counts: tuple[int, ...]) -> bool:
    return all(c.minimum <= n for c, n in zip(conditions, counts, strict=True))


def _value_classes(node: ir.Node) -> dict[Any, ir.Literal]:
    """A finite item language split into its distinct JSON values, each a ``Literal`` of
    all its spellings; the normalizer only marks arrays unique whose items are literals."""
    options = node.options if isinstance(node, ir.Union) else (node,)
    texts: dict[Any, list[str]] = {}
    for option in options:
        if isinstance(option, ir.Never):
            continue
        if not isinstance(option, ir.Literal):
            raise ValueError(f"uniqueItems needs literal items, not {type(option).__name__}")
        for text in option.texts:
            texts.setdefault(ir.value_key(json.loads(text)), []).append(text)
    return {key: ir.Literal(tuple(group)) for key, group in texts.items()}


def _escape_regex(text: str) -> str:
    return "".join("\\" + c if c in "\\^$.|?*+()[]{}-/" else c for c in text)


def _parse(pattern: str, pointer: str, keyword: str) -> Any:
    try:
        return parse_ecma(pattern)
    except PatternError as exc:
        raise UnsupportedSchemaError(
            f"pattern {pattern!r}: {exc}", pointer=pointer, keyword=keyword
        ) from None


def _length(nfa: NFA, src: int, dst: int, low: int, high: int | None, lowerer: Lowerer) -> None:
    if high is not None and high < low:
        return  # no string has that many characters
    cur = src
    for _ in range(low):
        nxt = nfa.state()
        add_chars(nfa, cur, nxt, ANY_CHAR, json_string=True, lowerer=lowerer)
        cur = nxt
    if high is None:
        add_chars(nfa, cur, cur, ANY_CHAR, json_string=True, lowerer=lowerer)
        nfa.epsilon(cur, dst)
        return
    for _ in range(high - low):
        nfa.epsilon(cur, dst)
        nxt = nfa.state()
        add_chars(nfa, cur, nxt, ANY_CHAR, json_string=True, lowerer=lowerer)
        cur = nxt
    nfa.epsilon(cur, dst)


def _free_length(nfa: NFA, src: int, dst: int, high: int | None, lowerer: Lowerer) -> None:
    """Any UTF-8 text of at most ``high`` bytes (characters approximate bytes here)."""
    if high is None:
        add_chars(nfa, src, src, ANY_CHAR, json_string=False, lowerer=lowerer)
        nfa.epsilon(src, dst)
        return
    cur = src
    for _ in range(high):
        nfa.epsilon(cur, dst)
        nxt = nfa.state()
        add_chars(nfa, cur, nxt, ANY_CHAR, json_string=False, lowerer=lowerer)
        cur = nxt
    nfa.epsilon(cur, dst)


def _chars_text(nfa: NFA, src: int, dst: int, text: str, lowerer: Lowerer) -> None:
    cur = src
    for i, ch in enumerate(text):
        nxt = dst if i == len(text) - 1 else nfa.state()
        cp = ord(ch)
        add_chars(nfa, cur, nxt, normalize([(cp, cp)]), json_string=True, lowerer=lowerer)
        cur = nxt
    if not text:
        nfa.epsilon(src, dst)


def _plain_number_range(nfa: NFA, src: int, dst: int, node: ir.NumberNode,
                        lowerer: Lowerer) -> None:
    """Numbers in the node's bounds written ``-?I(.F)?`` (no exponent)."""
    lo, hi = node.minimum, node.maximum
    lo_ex, hi_ex = node.exclusive_minimum, node.exclusive_maximum
    # Non-negative side: [max(lo, 0), hi].
    if hi is None or hi > 0 or (hi == 0 and not hi_ex):
        if lo is None or lo < 0:
            a, a_ex = Decimal(0), False
        else:
            a, a_ex = lo, lo_ex
        add_decimal_range(nfa, src, dst, a, hi, a_ex, hi_ex, lowerer=lowerer)
    # Negative side: -[|min(hi,0)|, |lo|].
    if lo is None or lo < 0 or (lo == 0 and not lo_ex):
        if hi is None or hi > 0:
            b, b_ex = Decimal(0), False
        else:
            b, b_ex = -hi, hi_ex
        neg = nfa.state()
        nfa.edge(src, 1 << ord("-"), neg)
        top = None if lo is None else -lo
        add_decimal_range(nfa, neg, dst, b, top, b_ex, lo_ex, lowerer=lowerer)
