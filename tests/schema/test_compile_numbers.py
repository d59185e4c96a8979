"""Integers and numbers: bounds (inclusive, exclusive, draft-04), multipleOf, exponents."""

from __future__ import annotations

from structgen.testing import assert_language

DRAFT4 = "http://json-schema.org/draft-04/schema#"


class TestIntegers:
    def test_json_integer_syntax(self) -> None:
        assert_language(
            {"type": "integer"},
            accepts=["0", "-0", "7", "-7", "1234567890123456789012345678901234567890"],
            rejects=["007", "-", "+1", "1.", ".1", "1.0", "1e2", "0x10", " 1", "1 ", "--1"],
        )

    def test_inclusive_bounds_with_negatives(self) -> None:
        assert_language(
            {"type": "integer", "minimum": -5, "maximum": 12},
            accepts=["-5", "-4", "-1", "0", "-0", "9", "10", "12"],
            rejects=["-6", "-10", "-50", "13", "20", "100", "120"],
        )

    def test_bounds_at_zero(self) -> None:
        assert_language(
            {"type": "integer", "minimum": 0},
            accepts=["0", "1", "99999999999999999999"],
            rejects=["-1", "-99999999999999999999"],
        )
        assert_language(
            {"type": "integer", "maximum": 0},
            accepts=["0", "-0", "-1", "-99999999999999999999"],
            rejects=["1", "10"],
        )

    def test_negative_only_range(self) -> None:
        assert_language(
            {"type": "integer", "minimum": -300, "maximum": -20},
            accepts=["-300", "-299", "-100", "-21", "-20"],
            rejects=["-301", "-19", "-2", "0", "20", "-1000"],
        )

    def test_huge_bounds(self) -> None:
        big = 10**30
        assert_language(
            {"type": "integer", "minimum": big, "maximum": big + 5},
            accepts=[str(big), str(big + 5)],
            rejects=[str(big - 1), str(big + 6), str(big * 10), "0"],
        )
        assert_language(
            {"type": "integer", "minimum": -(2**63)},
            accepts=[str(-(2**63)), "0", str(2**64)],
            rejects=[str(-(2**63) - 1), str(-(2**64))],
        )

    def test_exclusive_bounds(self) -> None:
        assert_language(
            {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            accepts=["1", "5", "9"],
            rejects=["0", "-0", "10", "-1", "11"],
        )

    def test_fractional_bounds_round_inwards(self) -> None:
        assert_language(
            {"type": "integer", "minimum": -2.5, "maximum": 3.5},
            accepts=["-2", "0", "3"],
            rejects=["-3", "4"],
        )
        assert_language(
            {"type": "integer", "exclusiveMinimum": 1.5, "exclusiveMaximum": 4.0},
            accepts=["2", "3"],
            rejects=["1", "4"],
        )

    def test_draft04_boolean_exclusive_bounds(self) -> None:
        assert_language(
            {"$schema": DRAFT4, "type": "integer", "minimum": 0, "exclusiveMinimum": True,
             "maximum": 10, "exclusiveMaximum": True},
            accepts=["1", "9"],
            rejects=["0", "10"],
        )
        assert_language(
            {"$schema": DRAFT4, "type": "integer", "minimum": 0, "exclusiveMinimum": False,
             "maximum": 10, "exclusiveMaximum": False},
            accepts=["0", "10"],
            rejects=["-1", "11"],
        )

    def test_multiple_of(self) -> None:
        assert_language(
            {"type": "integer", "multipleOf": 3},
            accepts=["0", "3", "-3", "9", "300", "-999", "123456789"],
            rejects=["1", "-1", "4", "301", "-1000", "12345679"],
        )

    def test_multiple_of_with_bounds(self) -> None:
        assert_language(
            {"type": "integer", "multipleOf": 5, "minimum": -12, "maximum": 23},
            accepts=["-10", "-5", "0", "5", "20"],
            rejects=["-15", "25", "-12", "23", "7"],
        )

    def test_multiple_of_one_and_unit_fractions_are_no_constraint(self) -> None:
        assert_language({"type": "integer", "multipleOf": 1}, accepts=["7", "-3"])
        assert_language({"type": "integer", "multipleOf": 0.5}, accepts=["7", "-3"])

    def test_multiple_of_intersection_is_lcm(self) -> None:
        assert_language(
            {"allOf": [{"type": "integer", "multipleOf": 4}, {"multipleOf": 6}]},
            accepts=["0", "12", "24", "-36"],
            rejects=["4", "6", "8", "18"],
        )

    def test_number_with_integer_multiple_of_is_an_even_number(self) -> None:
        # A number, not an integer: 4.0 spells a multiple of 2 even in the default mode.
        assert_language(
            {"type": "number", "multipleOf": 2},
            accepts=["2", "-4", "0", "4.0", "-4.00"],
            rejects=["3", "2.5", "4.01", "1.0e1"],
        )

    def test_spec_faithful_accepts_integral_fractions(self) -> None:
        # JSON Schema counts 1.0 as an integer.
        assert_language(
            {"type": "integer", "minimum": 0, "maximum": 3},
            accepts=["1", "1.0", "3.00", "0.0"],
            rejects=["1.5", "4.0", "-1.0", "1."],
            spec_faithful=True,
        )
        assert_language({"type": "integer"}, accepts=["1"], rejects=["1.0"])

    def test_draft04_integers_have_no_fraction_even_when_spec_faithful(self) -> None:
        # Draft 4 defines an integer by its spelling; 1.0 became an integer in draft 6.
        assert_language(
            {"$schema": DRAFT4, "type": "integer"},
            accepts=["1", "-3"],
            rejects=["1.0", "-3.00"],
            spec_faithful=True,
        )


class TestNumbers:
    def test_json_number_syntax(self) -> None:
        assert_language(
            {"type": "number"},
            accepts=["0", "-0", "0.5", "-0.5", "10.25", "1e5", "1E5", "1e+5", "1e-5", "1.5E-10",
                     "-2.5e3", "0e0", "0.0"],
            rejects=["01", "1.", ".5", "-.5", "+1", "1e", "1e+", "e5", "1.5.5", "NaN",
                     "Infinity", "-Infinity", "0x1", "1_000", "--1"],
        )

    def test_integer_bounds(self) -> None:
        assert_language(
            {"type": "number", "minimum": -1, "maximum": 1},
            accepts=["-1", "-0.999", "0", "0.5", "1", "1.0", "1.000", "-1.0"],
            rejects=["-1.001", "1.001", "1.0000001", "2", "-2", "10", "1e5"],
        )

    def test_fractional_bounds(self) -> None:
        assert_language(
            {"type": "number", "minimum": 0.5, "maximum": 2.25},
            accepts=["0.5", "0.50", "0.51", "0.500001", "1", "2", "2.2", "2.25", "2.250"],
            rejects=["0.49", "0.4999999", "0", "-1", "2.26", "2.2500001", "3", "22.5", "10"],
        )

    def test_exclusive_fractional_bounds(self) -> None:
        assert_language(
            {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 2.25},
            accepts=["0.50001", "0.6", "1", "2.24999"],
            rejects=["0.5", "0.500", "2.25", "2.2500", "0.4", "3"],
        )

    def test_exclusive_minimum_zero(self) -> None:
        assert_language(
            {"type": "number", "exclusiveMinimum": 0},
            accepts=["0.0001", "0.1", "1", "123.5", "1e5", "1e-5", "2.5E+3"],
            rejects=["0", "-0", "0.0", "0.000", "-0.1", "-1", "0e5", "-1e5", "0.0e1"],
        )

    def test_exclusive_maximum_zero(self) -> None:
        assert_language(
            {"type": "number", "exclusiveMaximum": 0},
            accepts=["-0.0001", "-1", "-1e5", "-1e-5"],
            rejects=["0", "-0", "0.0", "-0.0", "1", "1e5", "0.1"],
        )

    def test_negative_fractional_range(self) -> None:
        assert_language(
            {"type": "number", "minimum": -2.5, "maximum": -0.25},
            accepts=["-2.5", "-2", "-1.75", "-0.25", "-0.3"],
            rejects=["-2.51", "-0.24", "0", "-0", "0.5", "-3"],
        )

    def test_draft04_boolean_exclusive_bounds(self) -> None:
        assert_language(
            {"$schema": DRAFT4, "type": "number", "minimum": 0.5, "exclusiveMinimum": True,
             "maximum": 1.5, "exclusiveMaximum": True},
            accepts=["0.6", "1", "1.49"],
            rejects=["0.5", "1.5", "1.50"],
        )

    def test_exponent_forms_never_escape_the_bounds(self) -> None:
        # Exponents are written freely only where they cannot leave the range.
        assert_language(
            {"type": "number", "minimum": 0},
            accepts=["1e300", "2.5e-3", "0"],
            rejects=["-1e3", "-2.5e-3"],
        )
        assert_language(
            {"type": "number", "maximum": 100},
            rejects=["1e3", "2e2", "1.01e2"],
        )

    def test_single_point_range(self) -> None:
        assert_language(
            {"type": "number", "minimum": 1.5, "maximum": 1.5},
            accepts=["1.5", "1.50"],
            rejects=["1.4", "1.6", "1", "2"],
        )
