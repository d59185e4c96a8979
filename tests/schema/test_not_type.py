"""`not` over a type: the other types remain, exactly as jsonschema decides."""

from __future__ import annotations

import json

import pytest

import structgen
from structgen.errors import UnsupportedSchemaError
from structgen.testing import assert_agrees_with_jsonschema

VALUES = [None, True, False, 0, 7, -3, 1.5, -0.25, "", "x", [], [1, "a"], {}, {"a": 1}]


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"type": "number"}},
        {"not": {"type": "string", "description": "annotations aside"}},
        {"not": {"type": ["object", "array"]}},
        {"not": {"type": "null"}, "type": ["null", "integer"]},
        {"properties": {"foo": {"not": {"type": "number"}}}, "type": "object"},
        {"type": "array", "items": {"not": {"type": ["boolean", "string"]}}},
    ],
)
def test_not_type_matches_jsonschema(schema: dict) -> None:
    instances = [x for v in VALUES for x in (v, {"foo": v}, [v])]
    assert_agrees_with_jsonschema(schema, instances, spec_faithful=True)


def test_not_of_every_type_is_unsatisfiable() -> None:
    with pytest.raises(structgen.UnsatisfiableSchemaError):
        structgen.compile({"not": {"type": ["null", "boolean", "number", "string", "array",
                                            "object"]}})


@pytest.mark.parametrize(
    "schema",
    [
        {"not": {"type": "integer"}},  # numbers that are not integers: no type of its own
        {"not": {"type": "string", "minLength": 2}},  # asks more than a type
    ],
)
def test_not_asking_more_than_a_type_stays_unsupported(schema: dict) -> None:
    with pytest.raises(UnsupportedSchemaError, match="not"):
        structgen.compile(schema)
    lenient = structgen.compile(schema, strict=False)
    assert [u.keyword for u in lenient.unenforced] == ["not"]
    assert json.loads(lenient.serialize(1)) == 1


@pytest.mark.parametrize("schema", [
    {"not": {"type": "string", "enum": ["a", 1, None]}},  # only "a" is a string there
    {"not": {"type": ["boolean", "null"], "const": True}},
    {"not": {"type": "string", "enum": ["x", 1.5, ""]}},
])
def test_not_over_typed_values_matches_jsonschema(schema: dict) -> None:
    assert_agrees_with_jsonschema(schema, [*VALUES, 1, "a", 2, 2.0], spec_faithful=True)


def test_not_over_integer_values_written_as_fractions_stays_unsupported() -> None:
    # Whether 2.0 is an integer depends on the draft: no value list to leave out.
    with pytest.raises(UnsupportedSchemaError, match="not"):
        structgen.compile({"not": {"type": "integer", "enum": [2.0, 3]}}, spec_faithful=True)
