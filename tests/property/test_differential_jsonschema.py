"""Differential: an exact grammar accepts a JSON text iff jsonschema validates it."""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema
import jsonschema.validators
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from property_schemas import SCHEMAS, exact_grammar, instances


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """``pattern`` with ECMA-262's ``$``: the very end, not also before a final newline.

    Python's ``$`` matches before a trailing ``\\n``; JSON Schema patterns are ECMA-262,
    where it does not. The schemas here use ``$`` only as an anchor.
    """
    if isinstance(instance, str) and not re.search(pattern.replace("$", r"\Z"), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Reference = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
)


@functools.cache
def _reference(name: str) -> Any:
    return _Reference(SCHEMAS[name], format_checker=_Reference.FORMAT_CHECKER)


def _strings_in(schema: Any) -> set[str]:
    """Property names, enum/const strings: the words a schema's instances are made of."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("properties", "patternProperties"):
                found |= {k for k in value if isinstance(k, str)}
            if key in ("enum", "const"):
                found |= {v for v in (value if key == "enum" else [value]) if isinstance(v, str)}
            found |= _strings_in(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _strings_in(value)
    return found


# Floats whose repr has no exponent (1e-4 <= |x| < 1e16): exponent forms are a
# documented departure for bounded numbers and are covered by test_serialize.
_FLOATS = st.floats(min_value=1e-4, max_value=1e15, allow_nan=False).flatmap(
    lambda x: st.sampled_from([x, -x])
) | st.sampled_from([0.0, 0.5, -0.125, 1.0, 2.25, 12.0, -5.0])

_INTERESTING = ["", "a", "b", "ab", "xax", "b\n", "AB-123", "yz", "x_1", "y_ab", "2024-02-29",
                "2023-02-29", "1.2.3.4", "01.2.3.4", "123e4567-e89b-12d3-a456-426614174000",
                "circle", "square", "é", "😀", "\x00", "a\u2028"]


def json_values(words: set[str]) -> st.SearchStrategy[Any]:
    """Random JSON values, biased towards the schema's own words and edge numbers."""
    strings = st.text(max_size=6) | st.sampled_from(sorted(words) + _INTERESTING)
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(10**6), 10**6)
        | st.sampled_from([0, -5, 12, 13, 100, 99, 10**20, 10**20 - 1, -1000, 1000, 50, 51])
        | _FLOATS
        | strings
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(strings, children, max_size=4),
        max_leaves=8,
    )


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_grammar_agrees_with_jsonschema(name: str, data: st.DataObject) -> None:
    grammar = exact_grammar(name)
    assert grammar.unenforced == (), "only exact grammars can be compared"
    # Half random values, half valid instances (random values are rarely valid).
    value = data.draw(json_values(_strings_in(SCHEMAS[name])) | instances(name), label="value")
    text = grammar.serialize(value)
    expected = _reference(name).is_valid(value)
    assert grammar.accepts(text) == expected, (
        f"{'false reject' if expected else 'false accept'}: {text}"
    )
