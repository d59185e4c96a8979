"""Inputs the fuzzers found that crashed or hung the compiler, each ending cleanly now."""

from __future__ import annotations

import pytest

import structgen
from structgen.errors import GrammarLimitError, SchemaError, UnsupportedSchemaError
from structgen.schema.patterns import search
from structgen.testing import assert_language


def _nested(levels: int) -> dict:
    schema: dict = {}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


@pytest.mark.parametrize("text", [
    '{"type": "integer", "maximum": ' + "9" * 5000 + "}",  # ValueError: int digits limit
    b'{"type": "string", "pattern": "\xff"}',  # UnicodeDecodeError
    '{"items": ' * 3000 + "{}" + "}" * 3000,  # RecursionError in json.loads
])
def test_schema_text_that_json_cannot_load_is_a_schema_error(text: str | bytes) -> None:
    with pytest.raises(SchemaError, match="not valid JSON"):
        structgen.compile(text)


def _deep_enum(levels: int) -> dict:
    value: list = []
    for _ in range(levels):
        value = [value]
    return {"enum": [value]}


# jsonschema's metaschema check recursed past Python's limit (a misleading SchemaError) or
# the normalizer did (RecursionError).
@pytest.mark.parametrize("schema", [_nested(200), _deep_enum(5000)])
def test_deep_documents_hit_the_nesting_limit(schema: dict) -> None:
    with pytest.raises(GrammarLimitError) as info:
        structgen.compile(schema)
    assert info.value.limit == "nesting"


def test_the_schema_size_limit() -> None:
    schema = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(60)}}
    structgen.compile(schema, max_schema_nodes=1000, state_budget=20_000)
    with pytest.raises(GrammarLimitError) as info:
        structgen.compile(schema, max_schema_nodes=100)
    assert info.value.limit == "max_schema_nodes"


def test_catastrophic_pattern_properties_match_in_linear_time() -> None:
    # Python's re took exponential time deciding whether "aaa...ab" matches ^(a+)+$.
    name = "a" * 60 + "b"
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}},
              "properties": {name: {"type": "string"}}, "required": [name],
              "additionalProperties": False}
    assert_language(schema, accepts=[f'{{"{name}": "x"}}'], rejects=[f'{{"{name}": 1}}'])


def test_catastrophic_pattern_against_enum_values() -> None:
    schema = {"type": "string", "pattern": "^(a|aa)+$", "enum": ["a" * 60 + "b", "aaaa"]}
    assert_language(schema, accepts=['"aaaa"'], rejects=['"' + "a" * 60 + 'b"'])


def test_validate_matches_patterns_as_ecma_searches() -> None:
    grammar = structgen.compile({"type": "string", "pattern": "^(a+)+$", "maxLength": 80},
                                state_budget=20_000)
    assert grammar.validate("a" * 60 + "b") != []  # fast, not exponential
    assert grammar.validate("a" * 60) == []
    ecma_digits = structgen.compile({"type": "string", "pattern": "^\\d+$", "maxLength": 3})
    assert ecma_digits.validate("١٢") != []  # ECMA \d is ASCII only; Python's re says valid


@pytest.mark.parametrize(("pattern", "text", "found"), [
    ("^(a+)+$", "a" * 5000 + "b", False), ("a$", "xa", True), ("^$", "", True),
    ("^a|b$", "zb", True), ("^a|b$", "bz", False), ("x{2,3}", "axxb", True),
    ("(?i)ab", "xAB", True), (".", "\n", False), ("^[^a]$", "b", True),
])
def test_linear_search(pattern: str, text: str, found: bool) -> None:
    assert search(pattern, text) is found


def test_a_huge_enum_is_not_quadratic() -> None:
    # Each value was validated against every source's enum again: len(enum) squared checks.
    with pytest.raises(GrammarLimitError):
        structgen.compile({"enum": list(range(30_000))}, state_budget=20_000, timeout_s=60)
    grammar = structgen.compile({"allOf": [{"enum": list(range(300))},
                                           {"enum": list(range(0, 600, 2))}]})
    assert grammar.accepts("298") and not grammar.accepts("299")


@pytest.mark.parametrize(("schema", "error", "pointer"), [
    ({"const": 10**5000}, SchemaError, "/const"),  # ValueError printing the integer
    ({"enum": [float("inf"), 1]}, UnsupportedSchemaError, "/enum"),  # grammar said Infinity
    ({"const": float("nan")}, UnsupportedSchemaError, "/const"),
    ({"type": "integer", "multipleOf": float("inf")}, UnsupportedSchemaError, "/multipleOf"),
    ({"$schema": True, "type": "string"}, SchemaError, "/$schema"),  # AttributeError
    # re.compile raised ValueError (not re.error) on a count past 4300 digits.
    ({"type": "string", "pattern": "a{1" + "0" * 5000 + "}"}, UnsupportedSchemaError, "/pattern"),
    # A 2020-12 keyword in a draft-04 document (its metaschema does not check `$defs`).
    ({"$schema": "http://json-schema.org/draft-04/schema#",
      "$defs": {"f": {"type": "string", "format": []}},
      "properties": {"a": {"$ref": "#/$defs/f"}}}, SchemaError, "/$defs/f/format"),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "prefixItems": 5},
     SchemaError, "/prefixItems"),
    ({"$schema": "http://json-schema.org/draft-04/schema#",  # AttributeError in urljoin
      "properties": {"a": {"$ref": {"type": "string"}}}}, SchemaError, "/properties/a/$ref"),
    # A $ref into an unknown keyword's value, which the metaschema check never visits: its
    # `required` held an object (TypeError: unhashable type).
    ({"x-response": {"type": "object", "required": [{"type": "string"}]},
      "properties": {"r": {"$ref": "#/x-response"}}}, SchemaError, "/x-response/required/0"),
])
def test_values_python_allows_but_json_does_not(
    schema: dict, error: type[Exception], pointer: str
) -> None:
    with pytest.raises(error) as info:
        structgen.compile(schema)
    assert info.value.pointer == pointer  # type: ignore[attr-defined]


def test_1e400_as_a_bound_is_unbounded() -> None:
    grammar = structgen.compile('{"type": "integer", "maximum": 1e400, "minimum": -1e400}')
    assert grammar.accepts("123456789012345678901234567890")
