"""uniqueItems over a few literal values: the automaton tracks the set of values used."""

from __future__ import annotations

import pytest

from structgen import UnsupportedSchemaError, compile
from structgen.testing import assert_compile_error, assert_language, assert_round_trip

MODES = [{}, {"spec_faithful": True}]


@pytest.mark.parametrize("mode", MODES)
def test_enum_items_never_repeat(mode: dict) -> None:
    assert_language(
        {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True},
        accepts=["[]", '["a"]', '["c", "a"]', '["b", "c", "a"]'],
        rejects=['["a", "a"]', '["a", "b", "a"]', '["c", "b", "a", "a"]', '["d"]'],
        **mode,
    )


@pytest.mark.parametrize("mode", MODES)
def test_json_equal_spellings_are_one_value(mode: dict) -> None:
    assert_language(
        {"type": "array", "items": {"enum": [1, 1.0, 2, True, {"k": 1, "j": 2},
                                             {"j": 2, "k": 1}]},
         "uniqueItems": True},
        accepts=["[1, true]", "[1.0, 2]", '[{"k": 1, "j": 2}, 1]', '[{"j": 2, "k": 1}]'],
        rejects=["[1, 1.0]", "[1.0, 1]", "[true, true]",
                 '[{"k": 1, "j": 2}, {"j": 2, "k": 1}]'],
        **mode,
    )


@pytest.mark.parametrize("mode", MODES)
def test_booleans_and_null_with_item_counts(mode: dict) -> None:
    assert_language(
        {"type": "array", "items": {"type": ["boolean", "null"]}, "uniqueItems": True,
         "minItems": 2, "maxItems": 2},
        accepts=["[true, false]", "[null, true]", "[false, null]"],
        rejects=["[]", "[true]", "[true, true]", "[null, null]", "[true, false, null]"],
        **mode,
    )


def test_prefix_items_share_the_used_set() -> None:
    assert_language(
        {"type": "array", "prefixItems": [{"const": "x"}, {"enum": ["x", "y"]}],
         "items": {"enum": ["x", "y", "z"]}, "uniqueItems": True},
        accepts=['["x"]', '["x", "y"]', '["x", "y", "z"]'],
        rejects=['["x", "x"]', '["x", "y", "y"]', '["x", "y", "x"]', '["y"]'],
    )


def test_unique_items_with_flexible_whitespace() -> None:
    assert_language(
        {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": True},
        accepts=["[ ]", '[ "a" , "b" ]'],
        rejects=['[ "a" , "a" ]'],
        whitespace="flexible",
    )


def test_at_most_one_item_needs_no_tracking() -> None:
    grammar = compile({"type": "array", "prefixItems": [{"type": "integer"}],
                       "items": False, "uniqueItems": True})
    assert grammar.unenforced == ()
    assert grammar.accepts("[5]") and not grammar.accepts("[5, 5]")


@pytest.mark.parametrize(
    ("schema", "pointer"),
    [
        ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "/uniqueItems"),
        ({"type": "array", "uniqueItems": True}, "/uniqueItems"),
        ({"type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 2},
         "/uniqueItems"),
        ({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "string"},
          "uniqueItems": True}, "/uniqueItems"),
        ({"type": "object", "properties": {"tags": {
            "type": "array", "items": {"enum": list(range(13))}, "uniqueItems": True}}},
         "/properties/tags/uniqueItems"),
    ],
)
def test_other_item_languages_are_unsupported(schema: dict, pointer: str) -> None:
    assert_compile_error(schema, UnsupportedSchemaError, pointer=pointer, keyword="uniqueItems")


def test_twelve_values_compile() -> None:
    grammar = assert_language(
        {"type": "array", "items": {"enum": list(range(12))}, "uniqueItems": True},
        accepts=["[]", "[11, 0, 5]", "[" + ", ".join(str(i) for i in range(12)) + "]"],
        rejects=["[3, 3]", "[0, 1, 2, 0]"],
    )
    assert grammar.unenforced == ()


def test_serialized_instances_are_accepted() -> None:
    assert_round_trip(
        {"type": "array", "items": {"enum": ["a", 1.0, None, [1, 2]]}, "uniqueItems": True},
        [[], ["a", 1.0], [1, None, "a"], [[1, 2], "a", None, 1]],
    )
