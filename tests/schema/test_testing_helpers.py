"""structgen.testing: the helpers the language tests rely on report what they promise."""

from __future__ import annotations

import pytest

from structgen import SchemaError, UnsupportedSchemaError, compile
from structgen.testing import assert_compile_error, assert_language, grammar_of, inline_refs


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
