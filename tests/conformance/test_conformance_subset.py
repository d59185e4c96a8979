"""Regression guard on a fixed conformance subset: no false accepts, no false rejects.

Runs as ``benchmarks/conformance.py`` does: ``spec_faithful=True``; each valid instance,
written by ``Grammar.serialize``, must be accepted and each invalid one rejected.
``UnsupportedSchemaError`` is a coverage gap, not a failure. MaskBench labels treat
``format`` as an assertion; the suite's core files treat it as an annotation (dropped),
only ``optional/format`` asserts it. The data and its licenses: tests/data/conformance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from structgen import UnsatisfiableSchemaError, UnsupportedSchemaError, compile

DATA = Path(__file__).resolve().parents[1] / "data" / "conformance"
SUITE = DATA / "json-schema-test-suite" / "draft2020-12"


def _strip_format(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_format(v) for k, v in schema.items()
                if k != "format" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_format(v) for v in schema]
    return schema


def _wrong_answers(schema: Any, tests: list[dict[str, Any]], **options: Any) -> list[str]:
    """Every false accept and false reject (empty when the schema is unsupported)."""
    try:
        grammar = compile(schema, spec_faithful=True, **options)
    except UnsupportedSchemaError:
        return []
    except UnsatisfiableSchemaError:
        # Right exactly when no instance is valid; otherwise every valid one is rejected.
        return [f"false reject (unsatisfiable): {json.dumps(t['data'])[:200]}"
                for t in tests if t["valid"]]
    wrong = []
    for test in tests:
        text = grammar.serialize(test["data"])
        if grammar.accepts(text) != test["valid"]:
            kind = "false reject" if test["valid"] else "false accept"
            wrong.append(f"{kind}: {test['description']}: {text[:200]}")
    return wrong


def _maskbench() -> list[Any]:
    with open(DATA / "maskbench.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    return [pytest.param(r, id=r["id"]) for r in records]


def _suite() -> list[Any]:
    params = []
    for path in sorted(SUITE.rglob("*.json")):
        name = path.relative_to(SUITE).as_posix()
        for i, group in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            params.append(pytest.param(name, group, id=f"{name}:{i}"))
    return params


def test_subset_is_in_place() -> None:
    assert len(_maskbench()) == 42
    files = sorted(p.relative_to(SUITE).as_posix() for p in SUITE.rglob("*.json"))
    assert len(files) == 10, files
    assert (DATA / "json-schema-test-suite" / "LICENSE").is_file()
    assert (DATA / "SOURCE.md").is_file()


@pytest.mark.parametrize("record", _maskbench())
def test_maskbench(record: dict[str, Any]) -> None:
    # MaskBench labels treat every format, known or not, as an assertion.
    wrong = _wrong_answers(record["schema"], record["tests"], unknown_formats="error")
    assert not wrong, f"{record['id']}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("name", "group"), _suite())
def test_json_schema_test_suite(name: str, group: dict[str, Any]) -> None:
    optional_format = name.startswith("optional/")
    schema = group["schema"] if optional_format else _strip_format(group["schema"])
    wrong = _wrong_answers(
        schema, group["tests"],
        unknown_formats="error" if optional_format else "annotate",
        any_value_depth=4,  # the suite nests unconstrained values deeper than the default
    )
    assert not wrong, f"{name}: {group['description']}:\n" + "\n".join(wrong)


def test_guard_reports_false_accepts_and_false_rejects() -> None:
    # The guard itself: mislabelled instances must come back as wrong answers, both ways.
    tests = [
        {"description": "labelled invalid, is valid", "data": 3, "valid": False},
        {"description": "labelled valid, is invalid", "data": "3", "valid": True},
        {"description": "right label", "data": 4, "valid": True},
    ]
    wrong = _wrong_answers({"type": "integer"}, tests)
    assert [w.split(":")[0] for w in wrong] == ["false accept", "false reject"]
    unsatisfiable = [{"description": "valid", "data": 1, "valid": True}]
    assert _wrong_answers({"type": "integer", "minimum": 2, "maximum": 1}, unsatisfiable) == [
        "false reject (unsatisfiable): 1"
    ]
