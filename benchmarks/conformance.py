"""Conformance of `structgen.compile` on MaskBench, the JSON-Schema-Test-Suite and
JSONSchemaBench: schemas compiled, unsupported, false accepts and false rejects.

    python benchmarks/conformance.py [--data ../shared/data] [--only maskbench,suite,jsb]

Grammars are compiled with ``spec_faithful=True`` (undeclared properties allowed when
``additionalProperties`` is absent, untyped schemas admit every type): the setting that
matches JSON Schema semantics. A valid instance is serialized with ``Grammar.serialize``
and must be accepted; an invalid one must be rejected. MaskBench labels treat ``format``
as an assertion; the test suite's core files treat it as an annotation, so ``format`` is
dropped there (only ``optional/format`` asserts it). Unknown formats are assertions
(``unknown_formats="error"``) where labels treat formats as assertions. The test suite's
small schemas run with ``any_value_depth=4`` so that its deeply nested unconstrained
values fit; MaskBench and JSONSchemaBench use the default depth (2).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import structgen
from structgen.errors import GrammarLimitError, SchemaError, UnsupportedSchemaError

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _strip_format(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_format(v) for k, v in schema.items() if k != "format"
                or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_format(v) for v in schema]
    return schema


class Tally:
    def __init__(self) -> None:
        self.schemas = self.compiled = self.unsupported = self.errors = 0
        self.passed_schemas = 0
        self.tests = self.passed = self.false_accepts = self.false_rejects = 0
        self.times: list[float] = []
        self.failures: list[str] = []
        self.echo = False
        self.reasons: dict[str, int] = defaultdict(int)

    def note(self, failure: str) -> None:
        self.failures.append(failure)
        if self.echo:
            print(failure, file=sys.stderr, flush=True)

    def row(self, name: str) -> str:
        t = sorted(self.times)
        p50 = statistics.median(t) * 1000 if t else 0.0
        p99 = t[min(len(t) - 1, int(len(t) * 0.99))] * 1000 if t else 0.0
        return (
            f"| {name} | {self.schemas} | {self.compiled} | {self.unsupported} | {self.errors} "
            f"| {self.passed_schemas} | {self.tests} | {self.passed} | {self.false_accepts} "
            f"| {self.false_rejects} | {p50:.1f} | {p99:.1f} |"
        )


HEADER = (
    "| subset | schemas | compiled | unsupported | other errors | schemas passed | tests "
    "| tests passed | false accepts | false rejects | compile p50 ms | compile p99 ms |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def run_case(tally: Tally, ident: str, schema: Any, tests: list[dict[str, Any]],
             timeout_s: float, **options: Any) -> None:
    tally.schemas += 1
    tally.tests += len(tests)
    started = time.perf_counter()
    try:
        grammar = structgen.compile(schema, spec_faithful=True, timeout_s=timeout_s, **options)
    except UnsupportedSchemaError as exc:
        tally.unsupported += 1
        tally.reasons[f"unsupported {exc.keyword}"] += 1
        return
    except (SchemaError, GrammarLimitError) as exc:
        tally.errors += 1
        tally.reasons[type(exc).__name__ + ": " + str(exc)[:60]] += 1
        return
    except Exception as exc:  # a crash is a bug: count it and keep going
        tally.errors += 1
        tally.note(f"CRASH {ident}: {type(exc).__name__}: {exc}")
        tally.reasons["crash"] += 1
        return
    tally.times.append(time.perf_counter() - started)
    tally.compiled += 1
    ok = True
    for test in tests:
        text = grammar.serialize(test["data"])
        accepted = grammar.accepts(text)
        if accepted == test["valid"]:
            tally.passed += 1
            continue
        ok = False
        if accepted:
            tally.false_accepts += 1
            tally.note(f"FALSE ACCEPT {ident}: {test['description']}: {text[:200]}")
        else:
            tally.false_rejects += 1
            tally.note(f"FALSE REJECT {ident}: {test['description']}: {text[:200]}")
    if ok:
        tally.passed_schemas += 1


def _tallies() -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    tallies["ALL"].echo = ECHO
    return tallies


ECHO = False


def maskbench(data: Path, timeout_s: float) -> dict[str, Tally]:
    tallies = _tallies()
    with open(data / "maskbench" / "dev.jsonl", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            for key in (record["group"], "ALL"):
                run_case(tallies[key], record["id"], record["schema"], record["tests"],
                         timeout_s, unknown_formats="error")
    return tallies


def suite(data: Path, timeout_s: float) -> dict[str, Tally]:
    tallies = _tallies()
    root = data / "json-schema-test-suite" / "draft2020-12"
    for path in sorted(root.rglob("*.json")):
        optional_format = "optional" in path.parts
        subset = "optional/format" if optional_format else "core"
        for group in json.loads(path.read_text(encoding="utf-8")):
            schema = group["schema"] if optional_format else _strip_format(group["schema"])
            ident = f"{path.relative_to(root)}: {group['description']}"
            for key in (subset, "ALL"):
                run_case(tallies[key], ident, schema, group["tests"], timeout_s,
                         unknown_formats="error" if optional_format else "annotate",
                         any_value_depth=4)
    return tallies


def jsonschemabench(data: Path, timeout_s: float) -> dict[str, Tally]:
    tallies = _tallies()
    for path in sorted((data / "jsonschemabench").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                for key in (path.stem, "ALL"):
                    run_case(tallies[key], record["id"], record["schema"], [], timeout_s)
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", default="maskbench,suite,jsb")
    parser.add_argument("--timeout-s", type=float, default=20.0)
    parser.add_argument("--failures", action="store_true", help="list every wrong answer")
    parser.add_argument("--reasons", action="store_true", help="count why schemas failed")
    args = parser.parse_args(argv)
    global ECHO
    ECHO = args.failures
    runs = {"maskbench": maskbench, "suite": suite, "jsb": jsonschemabench}
    wrong = 0
    for name in args.only.split(","):
        tallies = runs[name](args.data, args.timeout_s)
        print(f"\n### {name}\n\n{HEADER}")
        for subset in sorted(tallies, key=lambda s: (s == "ALL", s)):
            print(tallies[subset].row(subset))
        total = tallies["ALL"]
        wrong += total.false_accepts + total.false_rejects
        if args.reasons:
            for reason, count in sorted(total.reasons.items(), key=lambda x: -x[1]):
                print(f"  {count:4d}  {reason}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
