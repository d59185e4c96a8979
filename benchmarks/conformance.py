"""Conformance of structgen and its peers on MaskBench, the JSON-Schema-Test-Suite and
JSONSchemaBench: coverage, false accepts and false rejects, per subset and per engine.

    python benchmarks/conformance.py [--data ../shared/data] [--only maskbench,suite,jsb]
        [--engines structgen,outlines-core,xgrammar,llguidance] [--timeout-s 8]
        [--walks 3] [--max-tokens 512] [--json OUT] [--markdown OUT] [--failures] [--reasons]

Every engine sees the same schemas in the same run, on the Llama-3 vocabulary, under the same
per-schema compile limit ``--timeout-s``. structgen runs in this process; each peer runs each
schema in a forked child (``peers.py`` adapters) that is killed when its compile passes the
limit or 4 GB. A compile error counts as *unsupported* for that engine, a compile over the
limit as *limit*.

* MaskBench (``maskbench/dev.jsonl``): each valid instance must be accepted and each invalid
  one rejected; a schema *passes* when it compiles and every answer is right. Labels treat
  ``format`` as an assertion.
* JSON-Schema-Test-Suite draft 2020-12: tests passed, false accepts (false positives) and false
  rejects (false negatives). The core files treat ``format`` as an annotation, so it is dropped
  from their schemas for every engine; ``optional/format`` asserts it.
* JSONSchemaBench (``jsonschemabench/*.jsonl``): coverage is the fraction of schemas compiled;
  empirical coverage the fraction compiled whose random walks (``--walks`` per schema, each
  token chosen uniformly among those the mask allows, EOS included, up to ``--max-tokens``)
  all end in output that parses as strict JSON and validates with ``jsonschema`` (format
  checker on). structgen bounds its walks with its token budget (``max_tokens``), so they
  always finish; the peers have no budget, and a peer walk cut off at ``--max-tokens`` is
  counted as *cut off*, not as invalid output. The same walks time the first mask, the
  per-token mask (advance + fill) and the memory held (structgen: ``TokenIndex.nbytes`` plus
  DFA arrays; xgrammar: ``memory_size_bytes``; the others: malloc growth).

structgen compiles with ``spec_faithful=True`` (JSON Schema semantics: undeclared properties
allowed where ``additionalProperties`` is absent, untyped schemas admit every type) and
``unicode_escapes="controls"`` (strings written raw, ``\\u00XX`` only for the controls JSON
must escape: every string value has that spelling, at half the states of every ``\\uXXXX``
form); where
labels treat ``format`` as an assertion, unknown formats are refused
(``unknown_formats="error"``) and the suite's ``optional/format`` accepts leap seconds in every
time zone (``leap_seconds="any_offset"``); MaskBench and the suite's core run with
``any_value_depth=5`` (their valid instances nest that deep in free values). An
``UnsatisfiableSchemaError`` is an answer: no instance is accepted. Instances are written by
``Grammar.serialize``. Peers run with the settings in ``peers.py``, xgrammar with
``strict_mode=False`` (JSON Schema semantics); boolean schemas are passed to them as ``{}`` and
``{"not": {}}``; an instance counts as accepted by a peer when any of its spellings is: the
instance's or the schema's declared key order, ``json.dumps`` separators, with and without
``\\uXXXX`` escapes (the peers enforce declared key order; they differ on escapes).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing import Pipe
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import contextlib

import numpy as np
from masks import _heap_in_use, warm_up  # run as a script: benchmarks/ is on sys.path
from peers import (
    PEER_NAMES,
    Llama3Vocab,
    PeerEngine,
    PeerUnsupported,
    allowed_ids,
    load_llama3_vocab,
    load_peers,
)
from random_walk import HARD_STOP_FACTOR, _hard_stop, check_walk, parse_strict, validator_for

import structgen
from structgen.errors import (
    GrammarLimitError,
    SchemaError,
    TokenBudgetError,
    UnsatisfiableSchemaError,
    UnsupportedSchemaError,
)
from structgen.guide import Guide
from structgen.index import Vocabulary

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# structgen-lenient: `strict=False`, keywords the grammar cannot enforce are listed and
# checked by `Grammar.validate` after generation, as `structgen.generate` does.
LENIENT = "structgen-lenient"
ENGINES = ("structgen", LENIENT, *PEER_NAMES)
# JSON Schema semantics; strings spelled with raw UTF-8 and `\u00XX` only for controls,
# which every string value has (instances are written by `Grammar.serialize`).
STRUCTGEN_OPTIONS: dict[str, Any] = {"spec_faithful": True, "unicode_escapes": "controls"}
PEER_OPTIONS: dict[str, dict[str, Any]] = {"xgrammar": {"strict_mode": False}}
DATASETS = {"maskbench": "MaskBench", "suite": "JSON-Schema-Test-Suite", "jsb": "JSONSchemaBench"}
MEMORY_GB = 4.0
WALK_LIMIT_S = 60.0
"""Seconds a peer's child may spend on tests and walks after compiling."""
UNSATISFIABLE_WORDS = ("unsatisfiable", "cannot accept any value")
"""A peer's compile error that says no instance exists: an answer, as for structgen."""
TOKEN_SAMPLE = 32
"""Per-token timings kept per schema and engine (for the plots)."""


@dataclass
class Case:
    """One schema of one dataset, with its labelled instances."""

    dataset: str
    subset: str
    ident: str
    schema: Any
    tests: list[dict[str, Any]]
    options: dict[str, Any]
    """structgen compile options of this dataset."""


@dataclass
class Outcome:
    """One engine on one case."""

    dataset: str
    subset: str
    ident: str
    engine: str
    status: str = "ok"
    """ok, unsatisfiable, unsupported, limit or crash."""
    reason: str = ""
    compile_s: float | None = None
    tests: int = 0
    passed: int = 0
    false_accepts: int = 0
    false_rejects: int = 0
    failures: list[str] = field(default_factory=list)
    first_mask_s: float | None = None
    memory_bytes: int | None = None
    walks: int = 0
    finished: int = 0
    valid: int = 0
    post_validated: int = 0
    invalid: int = 0
    budget_too_small: bool = False
    tokens: int = 0
    token_p50_s: float | None = None
    token_p99_s: float | None = None
    token_sample: list[float] = field(default_factory=list)

    @property
    def compiled(self) -> bool:
        return self.status in ("ok", "unsatisfiable")

    @property
    def schema_passed(self) -> bool:
        return self.compiled and self.false_accepts == 0 and self.false_rejects == 0

    @property
    def covered(self) -> bool:
        """Empirical coverage: compiled, walks possible, and no finished walk invalid."""
        return (self.status == "ok" and not self.budget_too_small and self.invalid == 0
                and self.post_validated == 0 and self.finished > 0)


# --------------------------------------------------------------------------- data


def _strip_format(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_format(v) for k, v in schema.items()
                if k != "format" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_format(v) for v in schema]
    return schema


# Test instances nest up to 5 levels inside values their schemas leave free (`{}`).
_DEEP_FREE_VALUES = {"any_value_depth": 5}


def maskbench_cases(data: Path, limit: int | None) -> Iterator[Case]:
    seen: Counter[str] = Counter()
    with open(data / "maskbench" / "dev.jsonl", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            seen[record["group"]] += 1
            if limit is None or seen[record["group"]] <= limit:
                yield Case("maskbench", record["group"], record["id"], record["schema"],
                           record["tests"], {"unknown_formats": "error"} | _DEEP_FREE_VALUES)


def suite_cases(data: Path, limit: int | None) -> Iterator[Case]:
    root = data / "json-schema-test-suite" / "draft2020-12"
    for path in sorted(root.rglob("*.json")):
        optional_format = "optional" in path.parts
        groups = json.loads(path.read_text(encoding="utf-8"))[:limit]
        for group in groups:
            schema = group["schema"] if optional_format else _strip_format(group["schema"])
            yield Case(
                "suite", "optional/format" if optional_format else "core",
                f"{path.relative_to(root).as_posix()}: {group['description']}",
                schema, group["tests"],
                {"unknown_formats": "error", "leap_seconds": "any_offset"}
                if optional_format else {"unknown_formats": "annotate"} | _DEEP_FREE_VALUES,
            )


def jsb_cases(data: Path, limit: int | None) -> Iterator[Case]:
    for path in sorted((data / "jsonschemabench").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            records = [json.loads(line) for line in fh if line.strip()]
        for record in records[:limit]:
            yield Case("jsb", path.stem, record["id"], record["schema"], [], {})


# --------------------------------------------------------------------------- peer spellings


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return node


def _declared(schema: Any, root: Any, seen: set[int]) -> dict[str, Any]:
    """Declared properties in declaration order (through local $ref and combinators),
    each with its first subschema."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return {}
    seen.add(id(schema))
    out: dict[str, Any] = dict(schema.get("properties") or {})
    linked = [_resolve(schema["$ref"], root)] if isinstance(schema.get("$ref"), str) else []
    for key in ("allOf", "anyOf", "oneOf"):
        linked += schema.get(key) or []
    linked += [schema.get("then"), schema.get("else")]
    for sub in linked:
        for name, value in _declared(sub, root, seen).items():
            out.setdefault(name, value)
    return out


def _in_declared_order(value: Any, schema: Any, root: Any, depth: int = 0) -> Any:
    """``value`` with object keys in the schema's declared order, undeclared keys last."""
    if depth > 64 or not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = _declared(schema, root, set())
        keys = [k for k in props if k in value] + [k for k in value if k not in props]
        return {k: _in_declared_order(value[k], props.get(k), root, depth + 1) for k in keys}
    if isinstance(value, list):
        while isinstance(schema.get("$ref"), str) and "items" not in schema:
            schema = _resolve(schema["$ref"], root)
            if not isinstance(schema, dict):
                return value
        prefix, items = schema.get("prefixItems") or [], schema.get("items")
        if isinstance(items, list):
            prefix, items = items, schema.get("additionalItems")
        return [_in_declared_order(v, prefix[i] if i < len(prefix) else items, root, depth + 1)
                for i, v in enumerate(value)]
    return value


def peer_spellings(schema: Any, instance: Any) -> list[str]:
    """The texts of ``instance`` a peer is given; it accepts the instance if it accepts one."""
    texts: list[str] = []
    for value in (_in_declared_order(instance, schema, schema), instance):
        for ensure_ascii in (False, True):
            text = json.dumps(value, ensure_ascii=ensure_ascii)
            if text not in texts:
                texts.append(text)
    return texts


def peer_schema(schema: Any) -> Any:
    """Boolean schemas as objects: some peers only take object schemas."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    return schema


# --------------------------------------------------------------------------- timing helpers


def _token_stats(out: Outcome, seconds: list[float], rng: random.Random) -> None:
    out.tokens = len(seconds)
    if seconds:
        ordered = sorted(seconds)
        out.token_p50_s = ordered[len(ordered) // 2]
        out.token_p99_s = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        picks = rng.sample(seconds, min(TOKEN_SAMPLE, len(seconds)))
        out.token_sample = [float(f"{s:.3g}") for s in picks]


def _judge(out: Outcome, test: dict[str, Any], accepted: bool, text: str) -> None:
    if accepted == test["valid"]:
        out.passed += 1
        return
    kind = "FALSE ACCEPT" if accepted else "FALSE REJECT"
    if accepted:
        out.false_accepts += 1
    else:
        out.false_rejects += 1
    if len(out.failures) < 5:
        out.failures.append(f"{kind} {out.ident}: {test['description']}: {text[:160]}")


# --------------------------------------------------------------------------- structgen


def run_structgen(case: Case, vocab: Vocabulary, args: argparse.Namespace,
                  engine: str = "structgen") -> Outcome:
    out = Outcome(case.dataset, case.subset, case.ident, engine, tests=len(case.tests))
    start = time.perf_counter()
    try:
        with _hard_stop(args.timeout_s * HARD_STOP_FACTOR + 5):
            grammar = structgen.compile(case.schema, strict=engine != LENIENT,
                                        timeout_s=args.timeout_s,
                                        **(STRUCTGEN_OPTIONS | case.options))
    except UnsatisfiableSchemaError:
        out.status, out.reason = "unsatisfiable", "unsatisfiable"
        out.compile_s = time.perf_counter() - start
        for test in case.tests:
            _judge(out, test, False, json.dumps(test["data"]))
        return out
    except UnsupportedSchemaError as exc:
        out.status, out.reason = "unsupported", str(exc.keyword)
        return out
    except GrammarLimitError as exc:
        out.status, out.reason = "limit", f"GrammarLimitError ({exc.limit})"
        return out
    except SchemaError as exc:
        out.status, out.reason = "unsupported", f"{type(exc).__name__}: {str(exc)[:60]}"
        return out
    except Exception as exc:  # a crash is a bug: count it and keep going
        out.status, out.reason = "crash", f"{type(exc).__name__}: {str(exc)[:80]}"
        return out
    out.compile_s = time.perf_counter() - start
    for test in case.tests:
        text = grammar.serialize(test["data"])
        accepted = grammar.accepts(text) and not (
            grammar.unenforced and grammar.validate(test["data"])
        )
        _judge(out, test, accepted, text)
    if case.dataset == "jsb":
        _structgen_walks(out, grammar, case, vocab, args)
    return out


def _structgen_walks(out: Outcome, grammar: structgen.Grammar, case: Case, vocab: Vocabulary,
                     args: argparse.Namespace) -> None:
    bitmask = np.zeros((1, (vocab.embedding_rows + 31) // 32), dtype=np.int32)
    start = time.perf_counter()
    index = grammar.index(vocab)
    Guide(index).fill_bitmask(bitmask)
    out.first_mask_s = time.perf_counter() - start
    try:
        Guide(index, max_tokens=args.max_tokens)
    except TokenBudgetError:
        out.budget_too_small = True
        return
    validator = validator_for(case.schema)
    seconds: list[float] = []
    for number in range(args.walks):
        rng = random.Random(f"{args.seed}:{case.ident}:{number}")
        guide = Guide(index, max_tokens=args.max_tokens)
        guide.fill_bitmask(bitmask)
        tokens: list[int] = []
        while not guide.is_finished() and len(tokens) <= args.max_tokens:
            allowed = allowed_ids(bitmask[0])
            if not len(allowed):
                break
            token = int(allowed[rng.randrange(len(allowed))])
            t0 = time.perf_counter()
            guide.advance(token)
            if not guide.is_finished():
                guide.fill_bitmask(bitmask)
            seconds.append(time.perf_counter() - t0)
            tokens.append(token)
        out.walks += 1
        out.finished += guide.is_finished()
        try:
            verdict, detail = check_walk(grammar, index, validator, tokens, args.max_tokens)
        except Exception as exc:  # e.g. a pattern Python's re cannot compile
            verdict, detail = "invalid", f"validator raised {type(exc).__name__}: {exc}"
        if not guide.is_finished():
            verdict, detail = "invalid", f"not finished after {len(tokens)} tokens"
        elif verdict == "invalid" and _caught_after(grammar, index, tokens):
            verdict = "post-validated"
        _count_verdict(out, verdict, detail, number)
    _token_stats(out, seconds, random.Random(case.ident))
    # The index holds the grammar's compact DFA and counts it in nbytes.
    out.memory_bytes = index.nbytes + (0 if index.dfa is grammar.dfa else grammar.dfa.nbytes)


def _caught_after(grammar: structgen.Grammar, index: Any, tokens: list[int]) -> bool:
    """Whether ``Grammar.validate`` (what ``generate`` runs under ``strict=False``) refuses
    the walk's output, which then never reaches a user."""
    if not grammar.unenforced:
        return False
    data = b"".join(index.vocab.token_bytes[t] or b"" for t in tokens if not index.is_eos(t))
    try:
        return bool(grammar.validate(parse_strict(data.decode("utf-8"))))
    except Exception:  # not JSON, or the validator fails: counted as invalid output
        return False


def _count_verdict(out: Outcome, verdict: str, detail: str, number: int) -> None:
    if verdict == "valid":
        out.valid += 1
        return
    if verdict == "post-validated":
        out.post_validated += 1
    else:
        out.invalid += 1
    if len(out.failures) < 5:
        out.failures.append(f"{verdict.upper()} WALK {out.ident} walk {number}: {detail[:300]}")


# --------------------------------------------------------------------------- peers


def _peer_job(peer: PeerEngine, case: Case, spellings: list[list[list[int]]],
              args: argparse.Namespace, send: Callable[[Any], None]) -> None:
    """In the child: compile (reported at once), then tests and walks."""
    gc.collect()
    heap_before = _heap_in_use()
    try:
        compiled = peer.compile(peer_schema(case.schema))
    except PeerUnsupported as exc:
        send({"error": str(exc).removeprefix(f"{peer.name}: ")})
        return
    send({"compile_s": compiled.compile_s})
    result: dict[str, Any] = {"accepted": [
        any(peer.accepts_tokens(compiled, ids) for ids in texts) for texts in spellings
    ]}
    if case.dataset == "jsb":
        result["first_mask_s"] = peer.first_mask(compiled).seconds
        walks = []
        for number in range(args.walks):
            rng = random.Random(f"{args.seed}:{case.ident}:{number}")
            walk = peer.random_walk(compiled, rng, args.max_tokens)
            walks.append((walk.tokens, walk.finished, walk.stuck, walk.seconds))
        result["walks"] = walks
        size = getattr(compiled.grammar, "memory_size_bytes", None)
        if size is None:
            gc.collect()
            size = max(0, _heap_in_use() - heap_before)
        result["memory_bytes"] = int(size)
    send(result)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    if line.startswith("[") and "] " in line:  # xgrammar: "[hh:mm:ss] file.cc:123: message"
        line = line.split("] ", 1)[1]
        line = line.split(": ", 1)[1] if ".cc:" in line.split(": ", 1)[0] else line
    return line[:100]


def run_peer(peer: PeerEngine, case: Case, llama3: Llama3Vocab,
             args: argparse.Namespace) -> Outcome:
    """One peer on one case in a forked child: compile under the limit, then the rest."""
    out = Outcome(case.dataset, case.subset, case.ident, peer.name, tests=len(case.tests))
    texts = [peer_spellings(case.schema, test["data"]) for test in case.tests]
    spellings = [[llama3.encode(t) for t in group] for group in texts]
    receive, send = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # child
        receive.close()
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                vm = next(int(line.split()[1]) * 1024 for line in fh
                          if line.startswith("VmSize:"))
            limit = vm + int(MEMORY_GB * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            _peer_job(peer, case, spellings, args, send.send)
        except BaseException as exc:
            with contextlib.suppress(BaseException):
                send.send({"crash": f"{type(exc).__name__}: {exc}"})
        os._exit(0)
    send.close()
    try:
        first = _receive(receive, args.timeout_s + 1.0)
        if first is None:
            out.status, out.reason = "limit", _child_death(pid, f"timeout ({args.timeout_s:g} s)")
            return out
        if "error" in first:
            message = _first_line(first["error"])
            if any(w in message.lower() for w in UNSATISFIABLE_WORDS):
                out.status, out.reason = "unsatisfiable", "unsatisfiable"
                for test in case.tests:
                    _judge(out, test, False, json.dumps(test["data"]))
            else:
                out.status, out.reason = "unsupported", message
            return out
        if "crash" in first:
            out.status, out.reason = "crash", _first_line(first["crash"])
            return out
        out.compile_s = first["compile_s"]
        if out.compile_s is not None and out.compile_s > args.timeout_s:
            out.status, out.reason = "limit", f"timeout ({args.timeout_s:g} s)"
            return out
        rest = _receive(receive, WALK_LIMIT_S)
        if rest is None or "crash" in rest:
            why = _first_line(rest["crash"]) if rest else _child_death(pid, "no result")
            out.status, out.reason = "crash", f"after compile: {why}"
            return out
    finally:
        receive.close()
        _reap(pid)
    for test, group, accepted in zip(case.tests, texts, rest["accepted"], strict=True):
        _judge(out, test, accepted, group[0])
    if case.dataset == "jsb":
        _peer_walks(out, case, rest, llama3)
    return out


def _receive(conn: Any, timeout_s: float) -> Any:
    try:
        return conn.recv() if conn.poll(timeout_s) else None
    except EOFError:
        return None


def _child_death(pid: int, default: str) -> str:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return default
    if done and os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)} (over {MEMORY_GB:g} GB?)"
    return default


def _reap(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _peer_walks(out: Outcome, case: Case, rest: dict[str, Any], llama3: Llama3Vocab) -> None:
    out.first_mask_s = rest["first_mask_s"]
    out.memory_bytes = rest["memory_bytes"]
    validator = validator_for(case.schema)
    seconds: list[float] = []
    for number, (tokens, finished, stuck, walk_s) in enumerate(rest["walks"]):
        out.walks += 1
        seconds += walk_s
        if not finished:
            if stuck:
                _count_verdict(out, "invalid", f"stuck after {len(tokens)} tokens", number)
            continue
        out.finished += 1
        data = b"".join(llama3.token_bytes[t] for t in tokens if t < len(llama3.token_bytes))
        try:
            instance = parse_strict(data.decode("utf-8"))
            errors = [e.message for e in validator.iter_errors(instance)]
            verdict = "invalid" if errors else "valid"
            detail = "; ".join(errors[:2])[:200] + f": {data[:160]!r}"
        except Exception as exc:  # not UTF-8, not JSON, or the validator gave up
            verdict, detail = "invalid", f"{type(exc).__name__}: {exc}: {data[:160]!r}"
        _count_verdict(out, verdict, detail, number)
    _token_stats(out, seconds, random.Random(case.ident))


# --------------------------------------------------------------------------- report


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.1f}" if value < 10 else f"{value * 1e3:.0f}"


def _cell(n: int, d: int) -> str:
    return f"{n}/{d} ({n / d:.0%})" if d else "-"


def _by(
    outcomes: list[Outcome], engines: list[str], subset: str | None
) -> dict[str, list[Outcome]]:
    by: dict[str, list[Outcome]] = {e: [] for e in engines}
    for o in outcomes:
        if o.engine in by and (subset is None or o.subset == subset):
            by[o.engine].append(o)
    return by


def _subsets(outcomes: list[Outcome]) -> list[str]:
    return sorted({o.subset for o in outcomes})


def engine_table(outcomes: list[Outcome], engines: list[str], dataset: str) -> list[str]:
    """Per engine, all subsets together."""
    head = ("| engine | schemas | compiled | unsupported | limit | crash "
            + ("| schemas passed | tests passed | false accepts | false rejects "
               if dataset != "jsb" else "| empirical coverage | no invalid output | walks finished "
                  "| invalid outputs ")
            + "| compile p50 ms | compile p90 ms |")
    rows = [head, "|---" * (head.count("|") - 1) + "|"]
    for engine, rs in _by(outcomes, engines, None).items():
        n = len(rs)
        times = [r.compile_s for r in rs if r.compiled and r.compile_s is not None]
        status = Counter(r.status for r in rs)
        cells = [engine, str(n), _cell(sum(r.compiled for r in rs), n),
                 str(status["unsupported"]), str(status["limit"]), str(status["crash"])]
        if dataset != "jsb":
            tests = sum(r.tests for r in rs)
            cells += [_cell(sum(r.schema_passed for r in rs), n),
                      _cell(sum(r.passed for r in rs), tests),
                      f"**{sum(r.false_accepts for r in rs)}**",
                      f"**{sum(r.false_rejects for r in rs)}**"]
        else:
            cells += [_cell(sum(r.covered for r in rs), n),
                      _cell(sum(r.status == "ok" and r.invalid == 0 for r in rs), n),
                      f"{sum(r.finished for r in rs)}/{sum(r.walks for r in rs)}",
                      str(sum(r.invalid for r in rs))]
        cells += [_ms(_pct(times, 0.5)), _ms(_pct(times, 0.9))]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def subset_table(outcomes: list[Outcome], engines: list[str], dataset: str) -> list[str]:
    """Per subset, one column per engine: the dataset's headline figure."""
    if dataset == "maskbench":
        what = "schemas passed (false accepts / false rejects)"
    elif dataset == "suite":
        what = "tests passed (false accepts / false rejects)"
    else:
        what = "compiled / empirical coverage"
    rows = [f"| subset | schemas | tests | {' | '.join(engines)} |",
            "|---|---|---|" + "---|" * len(engines)]
    for subset in [*_subsets(outcomes), None]:
        by = _by(outcomes, engines, subset)
        first = by[engines[0]]
        cells = [subset or "**all**", str(len(first)), str(sum(r.tests for r in first))]
        for engine in engines:
            rs = by[engine]
            fa, fr = sum(r.false_accepts for r in rs), sum(r.false_rejects for r in rs)
            tests = sum(r.tests for r in rs)
            if dataset == "maskbench":
                of = f"/{len(rs)}" if len(rs) != len(first) else ""
                cells.append(f"{sum(r.schema_passed for r in rs)}{of} ({fa} / {fr})")
            elif dataset == "suite":
                of = f"/{tests}" if len(rs) != len(first) else ""
                cells.append(f"{sum(r.passed for r in rs)}{of} ({fa} / {fr})")
            else:
                n = len(rs)
                cells.append(f"{sum(r.compiled for r in rs) / n:.0%} / "
                             f"{sum(r.covered for r in rs) / n:.0%}" if n else "-")
        rows.append("| " + " | ".join(cells) + " |")
    return [f"Cells: {what}.", "", *rows]


SCORES = {"maskbench": ("schemas passed",), "suite": ("tests passed",),
          "jsb": ("compiled", "empirical coverage")}


def _score(rs: list[Outcome], dataset: str) -> tuple[float, ...]:
    """The subset's headline figures, as fractions (an engine may run on a sample)."""
    n = max(len(rs), 1)
    if dataset == "maskbench":
        return (sum(r.schema_passed for r in rs) / n,)
    if dataset == "suite":
        return (sum(r.passed for r in rs) / max(sum(r.tests for r in rs), 1),)
    return (sum(r.compiled for r in rs) / n, sum(r.covered for r in rs) / n)


def _wins(o: Outcome, dataset: str) -> bool:
    if dataset == "maskbench":
        return o.schema_passed
    if dataset == "suite":
        return o.compiled and o.passed > 0
    return o.compiled


def behind(outcomes: list[Outcome], engines: list[str], dataset: str) -> list[str]:
    """Subsets where a peer beats structgen, with structgen's reasons on the schemas the
    peer handles and structgen does not."""
    if "structgen" not in engines:
        return []
    lines = []
    mine = {o.ident: o for o in outcomes if o.engine == "structgen"}
    for subset in _subsets(outcomes):
        by = _by(outcomes, engines, subset)
        ours = _score(by["structgen"], dataset)
        for engine in engines:
            if engine in ("structgen", LENIENT):
                continue
            theirs = _score(by[engine], dataset)
            if not any(t > o for t, o in zip(theirs, ours, strict=True)):
                continue
            reasons: Counter[str] = Counter()
            for o in by[engine]:
                s = mine.get(o.ident)
                if s is not None and _wins(o, dataset) and not _wins(s, dataset):
                    reasons[f"{s.status}: {s.reason}" if s.status != "ok" else
                             "wrong answers" if not s.schema_passed else "no test passed"] += 1
            why = ", ".join(f"{r} ({n})" for r, n in reasons.most_common(6))
            labels = SCORES[dataset]
            figures = ", ".join(f"{label} {t:.0%} vs {o:.0%}" for label, t, o
                                in zip(labels, theirs, ours, strict=True) if t > o)
            lines.append(f"- {subset}: {engine} ahead ({figures}); structgen on the schemas "
                         f"{engine} handles and it does not: {why or '-'}")
    return lines


def perf_table(outcomes: list[Outcome], engines: list[str]) -> list[str]:
    rows = ["| engine | schemas timed | compile p50 ms | compile p90 ms | first mask p50 ms "
            "| first mask p90 ms | per-token p50 µs | per-token p99 µs | memory p50 KiB |",
            "|---|---|---|---|---|---|---|---|---|"]
    for engine, rs in _by(outcomes, engines, None).items():
        ok = [r for r in rs if r.first_mask_s is not None]
        tokens = [s for r in ok for s in r.token_sample]
        memory = [r.memory_bytes for r in ok if r.memory_bytes is not None]
        compiles = [r.compile_s for r in ok if r.compile_s is not None]
        firsts = [r.first_mask_s for r in ok if r.first_mask_s is not None]
        p50, p99 = _pct(tokens, 0.5), _pct(tokens, 0.99)
        rows.append(
            f"| {engine} | {len(ok)} | {_ms(_pct(compiles, 0.5))} | {_ms(_pct(compiles, 0.9))} "
            f"| {_ms(_pct(firsts, 0.5))} | {_ms(_pct(firsts, 0.9))} "
            f"| {'-' if p50 is None else f'{p50 * 1e6:.1f}'} "
            f"| {'-' if p99 is None else f'{p99 * 1e6:.1f}'} "
            f"| {'-' if not memory else f'{statistics.median(memory) / 1024:,.0f}'} |"
        )
    return rows


def structgen_table(outcomes: list[Outcome]) -> list[str]:
    """structgen alone, per subset, with compile times (the former single-engine table)."""
    rows = ["| subset | schemas | compiled | unsupported | limit | schemas passed | tests "
            "| tests passed | false accepts | false rejects | compile p50 ms | compile p99 ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for subset in [*_subsets(outcomes), None]:
        rs = _by(outcomes, ["structgen"], subset)["structgen"]
        times = [r.compile_s for r in rs if r.compiled and r.compile_s is not None]
        status = Counter(r.status for r in rs)
        rows.append(
            f"| {subset or '**all**'} | {len(rs)} | {sum(r.compiled for r in rs)} "
            f"| {status['unsupported']} | {status['limit'] + status['crash']} "
            f"| {sum(r.schema_passed for r in rs)} | {sum(r.tests for r in rs)} "
            f"| {sum(r.passed for r in rs)} | {sum(r.false_accepts for r in rs)} "
            f"| {sum(r.false_rejects for r in rs)} | {_ms(_pct(times, 0.5))} "
            f"| {_ms(_pct(times, 0.99))} |"
        )
    return rows


def report(outcomes: list[Outcome], engines: list[str], datasets: list[str]) -> list[str]:
    lines: list[str] = []
    for dataset in datasets:
        these = [o for o in outcomes if o.dataset == dataset]
        lines += [f"### {DATASETS[dataset]}", "", *engine_table(these, engines, dataset), "",
                  *subset_table(these, engines, dataset), ""]
        if dataset == "jsb":
            lines += ["Masks on the same walks (per-token: advance + fill the next mask; "
                      f"p50/p99 over up to {TOKEN_SAMPLE} sampled tokens per schema):", "",
                      *perf_table(these, engines), ""]
        elif "structgen" in engines:
            lines += ["structgen alone:", "", *structgen_table(these), ""]
        late = behind(these, engines, dataset)
        lines += ["Where structgen is behind a peer:", "", *(late or ["- nowhere"]), ""]
    return lines


def reasons(outcomes: list[Outcome], engine: str) -> list[str]:
    counts = Counter(f"{o.status}: {o.reason}" for o in outcomes
                     if o.engine == engine and o.status not in ("ok", "unsatisfiable"))
    return [f"  {n:4d}  {r}" for r, n in counts.most_common(25)]


# --------------------------------------------------------------------------- main


def load_outcomes(paths: list[Path]) -> tuple[list[dict[str, Any]], list[Outcome]]:
    """Metadata and outcomes of runs saved with ``--json``; a later file's outcome for the
    same engine and schema replaces an earlier one (a rerun of one engine)."""
    metas = []
    outcomes: dict[tuple[str, str, str], Outcome] = {}
    for path in paths:
        saved = json.loads(path.read_text(encoding="utf-8"))
        metas.append(saved["meta"])
        for o in saved["outcomes"]:
            outcome = Outcome(**o)
            outcomes[(outcome.engine, outcome.dataset, outcome.ident)] = outcome
    return metas, list(outcomes.values())


def from_json(args: argparse.Namespace) -> int:
    metas, outcomes = load_outcomes(args.from_json)
    engines = [e for e in ENGINES if any(e in m["engines"] for m in metas)]
    datasets = [d for d in DATASETS if any(o.dataset == d for o in outcomes)]
    lines = [f"Produced by `{m['command']}` ({m['seconds'] / 60:.0f} min)." for m in metas]
    if args.json is not None:  # one file for the merged runs
        _save(args.json, {"command": "; ".join(m["command"] for m in metas),
                          "seconds": max(m["seconds"] for m in metas), "engines": engines,
                          "runs": metas}, outcomes)
    _show([*lines, "", *report(outcomes, engines, datasets)], outcomes, engines, args)
    return 0


def _save(path: Path, meta: dict[str, Any], outcomes: list[Outcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, "outcomes": [asdict(o) for o in outcomes]}, fh, default=str)


def _show(lines: list[str], outcomes: list[Outcome], engines: list[str],
          args: argparse.Namespace) -> None:
    """Print the tables (and the refusals with ``--reasons``); write them to ``--markdown``."""
    print("\n".join(lines))
    if args.reasons:
        for engine in engines:
            print(f"\nwhy {engine} refused:\n" + "\n".join(reasons(outcomes, engine)))
    if args.markdown is not None:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", default="maskbench,suite,jsb")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--timeout-s", type=float, default=8.0,
                        help="per-schema compile limit, every engine")
    parser.add_argument("--walks", type=int, default=3, help="random walks per JSB schema")
    parser.add_argument("--max-tokens", type=int, default=512, help="tokens per walk at most")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None,
                        help="first N schemas per MaskBench group, suite file, JSB subset")
    parser.add_argument("--subsets", default=None,
                        help="comma-separated subsets to run (MaskBench groups, core or "
                             "optional/format, JSONSchemaBench file stems); default: all")
    parser.add_argument("--sample", default="",
                        help="ENGINE=N,...: run ENGINE only on the first N schemas of each "
                             "MaskBench group, suite file and JSB subset (a slow peer)")
    parser.add_argument("--json", type=Path, default=None, help="write every outcome here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables here")
    parser.add_argument("--from-json", type=Path, nargs="+", default=None,
                        help="report on outcomes saved with --json instead of running; "
                             "a later file's outcome for the same engine and schema wins")
    parser.add_argument("--failures", action="store_true", help="list every wrong answer")
    parser.add_argument("--reasons", action="store_true", help="count why schemas failed")
    parser.add_argument("--recursion", default="auto", choices=("auto", "unroll", "stack"),
                        help="structgen's recursion option (stack: call every $ref target "
                             "it can, a differential check of stack grammars)")
    args = parser.parse_args(argv)
    STRUCTGEN_OPTIONS["recursion"] = args.recursion

    if args.from_json:
        return from_json(args)
    started = time.perf_counter()
    datasets = args.only.split(",")
    wanted = args.engines.split(",")
    llama3 = load_llama3_vocab()
    vocab = Vocabulary.llama3()
    if "structgen" in wanted or LENIENT in wanted:
        warm_up(vocab)
    peer_names = [n for n in wanted if n in PEER_NAMES]
    peers = load_peers(peer_names, vocab=llama3, options=PEER_OPTIONS)
    engines = [e for e in ("structgen", LENIENT, *(p.name for p in peers)) if e in wanted]
    sources = {"maskbench": maskbench_cases, "suite": suite_cases, "jsb": jsb_cases}
    sample = {k: int(v) for k, v in (p.split("=") for p in args.sample.split(",") if p)}
    outcomes: list[Outcome] = []
    for dataset in datasets:
        seen: Counter[str] = Counter()
        for case in sources[dataset](args.data, args.limit):
            if args.subsets and case.subset not in args.subsets.split(","):
                continue
            group = case.ident.split(":")[0] if dataset == "suite" else case.subset
            seen[group] += 1
            row = []
            row += [run_structgen(case, vocab, args, engine) for engine in engines
                    if engine in ("structgen", LENIENT)]
            gc.freeze()  # a forked child's gc.collect would otherwise copy the whole heap
            row += [run_peer(peer, case, llama3, args) for peer in peers
                    if seen[group] <= sample.get(peer.name, seen[group])]
            outcomes += row
            status = "  ".join(f"{o.engine}: {o.status}" for o in row)
            print(f"{dataset} {case.ident[:60]}: {status}", file=sys.stderr, flush=True)
            if args.failures:
                for o in row:
                    for failure in o.failures:
                        print(f"  [{o.engine}] {failure}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    shown = list(sys.argv[1:] if argv is None else argv)
    for flag in ("--json", "--markdown"):
        if flag in shown:
            at = shown.index(flag)
            del shown[at : at + 2]
    command = " ".join(["python benchmarks/conformance.py", *shown])
    header = [
        f"Produced by `{command}` ({seconds / 60:.0f} min) on {platform.machine()} Linux, "
        f"Python {platform.python_version()}; structgen {structgen.__version__}"
        + "".join(f", {p.name} {p.version}" for p in peers) + "."
        + "".join(f" {name} ran on the first {n} schemas of each MaskBench group, suite file "
                  "and JSONSchemaBench subset only." for name, n in sample.items()),
        "",
    ]
    if args.json is not None:
        meta = {"command": command, "seconds": seconds, "engines": engines,
                "versions": {"structgen": structgen.__version__,
                             **{p.name: p.version for p in peers}},
                "settings": {p.name: p.settings for p in peers},
                "timeout_s": args.timeout_s, "walks": args.walks,
                "max_tokens": args.max_tokens, "datasets": datasets, "sample": sample}
        _save(args.json, meta, outcomes)
    _show(header + report(outcomes, engines, datasets), outcomes, engines, args)
    wrong = sum(o.false_accepts + o.false_rejects for o in outcomes if o.engine == "structgen")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
