"""Local references ($ref, $defs, definitions, $anchor, $id) and bounded recursion."""

from __future__ import annotations

import json
from typing import Any

import pytest

from structgen.testing import assert_language


def test_ref_to_defs() -> None:
    assert_language(
        {"$defs": {"pos": {"type": "integer", "minimum": 1}},
         "type": "array", "items": {"$ref": "#/$defs/pos"}},
        accepts=["[]", "[1, 2]"],
        rejects=["[0]", '["1"]'],
    )


def test_ref_to_draft07_definitions() -> None:
    assert_language(
        {"definitions": {"s": {"type": "string", "maxLength": 1}},
         "type": "object", "properties": {"a": {"$ref": "#/definitions/s"}}},
        accepts=['{"a": "x"}', "{}"],
        rejects=['{"a": "xy"}', '{"a": 1}'],
    )


def test_ref_with_escaped_pointer() -> None:
    assert_language(
        {"$defs": {"a/b": {"const": 1}, "c~d": {"const": 2}, "e%f": {"const": 3}},
         "type": "array",
         "prefixItems": [{"$ref": "#/$defs/a~1b"}, {"$ref": "#/$defs/c~0d"},
                         {"$ref": "#/$defs/e%25f"}],
         "items": False, "minItems": 3},
        accepts=["[1, 2, 3]"],
        rejects=["[1, 2, 2]", "[2, 2, 3]"],
    )


def test_ref_into_properties() -> None:
    assert_language(
        {"type": "object",
         "properties": {"a": {"type": "boolean"}, "b": {"$ref": "#/properties/a"}}},
        accepts=['{"a": true, "b": false}', '{"b": true}'],
        rejects=['{"b": 1}'],
    )


def test_chained_refs() -> None:
    assert_language(
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/c"},
                   "c": {"type": "null"}},
         "$ref": "#/$defs/a"},
        accepts=["null"],
        rejects=["0"],
    )


def test_anchor_and_embedded_id() -> None:
    assert_language(
        {"$defs": {"x": {"$anchor": "flag", "type": "boolean"}}, "$ref": "#flag"},
        accepts=["true"],
        rejects=["null"],
    )
    assert_language(
        {"$id": "https://example.com/root.json",
         "$defs": {"item": {"$id": "item.json", "type": "integer"}},
         "type": "array", "items": {"$ref": "item.json"}},
        accepts=["[1]"],
        rejects=['["a"]'],
    )


def test_ref_siblings_apply_too() -> None:
    # In draft 2020-12, keywords next to $ref apply as well.
    assert_language(
        {"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 2},
        accepts=['"ab"'],
        rejects=['"abc"', "1"],
    )


def test_ref_siblings_are_ignored_in_draft07() -> None:
    assert_language(
        {"$schema": "http://json-schema.org/draft-07/schema#",
         "definitions": {"s": {"type": "string"}},
         "properties": {"a": {"$ref": "#/definitions/s", "maxLength": 2}}},
        accepts=['{"a": "abc"}'],
        rejects=['{"a": 1}'],
    )


def _chain(depth: int) -> str:
    """A tree node nested ``depth`` levels below the root (depth 0: a leaf)."""
    node: dict[str, Any] = {"v": 0}
    for level in range(1, depth + 1):
        node = {"v": level, "kids": [node]}
    return json.dumps(node)


TREE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "v": {"type": "integer"},
                "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
            "required": ["v"],
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/node",
}


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_recursion_unrolls_to_max_recursion_depth(depth: int) -> None:
    assert_language(
        TREE,
        accepts=[_chain(d) for d in range(depth)] + ['{"v": 1, "kids": []}'],
        rejects=[_chain(d) for d in range(depth, depth + 3)],
        max_recursion_depth=depth,
    )


def test_recursion_through_the_root() -> None:
    assert_language(
        {"type": "object", "properties": {"c": {"$ref": "#"}}, "additionalProperties": False},
        accepts=["{}", '{"c": {}}', '{"c": {"c": {}}}'],
        rejects=['{"c": 1}', '{"c": {"d": {}}}'],
        max_recursion_depth=2,
    )


def test_default_recursion_depth_is_three() -> None:
    assert_language(TREE, accepts=[_chain(2)], rejects=[_chain(3)])


def test_recursion_through_anyof_optional() -> None:
    # The shape Pydantic emits for `next: Optional["Node"] = None`.
    linked = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                },
                "required": ["v"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    }
    assert_language(
        linked,
        accepts=['{"v": 1}', '{"v": 1, "next": null}', '{"v": 1, "next": {"v": 2}}',
                 '{"v": 1, "next": {"v": 2, "next": null}}'],
        rejects=['{"next": null}', '{"v": 1, "next": 2}'],
    )


def test_recursion_through_root_anyof() -> None:
    assert_language(
        {"type": "object",
         "properties": {"v": {"type": "integer"},
                        "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
         "required": ["v", "next"], "additionalProperties": False},
        accepts=['{"v": 1, "next": null}', '{"v": 1, "next": {"v": 2, "next": null}}'],
        rejects=['{"v": 1}', '{"v": 1, "next": {"v": 2}}'],
    )


def test_recursion_through_array_items_anyof() -> None:
    assert_language(
        {"type": "object",
         "properties": {"kids": {"type": "array",
                                 "items": {"anyOf": [{"$ref": "#"}, {"type": "string"}]}}},
         "additionalProperties": False},
        accepts=['{"kids": ["a", {"kids": []}]}', "{}"],
        rejects=['{"kids": [1]}'],
    )


def test_pointer_ref_inside_a_urn_identified_resource() -> None:
    # JSON-Schema-Test-Suite ref.json, "URN ref with nested pointer ref": the fragment
    # resolves against the resource's own $id (a URN), not the document root.
    assert_language(
        {"$ref": "urn:uuid:deadbeef-4321-ffff-ffff-1234feebdaed",
         "$defs": {"foo": {"$id": "urn:uuid:deadbeef-4321-ffff-ffff-1234feebdaed",
                           "$defs": {"bar": {"type": "string"}},
                           "$ref": "#/$defs/bar"}}},
        accepts=['"bar"'],
        rejects=["12"],
        spec_faithful=True,
    )


def test_plain_ref_to_a_dynamic_anchor() -> None:
    # JSON-Schema-Test-Suite dynamicRef.json: "A $ref to a $dynamicAnchor in the same
    # schema resource behaves like a normal $ref to an $anchor".
    assert_language(
        {"$id": "https://test.json-schema.org/ref-dynamicAnchor-same-schema/root",
         "type": "array", "items": {"$ref": "#items"},
         "$defs": {"foo": {"$dynamicAnchor": "items", "type": "string"}}},
        accepts=['["foo", "bar"]'],
        rejects=['["foo", 42]'],
    )
