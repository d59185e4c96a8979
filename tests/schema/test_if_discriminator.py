"""`if` that tells objects apart by one property's values, and `not` over values: exact,
as jsonschema decides."""

from __future__ import annotations

import itertools

import pytest

import structgen
from structgen.errors import UnsupportedSchemaError
from structgen.testing import assert_agrees_with_jsonschema

BASE = {"kind": {"enum": ["a", "b", "c"]}, "x": {"type": "integer"}, "y": {"type": "string"}}

SCHEMAS = [
    {"type": "object", "properties": BASE,
     "if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]},
     "else": {"properties": {"x": {"maximum": 3}}}},
    {"type": "object", "properties": BASE,
     "if": {"properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"]},
     "then": {"properties": {"y": {"const": "yes"}}}},
    {"properties": BASE,  # no type: non-objects pass `if` and meet `then`
     "if": {"type": "object", "properties": {"kind": {"const": "c"}}},
     "then": {"required": ["y"]}, "else": {"not": {"type": "string"}}},
    {"type": "object", "properties": BASE, "allOf": [
        {"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}},
        {"if": {"properties": {"kind": {"const": "b"}}}, "then": {"required": ["y"]}},
    ]},
    {"type": "object", "properties": {"kind": {"type": "string"}, "x": {"type": "integer"}},
     "if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]},
     "else": {"properties": {"x": False}}},
]


def _instances() -> list[object]:
    found: list[object] = [None, 1, "s", [], "yes"]
    for kind, x, y in itertools.product([None, "a", "b", "c", "z"], [None, 1, 7],
                                        [None, "yes", "no"]):
        value = {k: v for k, v in (("kind", kind), ("x", x), ("y", y)) if v is not None}
        found.append(value)
    return found


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_if_on_a_property_value_matches_jsonschema(schema: dict) -> None:
    assert_agrees_with_jsonschema(schema, _instances(), spec_faithful=True)


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"const": "a"}, "type": "string", "maxLength": 2},
        {"not": {"enum": [None, True, "x"]}},
        {"type": "object", "properties": {"k": {"not": {"enum": ["a", "b"]}}}},
        {"enum": [1, 2, 3], "not": {"const": 2}},
    ],
)
def test_not_over_values_matches_jsonschema(schema: dict) -> None:
    values = [None, True, False, 1, 2, 3, "", "a", "b", "x", "ab", [], {}]
    instances = [x for v in values for x in (v, {"k": v})]
    assert_agrees_with_jsonschema(schema, instances, spec_faithful=True)


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"const": 3}},  # a number left out of a range: not supported
        {"if": {"properties": {"k": {"minimum": 3}}}, "then": {"required": ["k"]}},
        {"if": {"properties": {"k": {"const": 1}, "j": {"const": 2}}}, "then": {}, "else": {}},
    ],
)
def test_other_conditions_stay_unsupported(schema: dict) -> None:
    with pytest.raises(UnsupportedSchemaError):
        structgen.compile(schema)


@pytest.mark.parametrize("draft", ["draft-07", "2020-12"])
def test_refs_in_if_and_then(draft: str) -> None:
    # Before 2019-09 a `$ref` hides its siblings: the condition added to `then` must not.
    uri = ("http://json-schema.org/draft-07/schema#" if draft == "draft-07"
           else "https://json-schema.org/draft/2020-12/schema")
    schema = {"$schema": uri, "type": "object",
              "definitions": {"isA": {"properties": {"kind": {"const": "a"}},
                                      "required": ["kind"]},
                              "needX": {"required": ["x"]}},
              "properties": {"kind": {"enum": ["a", "b"]}, "x": {"type": "integer"}},
              "if": {"$ref": "#/definitions/isA"}, "then": {"$ref": "#/definitions/needX"},
              "else": {"not": {"required": ["x"]}}}
    instances = [{}, {"x": 1}, {"kind": "a"}, {"kind": "a", "x": 1}, {"kind": "b"},
                 {"kind": "b", "x": 1}]
    assert_agrees_with_jsonschema(schema, instances, spec_faithful=True)
