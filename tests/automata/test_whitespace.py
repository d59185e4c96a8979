"""Whitespace policies and separators: default, compact, flexible (bounded), custom."""

from __future__ import annotations

import json

from structgen import compile
from structgen.testing import assert_language

SCHEMA = {
    "type": "object",
    "properties": {
        "a": {"type": "array", "items": {"type": "integer"}},
        "b": {"type": "boolean"},
        "c": {"type": "object", "additionalProperties": {"type": "null"}},
    },
    "required": ["a", "b"],
    "additionalProperties": False,
}
VALUE = {"a": [1, 2], "b": True, "c": {"k": None}}

DEFAULT = '{"a": [1, 2], "b": true, "c": {"k": null}}'
COMPACT = '{"a":[1,2],"b":true,"c":{"k":null}}'
SPACED = '{ "a" : [ 1 , 2 ] , "b" : true , "c" : { "k" : null } }'
PRETTY = json.dumps(VALUE, indent=2)


def test_default_is_exactly_json_dumps() -> None:
    assert json.dumps(VALUE) == DEFAULT
    assert_language(
        SCHEMA,
        accepts=[DEFAULT, '{"a": [], "b": false}', '{"a": [1], "b": true, "c": {}}'],
        rejects=[COMPACT, SPACED, PRETTY, " " + DEFAULT, DEFAULT + " ", DEFAULT + "\n",
                 '{"a": [1,2], "b": true}', '{"a":[1, 2], "b": true}',
                 '{"a": [ ], "b": true}', '{"a": [1, 2],  "b": true}'],
    )


def test_compact() -> None:
    assert json.dumps(VALUE, separators=(",", ":")) == COMPACT
    assert_language(
        SCHEMA,
        accepts=[COMPACT, '{"a":[],"b":false}'],
        rejects=[DEFAULT, SPACED, PRETTY, '{"a":[1, 2],"b":true}'],
        whitespace="compact",
    )


def test_flexible_accepts_common_spacings() -> None:
    assert_language(
        SCHEMA,
        accepts=[DEFAULT, COMPACT, SPACED, '{"a":\t[1,2],\r\n"b":true}', " " + DEFAULT,
                 DEFAULT + "\n", '{"a": [ ], "b": true}'],
        rejects=['{"a": [1, 2], "b": true,}', '{"a" [1], "b": true}'],
        whitespace="flexible",
    )


def test_flexible_whitespace_is_bounded() -> None:
    many = " " * 50
    assert_language(
        SCHEMA,
        rejects=['{"a":' + many + '[1], "b": true}', many + DEFAULT, DEFAULT + many,
                 '{"a": [1,' + many + '2], "b": true}'],
        whitespace="flexible",
    )


INTS = {"type": "array", "items": {"type": "integer"}}
NESTED = {"type": "array", "items": INTS}
HOLDER = {"type": "object", "properties": {"b": {"type": "integer"}, "a": INTS,
                                           "o": {"type": "object"}}}
# (text before the gap, text after it, schema): every kind of token pair around a gap.
GAPS = [
    ('{"b":', "1}", HOLDER),
    ('{"a":', "[1]}", HOLDER),
    ('{"a": [1]', "}", HOLDER),
    ('{"o":', "{}}", HOLDER),
    ("[", "[1]]", NESTED),
    ("[[1],", "[2]]", NESTED),
    ("[[1]", "]", NESTED),
    ("", "[1]", INTS),
    ("[1]", "", INTS),
]


def test_flexible_whitespace_respects_max_whitespace_in_every_gap() -> None:
    # "up to max_whitespace whitespace characters wherever JSON allows them": each gap
    # between two tokens holds at most max_whitespace characters, whatever the tokens.
    grammars = {id(s): compile(s, whitespace="flexible", max_whitespace=2)
                for _, _, s in GAPS}
    wrong = []
    for before, after, schema in GAPS:
        grammar = grammars[id(schema)]
        if not grammar.accepts(before + "  " + after):
            wrong.append(f"rejected 2 spaces: {before + '  ' + after!r}")
        if grammar.accepts(before + "   " + after):
            wrong.append(f"accepted 3 spaces: {before + '   ' + after!r}")
    assert not wrong, "\n".join(wrong)


def test_flexible_zero_whitespace_is_compact_or_default_free() -> None:
    assert_language(
        SCHEMA,
        accepts=[COMPACT],
        rejects=['{"a": [1, 2], "b": true}'],
        whitespace="flexible",
        max_whitespace=0,
    )


def test_custom_separators() -> None:
    assert_language(
        SCHEMA,
        accepts=[json.dumps(VALUE, separators=(",", ": ")), '{"a": [],"b": true}'],
        rejects=[DEFAULT, COMPACT],
        separators=(",", ": "),
    )
    assert_language(
        SCHEMA,
        accepts=[json.dumps(VALUE, separators=(" , ", " : "))],
        rejects=[DEFAULT, COMPACT],
        separators=(" , ", " : "),
    )


def test_separators_override_whitespace() -> None:
    assert_language(
        SCHEMA,
        accepts=[json.dumps(VALUE, separators=(",", ": "))],
        rejects=[COMPACT],
        whitespace="compact",
        separators=(",", ": "),
    )


def test_separators_inside_enum_values_follow_the_policy() -> None:
    schema = {"enum": [{"x": [1, 2]}]}
    assert_language(schema, accepts=['{"x": [1, 2]}'], rejects=['{"x":[1,2]}'])
    assert_language(schema, accepts=['{"x":[1,2]}'], rejects=['{"x": [1, 2]}'],
                    whitespace="compact")


def test_whitespace_inside_strings_is_content() -> None:
    assert_language(
        {"type": "string", "maxLength": 3},
        accepts=['"   "', '" a "'],
        rejects=['"    "'],
        whitespace="flexible",
    )


def test_grammar_records_its_separators() -> None:
    assert compile(SCHEMA).separators == (", ", ": ")
    assert compile(SCHEMA, whitespace="compact").separators == (",", ":")
    assert compile(SCHEMA, separators=(";", "=")).separators == (";", "=")
