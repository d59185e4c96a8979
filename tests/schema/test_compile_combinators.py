"""allOf (merged), anyOf (union) and oneOf (union when provably disjoint)."""

from __future__ import annotations

import pytest

from structgen import UnsatisfiableSchemaError, UnsupportedSchemaError
from structgen.testing import assert_compile_error, assert_language


class TestAllOf:
    def test_numeric_bounds_merge(self) -> None:
        assert_language(
            {"allOf": [{"type": "integer", "minimum": 0}, {"maximum": 10}, {"multipleOf": 2}]},
            accepts=["0", "4", "10"],
            rejects=["-2", "3", "12"],
        )

    def test_tighter_bound_wins(self) -> None:
        assert_language(
            {"allOf": [{"type": "integer", "minimum": 0, "maximum": 100},
                       {"minimum": 5, "maximum": 50}]},
            accepts=["5", "50"],
            rejects=["4", "51"],
        )
        assert_language(
            {"allOf": [{"type": "integer", "minimum": 5},
                       {"exclusiveMinimum": 5}]},
            accepts=["6"],
            rejects=["5"],
        )

    def test_type_intersection(self) -> None:
        assert_language(
            {"allOf": [{"type": ["string", "integer", "null"]}, {"type": ["integer", "null"]}]},
            accepts=["1", "null"],
            rejects=['"a"'],
        )

    def test_allof_with_ref(self) -> None:
        assert_language(
            {"$defs": {"named": {"type": "object", "properties": {"name": {"type": "string"}},
                                 "required": ["name"]}},
             "allOf": [{"$ref": "#/$defs/named"},
                       {"properties": {"age": {"type": "integer"}}}]},
            accepts=['{"name": "a"}', '{"name": "a", "age": 3}'],
            rejects=['{"age": 3}', '{"name": "a", "age": "x"}'],
        )

    def test_string_constraints_merge(self) -> None:
        assert_language(
            {"allOf": [{"type": "string", "minLength": 2}, {"maxLength": 3},
                       {"pattern": "^a"}]},
            accepts=['"ab"', '"abc"'],
            rejects=['"a"', '"abcd"', '"bc"'],
        )

    @pytest.mark.parametrize(
        "schema",
        [
            {"allOf": [{"type": "string"}, {"type": "integer"}]},
            {"allOf": [{"type": "string", "minLength": 3}, {"maxLength": 2}]},
            {"allOf": [{"type": "integer", "minimum": 5}, {"maximum": 4}]},
            {"allOf": [{"const": "a"}, {"const": "b"}]},
            {"allOf": [{"enum": [1, 2]}, {"enum": [3]}]},
            {"type": "integer", "minimum": 5, "maximum": 4},
            {"type": "array", "minItems": 3, "maxItems": 2},
            {"type": "array", "prefixItems": [{"type": "null"}], "items": False, "minItems": 2},
            {"type": "object", "properties": {"a": False}, "required": ["a"]},
            {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2},
            False,
        ],
    )
    def test_unsatisfiable(self, schema: object) -> None:
        assert_compile_error(schema, UnsatisfiableSchemaError)

    def test_unsatisfiable_branch_of_a_union_is_dropped(self) -> None:
        assert_language(
            {"anyOf": [{"allOf": [{"type": "string"}, {"type": "integer"}]},
                       {"type": "null"}]},
            accepts=["null"],
            rejects=['"a"', "1"],
        )


class TestAnyOf:
    def test_union_of_types(self) -> None:
        assert_language(
            {"anyOf": [{"type": "string", "maxLength": 1}, {"type": "integer", "minimum": 100}]},
            accepts=['"a"', '""', "100", "1000"],
            rejects=['"ab"', "99", "null", "true"],
        )

    def test_union_with_shared_siblings(self) -> None:
        # Siblings of anyOf apply to every branch.
        assert_language(
            {"type": "integer", "maximum": 10,
             "anyOf": [{"minimum": 8}, {"maximum": 2}]},
            accepts=["8", "10", "2", "-5"],
            rejects=["5", "11"],
        )

    def test_overlapping_branches_are_fine(self) -> None:
        assert_language(
            {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 10}]},
            accepts=["-5", "5", "50"],
        )

    def test_union_of_objects(self) -> None:
        assert_language(
            {"anyOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
                 "additionalProperties": False},
                {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"],
                 "additionalProperties": False},
            ]},
            accepts=['{"a": 1}', '{"b": "x"}'],
            rejects=['{"a": "x"}', '{"a": 1, "b": "x"}', "{}"],
        )

    def test_two_anyofs_under_allof_multiply(self) -> None:
        assert_language(
            {"allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]},
                       {"anyOf": [{"type": "string"}, {"type": "null"}]}]},
            accepts=['"s"'],
            rejects=["1", "null"],
        )

    def test_pydantic_optional_shape(self) -> None:
        assert_language(
            {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            accepts=['"2024-01-31"', "null"],
            rejects=['"2024-01-32"', '""'],
        )


class TestOneOf:
    def test_disjoint_types(self) -> None:
        assert_language(
            {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            accepts=['"a"', "1"],
            rejects=["null", "1.5"],
        )

    def test_disjoint_by_const_discriminator(self) -> None:
        assert_language(
            {"oneOf": [
                {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}},
                 "required": ["kind"], "additionalProperties": False},
                {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}},
                 "required": ["kind"], "additionalProperties": False},
            ]},
            accepts=['{"kind": "a", "x": 1}', '{"kind": "b", "y": "s"}', '{"kind": "a"}'],
            rejects=['{"kind": "a", "y": "s"}', '{"kind": "c"}', '{"x": 1}'],
        )

    def test_disjoint_literals(self) -> None:
        assert_language(
            {"oneOf": [{"enum": ["a", "b"]}, {"enum": ["c"]}, {"type": "null"}]},
            accepts=['"a"', '"c"', "null"],
            rejects=['"d"'],
        )

    def test_disjoint_integer_ranges(self) -> None:
        assert_language(
            {"oneOf": [{"type": "integer", "maximum": 0}, {"type": "integer", "minimum": 1}]},
            accepts=["0", "1", "-4", "9"],
        )

    def test_overlap_is_unsupported(self) -> None:
        # Overlapping string lengths are negated exactly; number bounds are not.
        assert_compile_error(
            {"oneOf": [{"type": "number", "maximum": 3}, {"type": "number", "minimum": 2}]},
            UnsupportedSchemaError, pointer="/oneOf", keyword="oneOf",
        )

    def test_integer_and_number_overlap(self) -> None:
        assert_compile_error(
            {"type": "object",
             "properties": {"x": {"oneOf": [{"type": "integer"}, {"type": "number"}]}}},
            UnsupportedSchemaError, pointer="/properties/x/oneOf", keyword="oneOf",
        )

    def test_overlap_is_post_validated_when_not_strict(self) -> None:
        grammar = assert_language(
            {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 10}]},
            accepts=["-5", "5", "50"],
            strict=False,
        )
        assert [(u.pointer, u.keyword) for u in grammar.unenforced] == [("/oneOf", "oneOf")]
        assert grammar.validate(5) != []
        assert grammar.validate(50) == []
