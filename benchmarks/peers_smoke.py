"""Smoke check of the peer adapters: compile every schema in schemas/, time it, check examples.

For each schema in ``schemas/`` and each peer: compile time, time to first mask (new matcher +
mask), the number of tokens the first mask allows, and whether the Llama-3 tokens of
``json.dumps(example)`` for each instance in ``schemas/examples/<name>.json`` are accepted as
a complete output. outlines-core runs each schema in a forked child under a time and memory
limit, because its index build can take minutes and many gigabytes.

Run from the repository root: ``python benchmarks/peers_smoke.py [--only NAME ...]``.
Not a test: timings are single cold runs, for orientation only.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pickle
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Fork-safety for the tokenizers library: the outlines-core child is forked after tokenizing.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from peers import (  # run as a script: benchmarks/ is on sys.path
    PEER_NAMES,
    Llama3Vocab,
    PeerEngine,
    PeerRejectedToken,
    PeerUnsupported,
    load_llama3_vocab,
    load_peers,
)

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
ISOLATED_PEERS = {"outlines-core"}


def _vm_size_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_forked(fn: Callable[[], Any], timeout_s: float, memory_gb: float) -> Any:
    """Run ``fn`` in a forked child with a wall-clock and address-space limit.

    Returns ``fn()``'s result, or a dict ``{"error": ...}`` on timeout, crash or exception.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            limit = _vm_size_bytes() + int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            result: Any = fn()
        except BaseException as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(write_fd, "wb") as out:
            pickle.dump(result, out)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], timeout_s)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"error": f"timeout after {timeout_s:.0f} s"}
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        if os.WIFSIGNALED(status):
            sig = signal.Signals(os.WTERMSIG(status)).name
            return {"error": f"child killed by {sig} (likely over the {memory_gb:g} GB limit)"}
        return {"error": f"child exited with status {os.WEXITSTATUS(status)} and no result"}
    return pickle.loads(data)


def _diagnose(peer: PeerEngine, compiled: Any, vocab: Llama3Vocab, ids: list[int]) -> str:
    """Say where the peer stops accepting ``ids``."""
    try:
        peer.walk(compiled, ids)
    except PeerRejectedToken as exc:
        position = exc.position
        before = vocab.tokenizer.decode(ids[max(0, position - 6) : position])
        token = vocab.tokenizer.decode([ids[position]])
        return f"rejects token {position} {token!r} after ...{before!r}"
    return "all tokens accepted but not complete (EOS not allowed)"


def check(
    peer: PeerEngine, schema: dict[str, Any], examples: list[Any], vocab: Llama3Vocab
) -> dict[str, Any]:
    """Compile, first mask and example acceptance for one peer and one schema."""
    try:
        compiled = peer.compile(schema)
    except PeerUnsupported as exc:
        return {"error": f"unsupported: {exc}"}
    mask = peer.first_mask(compiled)
    accepted: list[bool] = []
    notes: list[str] = []
    for index, example in enumerate(examples):
        ids = vocab.encode(json.dumps(example))
        ok = peer.accepts_tokens(compiled, ids)
        accepted.append(ok)
        if not ok:
            notes.append(f"example {index}: {_diagnose(peer, compiled, vocab, ids)}")
    return {
        "compile_ms": compiled.compile_s * 1e3,
        "phases_ms": {k: v * 1e3 for k, v in compiled.phases.items()},
        "first_mask_ms": mask.seconds * 1e3,
        "allowed": mask.allowed_count(),
        "accepted": accepted,
        "notes": notes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", nargs="+", default=list(PEER_NAMES), choices=PEER_NAMES)
    parser.add_argument("--only", nargs="+", default=None, help="schema names (file stems)")
    parser.add_argument("--outlines-timeout-s", type=float, default=60.0)
    parser.add_argument("--outlines-memory-gb", type=float, default=4.0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    vocab = load_llama3_vocab()
    print(
        f"Llama-3 vocabulary: {vocab.vocab_size} tokens, EOS {vocab.eos_token_id} "
        f"(loaded in {time.perf_counter() - start:.2f} s)"
    )
    peers = load_peers(args.peers, vocab=vocab)
    for peer in peers:
        print(f"{peer.name} {peer.version}: setup {peer.setup_s:.2f} s, {peer.settings}")
    if not peers:
        print("no peer could be loaded")
        return 1

    names = args.only or sorted(p.stem for p in SCHEMAS_DIR.glob("*.json"))
    header = f"{'schema':16} {'peer':13} {'compile ms':>11} {'1st mask ms':>11} "
    header += f"{'allowed':>7} {'examples':>8}"
    print()
    print(header)
    print("-" * len(header))
    total = {peer.name: [0, 0, 0] for peer in peers}  # compiled, examples accepted, examples
    for name in names:
        schema = json.loads((SCHEMAS_DIR / f"{name}.json").read_text())
        examples = json.loads((SCHEMAS_DIR / "examples" / f"{name}.json").read_text())
        for peer in peers:
            job = functools.partial(check, peer, schema, examples, vocab)
            if peer.name in ISOLATED_PEERS:
                result = run_forked(job, args.outlines_timeout_s, args.outlines_memory_gb)
            else:
                result = job()
            total[peer.name][2] += len(examples)
            if "error" in result:
                print(
                    f"{name:16} {peer.name:13} {'-':>11} {'-':>11} {'-':>7} {'-':>8}  "
                    f"{result['error'].splitlines()[0][:150]}"
                )
                continue
            n_ok = sum(result["accepted"])
            total[peer.name][0] += 1
            total[peer.name][1] += n_ok
            print(
                f"{name:16} {peer.name:13} {result['compile_ms']:11.1f} "
                f"{result['first_mask_ms']:11.3f} {result['allowed']:7d} "
                f"{f'{n_ok}/{len(examples)}':>8}"
            )
            for note in result["notes"]:
                print(f"{'':31}{note}")
    print()
    for peer_name, (compiled, ok, n) in total.items():
        print(f"{peer_name}: compiled {compiled}/{len(names)} schemas, accepted {ok}/{n} examples")
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
