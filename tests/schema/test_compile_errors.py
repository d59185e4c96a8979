"""Errors name the pointer and keyword: invalid, unsupported, unsatisfiable, over budget."""

from __future__ import annotations

import pytest

import structgen
from structgen import (
    GrammarLimitError,
    SchemaError,
    StructgenError,
    UnsatisfiableSchemaError,
    UnsupportedSchemaError,
    compile,
)
from structgen.testing import assert_compile_error


class TestInvalidSchemas:
    def test_malformed_json_text(self) -> None:
        exc = assert_compile_error('{"type": ', SchemaError, pointer="")
        assert type(exc) is SchemaError
        assert "not valid JSON" in str(exc)
        assert "line 1 column 10" in str(exc)

    @pytest.mark.parametrize("schema", [[1], [], 5, 1.5, None, "[1]", "5"])
    def test_not_a_schema_object(self, schema: object) -> None:
        exc = assert_compile_error(schema, SchemaError, pointer="")
        assert type(exc) is SchemaError

    @pytest.mark.parametrize(
        ("schema", "pointer"),
        [
            ({"type": 5}, "/type"),
            ({"type": "strin"}, "/type"),
            ({"properties": {"x": {"type": "strin"}}}, "/properties/x/type"),
            ({"minLength": -1}, "/minLength"),
            ({"required": "name"}, "/required"),
            ({"items": {"minItems": "3"}}, "/items/minItems"),
        ],
    )
    def test_wrong_keyword_values(self, schema: dict, pointer: str) -> None:
        exc = assert_compile_error(schema, SchemaError, pointer=pointer)
        assert type(exc) is SchemaError

    @pytest.mark.parametrize("pattern", ["(unclosed", "[z-a]", "a{2,1}"])
    def test_invalid_regex(self, pattern: str) -> None:
        exc = assert_compile_error({"properties": {"x": {"type": "string", "pattern": pattern}}},
                                   SchemaError, pointer="/properties/x/pattern")
        assert type(exc) is SchemaError

    def test_dangling_ref(self) -> None:
        exc = assert_compile_error({"properties": {"x": {"$ref": "#/$defs/missing"}}},
                                   SchemaError, pointer="/properties/x/$ref")
        assert type(exc) is SchemaError
        assert "#/$defs/missing" in str(exc)

    def test_dangling_anchor(self) -> None:
        exc = assert_compile_error({"$ref": "#nowhere"}, SchemaError, pointer="/$ref")
        assert type(exc) is SchemaError

    def test_error_message_starts_with_the_pointer(self) -> None:
        exc = assert_compile_error({"properties": {"x": {"$ref": "#/nope"}}}, SchemaError)
        assert str(exc).startswith("/properties/x/$ref: ")


class TestRefCycles:
    @pytest.mark.timeout(5)
    def test_self_reference_without_content(self) -> None:
        assert_compile_error({"$ref": "#"}, SchemaError, pointer="/$ref")

    @pytest.mark.timeout(5)
    def test_mutual_references_without_content(self) -> None:
        assert_compile_error(
            {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
             "$ref": "#/$defs/a"},
            SchemaError,
        )

    @pytest.mark.timeout(5)
    def test_required_recursive_property_has_no_base_case(self) -> None:
        assert_compile_error(
            {"type": "object", "properties": {"child": {"$ref": "#"}}, "required": ["child"]},
            UnsatisfiableSchemaError, pointer="/properties/child",
        )

    @pytest.mark.timeout(5)
    def test_recursive_array_with_min_items_has_no_base_case(self) -> None:
        assert_compile_error(
            {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}, "minItems": 1}},
             "$ref": "#/$defs/n"},
            UnsatisfiableSchemaError,
        )


class TestUnsupported:
    @pytest.mark.parametrize(
        "ref",
        ["http://example.com/schema.json", "https://example.com/s.json#/$defs/a",
         "other.json", "other.json#/a"],
    )
    def test_remote_ref(self, ref: str) -> None:
        exc = assert_compile_error({"properties": {"x": {"$ref": ref}}}, UnsupportedSchemaError,
                                   pointer="/properties/x/$ref", keyword="$ref")
        assert "inline" in exc.hint

    @pytest.mark.parametrize(
        "pattern",
        ["(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b", "(a)\\1", "(a)(b)\\2", "\\bword\\b", "\\Bx",
         "a(b|^c)"],
    )
    def test_non_regular_patterns(self, pattern: str) -> None:
        exc = assert_compile_error(
            {"type": "object", "properties": {"x": {"type": "string", "pattern": pattern}}},
            UnsupportedSchemaError, pointer="/properties/x/pattern", keyword="pattern",
        )
        assert "strict=False" in exc.hint

    def test_named_backreference(self) -> None:
        # ECMA-262 spelling of a backreference: valid regex, not a regular language.
        assert_compile_error(
            {"type": "object",
             "properties": {"x": {"type": "string", "pattern": "(?<n>a)\\k<n>"}}},
            UnsupportedSchemaError, pointer="/properties/x/pattern", keyword="pattern",
        )

    def test_unicode_property_escape_is_not_an_invalid_schema(self) -> None:
        # \p{L} is valid ECMA-262 (with the u flag JSON Schema uses): enforce it or say
        # it is unsupported, never call the schema invalid.
        schema = {"type": "string", "pattern": "^\\p{L}+$"}
        try:
            compile(schema)
        except UnsupportedSchemaError as exc:
            assert (exc.pointer, exc.keyword) == ("/pattern", "pattern")

    def test_non_regular_pattern_properties(self) -> None:
        assert_compile_error(
            {"type": "object", "patternProperties": {"(?=x)": {"type": "integer"}}},
            UnsupportedSchemaError, keyword="patternProperties",
        )

    @pytest.mark.parametrize("keyword", ["$dynamicRef", "$recursiveRef"])
    def test_dynamic_refs(self, keyword: str) -> None:
        assert_compile_error(
            {"$defs": {"a": {"$dynamicAnchor": "a", "type": "null"}},
             "properties": {"x": {keyword: "#a" if keyword == "$dynamicRef" else "#"}}},
            UnsupportedSchemaError, pointer="/properties/x", keyword=keyword,
        )

    def test_fractional_multiple_of_number_with_too_many_remainders(self) -> None:
        # 0.123456789 = 123456789e-9: a DFA would track 123456789 remainders.
        assert_compile_error({"type": "number", "multipleOf": 0.123456789},
                             UnsupportedSchemaError, pointer="/multipleOf", keyword="multipleOf")
        assert_compile_error({"type": "integer", "multipleOf": 0.123456789},
                             UnsupportedSchemaError, pointer="/multipleOf", keyword="multipleOf")

    def test_unsupported_is_a_schema_error(self) -> None:
        assert issubclass(UnsupportedSchemaError, SchemaError)
        assert issubclass(UnsatisfiableSchemaError, SchemaError)
        assert issubclass(GrammarLimitError, StructgenError)


class TestLimits:
    @pytest.mark.timeout(5)
    def test_long_strings_exceed_a_small_state_budget(self) -> None:
        exc = assert_compile_error({"type": "string", "maxLength": 5000}, GrammarLimitError,
                                   limit="state_budget", state_budget=1000)
        assert "state_budget" in str(exc)

    @pytest.mark.timeout(5)
    def test_many_items_exceed_a_small_state_budget(self) -> None:
        assert_compile_error(
            {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 200},
            GrammarLimitError, limit="state_budget", state_budget=2000,
        )

    @pytest.mark.timeout(5)
    def test_large_multiple_of_exceeds_a_small_state_budget(self) -> None:
        assert_compile_error({"type": "integer", "multipleOf": 7919}, GrammarLimitError,
                             limit="state_budget", state_budget=1000)

    @pytest.mark.timeout(5)
    def test_determinization_blowup_exceeds_a_small_state_budget(self) -> None:
        # "an a, 20 characters from the end" needs 2**20 DFA states.
        exc = assert_compile_error({"type": "string", "pattern": "a[ab]{20}$"},
                                   GrammarLimitError, limit="state_budget", state_budget=1000)
        assert exc.reached >= 1000

    @pytest.mark.timeout(5)
    def test_budget_bounds_the_minimal_automaton(self) -> None:
        # Subset construction of this union makes more states than minimization keeps:
        # the budget is on what is kept, so a budget of exactly that many states fits.
        same = {f"p{i}": {"type": "integer"} for i in range(8)}
        schema = {"anyOf": [{"type": "object", "properties": same, "required": ["p0"]},
                            {"type": "object", "properties": same, "required": ["p7"]}]}
        states = structgen.compile(schema).stats.states
        assert structgen.compile(schema, state_budget=states).stats.states == states
        exc = assert_compile_error(schema, GrammarLimitError, limit="state_budget",
                                   state_budget=states - 1)
        assert exc.reached == states - 1

    @pytest.mark.timeout(5)
    def test_timeout(self) -> None:
        # 2**21 DFA states fit the state budget given here; only the clock stops it.
        exc = assert_compile_error({"type": "string", "pattern": "^[ab]*a[ab]{20}$"},
                                   GrammarLimitError, limit="timeout_s", timeout_s=0.2,
                                   state_budget=10**7)
        assert "timeout_s=0.2" in str(exc)

    @pytest.mark.timeout(5)
    def test_large_anyof_product(self) -> None:
        branches = [{"anyOf": [{"minimum": i}, {"maximum": -i}, {"const": i}]} for i in range(6)]
        assert_compile_error({"type": "integer", "allOf": branches}, GrammarLimitError,
                             limit="union_size")
