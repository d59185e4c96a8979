"""minProperties / maxProperties: members counted in the object automaton, extras included."""

from __future__ import annotations

import pytest

from structgen import GrammarLimitError, UnsatisfiableSchemaError, UnsupportedSchemaError, compile
from structgen.testing import assert_compile_error, assert_language, assert_round_trip

INT = {"type": "integer"}
MODES = [{}, {"spec_faithful": True}]


@pytest.mark.parametrize("mode", MODES)
def test_optional_declared_properties_are_counted(mode: dict) -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT, "c": INT},
         "additionalProperties": False, "minProperties": 2, "maxProperties": 2},
        accepts=['{"a": 1, "b": 2}', '{"a": 1, "c": 3}', '{"b": 2, "c": 3}'],
        rejects=["{}", '{"a": 1}', '{"c": 3}', '{"a": 1, "b": 2, "c": 3}'],
        **mode,
    )


@pytest.mark.parametrize("mode", MODES)
def test_pattern_properties_are_counted(mode: dict) -> None:
    assert_language(
        {"type": "object", "patternProperties": {"^x": INT}, "additionalProperties": False,
         "minProperties": 1, "maxProperties": 2},
        accepts=['{"x1": 1}', '{"x1": 1, "x2": 2}'],
        rejects=["{}", '{"x1": 1, "x2": 2, "x3": 3}', '{"y": 1}', '{"x1": "s"}'],
        **mode,
    )


def test_undeclared_extras_count_under_spec_faithful() -> None:
    schema = {"type": "object", "properties": {"a": INT}, "required": ["a"],
              "maxProperties": 2}
    assert_language(schema, accepts=['{"a": 1}', '{"a": 1, "x": null}'],
                    rejects=["{}", '{"a": 1, "x": 1, "y": 2}'], spec_faithful=True)
    # By default undeclared keys are not written at all, so the bound cannot bind.
    assert_language(schema, accepts=['{"a": 1}'], rejects=['{"a": 1, "x": null}'])


def test_min_properties_saturates_on_unbounded_extras() -> None:
    assert_language(
        {"type": "object", "additionalProperties": {"type": "boolean"}, "minProperties": 2},
        accepts=['{"a": true, "b": false}', '{"a": true, "b": true, "c": false, "d": true}'],
        rejects=["{}", '{"a": true}', '{"a": true, "b": 1}'],
    )


def test_bounds_merge_across_all_of() -> None:
    assert_language(
        {"type": "object", "additionalProperties": INT,
         "allOf": [{"minProperties": 1}, {"maxProperties": 3}, {"maxProperties": 1}]},
        accepts=['{"a": 1}'],
        rejects=["{}", '{"a": 1, "b": 2}'],
    )


def test_counts_with_flexible_whitespace() -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT}, "minProperties": 1},
        accepts=['{ "a": 1 }', '{"b":2}', '{ "a" : 1 , "b": 2}'],
        rejects=["{ }", "{}"],
        whitespace="flexible",
    )


def test_nested_counted_objects() -> None:
    assert_language(
        {"type": "array", "items": {"type": "object", "additionalProperties": INT,
                                    "minProperties": 1, "maxProperties": 1}},
        accepts=["[]", '[{"a": 1}, {"b": 2}]'],
        rejects=["[{}]", '[{"a": 1}, {"a": 1, "b": 2}]'],
    )


def test_bounds_that_cannot_bind_add_no_states() -> None:
    plain = compile({"type": "object", "properties": {"a": INT}, "required": ["a"]})
    bounded = compile({"type": "object", "properties": {"a": INT}, "required": ["a"],
                       "minProperties": 1, "maxProperties": 5})
    assert bounded.dfa.n_states == plain.dfa.n_states
    assert bounded.unenforced == ()


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {}}, "additionalProperties": False,
         "minProperties": 2},
        {"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a", "b"],
         "maxProperties": 1},
    ],
)
def test_impossible_counts_are_unsatisfiable(schema: dict) -> None:
    assert_compile_error(schema, UnsatisfiableSchemaError)


def test_absurd_bounds_name_the_keyword() -> None:
    assert_compile_error(
        {"type": "object", "properties": {"inner": {"type": "object", "minProperties": 5000,
                                                    "additionalProperties": INT}}},
        UnsupportedSchemaError, pointer="/properties/inner/minProperties",
        keyword="minProperties",
    )


def test_large_extras_bound_hits_the_state_budget_not_a_hang() -> None:
    with pytest.raises(GrammarLimitError):
        compile({"type": "object", "additionalProperties": {"type": "string", "maxLength": 50},
                 "maxProperties": 3000}, state_budget=20_000)


def test_serialized_instances_are_accepted() -> None:
    assert_round_trip(
        {"type": "object", "properties": {"a": INT, "b": {"type": "string"}},
         "patternProperties": {"^x": INT}, "minProperties": 2, "maxProperties": 3},
        [{"a": 1, "b": "s"}, {"b": "s", "x1": 2, "a": 3}, {"x": 1, "y": [None]}],
        spec_faithful=True,
    )
