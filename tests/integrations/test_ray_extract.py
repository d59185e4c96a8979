"""Extraction on a real local Ray cluster: the same results as one process, whatever the
split across workers, and a worker killed mid-run loses and repeats nothing."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import ray.cloudpickle

import structgen
from structgen.integrations.ray import StructgenExtractor, extract_dataset, extract_files

SCHEMA = {
    "type": "object",
    "properties": {"apples": {"type": "integer", "minimum": 0, "maximum": 99}},
    "required": ["apples"],
}
TEXTS = [f"Order {i}: {(i * 37) % 100} apples for the shop." for i in range(40)]
OPTIONS: dict[str, Any] = {"max_tokens": 10, "temperature": 0.8, "seed": 11}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def single_process() -> dict[int, tuple[Any, str | None]]:
    results = structgen.extract(TEXTS, SCHEMA, progress=False, batch_size=3, **OPTIONS)
    return {r.index: (r.to_json()["value"], r.text) for r in results}


def test_ray_engine_equals_one_process(cluster: None, single_process: dict) -> None:
    results = list(
        structgen.extract(TEXTS, SCHEMA, engine="ray", workers=2, batch_size=5,
                          progress=False, **OPTIONS)
    )
    assert [r.index for r in results] == list(range(40))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert {r.index: (r.to_json()["value"], r.text) for r in results} == single_process


class DiesOnce(StructgenExtractor):
    """Kills its worker process on its first batch after ``marker`` is created."""

    def __init__(self, *, marker: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker = marker

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        if not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(1)
        return super().__call__(batch)


def test_map_batches_survives_a_killed_worker(
    cluster: None, single_process: dict, tmp_path: Path
) -> None:
    ds = ray.data.from_items([{"index": i, "text": t} for i, t in enumerate(TEXTS)])
    out = ds.map_batches(
        DiesOnce,
        fn_constructor_kwargs={"schema": SCHEMA, "marker": str(tmp_path / "died"), **OPTIONS},
        concurrency=2,
        batch_size=4,
        num_cpus=1,
        batch_format="numpy",
    )  # Ray Data restarts a dead actor and retries its batch (max_restarts=-1 by default)
    rows = out.take_all()
    assert (tmp_path / "died").exists()
    indexes = sorted(row["index"] for row in rows)
    assert indexes == list(range(40))  # nothing lost, nothing twice
    assert all(row["ok"] for row in rows)
    for row in rows:
        schema_errors = structgen.compile(SCHEMA).validate(json.loads(row["value_json"]))
        assert schema_errors == []
        value, text = single_process[row["index"]]
        assert (json.loads(row["value_json"]), row["text"]) == (value, text)


def test_files_in_parquet_out(cluster: None, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"index": list(range(6)), "text": TEXTS[:6]}), source)
    extract_files(str(source), str(tmp_path / "out"), SCHEMA, workers=1, batch_size=3,
                  **OPTIONS)
    table = pq.read_table(tmp_path / "out")
    assert sorted(table.column("index").to_pylist()) == list(range(6))
    assert all(table.column("ok").to_pylist())
    assert extract_dataset  # the same path, without files
