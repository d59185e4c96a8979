"""Long fuzz runs: random and mutated schemas, token walks, hostile Hermes outputs.

    python benchmarks/fuzz.py --schemas 10000 [--hermes 3000] [--data ../shared/data]
                              [--workers 2] [--seed 0] [--budget-s 20] [--memory-mb 3072]
                              [--walk-every 10] [--instances 3]

Each input runs in a worker process; the parent kills a worker that overruns ``--budget-s``
(a *hang*) or whose resident memory passes ``--memory-mb`` (*over memory*), and starts a new
one. Schema inputs are, in turn, a mutated real schema (JSONSchemaBench and MaskBench under
``--data``), a schema from ``random_schema`` and, every tenth, JSON text cut, nested or spoiled
with bytes that are not UTF-8. Each is compiled with the fuzz budgets (``state_budget=20000``,
``timeout_s=2``, ``spec_faithful=True``):

* *compiled* or *clean error* (a ``StructgenError``) is the expected end; any other exception
  is a *crash*; a compile that takes longer than twice ``timeout_s`` plus a second (normalizing
  and building each get ``timeout_s``) counts as a *hang* too. jsonschema's metaschema check is
  not under ``timeout_s`` (see SECURITY.md): it is clocked apart and its slowest run reported;
  the worker's hard limit ``--budget-s`` still applies to everything.
* A compiled grammar with nothing unenforced and no ``format`` must accept every
  hypothesis-jsonschema instance (written by ``Grammar.serialize``) and reject the nudged ones
  that jsonschema rejects (patterns judged as ECMA-262); a miss is a *wrong grammar*.
* Every ``--walk-every``-th compiled grammar is bound to the Llama-3 vocabulary and walked with
  uniformly random allowed tokens (``max_tokens=96``): the output must finish, be accepted by
  the grammar and parse as JSON, and validate when the grammar is exact (else *wrong grammar*).
  Numbers are judged at their written value: an output that fails only because Python reads
  a long decimal as an inexact float (``…724.00000`` against ``multipleOf: 3``) is read again
  with ``Decimal`` before it counts as invalid.

Hermes inputs are random fragment texts (``tests/fuzz/fuzz_hermes.py``) and a few megabyte-long
outputs, parsed whole and streamed in random deltas: any exception is a *crash*, a difference a
*wrong parse*. Not a test: 10,000 schemas and 3,000 outputs take about 7 minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
import traceback
from collections import Counter
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
DEFAULT_DATA = ROOT.parent / "shared" / "data"
HANG_GRACE_S = 1.0
WALK_MAX_TOKENS = 96


# -- inputs -----------------------------------------------------------------------------------


def load_real(data: Path) -> list[Any]:
    schemas = []
    paths = sorted((data / "jsonschemabench").glob("*.jsonl"))
    for path in [*paths, data / "maskbench" / "dev.jsonl"]:
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                schemas += [json.loads(line)["schema"] for line in fh if line.strip()]
    if not schemas:  # fall back to the copy the tests carry
        from test_fuzz_schemas import REAL

        schemas = list(REAL)
    return schemas


def _spoiled_text(schema: Any, rng: random.Random) -> str | bytes:
    text = json.dumps(schema)
    roll = rng.randrange(4)
    if roll == 0:
        return text[: rng.randrange(len(text) + 1)]
    if roll == 1:
        return '{"items":' * rng.choice([50, 3000]) + "{}" + "}" * rng.choice([0, 50, 3000])
    if roll == 2:
        raw = bytearray(text.encode())
        for _ in range(3):
            raw[rng.randrange(len(raw))] = rng.choice([0xFF, 0xC0, 0xED, 0x00])
        return bytes(raw)
    return text.replace("1", "1" + "0" * rng.choice([5, 400, 5000]), 1)


def make_input(i: int, seed: int, real: list[Any]) -> tuple[str, Any]:
    from fuzz_schemas import mutate, random_schema

    rng = random.Random(seed * 1_000_003 + i)
    if i % 10 == 9:
        return "text", _spoiled_text(rng.choice(real), rng)
    if i % 2 == 0:
        return "mutated", mutate(rng.choice(real), rng, rounds=rng.choice([1, 2, 3]))
    return "random", random_schema(rng)


# -- the worker -------------------------------------------------------------------------------


def _instances(schema: Any, n: int) -> list[Any]:
    from hypothesis import HealthCheck, Phase, given, settings

    from structgen.testing import inline_refs, schema_instances

    out: list[Any] = []
    strategy = schema_instances(inline_refs(schema, 3))

    @settings(max_examples=n, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    collect()
    return out


_VOCAB: Any = None


def _walk(grammar: Any, schema: Any, seed: int) -> list[str]:
    """One random token walk; the problems it shows."""
    global _VOCAB
    from fuzz_schemas import _exact

    from structgen.errors import StructgenError
    from structgen.schema.validator import validator_for

    if _VOCAB is None:
        from structgen.index import Vocabulary

        _VOCAB = Vocabulary.llama3()
    index = grammar.index(_VOCAB)
    try:
        guide = index.guide(max_tokens=WALK_MAX_TOKENS)
    except StructgenError:
        return []
    rng = random.Random(seed)
    tokens = []
    while not guide.is_finished():
        allowed = guide.allowed_token_ids()
        if not len(allowed):
            return [f"walk stuck after {len(tokens)} tokens"]
        token = int(allowed[rng.randrange(len(allowed))])
        guide.advance(token)
        tokens.append(token)
        if len(tokens) > WALK_MAX_TOKENS:
            return ["walk ran past max_tokens"]
    data = b"".join(_VOCAB.token_bytes[t] or b"" for t in tokens if not index.is_eos(t))
    if not grammar.accepts(data):
        return [f"walk output not accepted: {data[:200]!r}"]
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"walk output not JSON ({exc}): {data[:200]!r}"]
    if _exact(schema, grammar) and not validator_for(schema).is_valid(value):
        exact = json.loads(data.decode("utf-8"), parse_float=Decimal)
        if not validator_for(schema).is_valid(exact):
            return [f"walk output invalid: {data[:200]!r}"]
    return []


_METASCHEMA_S = [0.0]


def _time_metaschema_checks() -> None:
    """Clock jsonschema's metaschema check apart: it is the one phase ``timeout_s`` does
    not cover (SECURITY.md), so it is reported on its own."""
    from structgen.schema import from_jsonschema

    check = from_jsonschema._check_metaschema

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            check(*args, **kwargs)
        finally:
            _METASCHEMA_S[0] += time.perf_counter() - started

    from_jsonschema._check_metaschema = timed  # type: ignore[assignment]


def _run_schema(job: dict[str, Any], conn: Connection) -> dict[str, Any]:
    from fuzz_schemas import check_instances, compile_checked

    _METASCHEMA_S[0] = 0.0
    # Every other schema with its $ref targets called on a stack.
    outcome = compile_checked(job["payload"], recursion="stack" if job["i"] % 2 else "auto")
    result: dict[str, Any] = {"kind": outcome.kind, "detail": outcome.detail,
                              "compile_s": outcome.seconds, "metaschema_s": _METASCHEMA_S[0],
                              "wrong": []}
    grammar = outcome.grammar
    if grammar is None:
        return result
    schema = grammar.schema
    conn.send(("phase", "oracle"))
    try:
        instances = _instances(schema, job["instances"])
    except Exception:  # hypothesis-jsonschema cannot draw for this schema: no verdict
        instances = []
        result["no_oracle"] = True
    conn.send(("phase", "check"))
    rng = random.Random(job["i"])
    result["wrong"] = check_instances(schema, grammar, instances, rng)
    result["instances"] = len(instances)
    if job["walk"]:
        result["walked"] = True
        result["wrong"] += _walk(grammar, schema, job["i"])
    return result


def _run_hermes(job: dict[str, Any]) -> dict[str, Any]:
    from fuzz_hermes import check_output, random_output, random_split

    rng = random.Random(job["i"])
    text = job.get("text") or random_output(rng)
    mean = 4 if job.get("text") else rng.choice([1, 4, 40])  # long outputs: token-sized deltas
    started = time.perf_counter()
    try:
        wrong = check_output(text, random_split(text, rng, mean=mean))
    except Exception as exc:
        return {"kind": "crash", "detail": f"{type(exc).__name__}: {exc}"[:500], "wrong": []}
    return {"kind": "parsed", "wrong": wrong, "chars": len(text),
            "seconds": time.perf_counter() - started}


# Compiled once per worker before any timed input: the automaton's numba kernels load (or
# compile) on first use, about 2.5 s once per process, which is not any input's cost.
WARM_UP = [{"type": "array", "items": {"type": "number", "exclusiveMaximum": 1e300},
            "maxItems": 3},
           {"type": "object", "properties": {"s": {"type": "string", "pattern": "^a+$"},
                                             "i": {"type": "integer", "multipleOf": 3}}}]


def worker(conn: Connection) -> None:
    import warnings

    import structgen

    warnings.simplefilter("ignore")
    for schema in WARM_UP:
        structgen.compile(schema, state_budget=20_000)
    _time_metaschema_checks()
    while True:
        job = conn.recv()
        if job is None:
            return
        try:
            result = _run_schema(job, conn) if job["type"] == "schema" else _run_hermes(job)
        except Exception as exc:
            result = {"kind": "crash", "wrong": [],
                      "detail": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"[-800:]}
        import resource

        result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(("done", result))


# -- the parent -------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Pool:
    """Worker processes with one job each in flight, killed past the time or memory cap."""

    def __init__(self, n: int, budget_s: float, memory_mb: float) -> None:
        self.context = multiprocessing.get_context("fork")
        self.budget_s = budget_s
        self.memory_mb = memory_mb
        self.slots: list[dict[str, Any]] = [self._start() for _ in range(n)]
        self.peak_rss_mb = 0.0

    def _start(self) -> dict[str, Any]:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=worker, args=(child,), daemon=True)
        process.start()
        return {"process": process, "conn": parent, "job": None}

    def _restart(self, slot: dict[str, Any]) -> None:
        slot["process"].kill()
        slot["process"].join()
        slot.update(self._start())

    def run(self, jobs: Any, on_result: Any) -> None:
        jobs = iter(jobs)
        pending = True
        while pending or any(s["job"] for s in self.slots):
            for slot in self.slots:
                if slot["job"] is None and pending:
                    job = next(jobs, None)
                    if job is None:
                        pending = False
                        continue
                    slot.update(job=job, started=time.monotonic(), phase="compile")
                    slot["conn"].send(job)
            busy = [s for s in self.slots if s["job"]]
            if not busy:
                continue
            ready = multiprocessing.connection.wait([s["conn"] for s in busy], timeout=0.2)
            now = time.monotonic()
            for slot in busy:
                job = slot["job"]
                if slot["conn"] in ready:
                    try:
                        tag, value = slot["conn"].recv()
                    except EOFError:  # the worker died: a crash of the interpreter itself
                        on_result(job, {"kind": "crash", "detail": "worker died", "wrong": []})
                        slot["job"] = None
                        self._restart(slot)
                        continue
                    if tag == "phase":
                        slot["phase"] = value
                        continue
                    self.peak_rss_mb = max(self.peak_rss_mb, value.get("maxrss_mb", 0.0))
                    on_result(job, value)
                    slot["job"] = None
                    continue
                rss = _rss_mb(slot["process"].pid)
                self.peak_rss_mb = max(self.peak_rss_mb, rss)
                if rss > self.memory_mb:
                    on_result(job, {"kind": "memory", "detail": f"{rss:.0f} MB", "wrong": []})
                elif now - slot["started"] > self.budget_s:
                    kind = "hang" if slot["phase"] != "oracle" else "oracle_timeout"
                    on_result(job, {"kind": kind, "detail": slot["phase"], "wrong": []})
                else:
                    continue
                slot["job"] = None
                self._restart(slot)

    def close(self) -> None:
        for slot in self.slots:
            slot["conn"].send(None)
            slot["process"].join(timeout=5)
            if slot["process"].is_alive():
                slot["process"].kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemas", type=int, default=1000)
    parser.add_argument("--hermes", type=int, default=3000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-s", type=float, default=20.0)
    parser.add_argument("--memory-mb", type=float, default=3072.0)
    parser.add_argument("--walk-every", type=int, default=10)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the counts and findings here")
    args = parser.parse_args()

    from fuzz_schemas import COMPILE_OPTIONS

    real = load_real(args.data)
    hang_s = 2 * COMPILE_OPTIONS["timeout_s"] + HANG_GRACE_S
    counts: Counter[str] = Counter()
    findings: list[str] = []
    compiled = 0
    slowest = slowest_metaschema = 0.0
    hermes_rate: list[float] = []

    def schema_jobs() -> Any:
        nonlocal compiled
        for i in range(args.schemas):
            source, payload = make_input(i, args.seed, real)
            counts[f"source {source}"] += 1
            yield {"type": "schema", "i": i, "source": source, "payload": payload,
                   "instances": args.instances,
                   "walk": (i // 2) % args.walk_every == 0}

    def hermes_jobs() -> Any:
        big = ['<tool_call>{"name": "f", "arguments": {"s": "' + "x<}{" * 250_000 + '"}}',
               ("<tool_call>" + '{"name": "f", "arguments": {}}</tool_call> & ') * 25_000,
               "<tool_call>" + "[{" * 500_000, "prose </tool_call> " * 60_000]
        for i in range(args.hermes):
            yield {"type": "hermes", "i": i, "text": big[i] if i < len(big) else None}

    def on_result(job: dict[str, Any], result: dict[str, Any]) -> None:
        nonlocal compiled, slowest, slowest_metaschema
        kind = result["kind"]
        if job["type"] == "hermes":
            counts[f"hermes {kind}"] += 1
            if result.get("chars", 0) >= 1_000_000:
                hermes_rate.append(result["chars"] / 1e6 / max(result["seconds"], 1e-9))
        else:
            metaschema = result.get("metaschema_s", 0.0)
            seconds = result.get("compile_s", 0.0) - metaschema
            slowest = max(slowest, seconds)
            slowest_metaschema = max(slowest_metaschema, metaschema)
            if kind in ("compiled", "error") and seconds > hang_s:
                kind = "hang"
                result["detail"] = f"compile took {seconds:.1f} s besides the metaschema check"
            counts[kind] += 1
            compiled += kind == "compiled"
            counts["instances checked"] += result.get("instances", 0)
            counts["walks"] += bool(result.get("walked"))
            counts["no oracle"] += bool(result.get("no_oracle"))
            if kind == "error":
                counts[f"error {result['detail']}"] += 1
        if result["wrong"]:
            counts["wrong " + job["type"]] += 1
        if kind in ("crash", "hang", "memory") or result["wrong"]:
            payload = job.get("payload", job.get("text"))
            shown = payload if isinstance(payload, bytes) else json.dumps(
                payload, ensure_ascii=True, default=str)
            findings.append(f"[{job['type']} {job['i']} {kind}] {result.get('detail', '')} "
                            f"{result['wrong'][:3]}\n    input: {str(shown)[:400]}")
            print(findings[-1], file=sys.stderr, flush=True)
        done = sum(counts[k] for k in ("compiled", "error", "crash", "hang", "memory",
                                       "oracle_timeout"))
        if job["type"] == "schema" and done % 500 == 0:
            print(f"  {done} schemas, {time.perf_counter() - started:.0f} s", flush=True)

    started = time.perf_counter()
    pool = Pool(args.workers, args.budget_s, args.memory_mb)
    try:
        pool.run(schema_jobs(), on_result)
        schema_s = time.perf_counter() - started
        pool.run(hermes_jobs(), on_result)
    finally:
        pool.close()
    total_s = time.perf_counter() - started

    tried = args.schemas
    summary = {
        "schemas tried": tried,
        "compiled": counts["compiled"],
        "clean errors": counts["error"],
        "hangs": counts["hang"],
        "crashes": counts["crash"],
        "over memory": counts["memory"],
        "wrong grammars": counts["wrong schema"],
        "instances checked": counts["instances checked"],
        "token walks": counts["walks"],
        "no oracle (generator could not draw)": counts["no oracle"],
        "oracle timeouts": counts["oracle_timeout"],
        "slowest compile s (without the metaschema check)": round(slowest, 2),
        "slowest metaschema check s": round(slowest_metaschema, 2),
        "hermes texts": args.hermes,
        "hermes crashes": counts["hermes crash"] + counts["hermes hang"],
        "hermes wrong parses": counts["wrong hermes"],
        "hermes MB/s (1 MB outputs, whole + streamed)": round(min(hermes_rate), 2)
        if hermes_rate else None,
        "peak worker RSS MB": round(pool.peak_rss_mb),
        "memory cap MB": args.memory_mb,
        "schema phase s": round(schema_s),
        "total s": round(total_s),
    }
    errors = {k[6:]: v for k, v in sorted(counts.items()) if k.startswith("error ")}
    sources = {k[7:]: v for k, v in sorted(counts.items()) if k.startswith("source ")}
    print(json.dumps({"summary": summary, "clean errors by type": errors,
                      "inputs by source": sources}, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "errors": errors,
                                         "sources": sources, "findings": findings}, indent=2))
    bad = summary["hangs"] + summary["crashes"] + summary["wrong grammars"]
    bad += summary["hermes crashes"] + summary["hermes wrong parses"] + summary["over memory"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
