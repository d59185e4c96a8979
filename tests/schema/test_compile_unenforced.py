"""Keywords the grammar cannot enforce: an error with strict=True, listed and post-validated
with strict=False."""

from __future__ import annotations

import pytest

from structgen import UnsupportedSchemaError, compile
from structgen.testing import assert_compile_error, assert_language

CASES = [
    # (schema, pointer, keyword, an instance the grammar accepts but validate() refuses)
    ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
     "/uniqueItems", "uniqueItems", [1, 1]),
    ({"type": "integer", "not": {"const": 3}}, "/not", "not", 3),
    ({"type": "object",
      "properties": {"kind": {"type": "string"}, "size": {"type": "integer"}},
      "if": {"properties": {"size": {"minimum": 100}}},
      "then": {"properties": {"kind": {"const": "big"}}}},
     "/if", "if", {"kind": "small", "size": 200}),
    ({"type": "object",
      "properties": {"tags": {"type": "array", "items": {"type": "integer"},
                              "uniqueItems": True}}},
     "/properties/tags/uniqueItems", "uniqueItems", {"tags": [1, 1]}),
    ({"type": "array", "contains": {"type": "object", "required": ["a", "b"]}},
     "/contains", "contains", [{"a": 1}]),
    ({"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 4096},
     "/maxProperties", "maxProperties", {f"k{i}": i for i in range(4097)}),
    ({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
      "dependentSchemas": {"a": {"if": {"properties": {"b": {"minimum": 3}}},
                                 "then": {"required": ["c"]}}}},
     "/dependentSchemas/a/if", "if", {"a": 1, "b": 3}),
]


@pytest.mark.parametrize(("schema", "pointer", "keyword", "violating"), CASES)
def test_strict_raises_with_pointer_and_keyword(
    schema: dict, pointer: str, keyword: str, violating: object
) -> None:
    exc = assert_compile_error(schema, UnsupportedSchemaError, pointer=pointer, keyword=keyword)
    assert "strict=False" in str(exc)


@pytest.mark.parametrize(("schema", "pointer", "keyword", "violating"), CASES)
def test_lenient_lists_and_post_validates(
    schema: dict, pointer: str, keyword: str, violating: object
) -> None:
    grammar = compile(schema, strict=False)
    assert [(u.pointer, u.keyword, u.post_validated) for u in grammar.unenforced] == [
        (pointer, keyword, True)
    ]
    assert keyword in str(grammar.unenforced[0])
    text = grammar.serialize(violating)
    assert grammar.accepts(text), "the rest of the schema is still enforced"
    errors = grammar.validate(violating)
    assert errors, f"validate() missed the {keyword} violation in {text}"


def test_lenient_grammar_still_enforces_the_rest() -> None:
    grammar = assert_language(
        {"type": "array", "items": {"type": "integer"}, "uniqueItems": True, "maxItems": 3},
        accepts=["[1, 2]", "[1, 1]"],
        rejects=['["a"]', "[1, 2, 3, 4]"],
        strict=False,
    )
    assert grammar.validate([1, 2]) == []
    errors = grammar.validate([1, 1])
    assert len(errors) == 1 and errors[0].startswith("/: ") and "unique" in errors[0]


def test_validate_reports_the_instance_path() -> None:
    grammar = compile(CASES[3][0], strict=False)
    assert grammar.validate({"tags": [1, 1]})[0].startswith("/tags: ")


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "uniqueItems": False},
        {"type": "array", "uniqueItems": True, "maxItems": 1},
        {"type": "integer", "not": False},
        {"type": "object", "if": {"required": ["a"]}},
        {"type": "object", "minProperties": 0},
    ],
)
def test_trivially_enforced_forms_are_not_unenforced(schema: dict) -> None:
    assert compile(schema).unenforced == ()


def test_enforced_schema_has_nothing_unenforced() -> None:
    grammar = compile({"type": "object", "properties": {"a": {"type": "string",
                                                             "pattern": "^x"}}})
    assert grammar.unenforced == ()
    assert grammar.validate({"a": "xy"}) == []
    assert grammar.validate({"a": "y"}) != []


def test_post_validated_format_check_uses_the_format_checker() -> None:
    grammar = compile({"type": "array", "items": {"type": "string", "format": "date"},
                       "uniqueItems": True}, strict=False)
    assert grammar.validate(["2024-02-30"]) != []


@pytest.mark.parametrize(
    ("schema", "accepts", "rejects"),
    [
        ({"allOf": [{"enum": [1, 2, 3, 4]}, {"not": {"enum": [2, 3]}}]},
         ["1", "4"], ["2", "3", "5"]),
        ({"enum": [{"a": 1}, {"a": 1, "b": 2}, {}], "minProperties": 1, "maxProperties": 1},
         ['{"a": 1}'], ['{"a": 1, "b": 2}', "{}"]),
        ({"enum": [[1, 1], [1, 2]], "uniqueItems": True}, ["[1, 2]"], ["[1, 1]"]),
        ({"type": "number", "if": {"maximum": 4}, "then": {"minimum": 4},
          "else": {"minimum": 6}, "enum": [1, 4, 5, 7]},
         ["4", "7"], ["1", "5"]),
        ({"enum": [{"a": 1}, {"b": 1}, {"a": 1, "b": 1}],
          "dependentRequired": {"a": ["b"]}},
         ['{"b": 1}', '{"a": 1, "b": 1}'], ['{"a": 1}']),
        # oneOf with overlapping options: each enum value is checked for exactly one match.
        ({"enum": [1, 2, 3], "oneOf": [{"minimum": 2}, {"maximum": 2}]},
         ["1", "3"], ["2"]),
        ({"$defs": {"small": {"maximum": 2}},
          "enum": [1, 2, 3], "not": {"$ref": "#/$defs/small"}}, ["3"], ["1", "2"]),
    ],
)
def test_finite_enum_enforces_validator_only_keywords(
    schema: dict, accepts: list[str], rejects: list[str]
) -> None:
    grammar = assert_language(schema, accepts=accepts, rejects=rejects, spec_faithful=True)
    assert grammar.unenforced == ()


def test_enum_filtered_to_nothing_is_unsatisfiable() -> None:
    from structgen import UnsatisfiableSchemaError

    assert_compile_error({"enum": [1, 2], "not": {"type": "integer"}}, UnsatisfiableSchemaError)
