"""Random and mutated JSON Schemas, and the checks every compile must pass.

Shared by ``tests/fuzz`` (a few hundred inputs under Hypothesis) and ``benchmarks/fuzz.py``
(thousands, each in a worker process that is killed past its budget). Generators take a
``random.Random`` so that Hypothesis can drive them through ``st.randoms()``.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import time
import traceback
from dataclasses import dataclass
from typing import Any

import structgen
from structgen.errors import StructgenError
from structgen.schema.validator import validator_for

# Small budgets: a fuzzed schema either compiles fast or stops with a GrammarLimitError.
COMPILE_OPTIONS: dict[str, Any] = {"state_budget": 20_000, "timeout_s": 2.0,
                                   "spec_faithful": True}

_WORDS = ["a", "b", "id", "name", "x_1", "é", "日本", "😀", "", "a/b", "~0", "q\"uote",
          "\ud800", "\udfff", "\x00", "\u2028", "<tool_call>", "$ref", "properties"]
_PATTERNS = ["^a", "b$", "^[a-z]{1,3}$", "x|y", "(a+)+$", "^(a|aa)+$", "(?=a)", "\\1",
             "[", "a{2,", "^\\d{4}-\\d{2}$", "\\p{L}", ".*", "^$", "\\u00e9", "a{1000}",
             "(.*a){12}", "\\bword", "[^]", "\ud800", "(?<n>a)\\k<n>", "a" * 3000]
_NUMBERS = [0, 1, -1, 2, 0.5, -0.125, 10**20, 1e300, -1e300, 1e-300, 1e400, -1e400,
            float("nan"), 10**5000, 3.0, 7, 1e15]
_FORMATS = ["date", "date-time", "time", "uuid", "email", "ipv4", "ipv6", "uri", "hostname",
            "duration", "regex", "json-pointer", "custom-format"]
_WRONG = [None, True, 1, -1, 1.5, "x", [], {}, [1, "a"], {"a": 1}, "\ud800"]


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS) if rng.random() < 0.7 else f"p{rng.randrange(50)}"


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([*_NUMBERS[:10], rng.randint(-1000, 1000)])
    if kind in (3, 4):
        return _word(rng)
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {_word(rng): _value(rng, depth + 1) for _ in range(rng.randrange(3))}


def random_schema(rng: random.Random, depth: int = 0) -> Any:
    """One schema drawn from every keyword family, with a taste for hostile values."""
    if depth > 4 or rng.random() < 0.08:
        return rng.choice([True, False, {}, {"type": "string"}, {"type": "integer"}])
    schema: dict[str, Any] = {}
    kind = rng.choice(["object", "array", "string", "integer", "number", "enum", "combo",
                       "ref", "nasty", "null", "boolean"])
    if kind == "object":
        schema["type"] = "object"
        names = list(dict.fromkeys(_word(rng) for _ in range(rng.randrange(5))))
        schema["properties"] = {n: random_schema(rng, depth + 1) for n in names}
        if names and rng.random() < 0.6:
            schema["required"] = rng.sample(names, rng.randrange(len(names) + 1))
        roll = rng.random()
        if roll < 0.3:
            schema["additionalProperties"] = False
        elif roll < 0.45:
            schema["additionalProperties"] = random_schema(rng, depth + 1)
        if rng.random() < 0.15:
            schema["patternProperties"] = {rng.choice(_PATTERNS[:6]): random_schema(rng, depth + 1)}
        if rng.random() < 0.1:
            schema["propertyNames"] = {"pattern": rng.choice(_PATTERNS[:4]), "maxLength": 4}
    elif kind == "array":
        schema["type"] = "array"
        if rng.random() < 0.3:
            schema["prefixItems"] = [random_schema(rng, depth + 1)
                                     for _ in range(rng.randrange(1, 3))]
        schema["items"] = random_schema(rng, depth + 1) if rng.random() < 0.8 else False
        if rng.random() < 0.5:
            schema["minItems"] = rng.randrange(3)
        if rng.random() < 0.6:
            schema["maxItems"] = rng.choice([0, 1, 2, 3, 5, 10**9])
        if rng.random() < 0.1:
            schema["uniqueItems"] = True
        if rng.random() < 0.2:
            schema["contains"] = random_schema(rng, depth + 1)
            if rng.random() < 0.5:
                schema["minContains"] = rng.randrange(3)
            if rng.random() < 0.4:
                schema["maxContains"] = rng.randrange(4)
    elif kind == "string":
        schema["type"] = "string"
        if rng.random() < 0.4:
            schema["maxLength"] = rng.choice([0, 1, 3, 8, 10**6])
        if rng.random() < 0.3:
            schema["minLength"] = rng.choice([0, 1, 2, 5])
        if rng.random() < 0.4:
            schema["pattern"] = rng.choice(_PATTERNS)
        if rng.random() < 0.2:
            schema["format"] = rng.choice(_FORMATS)
    elif kind in ("integer", "number"):
        schema["type"] = kind
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            if rng.random() < 0.3:
                schema[key] = rng.choice(_NUMBERS)
    elif kind == "enum":
        size = rng.choice([1, 2, 5, 3000])
        schema["enum"] = [_value(rng) for _ in range(min(size, 20))]
        if size > 20:
            schema["enum"] += [f"v{i}" for i in range(size)]
        if rng.random() < 0.3:
            schema["type"] = rng.choice(["string", "integer", ["string", "null"]])
    elif kind == "combo":
        keyword = rng.choice(["anyOf", "oneOf", "allOf"])
        schema[keyword] = [random_schema(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
    elif kind == "ref":
        schema["$defs"] = {"d": random_schema(rng, depth + 1)}
        if rng.random() < 0.3:  # recursion with and without a base case
            schema["$defs"]["d"] = {"type": "object",
                                    "properties": {"next": {"$ref": "#/$defs/d"}},
                                    "required": ["next"] if rng.random() < 0.5 else []}
        if rng.random() < 0.1:  # a cycle of bare references
            schema["$defs"]["e"] = {"$ref": "#/$defs/d"}
            schema["$defs"]["d"] = {"$ref": "#/$defs/e"}
        schema["$ref"] = rng.choice(["#/$defs/d", "#/$defs/d", "#/$defs/missing", "#",
                                     "http://example.com/x", "#/$defs/d/../x", "#anchor"])
    elif kind == "nasty":
        return _nasty(rng)
    else:
        schema["type"] = kind
    return schema


def _nasty(rng: random.Random) -> Any:
    choice = rng.randrange(8)
    if choice == 0:  # deep nesting
        schema: Any = {}
        for _ in range(rng.choice([10, 60, 200])):
            schema = {"type": "array", "items": schema}
        return schema
    if choice == 1:  # thousands of properties
        n = rng.choice([100, 2000])
        return {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(n)},
                "required": [f"p{i}" for i in range(0, n, 7)]}
    if choice == 2:  # conflicting allOf
        return {"allOf": [{"type": "string", "minLength": 5}, {"maxLength": 2},
                          {"type": ["string", "integer"]}]}
    if choice == 3:  # a $ref chain
        defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(rng.choice([5, 70]))}
        defs[f"d{len(defs)}"] = {"type": "integer"}
        return {"$defs": defs, "$ref": "#/$defs/d0"}
    if choice == 4:  # a long alternation pattern
        return {"type": "string",
                "pattern": "^(" + "|".join(f"w{i}" for i in range(rng.choice([50, 2000]))) + ")$"}
    if choice == 5:  # allOf multiplying anyOf
        return {"allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}] * 12}
    if choice == 6:  # keyword with the wrong type
        return {rng.choice(["type", "properties", "required", "items", "enum", "minimum",
                            "pattern", "$ref", "allOf", "maxLength"]): rng.choice(_WRONG)}
    return {"type": "object", "properties": {"\ud800": {"const": "\udfff"}},
            "required": ["\ud800"]}


# -- mutations of real schemas ---------------------------------------------------------------


def _paths(schema: Any, limit: int = 2000) -> list[tuple[Any, Any]]:
    """(container, key) pairs of the document, breadth first, at most ``limit``."""
    out: list[tuple[Any, Any]] = []
    queue = [schema]
    while queue and len(out) < limit:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            out.append((node, key))
            if isinstance(value, (dict, list)):
                queue.append(value)
    return out


def mutate(schema: Any, rng: random.Random, rounds: int = 3) -> Any:
    """A copy of ``schema`` with a few random edits that keep or break its validity."""
    schema = copy.deepcopy(schema)
    for _ in range(rounds):
        if not isinstance(schema, dict) or not schema:
            return random_schema(rng)
        paths = _paths(schema)
        container, key = rng.choice(paths)
        value = container[key]
        op = rng.randrange(10)
        if op == 0:
            container[key] = rng.choice(_WRONG + _NUMBERS[:12])
        elif op == 1 and isinstance(container, dict) and len(container) > 1:
            del container[key]
        elif op == 2:
            container[key] = random_schema(rng, depth=2)
        elif op == 3 and isinstance(value, dict):
            value["allOf"] = [copy.deepcopy(value), random_schema(rng, depth=3)]
        elif op == 4 and isinstance(value, dict):
            value.setdefault("$defs", {})["self"] = {"type": "object",
                                                     "properties": {"k": {"$ref": "#"}}}
        elif op == 5 and isinstance(value, str):
            container[key] = rng.choice([value * 50, value + "\ud800", "", "(" + value,
                                         value.upper()])
        elif op == 6 and isinstance(value, (int, float)) and not isinstance(value, bool):
            container[key] = rng.choice([-value, value * 10**12, 1e400, 0.1, 10**30])
        elif op == 7 and isinstance(value, dict):
            value[rng.choice(["enum", "const", "pattern", "maxLength", "minItems", "format",
                              "oneOf", "not", "if", "unevaluatedProperties", "contains",
                              "maxContains"])] = copy.deepcopy(
                rng.choice([*_WRONG, ["a", 1], "^x", 3, "date", [{}], {}]))
        elif op == 8 and isinstance(value, list) and value:
            container[key] = value * rng.choice([2, 50])
        else:
            container[key] = _nasty(rng)
    return schema


# -- the checks ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one input gave: ``kind`` is compiled, error (a StructgenError) or crash."""

    kind: str
    detail: str = ""
    seconds: float = 0.0
    grammar: structgen.Grammar | None = None


def compile_checked(schema: Any, **options: Any) -> Outcome:
    """Compile under the fuzz budgets; any non-structgen exception is a crash."""
    started = time.perf_counter()
    try:
        grammar = structgen.compile(schema, **{**COMPILE_OPTIONS, **options})
    except StructgenError as exc:
        return Outcome("error", type(exc).__name__, time.perf_counter() - started)
    except Exception as exc:  # the finding: structgen must raise only its own errors
        where = traceback.extract_tb(exc.__traceback__)[-1]
        detail = f"{type(exc).__name__}: {exc} at {where.filename}:{where.lineno}"
        return Outcome("crash", detail[:500], time.perf_counter() - started)
    return Outcome("compiled", "", time.perf_counter() - started, grammar=grammar)


def _exact(schema: Any, grammar: structgen.Grammar) -> bool:
    """Whether the grammar's language should equal the schema's exactly (up to declared
    departures that only narrow it): nothing unenforced, and no keyword where Python's
    jsonschema and ECMA-262 or structgen's formats disagree."""
    if grammar.unenforced:
        return False
    text = json.dumps(schema, ensure_ascii=False, default=str)
    return '"format"' not in text


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _writable(value: Any) -> bool:
    """Values that a grammar can spell in its canonical style: no exponent floats (a
    documented departure for bounded numbers) and no lone surrogates."""
    if isinstance(value, float):
        return "e" not in repr(value) and math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= 2**53
    if isinstance(value, str):
        return not re.search("[\ud800-\udfff]", value)
    if isinstance(value, list):
        return all(_writable(v) for v in value)
    if isinstance(value, dict):
        return all(_writable(k) and _writable(v) for k, v in value.items())
    return True


def nudge(value: Any, rng: random.Random) -> Any:
    """A small edit of a JSON value, often enough to make a valid instance invalid."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        value = dict(value)
        key = rng.choice(list(value))
        if rng.random() < 0.3:
            del value[key]
        else:
            value[key] = nudge(value[key], rng)
        return value
    if isinstance(value, list) and value and rng.random() < 0.7:
        value = list(value)
        i = rng.randrange(len(value))
        value[i] = nudge(value[i], rng)
        return value
    return rng.choice([None, True, 0, -1, 1.5, 10**20, "", "zz", "2024-02-30", [], {},
                       {"extra": 1}, [value, value]])


def check_instances(
    schema: Any,
    grammar: structgen.Grammar,
    instances: list[Any],
    rng: random.Random,
) -> list[str]:
    """False rejects of valid instances and false accepts of invalid nudged ones.

    ``instances`` come from hypothesis-jsonschema, ``nudge`` edits each. Instances the
    grammar may reject by design (nested deeper than ``any_value_depth``, exponent floats,
    integers past 2**53 that equal a float the schema spells otherwise) are skipped, as is
    everything where the grammar is not exact.
    """
    if not _exact(schema, grammar):
        return []
    reference = validator_for(schema)
    wrong: list[str] = []
    depth = int(grammar.options.get("any_value_depth", 2))
    for instance in instances:
        for value in [instance] + [nudge(instance, rng) for _ in range(3)]:
            if not _writable(value):
                continue
            try:
                valid = reference.is_valid(value)
            except Exception:  # the reference itself failed: no verdict
                continue
            text = grammar.serialize(value)
            accepted = grammar.accepts(text)
            if accepted and not valid:
                wrong.append(f"false accept: {text[:300]}")
            elif valid and not accepted and _depth(value) <= depth:
                wrong.append(f"false reject: {text[:300]}")
    return wrong
