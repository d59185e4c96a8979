"""`oneOf` whose options overlap, as each option with the others negated, and `not` over
an object schema that asks for types or values: exact, as jsonschema decides."""

from __future__ import annotations

import itertools

import pytest

import structgen
from structgen.errors import UnsupportedSchemaError
from structgen.testing import assert_agrees_with_jsonschema

SCHEMAS = [
    {"type": "object", "oneOf": [
        {"properties": {"error": {"type": "string"}, "reason": {"type": "string"}},
         "required": ["error", "reason"]},
        {"properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
    ]},
    {"oneOf": [  # untyped: non-objects meet both and fail
        {"required": ["a"], "properties": {"a": {"enum": [1, 2]}}},
        {"properties": {"a": {"const": 2}, "b": {"type": "string"}}},
    ]},
    {"type": "object", "properties": {"age": {"type": "number"}}, "required": ["age"],
     "anyOf": [
         {"oneOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "string"}}, "required": ["b"]}]},
         {"not": {"properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                  "required": ["a", "b"]}},
     ]},
    {"type": "object", "not": {"properties": {"a": {"const": "x"}}, "required": ["a"]}},
    {"oneOf": [{"type": "object", "required": ["a"]}, {"type": ["object", "string"]},
               {"properties": {"a": False}}]},
    {"type": "object", "oneOf": [  # an option with `not`: what rejects `not X` is X
        {"properties": {"a": {"type": "string", "enum": ["x", "y"]}, "b": {"type": "string"}}},
        {"properties": {"a": {"not": {"type": "string", "enum": ["x", "y", 2]}}}},
    ]},
]


def _instances() -> list[object]:
    found: list[object] = [None, 0, "s", [], True]
    choices = {"a": [None, 1, 2, "x", "y"], "b": [None, "s", 3], "age": [None, 7],
               "error": [None, "e", 1], "reason": [None, "r"], "ok": [None, True, 1]}
    for combo in itertools.product(*choices.values()):
        found.append({k: v for k, v in zip(choices, combo, strict=True) if v is not None})
    return found


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_matches_jsonschema(schema: dict) -> None:
    assert_agrees_with_jsonschema(schema, _instances(), spec_faithful=True)


def test_options_that_cannot_be_negated_stay_unsupported() -> None:
    schema = {"type": "object", "oneOf": [
        {"required": ["a"], "properties": {"a": {"type": "number", "minimum": 2}}},
        {"required": ["b"]},
    ]}
    with pytest.raises(UnsupportedSchemaError, match="oneOf"):
        structgen.compile(schema, spec_faithful=True)


CLOSED = {"oneOf": [
    {"type": "object", "additionalProperties": False, "properties": {
        "a": {"type": "integer", "description": "told apart by name only"},
        "b": {"type": "string"},
        "o": {"type": "object", "additionalProperties": False, "properties": {
            "x": {"enum": [1, 2]}, "y": {"type": "string"}}}}},
    {"type": "object", "additionalProperties": False, "properties": {
        "a": {"type": "integer"}, "c": {"type": "boolean"},
        "o": {"type": "object", "additionalProperties": False, "properties": {
            "x": {"enum": [1, 2]}}}}},
    {"type": "object", "additionalProperties": False, "properties": {"a": {"type": "integer"}},
     "required": ["a"]},
]}


def _closed_instances() -> list[object]:
    found: list[object] = [None, "s", []]
    choices = {"a": [None, 1, "x"], "b": [None, "s"], "c": [None, True],
               "o": [None, {}, {"x": 1}, {"y": "s"}, {"x": 3}], "z": [None, 0]}
    for combo in itertools.product(*choices.values()):
        found.append({k: v for k, v in zip(choices, combo, strict=True) if v is not None})
    return found


def test_closed_options_are_told_apart_by_the_names_only_one_declares() -> None:
    grammar = assert_agrees_with_jsonschema(CLOSED, _closed_instances(), spec_faithful=True)
    assert not grammar.accepts("{}") and not grammar.accepts('{"a": 1}')
    assert grammar.accepts('{"a": 1, "b": "s"}') and grammar.accepts('{"o": {"y": "s"}}')


def test_a_closed_option_against_an_open_one_stays_unsupported() -> None:
    schema = {"oneOf": [CLOSED["oneOf"][0], {"type": "object", "properties": {"a": {}}}]}
    with pytest.raises(UnsupportedSchemaError, match="oneOf"):
        structgen.compile(schema, spec_faithful=True)
