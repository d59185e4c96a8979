"""dependentRequired, dependentSchemas and draft-07 dependencies, tracked in declared order."""

from __future__ import annotations

from itertools import pairwise

import pytest

from structgen import UnsatisfiableSchemaError, UnsupportedSchemaError, compile
from structgen.testing import (
    assert_agrees_with_jsonschema,
    assert_compile_error,
    assert_language,
    assert_round_trip,
)

INT = {"type": "integer"}
MODES = [{}, {"spec_faithful": True}]
DRAFT7 = "http://json-schema.org/draft-07/schema#"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_dependency_on_an_earlier_or_later_property(mode: dict, order: tuple) -> None:
    properties = {name: INT for name in order}
    first, second = order
    assert_language(
        {"type": "object", "properties": properties, "additionalProperties": False,
         "dependentRequired": {"a": ["b"]}},
        accepts=["{}", '{"b": 1}', f'{{"{first}": 1, "{second}": 2}}'],
        rejects=['{"a": 1}'],
        **mode,
    )


@pytest.mark.parametrize("mode", MODES)
def test_mutual_and_chained_dependencies(mode: dict) -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT, "c": INT, "d": INT},
         "additionalProperties": False,
         "dependentRequired": {"a": ["c"], "c": ["a"], "d": ["b"], "b": ["a"]}},
        accepts=["{}", '{"a": 1, "c": 3}', '{"a": 1, "b": 2, "c": 3}',
                 '{"a": 1, "b": 2, "c": 3, "d": 4}'],
        rejects=['{"a": 1}', '{"c": 3}', '{"b": 2}', '{"d": 4}', '{"b": 2, "d": 4}',
                 '{"a": 1, "c": 3, "d": 4}'],
        **mode,
    )


def test_a_required_trigger_makes_its_dependencies_required() -> None:
    grammar = assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT}, "required": ["a"],
         "dependentRequired": {"a": ["b"]}},
        accepts=['{"a": 1, "b": 2}'],
        rejects=['{"a": 1}', '{"b": 2}'],
    )
    assert grammar.unenforced == ()


def test_dependency_on_an_undeclared_name_counts_as_declared() -> None:
    schema = {"type": "object", "properties": {"a": INT}, "dependentRequired": {"a": ["zz"]}}
    for mode in MODES:
        assert_language(schema, accepts=["{}", '{"a": 1, "zz": true}'],
                        rejects=['{"a": 1}'], **mode)
    assert_language(schema, accepts=['{"q": 1}', '{"a": 1, "zz": 2, "q": 3}'],
                    rejects=['{"a": 1, "q": 3}'], spec_faithful=True)


@pytest.mark.parametrize("mode", MODES)
def test_dependency_name_follows_additional_properties(mode: dict) -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT}, "additionalProperties": INT,
         "dependentRequired": {"a": ["zz"]}},
        accepts=['{"a": 1, "zz": 2}', '{"a": 1, "zz": 2, "q": 3}', '{"zz": 2}'],
        rejects=['{"a": 1, "zz": "s"}', '{"a": 1, "q": 3}', '{"a": 1}'],
        **mode,
    )


@pytest.mark.parametrize("mode", MODES)
def test_dependency_on_a_forbidden_name_forbids_the_trigger(mode: dict) -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT}, "additionalProperties": False,
         "dependentRequired": {"a": ["zz"]}},
        accepts=["{}", '{"b": 1}'],
        rejects=['{"a": 1}', '{"a": 1, "zz": 1}', '{"a": 1, "b": 1}'],
        **mode,
    )


def test_required_trigger_of_a_forbidden_name_is_unsatisfiable() -> None:
    assert_compile_error(
        {"type": "object", "properties": {"a": INT}, "required": ["a"],
         "additionalProperties": False, "dependentRequired": {"a": ["zz"]}},
        UnsatisfiableSchemaError,
    )


@pytest.mark.parametrize("mode", MODES)
def test_draft7_dependencies_arrays_and_required_schemas(mode: dict) -> None:
    assert_language(
        {"$schema": DRAFT7, "type": "object",
         "properties": {"a": INT, "b": INT, "c": INT}, "additionalProperties": False,
         "dependencies": {"a": ["b"], "c": {"required": ["a"]}}},
        accepts=["{}", '{"b": 2}', '{"a": 1, "b": 2}', '{"a": 1, "b": 2, "c": 3}'],
        rejects=['{"a": 1}', '{"c": 3}', '{"b": 2, "c": 3}'],
        **mode,
    )


@pytest.mark.parametrize(
    ("dialect", "keyword"),
    [({}, "dependencies"), ({"$schema": DRAFT7}, "dependentRequired")],
)
def test_a_keyword_of_another_draft_is_an_annotation(dialect: dict, keyword: str) -> None:
    grammar = assert_language(
        {**dialect, "type": "object", "properties": {"a": INT, "b": INT},
         keyword: {"a": ["b"]}},
        accepts=['{"a": 1}'],
    )
    assert [(u.pointer, u.keyword, u.post_validated) for u in grammar.unenforced] == [
        (f"/{keyword}", keyword, False)
    ]
    assert grammar.validate({"a": 1}) == []


@pytest.mark.parametrize("mode", MODES)
def test_dependent_schema_restating_properties(mode: dict) -> None:
    grammar = assert_language(
        {"type": "object", "properties": {"a": INT, "b": {"type": "string"}},
         "additionalProperties": False,
         "dependentSchemas": {"a": {"type": "object", "title": "needs b",
                                    "properties": {"b": {"type": "string"}},
                                    "required": ["b"]}}},
        accepts=["{}", '{"b": "s"}', '{"a": 1, "b": "s"}'],
        rejects=['{"a": 1}', '{"a": 1, "b": 2}'],
        **mode,
    )
    assert grammar.unenforced == ()


@pytest.mark.parametrize("sub", [False, {"type": "string"}])
def test_dependent_schema_no_object_meets_forbids_the_trigger(sub: object) -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT},
         "dependentSchemas": {"a": sub}},
        accepts=["{}", '{"b": 1}'],
        rejects=['{"a": 1}', '{"a": 1, "b": 1}'],
    )


@pytest.mark.parametrize(
    "sub",
    [
        {"properties": {"b": {"maximum": 3}}},
        {"anyOf": [{"required": ["b"]}, {"required": ["c"]}]},
        {"additionalProperties": False},
    ],
)
def test_narrowing_dependent_schemas_are_unions(sub: dict) -> None:
    schema = {"type": "object", "properties": {"a": INT, "b": INT, "c": INT},
              "dependentSchemas": {"a": sub}}
    instances = [{}, {"a": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 9}, {"a": 1, "c": 1},
                 {"b": 9}, {"a": 1, "b": 1, "c": 1}, {"a": 1, "z": 0}]
    assert_agrees_with_jsonschema(schema, instances, spec_faithful=True)


def test_dependent_schema_with_an_unsupported_keyword() -> None:
    schema = {"type": "object", "properties": {"a": INT, "b": INT},
              "dependentSchemas": {"a": {"not": {"properties": {"b": {"minimum": 1}}}}}}
    assert_compile_error(schema, UnsupportedSchemaError, pointer="/dependentSchemas/a/not",
                         keyword="not")
    grammar = compile(schema, strict=False)
    assert [u.pointer for u in grammar.unenforced] == ["/dependentSchemas/a/not"]


def test_too_many_dependent_names_are_unsupported() -> None:
    names = [f"p{i}" for i in range(14)]
    schema = {"type": "object", "properties": {n: INT for n in names},
              "dependentRequired": {a: [b] for a, b in pairwise(names)}}
    assert_compile_error(schema, UnsupportedSchemaError, pointer="",
                         keyword="dependentRequired")


def test_dependencies_with_property_counts() -> None:
    assert_language(
        {"type": "object", "properties": {"a": INT, "b": INT, "c": INT},
         "additionalProperties": False, "dependentRequired": {"c": ["a"]},
         "maxProperties": 2},
        accepts=['{"a": 1, "c": 3}', '{"a": 1, "b": 2}', '{"b": 2}'],
        rejects=['{"b": 2, "c": 3}', '{"a": 1, "b": 2, "c": 3}'],
    )


def test_serialized_instances_are_accepted() -> None:
    assert_round_trip(
        {"type": "object", "properties": {"b": INT, "a": INT},
         "dependentRequired": {"a": ["b", "zz"]}},
        [{"a": 1, "b": 2, "zz": 3}, {"zz": None, "a": 1, "b": 2}, {"b": 1}, {}],
        spec_faithful=True,
    )
