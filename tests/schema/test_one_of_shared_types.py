"""`oneOf` whose options name no type: values of a type that two options leave open match
both, so exactly-one rejects that whole type; the rest must still be disjoint."""

from __future__ import annotations

import pytest

import structgen
from structgen.errors import UnsupportedSchemaError
from structgen.testing import assert_agrees_with_jsonschema

VALUES = [None, True, 0, 2.5, "", "s", [], [1], {}, {"kind": "a"}, {"kind": "b", "n": 1},
          {"kind": "a", "n": "x"}, {"kind": "c"}, {"n": 1}]

SCHEMAS = [
    # Tagged objects (the options are disjoint on objects, and leave every other type open).
    {"oneOf": [
        {"properties": {"kind": {"const": "a"}, "n": {"type": "string"}}, "required": ["kind"]},
        {"properties": {"kind": {"const": "b"}}, "required": ["kind"]},
    ]},
    # Inside items, with a third option that is typed.
    {"type": "array", "items": {"oneOf": [
        {"required": ["kind"], "properties": {"kind": {"enum": ["a"]}}},
        {"required": ["kind"], "properties": {"kind": {"enum": ["b"]}}},
        {"type": "integer"},
    ]}},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_matches_jsonschema(schema: dict) -> None:
    assert_agrees_with_jsonschema(schema, VALUES + [[v] for v in VALUES], spec_faithful=True)


def test_overlap_within_a_type_stays_unsupported() -> None:
    schema = {"oneOf": [{"required": ["a"]}, {"required": ["b"], "minProperties": 1}]}
    with pytest.raises(UnsupportedSchemaError, match="oneOf"):
        structgen.compile(schema, spec_faithful=True)


def test_no_type_left_is_unsatisfiable() -> None:
    with pytest.raises(structgen.UnsatisfiableSchemaError):
        structgen.compile({"oneOf": [{"description": "anything"}, {}]}, spec_faithful=True)
