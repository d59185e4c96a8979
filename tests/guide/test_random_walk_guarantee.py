"""The guarantee under random sampling: any sequence of allowed Llama-3 tokens finishes within
``max_tokens`` as UTF-8 JSON that the schema's validator accepts.

Over every schema in ``schemas/`` and twenty JSONSchemaBench schemas
(``tests/data/jsonschemabench_subset.jsonl``, see its SOURCE note), with fixed seeds.
``benchmarks/random_walk.py`` runs the same check on the whole sample.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators
import pytest

import structgen
from structgen.errors import GrammarLimitError, TokenBudgetError
from structgen.guide import Guide
from structgen.index import Vocabulary
from structgen.testing import random_walk

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "schemas").glob("*.json"))
SUBSET = ROOT / "tests" / "data" / "jsonschemabench_subset.jsonl"
MAX_TOKENS = 128
SEEDS = (0, 1)
STATE_BUDGET = 16_000
TIMEOUT_S = 300.0  # a backstop only: compile time depends on the machine's load


def _records() -> list[dict[str, Any]]:
    with open(SUBSET, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
    return dict(pairs)


def _check_walks(grammar: structgen.Grammar, schema: Any, vocab: Vocabulary) -> int:
    """Walk the guide with each seed and check every output; the number of walks checked."""
    index = grammar.index(vocab)
    try:
        Guide(index, max_tokens=MAX_TOKENS)
    except TokenBudgetError:
        # Refused only when the exact shortest output (plus EOS) really does not fit.
        assert index.cost(index.start, exact=True) + 1 > MAX_TOKENS
        return 0
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    for seed in SEEDS:
        guide = Guide(index, max_tokens=MAX_TOKENS)
        tokens = random_walk(guide, seed, max_steps=MAX_TOKENS)
        assert guide.is_finished()
        assert guide.remaining_budget == MAX_TOKENS - len(tokens)
        eos = [i for i, t in enumerate(tokens) if index.is_eos(t)]
        assert eos in ([], [len(tokens) - 1]), "EOS, if taken, is the last token"
        data = b"".join(vocab.token_bytes[t] or b"" for t in tokens if not index.is_eos(t))
        text = data.decode("utf-8")
        assert grammar.accepts(data), text
        instance = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
        assert not errors, (text, errors)
    return len(SEEDS)


# org_chart nests a counted array (reports, maxItems 10) in its recursion: one flat DFA
# multiplies the employee automaton per level, so at the default depth (3) it exceeds the
# default state budget; two levels of reports fit (see docs/json_schema.md, "Departures").
RECURSION = {"org_chart": 2}


@functools.cache
def _compiled(path: Path) -> structgen.Grammar:
    schema = json.loads(path.read_text(encoding="utf-8"))
    depth = RECURSION.get(path.stem, 3)
    return structgen.compile(schema, max_recursion_depth=depth, timeout_s=TIMEOUT_S)


@pytest.mark.slow
@pytest.mark.parametrize("path", SCHEMAS, ids=[p.stem for p in SCHEMAS])
def test_schemas_folder(path: Path, llama3: Vocabulary) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert _check_walks(_compiled(path), schema, llama3) == len(SEEDS)


@pytest.mark.parametrize("name", ["org_chart", "tree_node"])
def test_recursive_schemas_on_a_stack(name: str, llama3: Vocabulary) -> None:
    """Called on a stack, recursion needs no depth cut (org_chart unrolled does)."""
    schema = json.loads((ROOT / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    grammar = structgen.compile(schema, recursion="stack", timeout_s=TIMEOUT_S)
    assert grammar.uses_stack
    assert _check_walks(grammar, schema, llama3) == len(SEEDS)


def test_large_recursive_schema_is_called_on_a_stack() -> None:
    record = next(r for r in _records() if r["id"].startswith("WashingtonPost/wp_98"))
    assert structgen.compile(record["schema"], timeout_s=TIMEOUT_S).uses_stack


def test_state_budget_is_a_clean_error() -> None:
    # Deterministic, unlike a time limit: a schema needing more states than the budget
    # fails at an intermediate automaton, with the limit, the figure and the fix.
    schema = json.loads((ROOT / "schemas" / "invoice.json").read_text(encoding="utf-8"))
    with pytest.raises(GrammarLimitError) as info:
        structgen.compile(schema, state_budget=STATE_BUDGET, timeout_s=TIMEOUT_S,
                          recursion="unroll")
    assert info.value.limit == "state_budget"
    assert info.value.reached >= STATE_BUDGET
    assert "raise state_budget" in str(info.value)
    # By default the $ref targets are then called on a stack instead, within the budget.
    grammar = structgen.compile(schema, state_budget=STATE_BUDGET, timeout_s=TIMEOUT_S)
    assert grammar.uses_stack and grammar.stats.states <= STATE_BUDGET


@pytest.mark.parametrize("record", _records(), ids=lambda r: r["id"])
def test_jsonschemabench_subset(record: dict[str, Any], llama3: Vocabulary) -> None:
    grammar = structgen.compile(record["schema"], timeout_s=TIMEOUT_S)
    assert _check_walks(grammar, record["schema"], llama3) == len(SEEDS)


def test_subset_covers_every_jsonschemabench_subset() -> None:
    subsets = {r["id"].split("/")[0] for r in _records()}
    assert len(_records()) == 24
    assert subsets == {
        "Github_trivial", "Github_easy", "Github_medium", "Github_hard", "Github_ultra",
        "Glaiveai2K", "JsonSchemaStore", "Kubernetes", "Snowplow", "WashingtonPost",
    }
