"""Hand-written schemas for the property tests: small, exact, one keyword family each.

Patterns use only ASCII classes and anchors, where ECMA-262 (structgen) and Python's
``re`` (jsonschema, hypothesis-jsonschema) agree; no ``.``, ``\\d``, ``\\w`` or ``\\s``.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import jsonschema.protocols
import jsonschema.validators

from structgen import Grammar, compile
from structgen.testing import inline_refs, schema_instances

MAX_RECURSION = 3

SCHEMAS: dict[str, Any] = {
    "scalars": {"type": ["null", "boolean", "integer"]},
    "enum_const": {
        "type": "object",
        "properties": {
            "color": {"enum": ["red", "café", "日本", "😀", 'q"uote', None, 3]},
            "version": {"const": "v1"},
            "pair": {"enum": [[1, "a"], {"k": [True, None]}]},
        },
        "required": ["version"],
        "additionalProperties": False,
    },
    "integers": {
        "type": "object",
        "properties": {
            "small": {"type": "integer", "minimum": -5, "maximum": 12},
            "positive": {"type": "integer", "exclusiveMinimum": 0},
            "huge": {"type": "integer", "minimum": 10**20},
            "even": {"type": "integer", "multipleOf": 2, "maximum": 1000},
            "fives": {"type": "integer", "multipleOf": 5, "minimum": -100, "maximum": 100},
        },
        "additionalProperties": False,
    },
    "numbers": {
        "type": "object",
        "properties": {
            "ratio": {"type": "number", "minimum": 0.5, "maximum": 2.25},
            "positive": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            "negative": {"type": "number", "minimum": -1000, "exclusiveMaximum": -0.125},
            "free": {"type": "number"},
        },
        "additionalProperties": False,
    },
    "string_lengths": {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": 4},
        "maxItems": 4,
    },
    "patterns": {
        "type": "object",
        "properties": {
            "contains_a": {"type": "string", "pattern": "a", "maxLength": 8},
            "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
            "ends": {"type": "string", "pattern": "(x|yz)$", "maxLength": 6},
            "either": {"type": "string", "pattern": "^a|b$", "maxLength": 5},
        },
        "additionalProperties": False,
    },
    "formats": {
        "type": "object",
        "properties": {
            "day": {"type": "string", "format": "date"},
            "ip": {"type": "string", "format": "ipv4"},
            "id": {"type": "string", "format": "uuid"},
        },
        "additionalProperties": False,
    },
    "tuple": {
        "type": "array",
        "prefixItems": [{"type": "string", "maxLength": 3}, {"type": "integer"},
                        {"type": "boolean"}],
        "items": False,
        "minItems": 1,
    },
    "bounded_list": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 9},
        "minItems": 1,
        "maxItems": 5,
    },
    "unique_strings": {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 3},
                     "uniqueItems": True},
            "codes": {"type": "array", "uniqueItems": True, "maxItems": 4, "items": {
                "anyOf": [{"type": "string", "pattern": "^[ab]+$"}, {"enum": ["x", "y"]}]}},
        },
        "additionalProperties": False,
    },
    "objects": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "maxLength": 10},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 3},
                     "maxItems": 3},
        },
        "required": ["id"],
        "additionalProperties": {"type": "boolean"},
    },
    "pattern_properties": {
        "type": "object",
        "patternProperties": {"^x_": {"type": "integer"}, "^y_": {"type": "string",
                                                                   "maxLength": 2}},
        "additionalProperties": False,
    },
    "property_names": {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]{1,3}$"},
        "additionalProperties": {"type": "null"},
    },
    "refs": {
        "$defs": {
            "point": {"type": "object",
                      "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                      "required": ["x", "y"], "additionalProperties": False},
        },
        "type": "array",
        "items": {"$ref": "#/$defs/point"},
        "maxItems": 3,
    },
    "all_of": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}},
             "required": ["a"], "additionalProperties": {"type": ["string", "integer"]}},
            {"properties": {"a": {"maximum": 50}, "b": {"type": "string"}}},
        ],
    },
    "any_of": {
        "anyOf": [
            {"type": "string", "maxLength": 2},
            {"type": "integer", "minimum": 100},
            {"type": "null"},
        ]
    },
    "one_of": {
        "oneOf": [
            {"type": "object",
             "properties": {"kind": {"const": "circle"}, "r": {"type": "number", "minimum": 0}},
             "required": ["kind", "r"], "additionalProperties": False},
            {"type": "object",
             "properties": {"kind": {"const": "square"}, "side": {"type": "integer"}},
             "required": ["kind", "side"], "additionalProperties": False},
        ]
    },
    "nullable_types": {
        "type": "object",
        "properties": {
            "maybe_name": {"type": ["string", "null"], "maxLength": 4},
            "maybe_count": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        },
        "additionalProperties": False,
    },
    "recursive": {
        "$defs": {
            "node": {"type": "object",
                     "properties": {"v": {"type": "integer"},
                                    "kids": {"type": "array", "items": {"$ref": "#/$defs/node"},
                                             "maxItems": 2}},
                     "required": ["v"], "additionalProperties": False},
        },
        "$ref": "#/$defs/node",
    },
}


@functools.cache
def exact_grammar(name: str) -> Grammar:
    """The schema compiled exactly (``spec_faithful=True``), once per test session."""
    return compile(SCHEMAS[name], spec_faithful=True, max_recursion_depth=MAX_RECURSION)


@functools.cache
def instances(name: str) -> Any:
    """hypothesis-jsonschema's strategy for the schema, recursion cut as the grammar's."""
    return schema_instances(inline_refs(SCHEMAS[name], MAX_RECURSION))


def validator(schema: Any) -> jsonschema.protocols.Validator:
    """jsonschema with format assertions, the reference the grammars are held to."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
