"""The random-walk guarantee: uniformly random allowed tokens always make valid, finished JSON.

    python benchmarks/random_walk.py [--data ../shared/data] [--per-subset N]
                                     [--max-tokens M] [--walks W] [--seed S]

For each JSONSchemaBench schema in the sample (``<data>/jsonschemabench/<Subset>.jsonl``,
records ``{"id", "schema"}``) and every schema in ``schemas/``: compile with the default
generation options (``timeout_s`` bounds the compile), bind the grammar to the Llama-3
vocabulary, and walk ``--walks`` guides with ``max_tokens=M``, each step choosing uniformly
among the allowed token ids (EOS included where allowed). Every walk must end finished within
its budget, and the bytes of its tokens (EOS excluded) must be UTF-8, parse as JSON (no
``NaN``/``Infinity``, no duplicate keys), be accepted by the grammar's DFA and validate against
the schema with ``jsonschema`` (format checker on).

Counts per subset: ``compile limit`` is ``GrammarLimitError`` (state or time budget),
``budget too small`` is ``TokenBudgetError`` (the shortest valid output needs more than M
tokens), ``unsupported`` is ``UnsupportedSchemaError``, ``schema error`` covers invalid and
unsatisfiable schemas. A walk that fails validation only on keywords the grammar lists in
``Grammar.unenforced`` counts as ``post-validated`` (checked after generation by design), not
as invalid. ``invalid`` must be 0: each one is listed with its reason, and the exit status is 1.
Coverage is the fraction of schemas whose walks all validate.

Not a test: the full run (417 schemas, 3 walks each) takes about 11 minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators

import structgen
from structgen.errors import (
    GrammarLimitError,
    SchemaError,
    TokenBudgetError,
    UnsupportedSchemaError,
)
from structgen.guide import Guide
from structgen.index import TokenIndex, Vocabulary

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
LOCAL_SUBSET = "schemas/"
# A compile that overruns its own timeout_s by this factor is stopped and listed: the time
# budget is a promise too.
HARD_STOP_FACTOR = 3.0


class _HardStop(Exception):
    pass


@contextmanager
def _hard_stop(seconds: float) -> Iterator[None]:
    """Raise ``_HardStop`` in this (main) thread after ``seconds``, whatever is running."""

    def fire(signum: int, frame: Any) -> None:
        raise _HardStop

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Tally:
    schemas: int = 0
    compiled: int = 0
    unsupported: int = 0
    compile_limit: int = 0
    schema_error: int = 0
    budget_too_small: int = 0
    walks: int = 0
    valid: int = 0
    post_validated: int = 0
    invalid: int = 0
    covered: int = 0
    tokens: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            if name != "failures":
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures

    def row(self, name: str) -> str:
        coverage = self.covered / self.schemas if self.schemas else 0.0
        mean_tokens = self.tokens / self.walks if self.walks else 0.0
        return (
            f"| {name} | {self.schemas} | {self.compiled} | {self.walks} | {self.valid} "
            f"| {self.invalid} | {self.post_validated} | {self.budget_too_small} "
            f"| {self.compile_limit} | {self.unsupported} | {self.schema_error} "
            f"| {coverage:.1%} | {mean_tokens:.0f} | {self.seconds:.0f} |"
        )


HEADER = (
    "| subset | schemas | compiled | walks | valid | invalid | post-validated "
    "| budget too small | compile limit | unsupported | schema error | coverage "
    "| tokens/walk | seconds |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_strict(text: str) -> Any:
    """``json.loads`` without Python's extensions (NaN, Infinity) and without duplicate keys."""
    return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)


def validator_for(schema: Any) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _explained(error: jsonschema.ValidationError, unenforced: set[str]) -> bool:
    """Whether the error comes from an unenforced keyword (itself, or somewhere in the
    branches of a failed ``anyOf``/``oneOf``)."""
    if error.validator in unenforced:
        return True
    return any(_explained(sub, unenforced) for sub in error.context or ())


def walk(guide: Guide, rng: random.Random, limit: int) -> tuple[list[int], str | None]:
    """Choose uniformly among the allowed tokens until the guide is finished."""
    tokens: list[int] = []
    while not guide.is_finished():
        if len(tokens) >= limit:
            return tokens, f"not finished after {len(tokens)} tokens"
        allowed = guide.allowed_token_ids()
        if not len(allowed):
            return tokens, f"stuck: no token allowed in state {guide.state}"
        token = int(allowed[rng.randrange(len(allowed))])
        guide.advance(token)
        tokens.append(token)
    return tokens, None


def check_walk(
    grammar: structgen.Grammar,
    index: TokenIndex,
    validator: jsonschema.protocols.Validator,
    tokens: list[int],
    max_tokens: int,
) -> tuple[str, str]:
    """("valid" | "post-validated" | "invalid", detail) for one finished walk."""
    if len(tokens) > max_tokens:
        return "invalid", f"{len(tokens)} tokens > max_tokens={max_tokens}"
    eos = [i for i, t in enumerate(tokens) if index.is_eos(t)]
    if eos not in ([], [len(tokens) - 1]):
        return "invalid", f"EOS at positions {eos} of {len(tokens)}"
    vocab = index.vocab
    data = b"".join(vocab.token_bytes[t] or b"" for t in tokens if not index.is_eos(t))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "invalid", f"not UTF-8 ({exc.reason} at byte {exc.start}): {data[:160]!r}"
    try:
        instance = parse_strict(text)
    except ValueError as exc:
        return "invalid", f"not JSON ({exc}): {text[:160]!r}"
    if not grammar.accepts(data):
        return "invalid", f"the grammar's own DFA rejects it: {text[:160]!r}"
    errors = list(validator.iter_errors(instance))
    if not errors:
        return "valid", ""
    unenforced = {u.keyword for u in grammar.unenforced}
    detail = "; ".join(_describe(e) for e in errors[:3])
    if unenforced and all(_explained(e, unenforced) for e in errors):
        return "post-validated", detail
    return "invalid", detail


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/" + "/".join(map(str, error.absolute_path))
    rule = json.dumps(error.validator_value, ensure_ascii=False)
    value = json.dumps(error.instance, ensure_ascii=True)
    if len(rule) > 100:
        rule = rule[:100] + "..."
    if len(value) > 300:
        value = value[:300] + "..."
    return f"at {where}: {error.validator} {rule} fails on {value}"


def run_schema(
    ident: str,
    schema: Any,
    vocab: Vocabulary,
    args: argparse.Namespace,
) -> Tally:
    tally = Tally(schemas=1)
    started = time.perf_counter()
    try:
        with _hard_stop(args.timeout_s * HARD_STOP_FACTOR + 5):
            grammar = structgen.compile(schema, strict=not args.lenient, timeout_s=args.timeout_s)
    except UnsupportedSchemaError:
        tally.unsupported += 1
    except GrammarLimitError:
        tally.compile_limit += 1
    except SchemaError:
        tally.schema_error += 1
    except _HardStop:
        tally.compile_limit += 1
        tally.failures.append(f"OVERRAN {ident}: compile ran past {HARD_STOP_FACTOR:g}x timeout_s")
    except Exception as exc:  # a crash is a bug: list it and go on
        tally.schema_error += 1
        tally.failures.append(f"CRASH {ident}: compile: {type(exc).__name__}: {exc}")
    else:
        tally.compiled += 1
        _walks(tally, ident, grammar, schema, vocab, args)
    tally.seconds = time.perf_counter() - started
    return tally


def _walks(
    tally: Tally,
    ident: str,
    grammar: structgen.Grammar,
    schema: Any,
    vocab: Vocabulary,
    args: argparse.Namespace,
) -> None:
    index = grammar.index(vocab)
    try:
        Guide(index, max_tokens=args.max_tokens)
    except TokenBudgetError:
        tally.budget_too_small += 1
        return
    try:
        validator = validator_for(schema)
    except Exception as exc:  # jsonschema cannot check this schema: say so, count invalid
        tally.invalid += 1
        tally.failures.append(f"NO VALIDATOR {ident}: {type(exc).__name__}: {exc}")
        return
    all_valid = True
    for number in range(args.walks):
        rng = random.Random(f"{args.seed}:{ident}:{number}")
        guide = Guide(index, max_tokens=args.max_tokens)
        tokens, problem = walk(guide, rng, args.max_tokens + 1)
        tally.walks += 1
        tally.tokens += len(tokens)
        if problem is None:
            try:
                verdict, detail = check_walk(grammar, index, validator, tokens, args.max_tokens)
            except Exception as exc:  # e.g. a pattern Python's re cannot compile
                verdict, detail = "invalid", f"validator raised {type(exc).__name__}: {exc}"
        else:
            verdict, detail = "invalid", problem
        if verdict == "valid":
            tally.valid += 1
            continue
        all_valid = False
        if verdict == "post-validated":
            tally.post_validated += 1
        else:
            tally.invalid += 1
        tally.failures.append(f"{verdict.upper()} {ident} walk {number}: {detail}")
    if all_valid:
        tally.covered += 1


def subsets(data: Path, per_subset: int | None) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """(subset name, [(id, schema)]) for each JSONSchemaBench file, then ``schemas/``."""
    for path in sorted((data / "jsonschemabench").glob("*.jsonl")):
        records = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    records.append((record["id"], record["schema"]))
        yield path.stem, records[:per_subset]
    local = [
        (f"schemas/{p.name}", json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(SCHEMAS_DIR.glob("*.json"))
    ]
    yield LOCAL_SUBSET, local


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-subset", type=int, default=None,
                        help="first N schemas of each JSONSchemaBench subset (default: all)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--walks", type=int, default=3, help="walks per schema")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=10.0, help="compile time limit")
    parser.add_argument("--only", default=None,
                        help="comma-separated subset names (file stems, or 'schemas/')")
    parser.add_argument("--lenient", action="store_true",
                        help="compile with strict=False: unenforceable keywords are "
                             "post-validated instead of refused")
    parser.add_argument("--quiet", action="store_true", help="do not list post-validated walks")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    vocab = Vocabulary.llama3()
    only = set(args.only.split(",")) if args.only else None
    total = Tally()
    rows: list[str] = []
    failures: list[str] = []
    for name, records in subsets(args.data, args.per_subset):
        if only is not None and name not in only:
            continue
        tally = Tally()
        for ident, schema in records:
            tally.add(run_schema(ident, schema, vocab, args))
        print(tally.row(name), file=sys.stderr, flush=True)
        rows.append(tally.row(name))
        total.add(tally)
        failures += tally.failures
    print(
        f"Llama-3 vocabulary, max_tokens={args.max_tokens}, {args.walks} walks per schema, "
        f"seed {args.seed}, compile timeout_s={args.timeout_s:g}, "
        f"strict={not args.lenient}; {time.perf_counter() - started:.0f} s in all.\n"
    )
    print(HEADER)
    for row in rows:
        print(row)
    print(total.row("**all**"))
    shown = [f for f in failures if not (args.quiet and f.startswith("POST-VALIDATED"))]
    if shown:
        print("\n```")
        for failure in shown:
            print(failure)
        print("```")
    return 1 if total.invalid or any(f.startswith(("CRASH", "OVERRAN")) for f in failures) else 0


if __name__ == "__main__":
    sys.exit(main())
