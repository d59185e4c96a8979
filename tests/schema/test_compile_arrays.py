"""Arrays: items, prefixItems, item counts, draft-07 tuple items and additionalItems."""

from __future__ import annotations

from structgen.testing import assert_language

DRAFT7 = "http://json-schema.org/draft-07/schema#"


def test_items() -> None:
    assert_language(
        {"type": "array", "items": {"type": "integer"}},
        accepts=["[]", "[1]", "[1, 2, 3]", "[" + ", ".join(["7"] * 50) + "]"],
        rejects=['[1, "a"]', "[1.5]", "[null]", "[1,2]", "[1 ,2]", "[1, ]", "[, 1]"],
    )


def test_min_and_max_items() -> None:
    assert_language(
        {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
        accepts=["[true]", "[true, false]", "[true, false, true]"],
        rejects=["[]", "[true, false, true, false]"],
    )


def test_min_items_without_max() -> None:
    assert_language(
        {"type": "array", "items": {"type": "integer"}, "minItems": 3},
        accepts=["[1, 2, 3]", "[1, 2, 3, 4, 5, 6]"],
        rejects=["[]", "[1]", "[1, 2]"],
    )


def test_max_items_zero() -> None:
    assert_language({"type": "array", "maxItems": 0}, accepts=["[]"], rejects=["[1]"])


def test_prefix_items_closed() -> None:
    assert_language(
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
         "items": False},
        accepts=["[]", '["a"]', '["a", 1]'],
        rejects=['["a", 1, 2]', "[1]", '["a", "b"]', '[1, "a"]'],
    )


def test_prefix_items_with_min_items() -> None:
    assert_language(
        {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}],
         "items": False, "minItems": 2},
        accepts=["[1, 2]", "[-1.5, 0]"],
        rejects=["[]", "[1]", "[1, 2, 3]"],
    )


def test_prefix_items_then_items() -> None:
    assert_language(
        {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "boolean"}},
        accepts=["[]", '["a"]', '["a", true, false]'],
        rejects=['["a", 1]', "[true]", '["a", "b"]'],
    )


def test_prefix_items_leave_the_rest_open() -> None:
    assert_language(
        {"type": "array", "prefixItems": [{"type": "string"}]},
        accepts=['["a"]', '["a", 1, null, [true], {"k": "v"}]'],
        rejects=["[1]"],
    )


def test_draft07_items_array_is_a_tuple() -> None:
    assert_language(
        {"$schema": DRAFT7, "type": "array", "items": [{"type": "string"}, {"type": "integer"}],
         "additionalItems": False},
        accepts=["[]", '["a"]', '["a", 1]'],
        rejects=['["a", 1, 2]', "[1]"],
    )


def test_draft07_additional_items_schema() -> None:
    assert_language(
        {"$schema": DRAFT7, "type": "array", "items": [{"type": "string"}],
         "additionalItems": {"type": "null"}},
        accepts=['["a"]', '["a", null, null]'],
        rejects=['["a", 1]', '[null]'],
    )


def test_draft07_items_array_without_additional_items_is_open() -> None:
    assert_language(
        {"$schema": DRAFT7, "type": "array", "items": [{"type": "string"}]},
        accepts=['["a", 1, {}]'],
        rejects=["[1]"],
    )


def test_nested_arrays() -> None:
    assert_language(
        {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                    "maxItems": 2}, "maxItems": 2},
        accepts=["[]", "[[]]", "[[1, 2], [3]]"],
        rejects=["[[1, 2, 3]]", "[[], [], []]", "[1]"],
    )


def test_untyped_items_accept_any_value() -> None:
    assert_language(
        {"type": "array"},
        accepts=['[null, true, 1, -2.5e3, "s", [], {}, [[1]], {"a": [1, {"b": null}]}]'],
        rejects=["[nul]", "[1 2]"],
        any_value_depth=3,
    )


def test_unconstrained_values_nest_to_any_value_depth() -> None:
    assert_language(
        {"type": "array"},
        accepts=["[1]", "[[1]]", '[{"a": 1}]', "[[]]"],
        rejects=["[[[1]]]", '[{"a": [1]}]', '[[{"a": 1}]]'],
        any_value_depth=1,
    )


def test_items_under_allof_intersect_per_position() -> None:
    assert_language(
        {"allOf": [
            {"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "string"}},
            {"items": {"maxLength": 1}, "maxItems": 3},
        ]},
        accepts=["[1]", '[1, "a", "b"]'],
        rejects=['[1, "ab"]', '[1, "a", "b", "c"]'],
    )
