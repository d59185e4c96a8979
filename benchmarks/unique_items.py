"""What keeping string items unique costs per token, next to the same arrays unchecked.

    python benchmarks/unique_items.py [--walks W] [--seed S]

For each schema below, two grammars: as written (``uniqueItems: true``, its items told apart
at run time, see ``structgen.automata.unique``) and without ``uniqueItems``. Each guide walks
``--walks`` times on the Llama-3 vocabulary, without a budget and with ``max_tokens=256``,
picking mostly among short tokens spelled with ``a``, ``b``, quotes, commas and brackets (so
items are short and a repeat is always near) and seldom one that closes an array. Timed per
token: ``fill_bitmask`` (into an ``int32`` row) plus ``advance``. Every output must validate
against the schema with ``jsonschema``.

Not a test: about a minute on two shared cores.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

import jsonschema
import numpy as np

import structgen
from structgen.guide import Guide
from structgen.index import TokenIndex, Vocabulary

SCHEMAS: dict[str, Any] = {
    "strings": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "one character": {"type": "array", "items": {"type": "string", "maxLength": 1},
                      "uniqueItems": True},
    "pattern": {"type": "array", "items": {"type": "string", "pattern": "^[ab]+$"},
                "uniqueItems": True},
    "tags in objects": {"type": "array", "maxItems": 4, "items": {
        "type": "object", "required": ["tags"], "properties": {"tags": {
            "type": "array", "items": {"type": "string", "minLength": 1},
            "uniqueItems": True}}}},
}
_POOL_BYTES = set(b'ab"[], ')


def _without_unique(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_unique(v) for k, v in schema.items() if k != "uniqueItems"}
    if isinstance(schema, list):
        return [_without_unique(v) for v in schema]
    return schema


def _walk(index: TokenIndex, vocab: Vocabulary, pool: np.ndarray, rng: random.Random,
          max_tokens: int | None) -> tuple[bytes, list[float]]:
    guide = Guide(index, max_tokens=max_tokens)
    row = np.zeros((1, index.n_words), dtype=np.int32)
    out, seconds = [], []
    while not guide.is_finished():
        start = time.perf_counter()
        guide.fill_bitmask(row)
        filled = time.perf_counter() - start
        allowed = guide.allowed_token_ids()  # the mask computed above, for the sampler
        small = np.intersect1d(allowed, pool)
        staying = [t for t in small.tolist() if b"]" not in (vocab.token_bytes[t] or b"")]
        if staying and rng.random() < (0.9 if len(out) < 80 else 0.1):
            token = staying[rng.randrange(len(staying))]
        elif small.size and rng.random() < 0.9:
            token = int(small[rng.randrange(small.size)])
        else:
            token = int(allowed[rng.randrange(allowed.size)])
        start = time.perf_counter()
        guide.advance(token)
        seconds.append(filled + time.perf_counter() - start)
        out.append(vocab.token_bytes[token] or b"")
    return b"".join(out), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walks", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    vocab = Vocabulary.llama3()
    pool = np.array([t for t, data in enumerate(vocab.token_bytes)
                     if data and set(data) <= _POOL_BYTES], dtype=np.int64)
    started = time.perf_counter()
    print("| schema | budget | unique: tokens | unique: p50 µs | unique: p99 µs "
          "| unchecked: p50 µs | unchecked: p99 µs | p50 ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, schema in SCHEMAS.items():
        indexes = {kind: structgen.compile(s).index(vocab) for kind, s in
                   (("unique", schema), ("unchecked", _without_unique(schema)))}
        for budget in (None, 256):
            figures: dict[str, list[float]] = {}
            for kind, index in indexes.items():
                times: list[float] = []
                for walk in range(args.walks):
                    rng = random.Random(args.seed * 1000 + walk)
                    text, seconds = _walk(index, vocab, pool, rng, budget)
                    value = json.loads(text)
                    jsonschema.validate(value, schema if kind == "unique"
                                        else _without_unique(schema))
                    times += seconds
                figures[kind] = times
            unique, plain = figures["unique"], figures["unchecked"]
            p50u, p50p = statistics.median(unique), statistics.median(plain)
            print(f"| {name} | {budget or 'none'} | {len(unique)} | {p50u * 1e6:.0f} "
                  f"| {_p99(unique) * 1e6:.0f} | {p50p * 1e6:.0f} | {_p99(plain) * 1e6:.0f} "
                  f"| {p50u / p50p:.1f} |")
    print(f"\n{args.walks} walks per schema, kind and budget; seed {args.seed}; "
          f"{time.perf_counter() - started:.0f} s in all.")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


if __name__ == "__main__":
    main()
