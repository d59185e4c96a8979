"""Presence rules: oneOf/anyOf/not/if whose schemas only ask which names are present,
enforced in the object automaton; everything else keeps its earlier treatment."""

from __future__ import annotations

import pytest

from structgen import UnsupportedSchemaError, compile
from structgen.testing import assert_language

NUM = {"type": "number"}
MODES = [{}, {"spec_faithful": True}]
AREA = {
    "type": "object",
    "properties": {"shape": {"type": "string"}, "radius": NUM, "length": NUM, "width": NUM},
    "required": ["shape"],
    "oneOf": [{"required": ["radius"]}, {"required": ["length", "width"]}],
}


@pytest.mark.parametrize("mode", MODES)
def test_one_of_required(mode: dict) -> None:
    grammar = assert_language(
        AREA,
        accepts=['{"shape": "c", "radius": 1}', '{"shape": "r", "length": 1, "width": 2}',
                 '{"shape": "x", "radius": 1, "length": 2}'],
        rejects=['{"shape": "c"}', '{"shape": "r", "length": 1}',
                 '{"shape": "x", "radius": 1, "length": 2, "width": 3}', "null"],
        **mode,
    )
    assert grammar.unenforced == ()


@pytest.mark.parametrize("mode", MODES)
def test_options_restating_properties_and_annotations(mode: dict) -> None:
    schema = {
        "type": "object",
        "properties": {"a": NUM, "b": {"type": "string", "description": "b"}},
        "additionalProperties": False,
        "oneOf": [{"title": "A", "properties": {"a": NUM}, "required": ["a"]},
                  {"type": "object", "properties": {"b": {"type": "string"}},
                   "required": ["b"]}],
    }
    assert_language(schema, accepts=['{"a": 1}', '{"b": "x"}'],
                    rejects=["{}", '{"a": 1, "b": "x"}'], **mode)


@pytest.mark.parametrize("mode", MODES)
def test_not_required_and_not_any_of(mode: dict) -> None:
    base = {"type": "object", "properties": {"a": NUM, "b": NUM, "c": NUM},
            "additionalProperties": False}
    assert_language({**base, "not": {"required": ["a", "b"]}},
                    accepts=["{}", '{"a": 1, "c": 3}', '{"b": 2, "c": 3}'],
                    rejects=['{"a": 1, "b": 2}', '{"a": 1, "b": 2, "c": 3}'], **mode)
    assert_language({**base, "not": {"anyOf": [{"required": ["a"]}, {"required": ["c"]}]}},
                    accepts=["{}", '{"b": 2}'], rejects=['{"a": 1}', '{"b": 2, "c": 3}'],
                    **mode)


@pytest.mark.parametrize("mode", MODES)
def test_if_then_else_over_presence(mode: dict) -> None:
    schema = {"type": "object", "properties": {"a": NUM, "b": NUM, "c": NUM},
              "additionalProperties": False,
              "if": {"required": ["a"]}, "then": {"required": ["b"]},
              "else": {"not": {"required": ["b"]}}}
    assert_language(schema, accepts=["{}", '{"a": 1, "b": 2}', '{"c": 3}'],
                    rejects=['{"a": 1}', '{"b": 2}', '{"a": 1, "c": 3}'], **mode)


@pytest.mark.parametrize("mode", MODES)
def test_any_of_joins_a_one_of_rule(mode: dict) -> None:
    schema = {"type": "object", "properties": {"a": NUM, "b": NUM, "c": NUM},
              "additionalProperties": False,
              "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
              "oneOf": [{"required": ["b"]}, {"required": ["c"]}]}
    grammar = assert_language(
        schema, accepts=['{"b": 1}', '{"a": 1, "c": 3}', '{"a": 1, "b": 2}'],
        rejects=["{}", '{"a": 1}', '{"c": 3}', '{"b": 2, "c": 3}'], **mode,
    )
    assert grammar.unenforced == ()


def test_non_objects_against_the_rule() -> None:
    """`required` holds of any non-object: two options both hold, one holds alone."""
    options = [{"required": ["a"]}, {"required": ["b"]}]
    props = {"a": NUM, "b": NUM}
    assert_language({"type": ["object", "null"], "properties": props, "oneOf": options},
                    accepts=['{"a": 1}'], rejects=["null", "{}"])
    assert_language({"type": ["object", "null"], "properties": props, "oneOf": options,
                     "not": {"required": ["a"]}},
                    accepts=['{"b": 1}'], rejects=["null", '{"a": 1}'])
    assert_language({"type": ["object", "null"], "properties": props,
                     "oneOf": [{"type": "object", "required": ["a"]}, {"required": ["b"]}]},
                    accepts=["null", '{"a": 1}', '{"b": 1}'], rejects=['{"a": 1, "b": 2}'])


@pytest.mark.parametrize("mode", MODES)
def test_names_the_object_does_not_declare(mode: dict) -> None:
    """Undeclared names take the value additionalProperties/patternProperties give them;
    a name no value fits is never present."""
    schema = {"type": "object", "properties": {"a": NUM},
              "patternProperties": {"^x": {"type": "boolean"}},
              "additionalProperties": False,
              "oneOf": [{"required": ["a"]}, {"required": ["xb"]}, {"required": ["zz"]}]}
    assert_language(schema, accepts=['{"a": 1}', '{"xb": true}', '{"a": 1, "xc": false}'],
                    rejects=['{"xb": 1}', '{"a": 1, "xb": true}', '{"zz": 1}', "{}"], **mode)


@pytest.mark.parametrize("mode", MODES)
def test_rule_no_object_meets(mode: dict) -> None:
    schema = {"type": ["object", "string"], "properties": {"a": NUM},
              "required": ["a"], "not": {"type": "object", "required": ["a"]}}
    assert_language(schema, accepts=['"s"'], rejects=['{"a": 1}', "{}"], **mode)


def test_options_that_constrain_values_keep_the_union() -> None:
    """Discriminated options are no presence rule: provably disjoint, they stay a union."""
    schema = {"type": "object", "properties": {"kind": {"type": "string"}},
              "required": ["kind"],
              "oneOf": [{"properties": {"kind": {"const": "a"}}},
                        {"properties": {"kind": {"const": "b"}}}]}
    assert_language(schema, accepts=['{"kind": "a"}', '{"kind": "b"}'],
                    rejects=['{"kind": "c"}'])


def test_still_unsupported() -> None:
    schema = {"type": "object", "properties": {"a": NUM, "b": NUM},
              "oneOf": [{"required": ["a"], "minProperties": 2}, {"required": ["b"]}]}
    with pytest.raises(UnsupportedSchemaError) as info:
        compile(schema)
    assert info.value.pointer == "/oneOf"
    many = [f"p{i}" for i in range(13)]
    schema = {"type": "object", "properties": dict.fromkeys(many, NUM),
              "oneOf": [{"required": many[:7]}, {"required": many[7:]}]}
    with pytest.raises(UnsupportedSchemaError, match="13 properties") as info:
        compile(schema)
    assert info.value.pointer == "/oneOf"
    lenient = compile(schema, strict=False)
    assert [u.keyword for u in lenient.unenforced] == ["oneOf"]


@pytest.mark.parametrize("mode", MODES)
def test_one_of_overlap_is_judged_with_the_parent(mode: dict) -> None:
    """Alone, `{"required": ["a"], "minProperties": 2}` has no room for a second name by
    default and looked disjoint from `{"required": ["b"]}`; with the parent's `b` the
    two overlap on {"a", "b"}, so exactly-one cannot be a union of the options."""
    schema = {"type": "object", "properties": {"a": NUM, "b": NUM},
              "oneOf": [{"required": ["a"], "minProperties": 2}, {"required": ["b"]}]}
    with pytest.raises(UnsupportedSchemaError):
        compile(schema, **mode)
    lenient = compile(schema, strict=False, **mode)
    assert [u.keyword for u in lenient.unenforced] == ["oneOf"]


@pytest.mark.parametrize("mode", MODES)
def test_property_no_value_fits_means_absent(mode: dict) -> None:
    """`properties: {"error": false}` holds exactly when an object lacks `error`, and of
    every non-object: with `not required` beside it no object meets exactly one."""
    schema = {"oneOf": [{"not": {"required": ["error"]}}, {"properties": {"error": False}}]}
    assert_language(schema, accepts=["null", "1", '"s"', "[]"],
                    rejects=["{}", '{"error": 1}'], **mode)


def test_a_presence_not_beside_another_if() -> None:
    schema = {"type": "object", "properties": {"a": NUM, "b": NUM},
              "not": {"required": ["a", "b"]},
              "if": {"properties": {"a": {"minimum": 3}}}, "then": {"required": ["b"]}}
    with pytest.raises(UnsupportedSchemaError) as info:
        compile(schema)
    assert info.value.pointer == "/if"
    lenient = compile(schema, strict=False)
    assert [u.keyword for u in lenient.unenforced] == ["if"]
    assert not lenient.accepts('{"a": 1, "b": 2}')


@pytest.mark.parametrize("mode", MODES)
def test_nested_one_of_options_stay_disjoint(mode: dict) -> None:
    head = {"oneOf": [{"type": "null"}, {"enum": ["L", "R"], "type": "string"}]}
    schema = {"oneOf": [head, {"type": "array", "items": head}]}
    assert_language(schema, accepts=["null", '"L"', '[null, "R"]'], rejects=['"x"', "1"],
                    **mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("schema", [
    # `b` is declared by another group only.
    {"type": "object", "anyOf": [{"properties": {"a": NUM, "b": NUM}}],
     "oneOf": [{"required": ["a"], "minProperties": 1},
               {"required": ["b"], "minProperties": 1}]},
    # The second option, as the default grammar writes it, has no `z`; JSON Schema's has.
    {"type": "object", "properties": {"a": NUM},
     "oneOf": [{"required": ["z"], "minProperties": 1},
               {"required": ["a"], "minProperties": 1}]},
])
def test_one_of_overlap_the_default_grammar_would_hide(schema: dict, mode: dict) -> None:
    with pytest.raises(UnsupportedSchemaError):
        compile(schema, **mode)


def test_closed_options_stay_a_union_by_default() -> None:
    """Each written option lacks a name the other requires: exact in the default mode;
    with undeclared names allowed they overlap, and each option is written with the
    other negated."""
    schema = {"type": "object",
              "oneOf": [{"properties": {"error": {"type": "string"}}, "required": ["error"]},
                        {"properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}]}
    assert_language(schema, accepts=['{"error": "e"}', '{"ok": true}'],
                    rejects=['{"error": "e", "ok": true}', "{}"])
    assert_language(schema, accepts=['{"error": "e"}', '{"error": "e", "ok": 1}',
                                     '{"ok": true, "error": 1}'],
                    rejects=['{"error": "e", "ok": true}', "{}", '{"error": 1}'],
                    spec_faithful=True)
