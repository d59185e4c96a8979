"""Extraction throughput: one process versus Ray workers, and what each worker pays to start.

Runs the same records through ``structgen.extract`` with ``engine="local"`` and with
``engine="ray"`` on 1 and 2 workers of a local cluster (``ray.init(num_cpus=N)``), with the
default model (SmolLM2-135M GGUF, llama.cpp). Reports records/s (wall time of the whole
run, worker start-up included, and of the run after start-up) and, per worker, the cost
of loading the model and binding the grammar, cold and through the disk cache.

    python benchmarks/ray_extract.py --records 40 --workers 1,2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import ray

import structgen
from structgen.integrations.ray import StructgenExtractor

SCHEMA = {
    "type": "object",
    "properties": {"apples": {"type": "integer", "minimum": 0, "maximum": 99}},
    "required": ["apples"],
}


def _texts(n: int) -> list[str]:
    return [f"Order {i}: {(i * 37) % 100} apples for the shop." for i in range(n)]


def _run(texts: list[str], engine: str, **kwargs: object) -> tuple[float, int]:
    start = time.perf_counter()
    results = list(
        structgen.extract(texts, SCHEMA, engine=engine, progress=False, batch_size=4,
                          max_tokens=10, temperature=0.8, seed=11, **kwargs)
    )
    return time.perf_counter() - start, sum(r.ok for r in results)


@ray.remote(num_cpus=1)
def _worker_start(cache_dir: str) -> dict[str, float]:
    """What one worker pays before its first record: model load, grammar, index."""
    start = time.perf_counter()
    extractor = StructgenExtractor(SCHEMA, cache_dir=cache_dir, max_tokens=10)
    built = time.perf_counter() - start
    first = time.perf_counter()
    extractor.run([structgen.api.extract.Record(0, "Order 0: 3 apples.")])
    return {"start_s": built, "first_record_s": time.perf_counter() - first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    texts = _texts(args.records)
    rows = []
    seconds, ok = _run(texts, "local")
    rows.append({"engine": "local", "workers": 1, "seconds": seconds, "ok": ok})
    print(f"local      : {args.records / seconds:6.2f} records/s ({seconds:.1f} s, {ok} valid)")
    for workers in [int(w) for w in args.workers.split(",")]:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            with tempfile.TemporaryDirectory() as cache:
                cold = ray.get(_worker_start.remote(cache))
                warm = ray.get(_worker_start.remote(cache))
                seconds, ok = _run(texts, "ray", workers=workers, cache_dir=cache)
        finally:
            ray.shutdown()
        rows.append({"engine": "ray", "workers": workers, "seconds": seconds, "ok": ok,
                     "cold_start": cold, "cached_start": warm})
        print(f"ray x{workers}     : {args.records / seconds:6.2f} records/s ({seconds:.1f} s, "
              f"{ok} valid); worker start cold {cold['start_s']:.2f} s, "
              f"with disk cache {warm['start_s']:.2f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
