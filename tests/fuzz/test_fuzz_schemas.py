"""Fuzzed schemas end in a Grammar or a StructgenError, and compiled grammars agree with
jsonschema; ``benchmarks/fuzz.py`` runs the same checks on thousands of inputs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from fuzz_schemas import check_instances, compile_checked, mutate, random_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.testing import inline_refs, schema_instances

DATA = Path(__file__).resolve().parents[1] / "data"


def _real_schemas() -> list[Any]:
    records = []
    for path in (DATA / "jsonschemabench_subset.jsonl", DATA / "conformance" / "maskbench.jsonl"):
        with open(path, encoding="utf-8") as fh:
            records += [json.loads(line)["schema"] for line in fh if line.strip()]
    return records


REAL = _real_schemas()
FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _check(schema: Any, data: st.DataObject, rng: random.Random) -> None:
    # Half the schemas with their $ref targets called on a stack.
    outcome = compile_checked(schema, recursion=rng.choice(["auto", "stack"]))
    assert outcome.kind != "crash", (outcome.detail, schema)
    if outcome.grammar is None:
        return
    try:
        strategy = schema_instances(inline_refs(schema, 3))
        instances = [data.draw(strategy, label="instance") for _ in range(2)]
    except Exception:  # hypothesis-jsonschema cannot handle every schema: no verdict
        return
    wrong = check_instances(schema, outcome.grammar, instances, rng)
    assert not wrong, (wrong, schema)


@pytest.mark.timeout(300)
@FUZZ
@given(rng=st.randoms(use_true_random=False), data=st.data())
def test_random_schemas(rng: random.Random, data: st.DataObject) -> None:
    _check(random_schema(rng), data, rng)


@pytest.mark.timeout(300)
@FUZZ
@given(rng=st.randoms(use_true_random=False), data=st.data())
def test_mutated_real_schemas(rng: random.Random, data: st.DataObject) -> None:
    _check(mutate(rng.choice(REAL), rng), data, rng)
