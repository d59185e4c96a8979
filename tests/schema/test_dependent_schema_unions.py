"""Dependent schemas that narrow values, as an anyOf; groups that allOf repeats, once."""

from __future__ import annotations

import itertools

import pytest

import structgen
from structgen.testing import assert_agrees_with_jsonschema

DRAFT4 = "http://json-schema.org/draft-04/schema#"
PROPS = {"id": {"type": "string"}, "kind": {"type": "string"}, "site": {"type": "string"},
         "n": {"type": "integer"}}


def _instances() -> list[object]:
    found: list[object] = [None, 3, "s", []]
    for kind, site, n in itertools.product([None, "section", "x"], [None, "w"], [None, 1, 9]):
        found.append({"id": "1", **{k: v for k, v in (("kind", kind), ("site", site), ("n", n))
                                    if v is not None}})
    return found


@pytest.mark.parametrize(
    "schema",
    [
        {"$schema": DRAFT4, "type": "object", "properties": PROPS, "required": ["id"],
         "dependencies": {"site": {"properties": {"kind": {"enum": ["section"]}}}}},
        {"type": "object", "properties": PROPS,
         "dependentSchemas": {"n": {"properties": {"n": {"maximum": 5}}, "required": ["kind"]}}},
        {"properties": PROPS,  # no type: the dependency binds objects only
         "dependentSchemas": {"site": {"not": {"required": ["n"]}, "properties": {
             "kind": {"const": "x"}}}}},
        {"type": "object", "properties": PROPS, "allOf": [  # one group, repeated
            {"dependentSchemas": {"site": {"properties": {"n": {"minimum": 5}}}}}
            for _ in range(9)
        ]},
    ],
)
def test_matches_jsonschema(schema: dict) -> None:
    assert_agrees_with_jsonschema(schema, _instances(), spec_faithful=True)


def test_repeated_groups_count_once() -> None:
    group = {"anyOf": [{"required": ["a"]}, {"required": ["b"]}, {"type": "string"}]}
    grammar = structgen.compile({"allOf": [group] * 12}, spec_faithful=True)  # 3**12 combos
    assert grammar.accepts('{"a": 1}') and grammar.accepts('"s"')
    assert grammar.accepts("1")  # `required` binds objects only
    assert not grammar.accepts("{}")


def test_recursive_values_each_hold_the_dependency() -> None:
    # A filter whose `value` may be a list of filters: the dependency binds at every depth.
    schema = {
        "$schema": DRAFT4, "$ref": "#/definitions/filter",
        "definitions": {"filter": {
            "type": "object", "required": ["op"],
            "properties": {"op": {"enum": ["or", "gt"]}},
            "dependencies": {"op": {"oneOf": [
                {"properties": {"op": {"enum": ["or"]}, "value": {
                    "type": "array", "items": {"$ref": "#/definitions/filter"}}},
                 "required": ["value"]},
                {"properties": {"op": {"enum": ["gt"]}, "value": {"type": "integer"}},
                 "required": ["value"]},
            ]}},
        }},
    }
    gt = {"op": "gt", "value": 1}
    instances = [gt, {"op": "gt", "value": None}, {"op": "or", "value": [gt]},
                 {"op": "or", "value": [{"op": "gt", "value": None}]},
                 {"op": "or", "value": [{"op": "or", "value": [gt]}]},
                 {"op": "or", "value": [{"op": "or", "value": [{"op": "gt", "value": "x"}]}]},
                 {"op": "or", "value": [{"op": "or", "value": [{"op": "or", "value": []}]}]}]
    assert_agrees_with_jsonschema(schema, instances, spec_faithful=True, max_recursion_depth=4)
