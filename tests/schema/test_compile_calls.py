"""``$ref`` targets called on a stack (``recursion="stack"``): one module per target, and
recursion with no depth limit. The language must be the schema's: the same verdicts as
jsonschema, and, within the unrolled grammar's depth, the same as that grammar."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import structgen
from structgen.errors import UnsatisfiableSchemaError, UnsupportedSchemaError
from structgen.schema import ir
from structgen.schema.from_jsonschema import NormalizeOptions, normalize
from structgen.schema.refs import Registry, unrolled_size
from structgen.schema.validator import validator_for
from structgen.testing import (
    assert_agrees_with_jsonschema,
    assert_compile_error,
    assert_language,
    inline_refs,
    random_document,
    schema_instances,
)

TREE = {
    "$defs": {"node": {
        "type": "object",
        "properties": {"v": {"type": "integer"},
                       "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        "required": ["v"], "additionalProperties": False,
    }},
    "$ref": "#/$defs/node",
}

# Two definitions calling each other, a shared leaf, optional and required calls.
MUTUAL = {
    "$defs": {
        "section": {"type": "object", "properties": {
            "title": {"type": "string", "maxLength": 8},
            "body": {"type": "array", "items": {"$ref": "#/$defs/block"}, "maxItems": 3},
            "meta": {"$ref": "#/$defs/meta"},
        }, "required": ["title"], "additionalProperties": False},
        "block": {"type": "object", "properties": {
            "kind": {"enum": ["p", "list"]},
            "sub": {"$ref": "#/$defs/section"},
            "meta": {"$ref": "#/$defs/meta"},
        }, "required": ["kind"], "additionalProperties": False},
        "meta": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}},
                 "required": ["n"], "additionalProperties": False},
    },
    "type": "object",
    "properties": {"doc": {"$ref": "#/$defs/section"}, "meta": {"$ref": "#/$defs/meta"}},
    "required": ["doc"], "additionalProperties": False,
}

# draft-07: siblings of $ref are ignored, so the reference is still a plain call.
LEGACY = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {"pair": {"type": "array", "items": [{"type": "integer"},
                                                        {"$ref": "#/definitions/pair"}],
                             "additionalItems": False, "minItems": 1}},
    "type": "object",
    "properties": {"p": {"$ref": "#/definitions/pair", "description": "a list"}},
    "required": ["p"], "additionalProperties": False,
}

SCHEMAS = [TREE, MUTUAL, LEGACY]


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"v": depth}
    for level in range(depth - 1, -1, -1):
        node = {"v": level, "kids": [node]}
    return node


def _mutate(value: Any, rng: random.Random) -> Any:
    """``value`` with one member or item, at a random depth, replaced or dropped."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(sorted(value))
        copy = dict(value)
        if rng.random() < 0.2:
            del copy[key]
        else:
            copy[key] = _mutate(value[key], rng)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = rng.randrange(len(value))
        return [*value[:i], _mutate(value[i], rng), *value[i + 1:]]
    return rng.choice([None, "x", -1, 1.5, 7, {}, [], {"v": 1}, {"kind": "p"}, [1], True])


def test_normalize_calls_each_target_once() -> None:
    node, _ = normalize(MUTUAL, NormalizeOptions(calls=True))
    assert isinstance(node, ir.Modules)
    assert len(node.called) == 3  # section, block, meta: one module each
    calls = [n for n in ir.walk(node) if isinstance(n, ir.Call)]
    assert {c.module for c in calls} == {0, 1, 2}
    flat, _ = normalize(MUTUAL, NormalizeOptions(calls=False))
    assert not any(isinstance(n, (ir.Call, ir.Modules)) for n in ir.walk(flat))


def test_only_pure_refs_to_objects_and_arrays_are_calls() -> None:
    schema = {
        "$defs": {"o": {"type": "object"}, "s": {"type": "string"}, "u": {}},
        "type": "object",
        "properties": {
            "a": {"$ref": "#/$defs/o"},                       # a call
            "b": {"$ref": "#/$defs/o", "description": "x"},   # annotations: still a call
            "c": {"$ref": "#/$defs/o", "maxProperties": 0},   # a sibling constraint: copied
            "d": {"$ref": "#/$defs/s"},                       # strings do not end by themselves
            "e": {"$ref": "#/$defs/u"},                       # no type: any value
        },
    }
    node, _ = normalize(schema, NormalizeOptions(calls=True))
    assert isinstance(node, ir.Modules)
    assert isinstance(node.main, ir.ObjectNode)
    kinds = {p.name: type(p.value).__name__ for p in node.main.properties}
    assert kinds == {"a": "Call", "b": "Call", "c": "ObjectNode", "d": "StringNode",
                     "e": "Union"}


@pytest.mark.parametrize("schema", SCHEMAS, ids=["tree", "mutual", "legacy"])
def test_stack_grammar_agrees_with_jsonschema(schema: Any) -> None:
    grammar = structgen.compile(schema, recursion="stack", spec_faithful=True)
    assert grammar.uses_stack

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(schema_instances(inline_refs(schema, 4)))  # valid instances, up to depth 4
    def check(instance: Any) -> None:
        assert_agrees_with_jsonschema(schema, [instance], recursion="stack",
                                      spec_faithful=True)

    check()
    # Invalid instances too: mutate valid ones.
    validator = validator_for(schema)
    rng = random.Random(0)
    for _ in range(60):
        document = json.loads(random_document(grammar, rng, 60))
        assert validator.is_valid(document), document
        broken = _mutate(document, rng)
        assert grammar.accepts(grammar.serialize(broken)) == validator.is_valid(broken), broken


@pytest.mark.parametrize("schema", SCHEMAS, ids=["tree", "mutual", "legacy"])
def test_stack_language_holds_the_unrolled_one(schema: Any) -> None:
    """Every document of the unrolled grammar is one of the stack grammar's, and every
    document of the stack grammar is valid."""
    stack = structgen.compile(schema, recursion="stack")
    unrolled = structgen.compile(schema, recursion="unroll")
    assert not unrolled.uses_stack
    validator = validator_for(schema)
    rng = random.Random(1)
    for _ in range(80):
        text = random_document(unrolled, rng, 80)
        assert stack.accepts(text), text
        text = random_document(stack, rng, 200)
        assert validator.is_valid(json.loads(text)), text


def test_recursion_has_no_depth_limit_on_a_stack() -> None:
    deep = json.dumps(_nested(60))
    assert structgen.compile(TREE, recursion="stack").accepts(deep)
    assert not structgen.compile(TREE, recursion="unroll").accepts(deep)
    assert_language(TREE, recursion="stack",
                    accepts=['{"v": 1}', '{"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": []}]}'],
                    rejects=['{"v": 1, "kids": [{"v": 2}', '{"v": 1, "kids": [{"v": "2"}]}',
                             '{"v": 1, "kids": [{"w": 2}]}', '{"kids": []}'])


def test_a_call_with_no_base_case_is_unsatisfiable() -> None:
    schema = {"$defs": {"a": {"type": "object", "properties": {"x": {"$ref": "#/$defs/a"}},
                              "required": ["x"]}},
              "type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}, "required": ["a"]}
    assert_compile_error(schema, UnsatisfiableSchemaError, recursion="stack")
    # Optional, the endless module is never entered.
    optional = {**schema, "required": []}
    assert_language(optional, recursion="stack", accepts=["{}"], rejects=['{"a": {}}'])


def test_two_calls_at_one_point_are_refused_on_a_stack() -> None:
    """anyOf options whose same property calls different modules would need two stacks;
    a stack grammar refuses it (unrolled, the DFA tells them apart)."""
    schema = {
        "$defs": {"a": {"type": "object", "properties": {"x": {"type": "integer"}}},
                  "b": {"type": "object", "properties": {"y": {"type": "integer"}}}},
        "anyOf": [
            {"type": "object", "properties": {"p": {"$ref": "#/$defs/a"}}, "required": ["p"]},
            {"type": "object", "properties": {"p": {"$ref": "#/$defs/b"}}, "required": ["p"]},
        ],
    }
    error = assert_compile_error(schema, UnsupportedSchemaError, keyword="$ref",
                                 recursion="stack")
    assert "calls two modules" in str(error)
    assert_language(schema, recursion="unroll",
                    accepts=['{"p": {"x": 1}}', '{"p": {"y": 1}}'], rejects=['{"p": 1}'])


def test_run_time_state_inside_a_module_is_refused_on_a_stack() -> None:
    unique = {"$defs": {"tags": {"type": "array", "items": {"type": "string"},
                                 "uniqueItems": True}},
              "type": "object", "properties": {"t": {"$ref": "#/$defs/tags"}}}
    assert_compile_error(unique, UnsupportedSchemaError, keyword="uniqueItems",
                         recursion="stack")
    contains = {"$defs": {"o": {"type": "object", "properties": {"k": {"const": 1}}}},
                "type": "array", "items": {"$ref": "#/$defs/o"},
                "contains": {"type": "object", "required": ["k"]}}
    assert_compile_error(contains, UnsupportedSchemaError, keyword="contains",
                         recursion="stack")
    # Unrolled, both compile.
    assert structgen.compile(unique, recursion="unroll").accepts('{"t": ["a", "b"]}')


def test_recursion_option_is_checked() -> None:
    with pytest.raises(ValueError, match="recursion must be"):
        structgen.compile(TREE, recursion="deep")  # type: ignore[arg-type]


def _wide(n_defs: int, n_props: int) -> dict[str, Any]:
    """A chain of definitions, each using the next from many properties: small as a
    document, exponential once every reference is copied."""
    defs: dict[str, Any] = {}
    for i in range(n_defs):
        props: dict[str, Any] = {f"p{j}": {"type": "integer"} for j in range(n_props)}
        if i + 1 < n_defs:
            props.update({f"r{j}": {"$ref": f"#/$defs/d{i + 1}"} for j in range(3)})
        defs[f"d{i}"] = {"type": "object", "properties": props, "additionalProperties": False}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


def test_unrolled_size_counts_copies_up_to_the_cap() -> None:
    small = unrolled_size(Registry(TREE), 3, 10**6)
    deeper = unrolled_size(Registry(TREE), 5, 10**6)
    assert 0 < small < deeper  # recursion followed more often
    wide = _wide(9, 10)
    assert unrolled_size(Registry(wide), 3, 1000) == 1001  # stops past the cap
    assert unrolled_size(Registry(wide), 3, 10**7) > 3 ** 8  # each level triples


def test_auto_calls_only_where_copies_would_be_large() -> None:
    assert not structgen.compile(TREE).uses_stack
    assert not structgen.compile(_wide(3, 4)).uses_stack
    wide = _wide(9, 10)
    grammar = structgen.compile(wide)
    assert grammar.uses_stack
    assert grammar.options["recursion"] == "auto"
    document = {"p0": 1, "r0": {"p1": 2, "r2": {"p9": 3}}, "r1": {}}
    assert grammar.accepts(grammar.serialize(document))
    assert not grammar.accepts(grammar.serialize({"r0": {"p1": "x"}}))


def test_serialize_follows_calls() -> None:
    grammar = structgen.compile(MUTUAL, recursion="stack")
    value = {"doc": {"title": "t", "body": [{"kind": "p", "sub": {"title": "u"},
                                             "meta": {"n": 2}}]}, "meta": {"n": 1}}
    text = grammar.serialize(value)
    assert json.loads(text) == value
    assert grammar.accepts(text)


@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
def test_whitespace_policies_on_a_stack(whitespace: str) -> None:
    stack = structgen.compile(MUTUAL, recursion="stack", whitespace=whitespace)
    unrolled = structgen.compile(MUTUAL, recursion="unroll", whitespace=whitespace)
    rng = random.Random(2)
    for _ in range(60):
        assert stack.accepts(random_document(unrolled, rng, 60))
        text = random_document(stack, rng, 60)
        assert validator_for(MUTUAL).is_valid(json.loads(text)), text
    if whitespace == "flexible":
        assert_language(stack, accepts=['{ "doc" : { "title" : "t" , "meta" : {"n":1} } } ',
                                        '{"doc":{"title":"t","body":[ {"kind":"p"} ]}}'],
                        rejects=['{"doc": {"title": "t"}    }', '{"doc": {"title": "t"} }}'])
    else:
        assert_language(stack, accepts=['{"doc":{"title":"t","body":[{"kind":"p"}]}}'],
                        rejects=['{"doc": {"title": "t"}}'])


def test_auto_calls_where_the_unrolled_automaton_is_too_large() -> None:
    """org_chart unrolled three levels passes the state budget; auto then calls."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "schemas" / "org_chart.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(structgen.GrammarLimitError):
        structgen.compile(schema, recursion="unroll")
    grammar = structgen.compile(schema)
    assert grammar.uses_stack
    rng = random.Random(4)
    validator = validator_for(schema)
    for _ in range(20):
        text = random_document(grammar, rng, 150)
        assert validator.is_valid(json.loads(text)), text


def test_auto_falls_back_to_unrolling_where_calls_conflict() -> None:
    """Large enough for auto to call first, but two calls meet at one point: unrolled."""
    wide = _wide(7, 10)
    wide["$defs"]["d6"] = {"anyOf": [
        {"type": "object", "properties": {"p": {"$ref": "#/$defs/x"}}, "required": ["p"]},
        {"type": "object", "properties": {"p": {"$ref": "#/$defs/y"}}, "required": ["p"]},
    ]}
    wide["$defs"]["x"] = {"type": "object", "properties": {"a": {"type": "integer"}}}
    wide["$defs"]["y"] = {"type": "object", "properties": {"b": {"type": "integer"}}}
    assert unrolled_size(Registry(wide), 3, 10**6) > 25_000  # auto tries calls first
    assert_compile_error(wide, UnsupportedSchemaError, keyword="$ref", recursion="stack")
    grammar = structgen.compile(wide)
    assert not grammar.uses_stack
    leaf = {"r0": {"r0": {"r0": {"r0": {"r0": {"r1": {"p": {"b": 1}}}}}}}}
    assert grammar.accepts(grammar.serialize(leaf))
    assert not grammar.accepts(grammar.serialize({"r0": {"r0": {"r0": {"r0": {"r0": {
        "r1": {"p": {"c": 1}}}}}}}}))
