"""Ray: extraction spread over Ray workers, from ``structgen.extract``, Ray Data or files.

Each worker holds one :class:`StructgenExtractor`: the model, loaded once, and the grammar,
compiled once and bound to the model's vocabulary through the disk cache (``cache_dir``),
so a second worker on the same machine, or a restarted one, reads the index instead of
building it. Records are seeded by their index, never by their place in a batch, so any
split across workers gives the output a single process gives for the same seed.

* ``structgen.extract(records, schema, engine="ray", workers=2)``: the records pass through
  this process (resumable JSONL ``out``, results in input order); batches go to a pool of
  actors that Ray restarts, retrying the batch, if a worker dies.
* :func:`extract_dataset` / ``ds.map_batches(StructgenExtractor, ...)``: a Ray Data
  pipeline; rows need a stable id column (``index``), results are columns.
* :func:`extract_files`: JSONL or Parquet in, JSONL or Parquet out, read and written by Ray
  Data on the workers.

``ray.init()`` (or ``RAY_ADDRESS``) decides the cluster: a local one by default, a real one
by address. Importing this module imports Ray; ``import structgen`` does not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import ray
import ray.data
from ray.util import ActorPool

from structgen.api.extract import Extractor, ExtractResult, Record
from structgen.api.generate import index_for

__all__ = ["RESULT_COLUMNS", "StructgenExtractor", "extract_dataset", "extract_files", "ray_engine"]

RESULT_COLUMNS = (
    "index", "key", "ok", "value_json", "error_kind", "error_message", "text",
    "completion_tokens", "seconds",
)
"""The columns :class:`StructgenExtractor` returns (``value_json``: the value as JSON text,
so any schema fits one Parquet column)."""


class StructgenExtractor:
    """A ``map_batches``-ready callable class: one model and one compiled index per worker.

    Parameters
    ----------
    schema
        Anything :func:`structgen.extract` accepts; sent to the workers by pickling (a
        Pydantic class must be importable there, or registered with
        ``ray.cloudpickle.register_pickle_by_value``).
    id_column
        The column holding each row's stable record number (seeds follow it).
    cache_dir
        The disk cache for the token index; default ``$STRUCTGEN_CACHE_DIR``, else none.
    options
        For :class:`structgen.api.extract.Extractor` (``prompt``, ``system``,
        ``max_tokens``, ``temperature``, ``seed``, ...). The model is the default one.

    Examples
    --------
    >>> ds.map_batches(StructgenExtractor, fn_constructor_kwargs={"schema": Person},
    ...                concurrency=2, batch_size=8)                    # doctest: +SKIP
    """

    def __init__(
        self,
        schema: Any,
        *,
        id_column: str = "index",
        cache_dir: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> None:
        self.extractor = Extractor(schema, None, **options)
        self.id_column = id_column
        cache_dir = cache_dir if cache_dir is not None else os.environ.get("STRUCTGEN_CACHE_DIR")
        index_for(self.extractor.grammar, self.extractor.model, cache_dir=cache_dir)

    def run(self, records: list[Record]) -> list[ExtractResult]:
        """Results for records the driver numbered (the ``extract(engine="ray")`` path)."""
        return self.extractor(records)

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """One Ray Data batch (columns) in, one row of :data:`RESULT_COLUMNS` per row out."""
        if self.id_column not in batch:
            raise ValueError(
                f"the dataset has no {self.id_column!r} column: give each row a stable record "
                "number (seeds and results follow it), or pass id_column="
            )
        columns = {name: _as_list(values) for name, values in batch.items()}
        ids = columns.pop(self.id_column)
        records = []
        for row, index in enumerate(ids):
            data = {name: values[row] for name, values in columns.items()}
            if set(data) == {"text"} and isinstance(data["text"], str):
                records.append(Record(int(index), data["text"]))
            else:
                records.append(Record(int(index), data))
        out: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
        for result in self.extractor(records):
            line = result.to_json()
            error = line["error"] or {}
            out["index"].append(result.index)
            out["key"].append(result.key)
            out["ok"].append(result.ok)
            out["value_json"].append(json.dumps(line["value"]) if result.ok else None)
            out["error_kind"].append(error.get("kind"))
            out["error_message"].append(error.get("message"))
            out["text"].append(result.text)
            out["completion_tokens"].append(result.completion_tokens)
            out["seconds"].append(result.seconds)
        return out


def _as_list(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _extractor_options(extractor: Extractor) -> dict[str, Any]:
    """What rebuilds ``extractor`` on a worker."""
    if extractor._model is not None:
        raise ValueError(
            "engine='ray' loads the default model on every worker; a model object cannot be "
            "sent to them: call extract(..., model=None) or use engine='local'"
        )
    sampling = extractor.sampling
    return {
        "prompt": extractor.prompt,
        "system": extractor.system,
        "max_tokens": extractor.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "repetition_penalty": sampling.repetition_penalty,
        "seed": sampling.seed,
        "jump_forward": extractor.jump_forward,
    }


def ray_engine(
    extractor: Extractor,
    batches: Iterable[list[Record]],
    *,
    workers: int = 2,
    num_cpus: float = 1,
    max_retries: int = 3,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Iterator[list[ExtractResult]]:
    """Run ``extract``'s batches on ``workers`` Ray actors; results come back in order.

    A worker that dies is restarted (up to ``max_retries`` times) and its batch is run
    again, so no record is lost or repeated.
    """
    if not ray.is_initialized():
        ray.init()  # RAY_ADDRESS, or a local cluster
    remote = ray.remote(num_cpus=num_cpus, max_restarts=max_retries, max_task_retries=max_retries)
    options = _extractor_options(extractor)
    actors = [
        remote(StructgenExtractor).remote(extractor.schema, cache_dir=cache_dir, **options)
        for _ in range(workers)
    ]
    pool = ActorPool(actors)
    try:
        yield from pool.map(lambda actor, batch: actor.run.remote(batch), batches)
    finally:
        for actor in actors:
            ray.kill(actor)


def extract_dataset(
    ds: ray.data.Dataset,
    schema: Any,
    *,
    workers: int = 2,
    batch_size: int = 8,
    num_cpus: float = 1,
    id_column: str = "index",
    **options: Any,
) -> ray.data.Dataset:
    """``ds`` with one row of :data:`RESULT_COLUMNS` per input row (lazy, as Ray Data is).

    Rows are records: a lone ``text`` column is the record's text, other columns make a
    dict record (prompt template fields). ``options`` go to :class:`StructgenExtractor`.
    """
    return ds.map_batches(
        StructgenExtractor,
        fn_constructor_kwargs={"schema": schema, "id_column": id_column, **options},
        concurrency=workers,
        batch_size=batch_size,
        num_cpus=num_cpus,
        batch_format="numpy",
    )


def extract_files(
    source: str | list[str],
    destination: str,
    schema: Any,
    *,
    output_format: str | None = None,
    **options: Any,
) -> None:
    """Read JSONL or Parquet records, extract, write JSONL or Parquet, all with Ray Data.

    The format of ``source`` follows its extension (``.parquet`` or JSON lines otherwise);
    ``destination`` is a folder Ray Data writes files into, in ``output_format``
    (``"parquet"`` or ``"json"``; default: the source's). ``options`` go to
    :func:`extract_dataset`.
    """
    first = source if isinstance(source, str) else source[0]
    parquet = first.rstrip("/").endswith(".parquet")
    ds = ray.data.read_parquet(source) if parquet else ray.data.read_json(source)
    result = extract_dataset(ds, schema, **options)
    fmt = output_format or ("parquet" if parquet else "json")
    if fmt == "parquet":
        result.write_parquet(destination)
    elif fmt == "json":
        result.write_json(destination)
    else:
        raise ValueError(f"output_format must be 'parquet' or 'json', got {fmt!r}")
