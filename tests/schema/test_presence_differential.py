"""Presence rules against jsonschema over every subset of names: random oneOf/anyOf/not/
if schemas built from `required`, and the shapes real schemas use."""

from __future__ import annotations

import itertools
import random
from typing import Any

import jsonschema
import pytest

from structgen import UnsatisfiableSchemaError, compile

NAMES = ("a", "b", "c", "d")
VALUES = {"a": 1, "b": "s", "c": True, "d": None, "xq": False, "zz": 2}
OPEN = {"patternProperties": {"^x": {"type": "boolean"}}, "additionalProperties": False}
PROPERTIES = {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}}
MODES = {"default": {}, "spec_faithful": {"spec_faithful": True}}


def _presence_schema(rng: random.Random, depth: int) -> Any:
    """A random schema that only asks which of NAMES (and `xq`, `zz`) are present."""
    kind = rng.choice(["required", "required", "properties", "not", "anyOf", "oneOf",
                       "allOf", "if"] if depth else ["required", "properties"])
    if kind == "required":
        return {"required": rng.sample([*NAMES, "xq", "zz"], rng.randrange(1, 3))}
    if kind == "properties":  # restated, or `false`: only presence either way
        name = rng.choice(["a", "b", "xq"])
        restated = PROPERTIES.get(name, {"type": "boolean"})
        return {"properties": {name: rng.choice([restated, False])},
                **({"required": [name]} if rng.random() < 0.3 else {})}
    if kind == "not":
        return {"not": _presence_schema(rng, depth - 1)}
    if kind == "if":
        out = {"if": _presence_schema(rng, depth - 1)}
        for key in rng.sample(["then", "else"], rng.randrange(1, 3)):
            out[key] = _presence_schema(rng, depth - 1)
        return out
    return {kind: [_presence_schema(rng, depth - 1) for _ in range(rng.randrange(1, 4))]}


def _random_schema(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    schema: dict[str, Any] = {"type": "object", "properties": PROPERTIES, **OPEN}
    if rng.random() < 0.3:
        schema["required"] = ["c"]
    if rng.random() < 0.3:
        schema["type"] = ["object", "null"]
    for keyword in rng.sample(["oneOf", "anyOf", "not", "if"], rng.randrange(1, 3)):
        if keyword in ("oneOf", "anyOf"):
            schema[keyword] = [_presence_schema(rng, 1) for _ in range(rng.randrange(2, 4))]
        else:
            schema[keyword] = _presence_schema(rng, 2)
    if "if" in schema:
        schema["then"] = _presence_schema(rng, 1)
        if rng.random() < 0.5:
            schema["else"] = _presence_schema(rng, 1)
    return schema


SHAPES: dict[str, dict[str, Any]] = {
    "area": {"type": "object", "properties": PROPERTIES, "additionalProperties": False,
             "oneOf": [{"required": ["a"]}, {"required": ["b", "c"]}]},
    "restated": {"type": "object", "properties": PROPERTIES, "additionalProperties": False,
                 "oneOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                           {"properties": {"b": {"type": "string"}}, "required": ["b"]},
                           {"not": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}]},
    "dependencies_too": {"type": "object", "properties": PROPERTIES, **OPEN,
                         "dependentRequired": {"a": ["c"]}, "maxProperties": 3,
                         "anyOf": [{"required": ["a"]}, {"required": ["xq"]}],
                         "if": {"required": ["b"]}, "then": {"not": {"required": ["c"]}}},
}


def _documents() -> list[dict[str, Any]]:
    keys = [*NAMES, "xq", "zz"]
    return [{k: VALUES[k] for k in chosen} for n in range(len(keys) + 1)
            for chosen in itertools.combinations(keys, n)]


def _check(schema: dict[str, Any], mode: str) -> None:
    try:
        grammar = compile(schema, **MODES[mode])
    except UnsatisfiableSchemaError:
        grammar = None
    assert grammar is None or grammar.unenforced == ()
    validator = jsonschema.Draft202012Validator(schema)
    for value in [*_documents(), None, "s"]:
        expected = validator.is_valid(value)
        if grammar is None:
            assert not expected, f"false reject (unsatisfiable): {value}"
            continue
        assert grammar.accepts(grammar.serialize(value)) == expected, (
            f"{'false reject' if expected else 'false accept'}: {value} for {schema}"
        )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(60))
def test_random_presence_rules(seed: int, mode: str) -> None:
    _check(_random_schema(seed), mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SHAPES)
def test_shapes(name: str, mode: str) -> None:
    _check(SHAPES[name], mode)
