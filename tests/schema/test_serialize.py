"""`Grammar.serialize`: instances written in the grammar's canonical style round-trip."""

from __future__ import annotations

import json

from structgen import compile
from structgen.testing import assert_round_trip

OBJ = {
    "type": "object",
    "properties": {"b": {"type": "integer"}, "a": {"type": "string"}},
    "additionalProperties": {"type": "integer"},
}


def test_declared_order_then_undeclared_in_instance_order() -> None:
    grammar = compile(OBJ)
    text = grammar.serialize({"z": 1, "a": "x", "y": 2, "b": 3})
    assert text == '{"b": 3, "a": "x", "z": 1, "y": 2}'
    assert grammar.accepts(text)
    assert json.loads(text) == {"z": 1, "a": "x", "y": 2, "b": 3}


def test_uses_the_grammar_separators() -> None:
    value = {"a": "x", "b": 1}
    assert compile(OBJ).serialize(value) == '{"b": 1, "a": "x"}'
    assert compile(OBJ, whitespace="compact").serialize(value) == '{"b":1,"a":"x"}'
    assert compile(OBJ, separators=(" ,", "=")).serialize(value) == '{"b"=1 ,"a"="x"}'


def test_non_ascii_is_escaped_when_the_grammar_takes_unicode_escapes() -> None:
    grammar = compile({"type": "string", "maxLength": 3}, unicode_escapes=True)
    text = grammar.serialize("é😀")
    assert text == json.dumps("é😀")
    assert grammar.accepts(text)


def test_non_ascii_is_raw_when_the_grammar_takes_no_unicode_escapes() -> None:
    grammar = compile({"type": "string", "maxLength": 3}, unicode_escapes=False)
    text = grammar.serialize("é😀")
    assert text == json.dumps("é😀", ensure_ascii=False)
    assert grammar.accepts(text)


def test_nested_objects_inside_arrays_follow_their_own_order() -> None:
    grammar = assert_round_trip(
        {"type": "array", "items": {"type": "object",
                                    "properties": {"q": {"type": "null"}, "p": {"type": "null"}},
                                    "additionalProperties": False}},
        [[{"p": None, "q": None}, {"p": None}, {}]],
    )
    assert grammar.serialize([{"p": None, "q": None}]) == '[{"q": null, "p": null}]'


def test_union_branches_with_different_orders() -> None:
    assert_round_trip(
        {"anyOf": [
            {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
             "required": ["x"], "additionalProperties": False},
            {"type": "object", "properties": {"y": {"type": "integer"}, "x": {"type": "string"}},
             "required": ["y"], "additionalProperties": False},
        ]},
        [{"y": 1, "x": 2}, {"x": "s", "y": 1}, {"x": 5}, {"y": 5}],
    )


def test_enum_objects_keep_the_enum_member_order() -> None:
    grammar = assert_round_trip({"enum": [{"b": 1, "a": {"d": 1, "c": 2}}]},
                                [{"a": {"c": 2, "d": 1}, "b": 1}])
    assert grammar.serialize({"a": {"c": 2, "d": 1}, "b": 1}) == '{"b": 1, "a": {"d": 1, "c": 2}}'


def test_round_trip_through_refs_and_prefix_items() -> None:
    assert_round_trip(
        {"$defs": {"pt": {"type": "object",
                          "properties": {"y": {"type": "number"}, "x": {"type": "number"}},
                          "required": ["x", "y"], "additionalProperties": False}},
         "type": "array",
         "prefixItems": [{"$ref": "#/$defs/pt"}, {"type": "string"}],
         "items": {"$ref": "#/$defs/pt"}},
        [[], [{"x": 1, "y": 2}], [{"x": 1, "y": 2}, "s", {"x": 0.5, "y": -3}]],
    )


def test_round_trip_spec_faithful_extras() -> None:
    assert_round_trip(
        {"type": "object", "properties": {"k": {"type": "string"}}},
        [{"k": "v", "other": [1, {"deep": None}]}, {"x": 1, "k": "v"}],
        spec_faithful=True,
    )


def test_round_trip_in_every_whitespace_policy() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "array"}, "b": {"type": "null"}},
              "additionalProperties": False}
    value = {"b": None, "a": [1, "x", {"k": [True]}]}
    for options in ({}, {"whitespace": "compact"}, {"whitespace": "flexible"},
                    {"separators": (";", "=")}):
        assert_round_trip(schema, [value], **options)


def test_floats_are_written_in_a_form_bounded_numbers_accept() -> None:
    # json.dumps writes tiny and huge floats with exponents (1e-05, 5e-324, 1e+16);
    # bounded number grammars take decimals without exponent, so serialize must write
    # the same value positionally.
    grammar = compile({"type": "number", "minimum": 0, "maximum": 1})
    integers = compile({"type": "integer"}, spec_faithful=True)
    for g, value in ((grammar, 1e-05), (grammar, 5e-324), (grammar, 0.5), (integers, 1e16)):
        text = g.serialize(value)
        assert json.loads(text) == value
        assert g.accepts(text), f"serialize({value!r}) wrote {text}, which is rejected"
