"""`not` over a pattern, string options of a `oneOf` negated, and keys: exact, as
jsonschema decides; what keys cannot express is refused, never dropped."""

from __future__ import annotations

import pytest

import structgen
from structgen.errors import UnsupportedSchemaError
from structgen.testing import assert_agrees_with_jsonschema

SCHEMAS = [
    {"not": {"pattern": "^a"}},
    {"oneOf": [{"enum": ["ab", "cd", "x"]}, {"type": "string", "pattern": "^[a-z]+$"}]},
    {"oneOf": [{"type": "string", "minLength": 2}, {"type": "string", "maxLength": 3}]},
    {"type": "object", "propertyNames": {"not": {"pattern": "^a"}}},
    {"type": "object", "propertyNames": {"not": {"enum": ["q", "ab"]}},
     "patternProperties": {"^x": {"type": "integer"}}},
    {"type": "object", "propertyNames": {"not": {"pattern": "^a"}},
     "patternProperties": {"b": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
]
VALUES = ["", "a", "ab", "abcd", "b", "cd", "x", "x1", "Q", 1, None, [], {"ab": 1}, {"q": 1},
          {"x1": 1}, {"x1": "s"}, {"b": 1}, {"b": "s"}, {"cb": 1}, {"c": "s"}, {"ac": "s"}]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
def test_matches_jsonschema(schema: dict) -> None:
    assert_agrees_with_jsonschema(schema, VALUES, spec_faithful=True)


def test_keys_that_are_a_union_are_refused() -> None:
    schema = {"type": "object",
              "propertyNames": {"anyOf": [{"enum": ["X1"]}, {"pattern": "^[a-z]+$"}]}}
    with pytest.raises(UnsupportedSchemaError, match="propertyNames"):
        structgen.compile(schema, spec_faithful=True)
