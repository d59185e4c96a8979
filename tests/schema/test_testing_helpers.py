"""structgen.testing: the helpers the language tests rely on report what they promise."""

from __future__ import annotations

import json
import random

import pytest

from structgen import SchemaError, UnsupportedSchemaError, compile
from structgen.testing import (
    assert_compile_error,
    assert_language,
    grammar_of,
    inline_refs,
    json_depth,
    random_document,
)


def test_assert_language_lists_every_wrong_text() -> None:
    with pytest.raises(AssertionError) as info:
        assert_language({"type": "integer"}, accepts=["1", '"a"', "2.5"], rejects=["3", "x"])
    message = str(info.value)
    assert "2 of 5" not in message
    assert "3 of 5 texts answered wrongly" in message
    assert "rejected, should accept: '\"a\"'" in message
    assert "rejected, should accept: '2.5'" in message
    assert "accepted, should reject: '3'" in message
    assert "'x'" not in message


def test_assert_language_takes_a_compiled_grammar() -> None:
    grammar = compile({"type": "boolean"})
    assert assert_language(grammar, accepts=["true"], rejects=["1"]) is grammar
    with pytest.raises(TypeError):
        grammar_of(grammar, strict=False)


def test_assert_compile_error_checks_attributes() -> None:
    schema = {"properties": {"x": {"$ref": "http://example.com/s.json"}}}
    assert_compile_error(schema, UnsupportedSchemaError, pointer="/properties/x/$ref",
                         keyword="$ref")
    with pytest.raises(AssertionError, match="keyword is '\\$ref', expected 'pattern'"):
        assert_compile_error(schema, UnsupportedSchemaError, keyword="pattern")
    with pytest.raises(AssertionError, match="but compiled"):
        assert_compile_error({"type": "null"}, SchemaError)


def test_inline_refs_cuts_recursion_like_the_compiler() -> None:
    schema = {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
              "$ref": "#/$defs/n"}
    assert inline_refs(schema, 2) == {"type": "array",
                                      "items": {"type": "array", "items": False}}
    assert inline_refs({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s",
                        "maxLength": 2}, 3) == {"allOf": [{"type": "string"}], "maxLength": 2}


def test_json_depth_counts_containers() -> None:
    assert [json_depth(v) for v in (1, [], {"a": [1, {"b": []}]}, [[[]]])] == [0, 1, 4, 3]


def test_random_documents_are_accepted_and_end_near_their_length() -> None:
    grammar = compile({"type": "array", "items": {"type": "string", "maxLength": 3}})
    rng = random.Random(0)
    for length in (1, 5, 20):
        text = random_document(grammar, rng, length)
        assert grammar.accepts(text)
        assert isinstance(json.loads(text), list)
