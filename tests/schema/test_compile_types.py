"""Core keywords: type, type arrays, nullable, enum and const."""

from __future__ import annotations

import pytest

from structgen.testing import assert_language


@pytest.mark.parametrize(
    ("schema", "accepts", "rejects"),
    [
        ({"type": "null"}, ["null"], ["0", '"null"', "false", "nul", "nulll", "", " null"]),
        ({"type": "boolean"}, ["true", "false"], ["1", '"true"', "null", "True", "truefalse"]),
        ({"type": "integer"}, ["0", "-1", "42"], ["1.5", '"1"', "true", "null", "[]"]),
        ({"type": "number"}, ["0", "-1", "1.5", "1e3"], ['"1"', "true", "NaN"]),
        ({"type": "string"}, ['""', '"a"', '"two words"'], ["a", "'a'", "1", "null", '"a']),
        ({"type": "array"}, ["[]", "[1]", '[1, "a", null]'], ["{}", "1", "[", "[1,]"]),
        (
            {"type": "object", "additionalProperties": True},
            ["{}", '{"a": 1}'],
            ["[]", "null", "{", '{"a"}', '{"a": }'],
        ),
    ],
)
def test_single_types(schema: dict, accepts: list[str], rejects: list[str]) -> None:
    assert_language(schema, accepts=accepts, rejects=rejects)


def test_type_array_is_a_union() -> None:
    assert_language(
        {"type": ["integer", "boolean"]},
        accepts=["1", "-7", "true", "false"],
        rejects=["1.5", '"1"', "null", "[]"],
    )
    assert_language(
        {"type": ["string", "array"], "items": {"type": "integer"}, "maxLength": 2},
        accepts=['"ab"', "[1, 2]", "[]"],
        rejects=['"abc"', '["a"]', "1"],
    )


def test_type_array_with_null_is_nullable() -> None:
    assert_language(
        {"type": ["string", "null"], "maxLength": 3},
        accepts=["null", '"abc"', '""'],
        rejects=['"abcd"', "0", '"null', "nulll"],
    )


def test_openapi_nullable() -> None:
    assert_language(
        {"type": "integer", "nullable": True, "minimum": 0},
        accepts=["null", "0", "5"],
        rejects=["-1", '"x"', "1.5"],
    )
    assert_language({"type": "integer", "nullable": False}, accepts=["1"], rejects=["null"])


def test_number_type_includes_integers() -> None:
    assert_language({"type": "number"}, accepts=["3", "-3", "3.25"])


def test_untyped_schema_admits_every_type_when_spec_faithful() -> None:
    assert_language(
        {},
        accepts=["null", "true", "1", "1.5", '"s"', "[1, [2]]", '{"a": {"b": [null]}}'],
        rejects=["", "nul", "{]", "[1,, 2]"],
        spec_faithful=True,
    )


def test_untyped_schema_infers_type_from_keywords() -> None:
    # Without spec_faithful, string keywords imply a string (the generation default).
    assert_language({"minLength": 2}, accepts=['"ab"'], rejects=['"a"', "1", "null"])


class TestEnumConst:
    def test_enum_of_strings(self) -> None:
        assert_language(
            {"enum": ["red", "green"]},
            accepts=['"red"', '"green"'],
            rejects=['"blue"', '"re"', '"redd"', "red", '"Red"'],
        )

    def test_enum_of_mixed_values(self) -> None:
        assert_language(
            {"enum": [1, "1", None, True, [1, "x"]]},
            accepts=["1", '"1"', "null", "true", '[1, "x"]'],
            rejects=["2", "false", '"true"', '[1, "y"]', '["x", 1]', "[1]"],
        )

    def test_enum_of_objects_keeps_member_order_and_separators(self) -> None:
        assert_language(
            {"enum": [{"a": [1, 2], "b": None}, {"c": {}}]},
            accepts=['{"a": [1, 2], "b": null}', '{"c": {}}'],
            rejects=['{"a": [1, 2]}', '{"a": [1, 2], "b": null, "c": 1}', '{"c": []}'],
        )

    def test_const(self) -> None:
        assert_language({"const": "x"}, accepts=['"x"'], rejects=['"y"', '""', "null"])
        assert_language({"const": None}, accepts=["null"], rejects=["0", '"null"'])
        assert_language({"const": 0}, accepts=["0"], rejects=["1", "-1", "false"])
        assert_language({"const": False}, accepts=["false"], rejects=["0", "true", "null"])

    def test_non_ascii_const_accepts_raw_and_escaped_spellings(self) -> None:
        # json.dumps writes "é" as "\u00e9"; both spellings are the same JSON string.
        assert_language(
            {"const": "café"},
            accepts=['"café"', '"caf\\u00e9"', '"caf\\u00E9"', '"\\u0063af\\u00e9"'],
            rejects=['"cafe"', '"caf\\u00e8"', '"café "', '"caf\\u00e"'],
            unicode_escapes=True,
        )

    def test_astral_const_accepts_raw_and_surrogate_pair(self) -> None:
        assert_language(
            {"enum": ["😀", "日本"]},
            accepts=['"😀"', '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"', '"日本"',
                     '"\\u65e5\\u672c"'],
            rejects=['"\\ud83d"', '"\\ude00\\ud83d"', '"😁"', '"日"'],
            unicode_escapes=True,
        )

    def test_escapes_in_enum_strings(self) -> None:
        assert_language(
            {"enum": ['say "hi"', "back\\slash", "line\nbreak", "tab\t", "/"]},
            accepts=[
                '"say \\"hi\\""', '"say \\u0022hi\\u0022"',
                '"back\\\\slash"', '"back\\u005cslash"',
                '"line\\nbreak"', '"line\\u000abreak"',
                '"tab\\t"', '"/"', '"\\/"',
            ],
            rejects=['"say "hi""', '"line\nbreak"', '"tab\t"', '"back\\slash"'],
            unicode_escapes=True,
        )

    def test_without_unicode_escapes_non_ascii_is_written_raw(self) -> None:
        # unicode_escapes=False (the generation default) drops \uXXXX spellings only.
        assert_language(
            {"enum": ["café", 'say "hi"', "line\nbreak", "😀"]},
            accepts=['"café"', '"say \\"hi\\""', '"line\\nbreak"', '"😀"'],
            rejects=['"caf\\u00e9"', '"say \\u0022hi\\u0022"', '"line\\u000abreak"',
                     '"\\ud83d\\ude00"'],
            unicode_escapes=False,
        )

    def test_spec_faithful_turns_unicode_escapes_on(self) -> None:
        assert_language({"const": "café"}, accepts=['"café"', '"caf\\u00e9"'],
                        spec_faithful=True)

    def test_enum_values_are_filtered_by_sibling_keywords(self) -> None:
        assert_language(
            {"type": "string", "enum": ["a", "bb", 1, None], "maxLength": 1},
            accepts=['"a"'],
            rejects=['"bb"', "1", "null"],
        )

    def test_float_const(self) -> None:
        assert_language({"const": 1.5}, accepts=["1.5"], rejects=["1", "2.5", '"1.5"'])
        # JSON Schema compares numbers by value: 2.0 and 2 are the same number.
        assert_language({"const": 2.0}, accepts=["2.0", "2"], rejects=["2.5"])

    def test_enum_intersection_under_allof(self) -> None:
        assert_language(
            {"allOf": [{"enum": ["a", "b", "c"]}, {"enum": ["b", "c", "d"]}]},
            accepts=['"b"', '"c"'],
            rejects=['"a"', '"d"'],
        )
