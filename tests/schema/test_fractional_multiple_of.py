"""multipleOf with non-integer divisors: exact by value (rational arithmetic), no exponent."""

from __future__ import annotations

import math
import random
from collections import deque
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from structgen import compile
from structgen.automata.dfa import ByteDFA
from structgen.schema.validator import validator_for
from structgen.testing import assert_language

MODES = [{}, {"spec_faithful": True}]


@pytest.mark.parametrize("mode", MODES, ids=["default", "spec_faithful"])
class TestLanguage:
    def test_hundredths(self, mode: dict) -> None:
        assert_language(
            {"type": "number", "multipleOf": 0.01},
            accepts=["1.25", "3", "-0.5", "1.250", "0", "-0", "0.0", "3.00000", "0.07",
                     "19.99", "-123456789.01", "4.35"],
            rejects=["1.255", "0.001", "1.2501", "1e2", "1.5e0", "01", "1.", ".5", "-",
                     "0.0000001", "--1"],
            **mode,
        )

    def test_two_and_a_half_with_bounds(self, mode: dict) -> None:
        assert_language(
            {"type": "number", "multipleOf": 2.5, "minimum": -5, "maximum": 10},
            accepts=["-5", "-2.5", "0", "2.5", "5.0", "7.50", "10", "10.000", "-0"],
            rejects=["12.5", "-7.5", "1.25", "3", "10.5", "9.9", "2.50001", "1e1"],
            **mode,
        )

    def test_half_with_exclusive_maximum(self, mode: dict) -> None:
        assert_language(
            {"type": "number", "multipleOf": 0.5, "exclusiveMinimum": -1,
             "exclusiveMaximum": 2},
            accepts=["-0.5", "0", "0.5", "1", "1.5", "1.50"],
            rejects=["-1", "-1.0", "2", "2.0", "2.5", "0.25", "1.75"],
            **mode,
        )

    def test_two_divisors_through_all_of(self, mode: dict) -> None:
        # lcm(0.04, 0.06) = 0.12
        assert_language(
            {"allOf": [{"type": "number", "multipleOf": 0.04}, {"multipleOf": 0.06}]},
            accepts=["0", "0.12", "0.24", "-0.36", "1.2", "12"],
            rejects=["0.04", "0.06", "0.08", "0.18", "1", "0.3"],
            **mode,
        )

    def test_integral_lcm_of_fractions_is_an_integer_multiple(self, mode: dict) -> None:
        # lcm(2, 0.3) = 6; a number type, so 6.0 is a spelling of a multiple too
        assert_language(
            {"allOf": [{"type": "number", "multipleOf": 2}, {"multipleOf": 0.3}]},
            accepts=["0", "6", "-12", "600", "6.0", "-12.00"],
            rejects=["2", "0.3", "3", "0.6", "4", "6.5", "6e0"],
            **mode,
        )

    def test_integer_with_fractional_divisor(self, mode: dict) -> None:
        # An integer is a multiple of 2.5 = 5/2 iff it is a multiple of 5.
        grammar = assert_language(
            {"type": "integer", "multipleOf": 2.5, "minimum": -20},
            accepts=["0", "5", "-20", "15", "100"],
            rejects=["2", "7", "2.5", "-25", "12"],
            **mode,
        )
        assert grammar.accepts("5.0") == bool(mode)
        assert not grammar.accepts("2.0")

    def test_tiny_divisor(self, mode: dict) -> None:
        assert_language(
            {"type": "number", "multipleOf": 1e-8},
            accepts=["0.00000001", "0.00000003", "1", "-2.12345678", "0.000000010"],
            rejects=["0.000000001", "0.000000015", "1e-8"],
            **mode,
        )

    def test_divisor_with_odd_mantissa(self, mode: dict) -> None:
        # 0.07 = 7 * 10**-2
        assert_language(
            {"type": "number", "multipleOf": 0.07, "maximum": 1},
            accepts=["0", "0.07", "0.14", "0.98", "-0.7", "-7", "0.980"],
            rejects=["0.1", "0.08", "1.05", "0.0700001", "1"],
            **mode,
        )


def test_serialize_round_trips_multiples() -> None:
    for divisor, low, high in [(0.01, -3, 3), (2.5, -50, 50), (1e-5, 0, 1), (0.07, -2, 2)]:
        grammar = compile({"type": "number", "multipleOf": divisor,
                           "minimum": low, "maximum": high})
        step = Decimal(repr(divisor))
        rng = random.Random(divisor)
        for _ in range(200):
            n = rng.randint(int(low / divisor) - 1, int(high / divisor) + 1)
            value = float(n * step)
            if not low <= value <= high:
                continue
            text = grammar.serialize(value)
            assert grammar.accepts(text), (divisor, value, text)
        for value in (1e-05, 1e16, 0.07):
            text = compile({"type": "number", "multipleOf": 1e-5}).serialize(value)
            assert compile({"type": "number", "multipleOf": 1e-5}).accepts(text), text


def test_enum_next_to_multiple_of_is_checked_exactly() -> None:
    # jsonschema's float division finds 0.07 / 0.01 = 7.000000000000001, no multiple.
    assert_language({"enum": [0.07, 0.5, 0.071, 1], "multipleOf": 0.01},
                    accepts=["0.07", "0.5", "1"], rejects=["0.071"])


def test_validator_multiple_of_is_exact() -> None:
    validator = validator_for({"multipleOf": 0.01})
    assert [validator.is_valid(x) for x in (0.07, 1.13, 19.99, 3, "a")] == [True] * 5
    assert not validator.is_valid(0.071)
    assert not validator_for({"type": "integer", "multipleOf": 0.123456789}).is_valid(1e308)
    assert validator_for({"multipleOf": 1e-8}).is_valid(12391239123)


# -- differential: the grammar against exact rational arithmetic --------------------------

SCHEMAS: list[dict[str, Any]] = [
    {"type": "number", "multipleOf": 0.01},
    {"type": "number", "multipleOf": 0.5, "exclusiveMaximum": 3},
    {"type": "number", "multipleOf": 2.5, "minimum": -12.5, "maximum": 40},
    {"type": "number", "multipleOf": 0.3, "exclusiveMinimum": -1.2, "maximum": 2.45},
    {"type": "number", "multipleOf": 0.125, "minimum": 0},
    {"type": "number", "multipleOf": 1.5, "maximum": -0.75},
    {"allOf": [{"type": "number", "multipleOf": 0.4}, {"multipleOf": 0.25}]},
    {"type": "integer", "multipleOf": 0.75, "maximum": 100},
]


def _spec(schema: dict[str, Any]) -> tuple[Fraction, Any, Any, bool, bool, bool]:
    """(lcm divisor, lo, hi, lo exclusive, hi exclusive, integer) of one SCHEMAS entry."""
    parts = schema.get("allOf", [schema])
    divisors = [Fraction(Decimal(repr(p["multipleOf"]))) for p in parts]
    lcm = divisors[0]
    for d in divisors[1:]:
        lcm = Fraction(math.lcm(lcm.numerator, d.numerator),
                       math.gcd(lcm.denominator, d.denominator))
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    return (lcm, None if lo is None else Fraction(Decimal(repr(lo))),
            None if hi is None else Fraction(Decimal(repr(hi))),
            "exclusiveMinimum" in schema, "exclusiveMaximum" in schema,
            schema.get("type") == "integer")


def _valid(text: str, schema: dict[str, Any], spec_faithful: bool) -> bool:
    """Whether a plain decimal ``text`` is valid, by exact rational arithmetic."""
    lcm, lo, hi, lo_ex, hi_ex, integer = _spec(schema)
    value = Fraction(text)
    if integer and (value.denominator != 1 or ("." in text and not spec_faithful)):
        return False
    if value % lcm:
        return False
    if lo is not None and (value < lo or (lo_ex and value == lo)):
        return False
    return not (hi is not None and (value > hi or (hi_ex and value == hi)))


def _random_decimal(rng: random.Random, schema: dict[str, Any]) -> str:
    lcm = _spec(schema)[0]
    if rng.random() < 0.5:  # near a multiple, often exactly one
        value = Fraction(rng.randint(-60, 60)) * lcm
        if rng.random() < 0.3:
            value += Fraction(rng.choice([1, -1]), 10 ** rng.randint(1, 5))
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        if rng.random() < 0.4:
            text += ("" if "." in text else ".") + "0" * rng.randint(1, 3)
        return text
    integer = str(rng.randint(0, 10 ** rng.randint(0, 3)))
    sign = "-" if rng.random() < 0.4 else ""
    if rng.random() < 0.3:
        return sign + integer
    fraction = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 6)))
    return f"{sign}{integer}.{fraction}"


@pytest.mark.parametrize("spec_faithful", [False, True])
@pytest.mark.parametrize("index", range(len(SCHEMAS)))
def test_random_decimals_accepted_iff_exact_multiples(index: int, spec_faithful: bool) -> None:
    schema = SCHEMAS[index]
    grammar = compile(schema, spec_faithful=spec_faithful)
    rng = random.Random(index)
    wrong = []
    checked = {"valid": 0, "invalid": 0}
    for _ in range(1500):
        text = _random_decimal(rng, schema)
        valid = _valid(text, schema, spec_faithful)
        checked["valid" if valid else "invalid"] += 1
        if grammar.accepts(text) != valid:
            wrong.append((text, valid))
        exponent = f"{text}e{rng.randint(-3, 3)}"
        if grammar.accepts(exponent):
            wrong.append((exponent, "exponent form accepted"))
    assert not wrong, wrong[:20]
    assert checked["valid"] > 50 and checked["invalid"] > 50, checked


def _to_accepting(dfa: ByteDFA, state: int, moves: dict[int, list[tuple[int, int]]]) -> bytes:
    """Shortest bytes from ``state`` to an accepting state."""
    queue, seen = deque([(state, b"")]), {state}
    while queue:
        s, path = queue.popleft()
        if dfa.accepting[s]:
            return path
        for byte, t in moves[s]:
            if t not in seen:
                seen.add(t)
                queue.append((t, path + bytes([byte])))
    raise AssertionError("no accepting state reachable")


@pytest.mark.parametrize("spec_faithful", [False, True])
@pytest.mark.parametrize("index", range(len(SCHEMAS)))
def test_random_walks_are_exact_multiples(index: int, spec_faithful: bool) -> None:
    schema = SCHEMAS[index]
    dfa = compile(schema, spec_faithful=spec_faithful).dfa.to_dfa()
    moves: dict[int, list[tuple[int, int]]] = {}
    for s in range(dfa.n_states):
        moves[s] = [(b, int(dfa.transitions[s, dfa.class_of[b]])) for b in range(256)
                    if dfa.transitions[s, dfa.class_of[b]] >= 0]
    rng = random.Random(1000 + index)
    for _ in range(300):
        state, out = 0, b""
        while len(out) < 25 and moves[state]:
            if dfa.accepting[state] and rng.random() < 0.2:
                break
            byte, state = rng.choice(moves[state])
            out += bytes([byte])
        out += _to_accepting(dfa, state, moves)
        text = out.decode()
        assert _valid(text, schema, spec_faithful), (schema, text)
