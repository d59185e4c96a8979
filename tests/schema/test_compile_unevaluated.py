"""`unevaluatedProperties` and `unevaluatedItems`: enforced where the names (items) they
judge are known once each `anyOf`/`oneOf`/`if` option is chosen (they then meet it as
`additionalProperties`, `items`); where they are not, an error naming the keyword (or,
leniently, a check after generation)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import structgen
from structgen import Grammar, UnsupportedSchemaError
from structgen.schema.validator import validator_for
from structgen.testing import (
    assert_compile_error,
    assert_language,
    json_depth,
    schema_instances,
)

FAITHFUL = {"spec_faithful": True}


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_adjacent_keywords_evaluate_their_names(spec_faithful: bool) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}},
              "patternProperties": {"^x": {"type": "string"}},
              "unevaluatedProperties": {"type": "boolean"}}
    assert_language(schema, spec_faithful=spec_faithful,
                    accepts=['{"a": 1}', '{"a": 1, "xy": "s"}', '{"b": true}', '{"x": "s"}'],
                    rejects=['{"b": 1}', '{"xy": true}', '{"a": true}'])


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_additional_properties_leaves_nothing(spec_faithful: bool) -> None:
    schema = {"type": "object", "additionalProperties": {"type": "string"},
              "unevaluatedProperties": False}
    assert_language(schema, spec_faithful=spec_faithful, accepts=['{"b": "s"}', "{}"],
                    rejects=['{"b": 1}'])


def test_all_of_and_ref_members_evaluate_for_the_whole() -> None:
    schema = {"$defs": {"c": {"properties": {"c": {"type": "string"}}}},
              "properties": {"a": {}}, "$ref": "#/$defs/c",
              "allOf": [{"properties": {"b": {"type": "integer"}}}],
              "unevaluatedProperties": False}
    assert_language(schema, **FAITHFUL, accepts=['{"c": "s", "b": 2, "a": 1}', "[]"],
                    rejects=['{"d": 1}', '{"c": 1}'])


def test_cousins_see_only_their_own_scope() -> None:
    schema = {"allOf": [{"properties": {"a": True}},
                        {"properties": {"b": True}, "unevaluatedProperties": False}]}
    assert_language(schema, **FAITHFUL, accepts=['{"b": 1}', "{}"],
                    rejects=['{"a": 1}', '{"a": 1, "b": 2}'])


def test_nested_unevaluated_evaluates_the_rest_for_the_outer_one() -> None:
    schema = {"properties": {"a": {}},
              "allOf": [{"properties": {"b": {}}, "unevaluatedProperties": {"type": "integer"}}],
              "unevaluatedProperties": False}
    # the inner one judges `a` too: only its own scope evaluated `b`
    assert_language(schema, **FAITHFUL, accepts=['{"b": "s", "a": 1, "c": 1}'],
                    rejects=['{"c": "s"}', '{"b": "s", "a": "s"}', '{"a": 1, "c": true}'])


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_any_of_counts_every_option_that_validates(spec_faithful: bool) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}},
              "anyOf": [{"properties": {"b": {"const": 1}}, "required": ["b"]},
                        {"properties": {"c": {"const": 2}}, "required": ["c"]},
                        {"minProperties": 1}],
              "unevaluatedProperties": False}
    assert_language(schema, spec_faithful=spec_faithful,
                    accepts=['{"b": 1}', '{"b": 1, "c": 2}', '{"a": "s"}', '{"a": "s", "c": 2}'],
                    # c: 3 fails its option, so c is left to unevaluatedProperties
                    rejects=['{"b": 1, "c": 3}', '{"d": 1}', "{}", '{"a": "s", "d": 1}'])


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_one_of_counts_only_the_option_that_validates(spec_faithful: bool) -> None:
    schema = {"type": "object", "oneOf": [
        {"properties": {"kind": {"const": "a"}, "a": {"type": "integer"}}, "required": ["kind"]},
        {"properties": {"kind": {"const": "b"}, "b": {"type": "string"}}, "required": ["kind"]},
    ], "unevaluatedProperties": {"type": "null"}}
    assert_language(schema, spec_faithful=spec_faithful,
                    accepts=['{"kind": "a", "a": 1}', '{"kind": "a", "a": 1, "b": null}',
                             '{"kind": "b", "b": "s", "a": null}'],
                    rejects=['{"kind": "a", "a": 1, "b": "s"}', '{"kind": "b", "a": 1}',
                             '{"kind": "a", "c": 1}'])


def test_one_of_presence_options_are_split() -> None:
    schema = {"oneOf": [{"required": ["x"], "properties": {"x": True}},
                        {"required": ["y"], "properties": {"y": True}}],
              "unevaluatedProperties": False}
    # (a value that is not an object meets both options: exactly-one fails)
    assert_language(schema, **FAITHFUL, accepts=['{"x": 1}', '{"y": 1}'],
                    rejects=['{"x": 1, "y": 1}', '{"x": 1, "z": 1}', "{}", "3"])


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_if_counts_its_names_when_it_validates(spec_faithful: bool) -> None:
    schema = {"type": "object",
              "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
              "then": {"properties": {"a": {"type": "integer"}}},
              "else": {"properties": {"b": {}}},
              "unevaluatedProperties": False}
    assert_language(schema, spec_faithful=spec_faithful,
                    accepts=['{"kind": "a", "a": 1}', '{"b": 1}'],
                    # kind is evaluated by `if` only where `if` validates
                    rejects=['{"kind": "b", "b": 1}', '{"kind": "a", "b": 1}', '{"a": 1}'])


def test_options_keep_their_own_scope() -> None:
    """What the normalizer adds to an option (`if` to `then`, each way `if` fails to
    `else`, the others negated to a `oneOf` option) is not in the option's own scope."""
    schema = {"if": {"properties": {"kind": {"const": "p"}}, "required": ["kind"]},
              "then": {"properties": {"a": {}}, "unevaluatedProperties": False},
              "else": {"properties": {"b": {}}, "unevaluatedProperties": False}}
    assert_language(schema, **FAITHFUL, accepts=['{"b": 1}', "{}"],
                    rejects=['{"kind": "p", "a": 1}', '{"kind": "q"}', '{"kind": "q", "b": 1}'])
    one_of = {"oneOf": [{"required": ["x"], "properties": {"x": True},
                         "unevaluatedProperties": False},
                        {"required": ["y"], "properties": {"y": True}}]}
    assert_language(one_of, **FAITHFUL,
                    accepts=['{"x": 1}', '{"y": 2, "x": 1}', '{"y": 1, "z": 1}'],
                    rejects=['{"x": 1, "z": 1}', "{}"])


def test_not_never_evaluates() -> None:
    schema = {"properties": {"a": {}}, "not": {"required": ["b"]},
              "unevaluatedProperties": False}
    assert_language(schema, **FAITHFUL, accepts=['{"a": 1}'], rejects=['{"b": 1}', '{"c": 1}'])


def test_a_schema_in_properties_judges_only_its_own_value() -> None:
    schema = {"properties": {"a": {"properties": {"b": {}}, "unevaluatedProperties": False}},
              "anyOf": [{"properties": {"a": {"properties": {"c": {}}}}}]}
    assert_language(schema, **FAITHFUL, accepts=['{"a": {"b": 1}}'],
                    rejects=['{"a": {"c": 1}}'])


def test_draft07_reads_it_as_an_annotation() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#",
              "properties": {"a": {}}, "unevaluatedProperties": False}
    grammar = assert_language(schema, **FAITHFUL, accepts=['{"a": 1, "b": 2}'])
    assert [(u.pointer, u.keyword, u.post_validated) for u in grammar.unenforced] == [
        ("/unevaluatedProperties", "unevaluatedProperties", False)]


@pytest.mark.parametrize(("schema", "why"), [
    ({"properties": {"a": {}}, "dependentSchemas": {"a": {"properties": {"b": {}}}},
      "unevaluatedProperties": False}, "dependentSchemas"),
    ({"allOf": [{"anyOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]}],
      "unevaluatedProperties": False}, "inside allOf"),
    ({"if": {"patternProperties": {"^a": {}}}, "unevaluatedProperties": False}, "`if`"),
    ({"if": {"required": ["a"]}, "then": {"properties": {"b": {"type": "integer"}}},
      "unevaluatedProperties": False}, "`if`"),
    ({"anyOf": [{"properties": {n: {}}} for n in "abcde"], "unevaluatedProperties": False},
     "at most 4"),
    ({"anyOf": [{"oneOf": [{"properties": {"a": {}}}, {"required": ["b"]}]}, True],
      "unevaluatedProperties": False}, "/anyOf/0"),
    ({"$defs": {"r": {"anyOf": [{"properties": {"a": {}}}, {"$ref": "#/$defs/r"}]}},
      "$ref": "#/$defs/r", "unevaluatedProperties": False}, "recursive"),
])
@pytest.mark.parametrize("spec_faithful", [True, False])
def test_names_known_only_at_run_time_are_unsupported(schema: dict, why: str,
                                                      spec_faithful: bool) -> None:
    _refused_then_post_validated(schema, "unevaluatedProperties", why,
                                 spec_faithful=spec_faithful)


def _refused_then_post_validated(schema: dict, keyword: str, why: str,
                                 **options: Any) -> None:
    """Strict: refused at ``/keyword``, saying ``why``; lenient: checked after generation."""
    exc = assert_compile_error(schema, UnsupportedSchemaError, pointer=f"/{keyword}",
                               keyword=keyword, **options)
    assert why in str(exc)
    lenient = structgen.compile(schema, strict=False, **options)
    assert (f"/{keyword}", keyword, True) in {
        (u.pointer, u.keyword, u.post_validated) for u in lenient.unenforced}


def test_lenient_checks_it_after_generation() -> None:
    schema = {"type": "object", "properties": {"a": {}},
              "dependentSchemas": {"a": {"properties": {"b": {}}}},
              "unevaluatedProperties": False}
    grammar = structgen.compile(schema, strict=False, spec_faithful=True)
    assert grammar.accepts('{"c": 1}')  # not enforced by the grammar...
    assert grammar.validate({"c": 1})  # ...but found after generation
    assert grammar.validate({"a": 1, "b": 2}) == []


# -- unevaluatedItems ---------------------------------------------------------------------

@pytest.mark.parametrize("spec_faithful", [True, False])
def test_items_after_the_prefix_meet_it(spec_faithful: bool) -> None:
    schema = {"type": "array", "prefixItems": [{"type": "string"}],
              "allOf": [{"prefixItems": [True, {"type": "integer"}]}],
              "unevaluatedItems": {"type": "boolean"}}
    assert_language(schema, spec_faithful=spec_faithful,
                    accepts=['["a"]', '["a", 1]', '["a", 1, true, false]', "[]"],
                    rejects=['["a", 1, 2]', '["a", "b"]', "[1]"])


def test_items_evaluates_every_item() -> None:
    schema = {"items": {"type": "number"}, "unevaluatedItems": {"type": "string"}}
    assert_language(schema, **FAITHFUL, accepts=["[1, 2]", "[]", '"x"'], rejects=['["a"]'])


def test_items_cousins_see_only_their_own_scope() -> None:
    schema = {"allOf": [{"prefixItems": [True]}, {"unevaluatedItems": False}]}
    assert_language(schema, **FAITHFUL, accepts=["[]", "{}"], rejects=["[1]"])


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_items_any_of_and_one_of_options(spec_faithful: bool) -> None:
    any_of = {"type": "array", "prefixItems": [{"const": "a"}],
              "anyOf": [{"prefixItems": [True, {"type": "integer"}]},
                        {"prefixItems": [True, True, {"type": "string"}]}],
              "unevaluatedItems": False}
    assert_language(any_of, spec_faithful=spec_faithful,
                    accepts=['["a", 1]', '["a", 1, "s"]', '["a", "b", "s"]'],
                    rejects=['["a", "b", 1]', '["a", 1, "s", null]', '["a", null, null]'])
    one_of = {"oneOf": [{"type": "array", "prefixItems": [{"type": "integer"}]},
                        {"type": "string"}],
              "unevaluatedItems": {"type": "null"}}
    assert_language(one_of, spec_faithful=spec_faithful,
                    accepts=["[1]", "[1, null]", '"s"', "[]"],
                    rejects=["[1, 2]", '["a"]', "{}"])


def test_contains_is_fine_where_items_evaluates_every_item() -> None:
    schema = {"items": {"type": ["integer", "string"]}, "contains": {"type": "string"},
              "unevaluatedItems": False}
    assert_language(schema, **FAITHFUL, accepts=['[1, "a"]'], rejects=["[1]", "[null, \"a\"]"])


@pytest.mark.parametrize(("schema", "why"), [
    ({"prefixItems": [True], "contains": {"type": "string"}, "unevaluatedItems": False},
     "contains"),
    ({"allOf": [{"contains": {"const": 1}}], "unevaluatedItems": False}, "contains"),
    ({"if": {"prefixItems": [{"const": "a"}]}, "then": {"prefixItems": [True, True]},
      "unevaluatedItems": False}, "`if`"),
    ({"$schema": "https://json-schema.org/draft/2019-09/schema", "items": [True],
      "unevaluatedItems": False}, "2019-09"),
])
def test_items_known_only_at_run_time_are_unsupported(schema: dict, why: str) -> None:
    _refused_then_post_validated(schema, "unevaluatedItems", why, spec_faithful=True)


def test_too_many_any_of_options_for_both_keywords_together() -> None:
    schema = {"anyOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}},
                        {"prefixItems": [True]}, {"prefixItems": [True, True]},
                        {"prefixItems": [True, True, True]}],
              "unevaluatedProperties": False, "unevaluatedItems": False}
    exc = assert_compile_error(schema, UnsupportedSchemaError, spec_faithful=True)
    assert "at most 4" in str(exc)
    lenient = structgen.compile(schema, strict=False, spec_faithful=True)
    assert {u.keyword for u in lenient.unenforced} == {"unevaluatedProperties",
                                                       "unevaluatedItems"}
    assert lenient.accepts('{"a": 1, "b": 2}') and lenient.accepts("[1, 2, 3]")


# -- differential: jsonschema decides -------------------------------------------------------

SCHEMAS: dict[str, Any] = {
    "adjacent": {"properties": {"a": {"type": "integer"}},
                 "patternProperties": {"^x": {"type": "string"}},
                 "unevaluatedProperties": {"type": "boolean"}},
    "all_of": {"$defs": {"c": {"properties": {"c": {"type": "string"}}}},
               "properties": {"a": {}}, "$ref": "#/$defs/c",
               "allOf": [{"properties": {"b": {"type": "integer"}}}],
               "unevaluatedProperties": False},
    "any_of": {"properties": {"a": {"type": "string"}},
               "anyOf": [{"properties": {"b": {"const": 1}}, "required": ["b"]},
                         {"properties": {"ab": {"type": "string"}}, "required": ["ab"]},
                         {"patternProperties": {"^x": {"type": "integer"}}},
                         {"minProperties": 2}],
               "unevaluatedProperties": False},
    "one_of": {"oneOf": [{"properties": {"kind": {"const": "a"}, "a": {"type": "integer"}},
                          "required": ["kind"]},
                         {"properties": {"kind": {"const": "b"}, "b": {"type": "string"}},
                          "required": ["kind"]}],
               "unevaluatedProperties": {"type": "null"}},
    "one_of_presence": {"oneOf": [{"required": ["x"], "properties": {"x": True}},
                                  {"required": ["y"], "properties": {"y": True}}],
                        "unevaluatedProperties": {"type": "integer"}},
    "if": {"if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
           "then": {"properties": {"a": {"type": "integer"}}},
           "else": {"properties": {"b": {}}},
           "unevaluatedProperties": False},
    "nested": {"properties": {"a": {}},
               "allOf": [{"properties": {"b": {}},
                          "unevaluatedProperties": {"type": "integer"}}],
               "unevaluatedProperties": False},
    "cousins": {"allOf": [{"properties": {"a": {}}},
                          {"properties": {"b": {}}, "unevaluatedProperties": False}]},
    "inner": {"properties": {"a": {"properties": {"b": {}}, "unevaluatedProperties": False}},
              "additionalProperties": {"type": "integer"}},
    "branch": {"allOf": [{"properties": {"a": True}}],
               "anyOf": [{"properties": {"b": True}, "unevaluatedProperties": False},
                         {"required": ["ab"]}]},
    "tuple": {"prefixItems": [{"type": "string"}],
              "allOf": [{"prefixItems": [True, {"type": "integer"}]}],
              "unevaluatedItems": {"type": "boolean"}},
    "items_any_of": {"prefixItems": [{"const": "a"}],
                     "anyOf": [{"prefixItems": [True, {"type": "integer"}]},
                               {"prefixItems": [True, True, {"type": "string"}]}],
                     "unevaluatedItems": False},
    "items_contains": {"items": {"type": ["integer", "string"]},
                       "contains": {"type": "string"}, "unevaluatedItems": False},
    "both": {"properties": {"a": {"prefixItems": [{"type": "integer"}],
                                  "unevaluatedItems": {"type": "string"}}},
             "oneOf": [{"properties": {"kind": {"const": "a"}, "b": {}}, "required": ["kind"]},
                       {"properties": {"kind": {"const": "b"}}, "required": ["kind"]}],
             "unevaluatedProperties": {"type": "array", "unevaluatedItems": False}},
}
MODES = {"default": {}, "spec_faithful": {"spec_faithful": True}}
NAMES = ["a", "b", "ab", "c", "kind", "x", "xy"]
SCALARS = st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from(["a", "b", "s"])
VALUES = SCALARS | st.dictionaries(st.sampled_from(NAMES), SCALARS, max_size=2)
OBJECTS = st.dictionaries(st.sampled_from(NAMES), VALUES | st.lists(SCALARS, max_size=3),
                          max_size=4)
ARRAYS = st.lists(SCALARS | st.lists(SCALARS, max_size=2), max_size=4)


@functools.cache
def _grammar(name: str, mode: str) -> Grammar:
    return structgen.compile(SCHEMAS[name], **MODES[mode])


@functools.cache
def _validator(name: str) -> Any:
    return validator_for(SCHEMAS[name], formats=False)


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_compiles_with_nothing_unenforced(name: str, mode: str) -> None:
    assert _grammar(name, mode).unenforced == ()


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=80, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_agrees_with_jsonschema(name: str, mode: str, data: st.DataObject) -> None:
    """Canonical text (``Grammar.serialize``): with ``spec_faithful`` accepted exactly when
    valid; by default never accepted when invalid (that mode leaves out undeclared names
    the schema does not ask for, and types its keywords do not describe)."""
    value = data.draw(OBJECTS | ARRAYS | VALUES, label="value")
    expected = _validator(name).is_valid(value)
    accepted = _grammar(name, mode).accepts(_grammar(name, mode).serialize(value))
    if mode == "default":
        assert expected or not accepted, f"false accept: {value!r}"
    else:
        assert accepted == expected, f"{'false reject' if expected else 'false accept'}: {value!r}"


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_valid_instances_are_accepted(name: str, data: st.DataObject) -> None:
    """hypothesis-jsonschema's instances of the schema without the keywords (it does not
    know them), judged by jsonschema with them: the valid ones are accepted."""
    relaxed = _without_unevaluated(SCHEMAS[name])
    value = data.draw(schema_instances(relaxed), label="value")
    if json_depth(value) > 2:
        return  # free values nest at most any_value_depth (2) levels
    grammar = _grammar(name, "spec_faithful")
    text = grammar.serialize(value)
    assert grammar.accepts(text) == _validator(name).is_valid(value), text


def _without_unevaluated(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_unevaluated(v) for k, v in schema.items()
                if k not in ("unevaluatedProperties", "unevaluatedItems")}
    if isinstance(schema, list):
        return [_without_unevaluated(v) for v in schema]
    return schema
