"""`contains` with `minContains`/`maxContains`: the items a schema matches are counted in the
automaton, as jsonschema counts them, in every spelling the grammar writes; where a spelling
could be miscounted, an error naming the keyword (or, leniently, a check after generation)."""

from __future__ import annotations

import functools
import json
import random
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import structgen
from structgen import Grammar, UnsatisfiableSchemaError, UnsupportedSchemaError
from structgen.automata.build import BuildOptions, build_dfa
from structgen.schema import ir
from structgen.schema.validator import validator_for
from structgen.testing import (
    assert_compile_error,
    assert_language,
    json_depth,
    random_document,
    schema_instances,
)

ONE = {"type": "array", "contains": {"const": 1}}


@pytest.mark.parametrize(("bounds", "accepts", "rejects"), [
    ({}, ["[1]", "[2, 1]", "[1, 1, 1]"], ["[]", "[2]", "[2, 3]"]),
    ({"minContains": 0}, ["[]", "[2]", "[1, 1]"], []),
    ({"minContains": 1}, ["[1]", "[1, 2]"], ["[]", "[2]"]),
    ({"minContains": 2}, ["[1, 1]", "[1, 2, 1]", "[1, 1, 1]"], ["[1]", "[1, 2]", "[]"]),
    ({"maxContains": 1}, ["[1]", "[1, 2]", "[2, 1, 3]"], ["[]", "[2]", "[1, 1]", "[1, 2, 1]"]),
    ({"minContains": 0, "maxContains": 1}, ["[]", "[2]", "[1, 2]"], ["[1, 1]"]),
    ({"minContains": 0, "maxContains": 0}, ["[]", "[2, 3]"], ["[1]", "[2, 1]"]),
    ({"minContains": 2, "maxContains": 3}, ["[1, 1]", "[1, 2, 1, 1]"],
     ["[1]", "[1, 1, 1, 1]", "[1, 2, 2, 2]"]),
])
def test_counts_between_the_bounds(bounds: dict, accepts: list[str], rejects: list[str]) -> None:
    assert_language({**ONE, **bounds}, accepts=accepts, rejects=rejects)


@pytest.mark.parametrize(("condition", "accepts", "rejects"), [
    ({"enum": ["a", None]}, ['["a"]', "[1, null]"], ['["b"]', "[1, false]"]),
    ({"minimum": 5}, ["[3, 5]", "[7.5]", '["x"]', "[[1]]"], ["[3, 4.5]", "[]", "[-6]"]),
    ({"type": "number", "minimum": 5}, ["[3, 5]", "[5.5]"], ['["x"]', "[[5]]", "[4.99]"]),
    ({"type": "string"}, ['["a"]', '[1, ""]'], ["[1]", "[[]]"]),
    ({"type": "array", "maxItems": 1}, ["[[]]", "[[1], [2, 3]]"], ["[[1, 2]]", "[1]"]),
    ({"type": "object", "minProperties": 1}, ['[{"k": 1}]'], ["[{}]", "[1]"]),
])
def test_conditions_of_each_kind(condition: dict, accepts: list[str], rejects: list[str]
                                 ) -> None:
    assert_language({"type": "array", "contains": condition}, accepts=accepts, rejects=rejects,
                    spec_faithful=True)


def test_max_below_min_leaves_no_array() -> None:
    schema = {"contains": {"const": 1}, "minContains": 3, "maxContains": 1}
    assert_language(schema, accepts=["2", '"x"', "{}"], rejects=["[]", "[1]", "[1, 1, 1]"],
                    spec_faithful=True)
    with pytest.raises(UnsatisfiableSchemaError):
        structgen.compile({**schema, "type": "array"})


@pytest.mark.parametrize("spec_faithful", [True, False])
def test_boolean_conditions(spec_faithful: bool) -> None:
    assert_language({"type": "array", "contains": True, "minContains": 2, "maxContains": 3},
                    accepts=['[1, "a"]', "[1, 2, 3]"], rejects=["[]", "[1]", "[1, 2, 3, 4]"],
                    spec_faithful=spec_faithful)
    assert_language({"contains": False}, accepts=["1", "null", "{}"], rejects=["[]", "[1]"],
                    spec_faithful=True)
    assert_language({"type": "array", "contains": False, "minContains": 0}, accepts=["[]", "[1]"],
                    spec_faithful=spec_faithful)


def test_prefix_items_and_items_are_counted_in_place() -> None:
    schema = {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
              "items": {"type": "boolean"}, "contains": {"enum": [1, "1", True]},
              "minContains": 2}
    assert_language(schema, accepts=['[1, "1"]', '[1, "x", true]', '[0, "1", false, true]'],
                    rejects=['[1, "x"]', '[1, "x", false]', '[2, "x", true]', '[1, 1]'])
    items = {"type": "array", "items": {"multipleOf": 2}, "contains": {"multipleOf": 3}}
    assert_language(items, accepts=["[6]", "[2, 12]"], rejects=["[2, 4]", "[3]", "[]"],
                    spec_faithful=True)


def test_nested_arrays_count_each_level() -> None:
    schema = {"type": "array", "items": {"type": "array", "contains": {"const": 2},
                                         "maxContains": 1},
              "contains": {"type": "array", "contains": {"const": 1}}}
    assert_language(schema, accepts=["[[2, 1]]", "[[2], [1, 2]]"],
                    rejects=["[]", "[[2]]", "[[2, 2, 1]]", "[[2], [1]]", "[[2, 1], [1]]"])


def test_draft07_contains_asks_for_one_and_has_no_bounds() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
              "contains": {"type": "null"}, "maxContains": 0}
    grammar = assert_language(schema, accepts=["[null]", "[null, null]", "[1, null]"],
                              rejects=["[]", "[1]"])
    assert [(u.pointer, u.keyword, u.post_validated) for u in grammar.unenforced] == [
        ("/maxContains", "maxContains", False)]


def test_identical_contains_merge_and_two_distinct_are_counted_together() -> None:
    same = {"type": "array", "allOf": [{"contains": {"const": 1}, "minContains": 2},
                                       {"contains": {"const": 1}, "maxContains": 2}]}
    assert_language(same, accepts=["[1, 1]", "[1, 0, 1]"], rejects=["[1]", "[1, 1, 1]"])
    two = {"type": "array", "allOf": [{"contains": {"type": "string"}},
                                      {"contains": {"type": "integer"}, "maxContains": 1}]}
    assert_language(two, accepts=['["a", 1]', '[1.5, "a", 2]'],
                    rejects=["[]", "[1]", '["a"]', '["a", 1, 2]'], spec_faithful=True)
    three = {"type": "array", "allOf": [two, {"contains": {"type": "null"}}]}
    assert_compile_error(three, UnsupportedSchemaError, pointer="/allOf/1/contains",
                         keyword="contains")


def test_other_spellings_count_as_the_same_value() -> None:
    """Escapes and a fraction of zeros are counted by value: two spellings of one value
    are two matches, and a non-canonical spelling never passes as a miss."""
    grammar = structgen.compile({"type": "array", "contains": {"const": "A/1"},
                                 "maxContains": 1}, spec_faithful=True)
    assert grammar.accepts('["\\u0041\\/1"]') and grammar.accepts('["A/1", "B"]')
    assert not grammar.accepts('["A/1", "\\u0041/1"]')
    numbers = structgen.compile({"type": "array", "contains": {"const": 1}, "maxContains": 1},
                                spec_faithful=True)
    assert numbers.accepts("[1.0, 2]") and numbers.accepts("[1.00]")
    assert not numbers.accepts("[1, 1.0]")
    assert not numbers.accepts("[1, 1e0]") and not numbers.accepts("[1, 10e-1]")
    assert numbers.accepts("[1, 2.0]") and numbers.accepts("[1, 2.5]")
    assert not numbers.accepts("[1, 2.00]") and not numbers.accepts("[1, 2e0]"), (
        "a miss is written in its canonical spelling only")


def test_default_mode_writes_misses_without_fraction() -> None:
    grammar = assert_language(ONE | {"maxContains": 1}, accepts=["[1, 2]", "[1, 2.5]"],
                              rejects=["[1, 1.0]", "[1, 2.0]", "[1, 2e0]"])
    assert grammar.unenforced == ()


def test_long_strings_are_spelled_out_and_counted() -> None:
    schema = {"type": "array", "items": {"type": "string", "maxLength": 400},
              "contains": {"pattern": "^a"}, "maxContains": 1}
    long_a, long_b = "a" + "x" * 398, "b" * 399
    assert_language(schema, accepts=[f'["{long_b}", "{long_a}"]', '["a"]'],
                    rejects=[f'["{long_a}", "a"]', f'["{long_b}"]', f'["{long_a}xx"]'])


@pytest.mark.parametrize(("schema", "why"), [
    ({"type": "array", "contains": {"type": "object", "properties": {"a": {}, "b": {}}}},
     "declared order"),
    ({"type": "array", "contains": {"const": {"a": 1, "b": 2}}}, "one order"),
    ({"type": "array", "contains": {"const": 1e-7}}, "exponent form"),
    ({"type": "array", "items": {"type": "array", "items": {"type": "array"}},
      "contains": {"type": "array"}}, "any_value_depth"),
    ({"type": "array", "items": {"type": "array", "items": {"type": "string"},
                                 "uniqueItems": True}, "contains": {"maxItems": 1}},
     "unique strings"),
    ({"type": "array", "items": {"enum": [1, 2, 3]}, "uniqueItems": True,
      "contains": {"const": 1}, "maxContains": 1}, "uniqueItems"),
    ({"type": "array", "contains": {"type": "string", "pattern": "(?<=a)b"}}, "pattern"),
    ({"$defs": {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
      "type": "array", "contains": {"$ref": "#/$defs/tree"}, "maxContains": 1}, "recursive"),
])
def test_inexact_counts_are_unsupported_or_checked_after(schema: dict, why: str) -> None:
    exc = assert_compile_error(schema, UnsupportedSchemaError, any_value_depth=0)
    assert why in str(exc)
    lenient = structgen.compile(schema, strict=False, any_value_depth=0)
    assert "contains" in {u.keyword for u in lenient.unenforced}


def test_lenient_declared_properties_are_checked_after_generation() -> None:
    schema = {"type": "array",
              "contains": {"type": "object", "properties": {"a": {"type": "integer"},
                                                            "b": {"type": "string"}},
                           "required": ["a"]}}
    exc = assert_compile_error(schema, UnsupportedSchemaError, pointer="/contains",
                               keyword="contains")
    assert "declared order" in str(exc)
    lenient = structgen.compile(schema, strict=False)
    assert [(u.pointer, u.keyword, u.post_validated) for u in lenient.unenforced] == [
        ("/contains", "contains", True)]
    assert lenient.accepts('[{"b": "x"}]') and lenient.validate([{"b": "x"}])
    assert lenient.validate([{"b": "x", "a": 1}]) == []
    # Only objects cause the gap: items that are never objects count exactly (none matches).
    exact = assert_language({**schema, "type": ["array", "null"], "items": {"type": "integer"}},
                            accepts=["null"], rejects=["[]", "[1]"])
    assert exact.unenforced == ()


def test_direct_build_matches_subset_construction() -> None:
    node = ir.ArrayNode(
        prefix=(ir.IntegerNode(minimum=0),), items=ir.Union((ir.StringNode(max_length=3),
                                                             ir.NumberNode())),
        max_items=5,
        contains=(ir.Contains(ir.Literal.of([1, "a"]), 1, 2),
                  ir.Contains(ir.NumberNode(minimum=Decimal("0.5")), 0, 1)),
    )
    for options in (BuildOptions(), BuildOptions(whitespace="flexible", integer_fraction=True)):
        direct, reference = build_dfa(node, options), build_dfa(node, options, direct=False)
        assert direct is not None and reference is not None
        assert direct.complement_within(reference, max_states=10**6) is None
        assert reference.complement_within(direct, max_states=10**6) is None
        assert direct.accepts(b'[0, "a", 0.5]') and direct.accepts(b'[1, "a"]')
        assert not direct.accepts(b"[1, 20]") and not direct.accepts(b"[2, 0.7, 0.9]")


# -- differential: jsonschema decides -------------------------------------------------------

SCHEMAS: dict[str, Any] = {
    "const": ONE,
    "enum_max": {"type": "array", "contains": {"enum": [1, "a", None]}, "maxContains": 2},
    "minimum_untyped": {"contains": {"minimum": 5}, "minContains": 2},
    "strings_at_most_one": {"type": "array", "contains": {"type": "string"}, "minContains": 0,
                            "maxContains": 1},
    "between": {"type": "array", "contains": {"type": "integer", "maximum": 0},
                "minContains": 1, "maxContains": 2, "maxItems": 4},
    "prefix": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
               "items": {"type": ["integer", "null"]}, "contains": {"const": 2},
               "maxContains": 1},
    "items": {"type": "array", "items": {"type": ["integer", "string"], "multipleOf": 2},
              "contains": {"multipleOf": 3}},
    "nested": {"type": "array", "items": {"type": "array", "contains": {"type": "boolean"},
                                          "maxContains": 1},
               "contains": {"type": "array", "minItems": 2}},
    "two": {"type": "array", "allOf": [{"contains": {"type": "string"}},
                                       {"contains": {"type": "number"}, "maxContains": 1}]},
    "objects": {"type": "array", "contains": {"type": "object", "minProperties": 1,
                                              "additionalProperties": {"type": "integer"}}},
    "patterns": {"type": "array", "items": {"type": "string"},
                 "contains": {"pattern": "^a", "maxLength": 3}, "minContains": 2},
    "draft7": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array",
               "contains": {"type": "null"}},
}
MODES = {"default": {}, "spec_faithful": {"spec_faithful": True}}
WORDS = ["a", "ab", "abcd", "b", "é", "/", "A"]
SCALARS = (st.none() | st.booleans() | st.integers(-3, 7) | st.sampled_from([0.5, 2.5, -1.5])
           | st.sampled_from([1.0, 6.0]) | st.sampled_from(WORDS))
ITEMS = (SCALARS | st.lists(SCALARS, max_size=3)
         | st.dictionaries(st.sampled_from(WORDS), SCALARS, max_size=2))


@functools.cache
def _grammar(name: str, mode: str) -> Grammar:
    return structgen.compile(SCHEMAS[name], **MODES[mode])


@functools.cache
def _validator(name: str) -> Any:
    return validator_for(SCHEMAS[name], formats=False)


def _departs(value: Any) -> bool:
    """Valid values the default mode leaves out by design: integral floats (written
    ``1.0``: integers have no fraction there) and, for an untyped schema, non-arrays (its
    type is inferred from the array keywords)."""
    def floats(v: Any) -> bool:
        if isinstance(v, dict):
            return any(map(floats, v.values()))
        if isinstance(v, list):
            return any(map(floats, v))
        return isinstance(v, float) and v.is_integer()
    return not isinstance(value, list) or floats(value)


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_compiles_with_nothing_unenforced(name: str, mode: str) -> None:
    assert _grammar(name, mode).unenforced == ()


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_agrees_with_jsonschema(name: str, mode: str, data: st.DataObject) -> None:
    """Canonical text (``Grammar.serialize``): accepted exactly when valid. In the default
    mode an integral float is written ``1.0`` there, which that mode leaves out."""
    value = data.draw(st.lists(ITEMS, max_size=5) | ITEMS, label="value")
    expected = _validator(name).is_valid(value)
    text = _grammar(name, mode).serialize(value)
    if expected and mode == "default" and _departs(value):
        return
    assert _grammar(name, mode).accepts(text) == expected, (
        f"{'false reject' if expected else 'false accept'}: {text}")


@pytest.mark.parametrize("name", ["const", "enum_max", "minimum_untyped", "prefix", "two",
                                  "objects"])
@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_valid_instances_are_accepted(name: str, data: st.DataObject) -> None:
    """hypothesis-jsonschema's instances (it knows draft-07 `contains`, without bounds)."""
    schema = {k: v for k, v in SCHEMAS[name].items() if k not in ("minContains", "maxContains")}
    value = data.draw(schema_instances(schema), label="value")
    if json_depth(value) > 3:
        return  # free values nest at most any_value_depth (2) levels inside the array
    grammar = _grammar(name, "spec_faithful")
    text = grammar.serialize(value)
    assert grammar.accepts(text) == _validator(name).is_valid(value), text


def _spell(value: Any, draw: Any) -> tuple[str, bool]:
    """``value`` in a randomly chosen spelling, and whether that spelling is canonical in
    the spec_faithful grammar (escapes, ``1.0`` for integers): exact there; other
    spellings (trailing zeros, exponents) may be refused, never wrongly accepted."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value), True
    if isinstance(value, int):
        choice = draw(st.sampled_from(["", ".0", ".00", "e0"]))
        return f"{value}{choice}", choice in ("", ".0")
    if isinstance(value, float):
        choice = draw(st.sampled_from(["plain", "zero", "exp"]))
        if choice == "exp":
            return f"{value * 10}e-1", False
        return json.dumps(value) + ("0" if choice == "zero" else ""), choice == "plain"
    if isinstance(value, str):
        out = []
        for ch in value:
            form = draw(st.sampled_from(["raw", "u", "U"]))
            if form == "raw":
                out.append("\\/" if ch == "/" and draw(st.booleans()) else ch)
            else:
                code = f"\\u{ord(ch):04x}"
                out.append(code if form == "u" else code.upper().replace("\\U", "\\u"))
        return '"' + "".join(out) + '"', True
    if isinstance(value, list):
        parts = [_spell(v, draw) for v in value]
        return "[" + ", ".join(p for p, _ in parts) + "]", all(c for _, c in parts)
    parts = [(_spell(k, draw), _spell(v, draw)) for k, v in value.items()]
    text = "{" + ", ".join(f"{k}: {v}" for (k, _), (v, _) in parts) + "}"
    return text, all(a and b for (_, a), (_, b) in parts)


@pytest.mark.parametrize("name", SCHEMAS)
@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_other_spellings_are_judged_by_value(name: str, data: st.DataObject) -> None:
    value = data.draw(st.lists(ITEMS, max_size=5), label="value")
    text, canonical = _spell(value, data.draw)
    accepted = _grammar(name, "spec_faithful").accepts(text)
    expected = _validator(name).is_valid(json.loads(text))
    if canonical:
        assert accepted == expected, text
    else:
        assert expected or not accepted, f"false accept: {text}"


class _Duplicate(Exception):
    """A walk repeated an undeclared key, which the grammar does not compare."""


class _Inexact(Exception):
    """A number a float cannot hold: jsonschema would judge another value."""


def _number(text: str) -> int | float:
    """A JSON number as jsonschema should see it: integral ones exact, others as floats
    where a float holds them (at most 15 significant digits, modest exponents)."""
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent past Decimal's range
        raise _Inexact(text) from None
    if value and not -300 < value.adjusted() < 300:
        raise _Inexact(text)
    if value == value.to_integral_value():
        return int(value)
    if len(value.normalize().as_tuple().digits) > 15:
        raise _Inexact(text)
    return float(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise _Duplicate
    return dict(pairs)


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("mode", MODES)
def test_random_walks_write_valid_documents(name: str, mode: str) -> None:
    """Any text the automaton accepts, in any spelling it allows, is valid."""
    grammar = _grammar(name, mode)
    rng = random.Random(f"{name}-{mode}")
    checked = 0
    for _ in range(120):
        text = random_document(grammar, rng, rng.randrange(2, 50))
        try:
            value = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates,
                               parse_float=_number, parse_int=_number)
        except (_Duplicate, _Inexact):
            continue
        errors = [e.message for e in _validator(name).iter_errors(value)]
        assert not errors, f"false accept: {text!r}: {errors}"
        checked += 1
    assert checked >= 80
