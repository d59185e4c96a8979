"""Token masks against the peers: compile time, first mask, per-token masks and memory.

    python benchmarks/masks.py [--data ../shared/data] [--limit-local N] [--limit-jsb N]
                               [--examples K] [--peers NAME ...] [--out FILE]
    python benchmarks/masks.py --eager [--limit-local N] [--examples K] [--state-budget N]

Schemas: every file in ``schemas/`` (token paths from ``schemas/examples/<name>.json``) and a
sample of JSONSchemaBench schemas taken from the MaskBench sample (``<data>/maskbench/dev.jsonl``,
groups named after JSONSchemaBench subsets: ``Github_*``, ``Glaiveai2K``, ``Kubernetes``,
``Snowplow``, ``JsonSchemaStore``, ``WashingtonPost``), whose valid instances give token paths.
The JSONSchemaBench sample itself carries no instances.

Engines run in this one process on the Llama-3 vocabulary (see ``peers.py`` for each peer's
settings); outlines-core runs each schema in a forked child under a time and memory limit
(its index build can take minutes and gigabytes), as ``peers_smoke.py`` does. Per schema and
engine:

* compile: structgen ``compile()`` (``timeout_s=10``); each peer's compile calls;
* first mask: structgen ``Grammar.index`` + ``Guide`` + ``fill_bitmask``; each peer's fresh
  matcher + first mask;
* per token: along each token path (the Llama-3 tokens of ``Grammar.serialize(example)``, or of
  ``json.dumps(example, ensure_ascii=False)`` where structgen did not compile the schema):
  advance by the token, then fill the next mask into an ``int32`` bitmask; p50 and p99 over
  all tokens of all paths the engine accepts. structgen keeps one index per schema across its
  paths (masks are cached per DFA state, as when serving), without a token budget;
* memory: structgen ``TokenIndex.nbytes`` after the paths (cached masks included) plus the
  DFA arrays the index does not share; xgrammar ``CompiledGrammar.memory_size_bytes``;
  llguidance and outlines-core the growth of the bytes held through malloc (glibc
  ``mallinfo2``) over compile, first mask and paths, with the compiled grammar alive.

With ``--eager`` (structgen alone, ``schemas/`` only): per schema, the memory an index holds
after :meth:`~structgen.index.TokenIndex.build_all` (``TokenIndex.nbytes``, of which the DFA's
transition table, which the index shares with the grammar), the build's seconds, and the
per-token cost (advance + fill) along the token paths once every mask is built.

Ratios are structgen / peer, over the schemas both engines compiled (per-token ratios over
the paths both accepted). Cold single runs, except the per-token figures; a warm-up compile
of a small schema first takes structgen's one-time JIT and vocabulary costs out of the figures
(the peers' one-time tokenizer setup is likewise excluded, and listed).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
from peers import (  # run as a script: benchmarks/ is on sys.path
    PEER_NAMES,
    Llama3Vocab,
    PeerEngine,
    PeerRejectedToken,
    PeerUnsupported,
    load_llama3_vocab,
    load_peers,
)
from peers_smoke import run_forked

import structgen
from structgen.errors import (
    GrammarLimitError,
    SchemaError,
    StructgenError,
    UnsupportedSchemaError,
)
from structgen.guide import Guide
from structgen.index import Vocabulary

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
JSB_GROUPS = (
    "Github_trivial", "Github_easy", "Github_medium", "Github_hard", "Github_ultra",
    "Glaiveai2K", "JsonSchemaStore", "Kubernetes", "Snowplow", "WashingtonPost",
)
ENGINES = ("structgen", *PEER_NAMES)
ISOLATED = {"outlines-core"}


@dataclass
class Case:
    """One schema with the instances whose tokens make its paths."""

    name: str
    schema: Any
    examples: list[Any]


@dataclass
class Result:
    """One engine on one schema."""

    error: str | None = None
    compile_s: float | None = None
    first_mask_s: float | None = None
    paths: list[list[float] | None] = field(default_factory=list)
    """Per path: seconds per token, or None when the engine refused a token of it."""
    memory_bytes: int | None = None


class _MallInfo2(ctypes.Structure):
    _fields_: ClassVar = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]


def _heap_in_use() -> int:
    """Bytes held through malloc (all arenas, mmapped blocks included): glibc ``mallinfo2``.

    Peers written in C++ and Rust allocate through malloc, so the growth of this figure
    while a compiled grammar is alive is its footprint. Falls back to the resident set size
    where glibc's ``mallinfo2`` is missing.
    """
    try:
        info = ctypes.CDLL(None).mallinfo2
    except (AttributeError, OSError):
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    info.restype = _MallInfo2
    m = info()
    return int(m.uordblks + m.hblkhd)


# --------------------------------------------------------------------------- cases


def local_cases(limit: int | None) -> list[Case]:
    cases = []
    for path in sorted(SCHEMAS_DIR.glob("*.json"))[:limit]:
        examples_path = SCHEMAS_DIR / "examples" / path.name
        examples = json.loads(examples_path.read_text("utf-8")) if examples_path.exists() else []
        cases.append(Case(f"schemas/{path.stem}", json.loads(path.read_text("utf-8")), examples))
    return cases


def jsb_cases(data: Path, limit: int) -> list[Case]:
    """Up to ``limit`` MaskBench records of JSONSchemaBench groups with valid instances, taken
    round-robin over the groups (file order within a group) so that every group shows."""
    by_group: dict[str, list[Case]] = {g: [] for g in JSB_GROUPS}
    path = data / "maskbench" / "dev.jsonl"
    if limit <= 0 or not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record["group"] not in by_group:
                continue
            valid = [t["data"] for t in record["tests"] if t["valid"]]
            if valid:
                by_group[record["group"]].append(Case(record["id"], record["schema"], valid))
    cases: list[Case] = []
    depth = 0
    while len(cases) < limit and any(len(v) > depth for v in by_group.values()):
        for group in JSB_GROUPS:
            if len(by_group[group]) > depth and len(cases) < limit:
                cases.append(by_group[group][depth])
        depth += 1
    return cases


# --------------------------------------------------------------------------- structgen


def run_structgen(
    case: Case, vocab: Vocabulary, llama3: Llama3Vocab, n_examples: int, timeout_s: float
) -> tuple[Result, list[list[int]]]:
    """structgen's figures, and the token paths every engine then walks."""
    result = Result()
    grammar = None
    start = time.perf_counter()
    try:
        grammar = structgen.compile(case.schema, timeout_s=timeout_s)
        result.compile_s = time.perf_counter() - start
    except UnsupportedSchemaError as exc:
        result.error = f"unsupported: {exc.keyword}"
    except GrammarLimitError as exc:
        result.error = f"compile limit ({exc.limit})"
    except SchemaError as exc:
        result.error = f"{type(exc).__name__}"
    except StructgenError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    examples = case.examples[:n_examples]
    if grammar is None:
        texts = [json.dumps(e, ensure_ascii=False) for e in examples]
        return result, [llama3.encode(t) for t in texts]
    paths = [llama3.encode(grammar.serialize(e)) for e in examples]

    bitmask = np.zeros((1, (vocab.embedding_rows + 31) // 32), dtype=np.int32)
    start = time.perf_counter()
    index = grammar.index(vocab)
    guide = Guide(index)
    guide.fill_bitmask(bitmask)
    result.first_mask_s = time.perf_counter() - start
    for ids in paths:
        guide = Guide(index)
        guide.fill_bitmask(bitmask)
        seconds: list[float] | None = []
        for token_id in ids:
            t0 = time.perf_counter()
            try:
                guide.advance(token_id)
            except ValueError:
                seconds = None
                break
            guide.fill_bitmask(bitmask)
            seconds.append(time.perf_counter() - t0)
        if seconds is not None and not index.is_accepting(guide.state):
            seconds = None  # every token allowed, but EOS is not: the path is incomplete
        result.paths.append(seconds)
    # The index holds the grammar's compact DFA and counts it in nbytes.
    result.memory_bytes = index.nbytes + (0 if index.dfa is grammar.dfa else grammar.dfa.nbytes)
    return result, paths


def warm_up(vocab: Vocabulary) -> None:
    """JIT compilation and per-vocabulary structures, paid once per process."""
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "maxLength": 4}, "b": {"type": "number"}},
        "required": ["a"],
    }
    grammar = structgen.compile(schema)
    guide = Guide(grammar.index(vocab))
    guide.allowed_token_ids()
    guide.advance(int(guide.allowed_token_ids()[0]))
    guide.allowed_token_ids()


# --------------------------------------------------------------------------- peers


def run_peer(peer: PeerEngine, case: Case, paths: Sequence[Sequence[int]]) -> Result:
    """One peer on one schema: compile, first mask, paths, memory."""
    result = Result()
    gc.collect()
    heap_before = _heap_in_use()
    try:
        compiled = peer.compile(case.schema)
    except PeerUnsupported as exc:
        reason = str(exc).removeprefix(f"{peer.name}: ").splitlines()[0]
        result.error = f"unsupported: {reason[:48]}"
        return result
    result.compile_s = compiled.compile_s
    try:
        result.first_mask_s = peer.first_mask(compiled).seconds
    except Exception as exc:  # a peer failing at run time is its own result
        result.error = f"first mask failed: {type(exc).__name__}: {str(exc)[:100]}"
        return result
    for ids in paths:
        try:
            seconds: list[float] | None = peer.walk(compiled, ids)
        except PeerRejectedToken:
            seconds = None
        if seconds is not None and not peer.accepts_tokens(compiled, ids):
            seconds = None
        result.paths.append(seconds)
    size = getattr(compiled.grammar, "memory_size_bytes", None)
    if size is None:
        gc.collect()
        size = max(0, _heap_in_use() - heap_before)
    result.memory_bytes = int(size)
    return result


def run_isolated(peer: PeerEngine, case: Case, paths: list[list[int]], args: Any) -> Result:
    outcome = run_forked(
        lambda: run_peer(peer, case, paths).__dict__,
        args.outlines_timeout_s,
        args.outlines_memory_gb,
    )
    if "error" in outcome and set(outcome) == {"error"}:
        return Result(error=outcome["error"].splitlines()[0][:100])
    return Result(**outcome)


# --------------------------------------------------------------------------- eager


def eager_rows(vocab: Vocabulary, llama3: Llama3Vocab, args: Any) -> list[str]:
    """Per ``schemas/`` file: what an index holds after ``build_all``, and the per-token cost
    then (every mask prebuilt)."""
    rows = [
        "| schema | DFA states | build_all s | index nbytes MiB | of which DFA table MiB "
        "| per-token p50 µs | per-token p99 µs |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in local_cases(args.limit_local):
        try:
            grammar = structgen.compile(
                case.schema, timeout_s=args.timeout_s, state_budget=args.state_budget
            )
        except StructgenError as exc:
            rows.append(f"| {case.name} | {type(exc).__name__} | | | | | |")
            continue
        index = grammar.index(vocab)
        start = time.perf_counter()
        index.build_all()
        build_s = time.perf_counter() - start
        bitmask = np.zeros((1, index.n_words), dtype=np.int32)
        seconds: list[float] = []
        for example in case.examples[: args.examples]:
            guide = Guide(index)
            guide.fill_bitmask(bitmask)
            path: list[float] = []
            try:
                for token_id in llama3.encode(grammar.serialize(example)):
                    t0 = time.perf_counter()
                    guide.advance(token_id)
                    guide.fill_bitmask(bitmask)
                    path.append(time.perf_counter() - t0)
            except ValueError:
                continue  # a refused path: not counted
            seconds += path
        mib = 1 << 20
        rows.append(
            f"| {case.name} | {index.n_states:,} | {build_s:.1f} | {index.nbytes / mib:.1f} "
            f"| {grammar.dfa.transitions.nbytes / mib:.1f} "
            f"| {_us(_pct(seconds, 0.5) if seconds else None)} "
            f"| {_us(_pct(seconds, 0.99) if seconds else None)} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


# --------------------------------------------------------------------------- report


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.2f}" if value < 1 else f"{value * 1e3:.0f}"


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e6:.1f}"


def _kib(value: float | None) -> str:
    return "-" if value is None else f"{value / 1024:,.0f}"


def _ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den <= 0:
        return "-"
    return f"{num / den:.2f}"


def _tokens(result: Result) -> list[float]:
    return [s for path in result.paths if path is not None for s in path]


def summary_rows(cases: list[Case], results: dict[str, dict[str, Result]],
                 engines: list[str]) -> list[str]:
    rows = [
        "| engine | compiled | paths accepted | compile p50 ms | compile max ms "
        "| first mask p50 ms | first mask max ms | per-token p50 µs | per-token p99 µs "
        "| memory p50 KiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for engine in engines:
        rs = [results[c.name][engine] for c in cases if engine in results[c.name]]
        ok = [r for r in rs if r.compile_s is not None]
        compiles = [r.compile_s for r in ok if r.compile_s is not None]
        firsts = [r.first_mask_s for r in ok if r.first_mask_s is not None]
        tokens = [s for r in ok for s in _tokens(r)]
        memory = [r.memory_bytes for r in ok if r.memory_bytes is not None]
        n_paths = sum(len(r.paths) for r in ok)
        accepted = sum(p is not None for r in ok for p in r.paths)
        rows.append(
            f"| {engine} | {len(ok)}/{len(rs)} | {accepted}/{n_paths} "
            f"| {_ms(statistics.median(compiles) if compiles else None)} "
            f"| {_ms(max(compiles) if compiles else None)} "
            f"| {_ms(statistics.median(firsts) if firsts else None)} "
            f"| {_ms(max(firsts) if firsts else None)} "
            f"| {_us(_pct(tokens, 0.5) if tokens else None)} "
            f"| {_us(_pct(tokens, 0.99) if tokens else None)} "
            f"| {_kib(statistics.median(memory) if memory else None)} |"
        )
    return rows


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def ratio_rows(cases: list[Case], results: dict[str, dict[str, Result]],
               peers: list[str]) -> list[str]:
    rows = [
        "| structgen / peer | schemas both compiled | compile (median of ratios) "
        "| first mask (median of ratios) | paths both accepted | per-token p50 "
        "| per-token p99 | memory (median of ratios) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for peer in peers:
        compile_r: list[float] = []
        first_r: list[float] = []
        memory_r: list[float] = []
        mine: list[float] = []
        theirs: list[float] = []
        both = n_paths = 0
        for case in cases:
            s, p = results[case.name]["structgen"], results[case.name].get(peer)
            if p is None or s.compile_s is None or p.compile_s is None:
                continue
            both += 1
            compile_r.append(s.compile_s / max(p.compile_s, 1e-9))
            if s.first_mask_s is not None and p.first_mask_s is not None:
                first_r.append(s.first_mask_s / max(p.first_mask_s, 1e-9))
            if s.memory_bytes and p.memory_bytes:
                memory_r.append(s.memory_bytes / p.memory_bytes)
            for a, b in zip(s.paths, p.paths, strict=False):
                if a is not None and b is not None:
                    n_paths += 1
                    mine += a
                    theirs += b
        p50 = _ratio(_pct(mine, 0.5), _pct(theirs, 0.5)) if mine and theirs else "-"
        p99 = _ratio(_pct(mine, 0.99), _pct(theirs, 0.99)) if mine and theirs else "-"
        rows.append(
            f"| {peer} | {both} | {_median(compile_r)} | {_median(first_r)} | {n_paths} "
            f"| {p50} | {p99} | {_median(memory_r)} |"
        )
    return rows


def detail_rows(cases: list[Case], results: dict[str, dict[str, Result]],
                engines: list[str]) -> list[str]:
    head = "| schema | " + " | ".join(
        f"{e} compile ms | {e} 1st mask ms | {e} token p50 µs" for e in engines
    ) + " |"
    rows = [head, "|---|" + "---|---|---|" * len(engines)]
    for case in cases:
        cells = []
        for engine in engines:
            r = results[case.name].get(engine)
            if r is None or r.compile_s is None:
                why = "-" if r is None else (r.error or "-")
                cells.append(f"{why.replace('|', '/')} | | ")
                continue
            tokens = _tokens(r)
            accepted = sum(p is not None for p in r.paths)
            p50 = _us(_pct(tokens, 0.5)) if tokens else "-"
            cells.append(
                f"{_ms(r.compile_s)} | {_ms(r.first_mask_s)} "
                f"| {p50} ({accepted}/{len(r.paths)} paths)"
            )
        rows.append(f"| {case.name} | " + " | ".join(cells) + " |")
    return rows


def report(cases: list[Case], results: dict[str, dict[str, Result]], engines: list[str],
           peers: list[PeerEngine], args: Any, seconds: float, command: str) -> str:
    peer_names = [e for e in engines if e != "structgen"]
    lines = [
        "## Token masks vs peers",
        "",
        f"Produced by `{command}` on {platform.machine()} Linux, 2 shared CPU cores "
        f"(other work running alongside), Python {platform.python_version()}; "
        f"{len(cases)} schemas, up to {args.examples} token paths each; {seconds:.0f} s in all.",
        "",
        f"- structgen {structgen.__version__}: default generation options, `timeout_s="
        f"{args.timeout_s:g}`, no token budget; JIT and the vocabulary trie warmed up first.",
    ]
    for peer in peers:
        lines.append(
            f"- {peer.name} {peer.version}: {peer.settings}; one-time setup "
            f"{peer.setup_s:.2f} s (not counted)"
            + (
                f"; forked child per schema, {args.outlines_timeout_s:g} s and "
                f"{args.outlines_memory_gb:g} GB limits"
                if peer.name in ISOLATED else ""
            )
        )
    lines += ["", "### Per engine", "", *summary_rows(cases, results, engines), ""]
    if peer_names:
        lines += ["### Ratios structgen / peer (below 1: structgen is faster or smaller)", "",
                  *ratio_rows(cases, results, peer_names), ""]
    lines += ["### Per schema", "", *detail_rows(cases, results, engines), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit-local", type=int, default=None,
                        help="first N schemas of schemas/ (default: all)")
    parser.add_argument("--limit-jsb", type=int, default=20,
                        help="JSONSchemaBench schemas from the MaskBench sample")
    parser.add_argument("--examples", type=int, default=3, help="token paths per schema")
    parser.add_argument("--peers", nargs="*", default=list(PEER_NAMES), choices=PEER_NAMES)
    parser.add_argument("--timeout-s", type=float, default=10.0, help="structgen compile limit")
    parser.add_argument("--outlines-timeout-s", type=float, default=20.0)
    parser.add_argument("--outlines-memory-gb", type=float, default=4.0)
    parser.add_argument("--out", type=Path, default=None, help="also write the section here")
    parser.add_argument("--eager", action="store_true",
                        help="structgen alone: memory and per-token cost after build_all")
    parser.add_argument("--state-budget", type=int, default=200_000,
                        help="structgen DFA state limit (with --eager)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    llama3 = load_llama3_vocab()
    vocab = Vocabulary.llama3()
    warm_up(vocab)
    if args.eager:
        print("\n".join(eager_rows(vocab, llama3, args)))
        return 0
    peers = load_peers(args.peers, vocab=llama3)
    engines = ["structgen", *(p.name for p in peers)]
    cases = local_cases(args.limit_local) + jsb_cases(args.data, args.limit_jsb)
    results: dict[str, dict[str, Result]] = {}
    for case in cases:
        mine, paths = run_structgen(case, vocab, llama3, args.examples, args.timeout_s)
        results[case.name] = {"structgen": mine}
        for peer in peers:
            if peer.name in ISOLATED:
                results[case.name][peer.name] = run_isolated(peer, case, paths, args)
            else:
                results[case.name][peer.name] = run_peer(peer, case, paths)
        status = "  ".join(
            f"{e}: {'ok' if r.compile_s is not None else r.error}"
            for e, r in results[case.name].items()
        )
        print(f"{case.name}: {status}", file=sys.stderr, flush=True)
    shown = list(sys.argv[1:] if argv is None else argv)
    if "--out" in shown:  # where the section is copied does not change it
        at = shown.index("--out")
        del shown[at : at + 2]
    shown = [a for a in shown if not a.startswith("--out=")]
    command = " ".join(["python benchmarks/masks.py", *shown])
    text = report(cases, results, engines, peers, args, time.perf_counter() - started, command)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
