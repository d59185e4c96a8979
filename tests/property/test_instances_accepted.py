"""Valid instances (hypothesis-jsonschema), written by ``Grammar.serialize``, are accepted."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from property_schemas import SCHEMAS, exact_grammar, instances, validator

from structgen import Grammar, compile
from structgen.testing import inline_refs, schema_instances

CURATED_DIR = Path(__file__).resolve().parents[2] / "schemas"
CURATED = sorted(p.name for p in CURATED_DIR.glob("*.json"))
MAX_RECURSION = 3  # compile()'s default max_recursion_depth
# org_chart nests a counted array (reports, maxItems 10) in its recursion: a flat DFA
# multiplies the employee automaton 10x per level, so at the default depth (3) it needs
# more than the default state budget and raises GrammarLimitError (checked in
# tests/guide/test_random_walk_guarantee.py). Two levels of reports stay within budget.
RECURSION = {"org_chart.json": 2}

# Short escapes JSON has for control characters; the others need \u00XX.
_SHORT = set("\b\f\n\r\t")


@functools.cache
def _curated(name: str) -> tuple[Any, Grammar, Any]:
    schema = json.loads((CURATED_DIR / name).read_text(encoding="utf-8"))
    # The defaults a user gets, but with a generous time budget: these tests check
    # languages, not speed (compile time depends on the machine's load).
    depth = RECURSION.get(name, MAX_RECURSION)
    grammar = compile(schema, timeout_s=600, max_recursion_depth=depth)
    return schema, grammar, schema_instances(inline_refs(schema, depth))


def _writable(value: Any, grammar: Grammar) -> Any:
    """``value`` with every string made writable in the grammar.

    Without ``unicode_escapes`` (the default) a control character with no short escape
    (U+0000..U+001F but \\b \\f \\n \\r \\t) has no spelling at all: a documented
    trade-off of the default. Such characters become spaces; the caller checks the
    result is still valid.
    """
    if grammar.options.get("unicode_escapes", True):
        return value
    if isinstance(value, str):
        return "".join(c if ord(c) >= 0x20 or c in _SHORT else " " for c in value)
    if isinstance(value, list):
        return [_writable(v, grammar) for v in value]
    if isinstance(value, dict):
        return {_writable(k, grammar): _writable(v, grammar) for k, v in value.items()}
    return value


def _check(schema: Any, grammar: Grammar, value: Any) -> None:
    value = _writable(value, grammar)
    # hypothesis-jsonschema approximates some keywords (formats, patterns under
    # Python's re): keep only instances jsonschema confirms are valid.
    assume(validator(schema).is_valid(value))
    text = grammar.serialize(value)
    assert grammar.accepts(text), f"valid instance rejected: {text}"


@pytest.mark.slow
@pytest.mark.parametrize("name", CURATED)
# No shrink phase: shrinking instances of these large schemas takes minutes, and the
# failing instance is readable as drawn.
@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data())
def test_curated_schema_instances_are_accepted(name: str, data: st.DataObject) -> None:
    schema, grammar, strategy = _curated(name)
    _check(schema, grammar, data.draw(strategy, label="instance"))


@pytest.mark.slow
@pytest.mark.parametrize("name", CURATED)
def test_curated_examples_are_accepted(name: str) -> None:
    schema, grammar, _ = _curated(name)
    examples = json.loads((CURATED_DIR / "examples" / name).read_text(encoding="utf-8"))
    assert examples, f"schemas/examples/{name} holds no instances"
    # Recursion is unrolled to the compiled depth: the grammar's exact language is the
    # schema cut at that depth, so an example nested deeper must be rejected, and every
    # other example accepted.
    cut = validator(inline_refs(schema, RECURSION.get(name, MAX_RECURSION)))
    wrong = []
    for example in examples:
        assert validator(schema).is_valid(example), f"example is not valid: {example}"
        text = grammar.serialize(example)
        assert json.loads(text) == example
        if grammar.accepts(text) != cut.is_valid(example):
            wrong.append(text)
    assert not wrong, "examples answered wrongly:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=30, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_instances_are_accepted(name: str, data: st.DataObject) -> None:
    grammar = exact_grammar(name)
    assert grammar.unenforced == ()
    _check(SCHEMAS[name], grammar, data.draw(instances(name), label="instance"))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=15, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_instances_are_accepted_in_every_whitespace_policy(
    name: str, data: st.DataObject
) -> None:
    value = data.draw(instances(name), label="instance")
    options = data.draw(st.sampled_from([{"whitespace": "compact"},
                                         {"whitespace": "flexible"},
                                         {"separators": (" ,", ":  ")}]), label="options")
    grammar = _policy_grammar(name, json.dumps(options))
    _check(SCHEMAS[name], grammar, value)


@functools.cache
def _policy_grammar(name: str, options: str) -> Grammar:
    kwargs = json.loads(options)
    if "separators" in kwargs:
        kwargs["separators"] = tuple(kwargs["separators"])
    return compile(SCHEMAS[name], spec_faithful=True, max_recursion_depth=MAX_RECURSION,
                   **kwargs)
