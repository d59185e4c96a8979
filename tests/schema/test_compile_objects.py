"""Objects: declared order, required and optional members, additional and pattern
properties, propertyNames."""

from __future__ import annotations

import jsonschema

from structgen.testing import assert_language

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "email": {"type": "string"},
    },
    "required": ["name"],
}


def test_members_come_in_declared_order() -> None:
    assert_language(
        PERSON,
        accepts=['{"name": "a", "age": 1, "email": "e"}'],
        rejects=['{"age": 1, "name": "a"}', '{"email": "e", "name": "a"}',
                 '{"name": "a", "email": "e", "age": 1}'],
    )


def test_optional_members_may_be_skipped() -> None:
    assert_language(
        PERSON,
        accepts=['{"name": "a"}', '{"name": "a", "age": 1}', '{"name": "a", "email": "e"}',
                 '{"name": "a", "age": 1, "email": "e"}'],
        rejects=['{"name": "a", }', '{"name": "a",, "email": "e"}'],
    )


def test_required_members() -> None:
    assert_language(
        {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
         "required": ["a", "b"]},
        accepts=['{"a": 1, "b": 2}'],
        rejects=["{}", '{"a": 1}', '{"b": 2}'],
    )


def test_all_optional_object_may_be_empty() -> None:
    assert_language(
        {"type": "object", "properties": {"a": {"type": "integer"}}},
        accepts=["{}", '{"a": 1}'],
        rejects=['{"a": "x"}', '{"a": 1, "a": 1}'],
    )


def test_required_name_without_declaration_takes_any_value() -> None:
    assert_language(
        {"type": "object", "required": ["id"]},
        accepts=['{"id": 1}', '{"id": "x"}', '{"id": [null]}'],
        rejects=["{}"],
    )


def test_key_spelling_may_use_escapes() -> None:
    assert_language(
        {"type": "object", "properties": {"é": {"type": "integer"}}, "required": ["é"]},
        accepts=['{"é": 1}', '{"\\u00e9": 1}'],
        rejects=['{"e": 1}'],
        unicode_escapes=True,
    )


class TestAdditionalProperties:
    def test_absent_means_forbidden_by_default(self) -> None:
        assert_language(
            PERSON,
            accepts=['{"name": "a"}'],
            rejects=['{"name": "a", "extra": 1}', '{"extra": 1, "name": "a"}'],
        )

    def test_absent_means_allowed_when_spec_faithful(self) -> None:
        assert_language(
            PERSON,
            accepts=['{"name": "a", "extra": 1}', '{"name": "a", "age": 1, "x": [1], "y": {}}',
                     '{"name": "a", "extra": {"deep": [null, "s"]}}'],
            rejects=['{"name": "a", "age": "x"}', '{"extra": 1}'],
            spec_faithful=True,
        )

    def test_undeclared_keys_cannot_repeat_declared_ones(self) -> None:
        # A second "age" (in any spelling) would overwrite the declared member.
        assert_language(
            PERSON,
            accepts=['{"name": "a", "agE": "x"}'],
            rejects=['{"name": "a", "age": "x"}', '{"name": "a", "\\u0061ge": "x"}',
                     '{"name": "a", "name": 1}'],
            spec_faithful=True,
        )

    def test_false_forbids_even_when_spec_faithful(self) -> None:
        assert_language(
            {**PERSON, "additionalProperties": False},
            accepts=['{"name": "a"}'],
            rejects=['{"name": "a", "extra": 1}'],
            spec_faithful=True,
        )

    def test_true_allows_anything(self) -> None:
        assert_language(
            {**PERSON, "additionalProperties": True},
            accepts=['{"name": "a", "extra": 1}', '{"name": "a", "x": null, "y": [1]}'],
        )

    def test_schema_constrains_undeclared_values(self) -> None:
        assert_language(
            {**PERSON, "additionalProperties": {"type": "integer"}},
            accepts=['{"name": "a", "x": 1}', '{"name": "a", "x": 1, "y": 2}',
                     '{"name": "a", "age": 1, "x": 1}'],
            rejects=['{"name": "a", "x": "s"}', '{"name": "a", "age": "s"}'],
        )

    def test_map_of_values(self) -> None:
        assert_language(
            {"type": "object", "additionalProperties": {"type": "boolean"}},
            accepts=["{}", '{"a": true}', '{"a": true, "b": false}', '{"": true}'],
            rejects=['{"a": 1}', '{"a": true, "b": null}', '{a: true}'],
        )


class TestPatternProperties:
    def test_pattern_properties_with_closed_object(self) -> None:
        assert_language(
            {"type": "object", "patternProperties": {"^x_": {"type": "integer"}},
             "additionalProperties": False},
            accepts=["{}", '{"x_a": 1}', '{"x_a": 1, "x_b": 2}'],
            rejects=['{"x_a": "s"}', '{"y": 1}', '{"ax_": 1}'],
        )

    def test_pattern_properties_with_additional_schema(self) -> None:
        assert_language(
            {"type": "object", "patternProperties": {"^x_": {"type": "integer"}},
             "additionalProperties": {"type": "string"}},
            accepts=['{"x_a": 1}', '{"y": "s"}', '{"y": "s", "x_1": 2}'],
            rejects=['{"x_a": "s"}', '{"y": 1}'],
        )

    def test_pattern_is_a_search_in_the_key(self) -> None:
        assert_language(
            {"type": "object", "patternProperties": {"id": {"type": "integer"}},
             "additionalProperties": False},
            accepts=['{"id": 1}', '{"user_id": 2}', '{"idx": 3}'],
            rejects=['{"ID": 1}', '{"user_id": "2"}'],
        )

    def test_key_matching_two_patterns_satisfies_both(self) -> None:
        assert_language(
            {"type": "object", "patternProperties": {"^a": {"type": "integer"},
                                                     "b$": {"minimum": 10}},
             "additionalProperties": False},
            accepts=['{"ax": 1}', '{"ab": 10}', '{"xb": 20}', '{"xb": "s"}'],
            rejects=['{"ab": 5}', '{"ab": "s"}', '{"x": 1}'],
            spec_faithful=True,
        )

    def test_pattern_properties_also_constrain_declared_members(self) -> None:
        assert_language(
            {"type": "object", "properties": {"x_a": {"type": "number"}},
             "patternProperties": {"^x_": {"type": "integer"}}},
            accepts=['{"x_a": 1}'],
            rejects=['{"x_a": 1.5}'],
        )

    def test_each_allof_member_judges_undeclared_keys_by_its_own_patterns(self) -> None:
        # Member 0: keys matching ^a are integers, others strings. Member 1: keys matching
        # b$ are at least 10, others anything. A key is held to both members' rules.
        schema = {"type": "object", "allOf": [
            {"patternProperties": {"^a": {"type": "integer"}},
             "additionalProperties": {"type": "string"}},
            {"patternProperties": {"b$": {"minimum": 10}, "^a": {"maximum": 100}}},
        ]}
        grammar = assert_language(
            schema,
            accepts=['{"ax": 5}', '{"ab": 10}', '{"xb": "s"}', '{"x": "s"}', "{}"],
            rejects=['{"ab": 5}', '{"ax": 101}', '{"x": 1}', '{"ax": "s"}'],
            spec_faithful=True,
        )
        validator = jsonschema.Draft202012Validator(schema)
        for key in ("a", "ab", "b", "xb", "x", "ba"):
            for value in (5, 10, 101, "s", None):
                instance = {key: value}
                assert grammar.accepts(grammar.serialize(instance)) == validator.is_valid(
                    instance
                ), instance


class TestPropertyNames:
    def test_property_names_pattern(self) -> None:
        assert_language(
            {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"},
             "additionalProperties": {"type": "integer"}},
            accepts=["{}", '{"abc": 1}', '{"a": 1, "b": 2}'],
            rejects=['{"aBc": 1}', '{"": 1}', '{"a1": 1}'],
        )

    def test_property_names_max_length(self) -> None:
        assert_language(
            {"type": "object", "propertyNames": {"maxLength": 2}},
            accepts=['{"ab": 1}', '{"": null}'],
            rejects=['{"abc": 1}'],
            spec_faithful=True,
        )

    def test_property_names_enum(self) -> None:
        assert_language(
            {"type": "object", "propertyNames": {"enum": ["a", "b"]},
             "additionalProperties": {"type": "integer"}},
            accepts=['{"a": 1}', '{"a": 1, "b": 2}'],
            rejects=['{"c": 1}', '{"ab": 1}'],
        )

    def test_property_names_exclude_declared_members(self) -> None:
        assert_language(
            {"type": "object", "properties": {"LONG": {"type": "integer"}},
             "propertyNames": {"maxLength": 2}},
            accepts=["{}"],
            rejects=['{"LONG": 1}'],
        )


def test_nested_objects() -> None:
    assert_language(
        {"type": "object", "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "null"}}, "required": ["b"]}},
         "required": ["a"]},
        accepts=['{"a": {"b": null}}'],
        rejects=['{"a": {}}', '{"a": null}', '{"a": {"b": null, "c": 1}}'],
    )


def test_object_members_under_allof_merge() -> None:
    assert_language(
        {"allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string"}}, "required": ["b"]},
        ]},
        accepts=['{"a": 1, "b": "x"}'],
        rejects=['{"a": 1}', '{"b": "x"}', '{"b": "x", "a": 1}'],
    )
