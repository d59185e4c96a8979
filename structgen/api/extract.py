"""`extract`: many records through one schema, batched, with typed per-record errors and
a JSONL output that a restarted run resumes from.

The work is split so another executor can take the batches: :class:`Extractor` turns one
batch of :class:`Record`\\ s into results (it loads its model lazily, so it can be built on
a worker); ``extract`` reads records, skips finished ones, orders results and writes them.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from structgen.api import models
from structgen.api.decorators import json_mode_system
from structgen.api.generate import (
    check_output,
    grammar_for,
    index_for,
    output_type_of,
    prompt_ids,
)
from structgen.errors import ContextLengthError, TokenBudgetError
from structgen.integrations.model import Completion, Model, fit_context
from structgen.integrations.sampling import Sampling

__all__ = [
    "DEFAULT_PROMPT",
    "ErrorKind",
    "ExtractError",
    "ExtractResult",
    "Extractor",
    "Record",
    "extract",
    "read_records",
]

DEFAULT_PROMPT = "Extract the information in this text as JSON.\n\n{text}"

ErrorKind = Literal[
    "invalid_record",  # not UTF-8, not JSON, not a string or object, a missing template field
    "empty_record",  # nothing to extract from
    "context_length",  # the prompt does not fit the model's context
    "token_budget",  # max_tokens is below the shortest valid output
    "invalid_output",  # the output failed validation (post-validated keywords, max_tokens)
    "model_error",  # the engine raised while decoding this record
]

PromptLike = str | Callable[[Any], "str | Sequence[Mapping[str, Any]]"]


@dataclass(frozen=True)
class ExtractError:
    """Why a record has no value; ``kind`` is a closed set (:data:`ErrorKind`)."""

    kind: ErrorKind
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class Record:
    """One input: its position, its content (a string or a dict), or why it is unreadable."""

    index: int
    data: str | dict[str, Any] | None
    error: ExtractError | None = None

    @property
    def key(self) -> str:
        """A short content hash, so a resumed run can tell the input has changed."""
        if self.error is not None:
            text = f"error:{self.error.message}"
        else:
            text = json.dumps(self.data, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class ExtractResult:
    """The outcome for one record: ``value`` (typed as the schema says) or ``error``.

    ``resumed`` results were read back from the output file rather than generated.
    """

    index: int
    key: str
    value: Any = None
    error: ExtractError | None = None
    text: str | None = None
    completion_tokens: int = 0
    seconds: float = 0.0
    resumed: bool = False
    _json: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """The JSONL line written to ``out`` (one object per record)."""
        return {
            "index": self.index,
            "key": self.key,
            "ok": self.ok,
            "value": self._json if self.ok else None,
            "error": None if self.error is None else {
                "kind": self.error.kind, "message": self.error.message
            },
            "text": self.text,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 4),
        }

    def _repr_html_(self) -> str:
        from structgen.api.display import results_html

        return results_html([self])


class Extractor:
    """Turns a batch of records into results, one per record, never raising for a record.

    Parameters
    ----------
    schema
        Anything :func:`structgen.generate` accepts; compiled here, so a bad schema fails
        before the first record.
    model
        Default: :func:`structgen.models.default`, loaded on first use (so an executor can
        build an ``Extractor`` on each worker).
    prompt
        A template whose ``{fields}`` come from the record (a string record is ``{text}``;
        a dict record gives its keys, and ``{text}`` is its ``"text"`` key or the whole
        record as JSON), or a function from the record to a user message or chat messages.
    system
        Default: the Hermes JSON-mode system prompt with the schema.
    max_tokens, temperature, top_p, repetition_penalty, seed, jump_forward
        As in :func:`structgen.generate`; extraction defaults to greedy decoding.
    """

    def __init__(
        self,
        schema: Any,
        model: Model | None = None,
        *,
        prompt: PromptLike = DEFAULT_PROMPT,
        system: str | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        repetition_penalty: float = 1.1,
        seed: int | None = 0,
        jump_forward: bool = True,
    ) -> None:
        self.schema = schema
        self.grammar = grammar_for(schema)
        self.prompt = prompt
        self.system = json_mode_system(schema) if system is None else system
        self.max_tokens = max_tokens
        self.sampling = Sampling(
            temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty, seed=seed
        )
        self.jump_forward = jump_forward
        self._model = model
        self._parse = output_type_of(schema)

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = models.default()
        return self._model

    def message(self, data: str | dict[str, Any]) -> str | Sequence[Mapping[str, Any]]:
        """The user message (or chat messages) for one record."""
        if callable(self.prompt):
            return self.prompt(data)
        if isinstance(data, str):
            fields: dict[str, Any] = {"text": data}
        else:
            text = data.get("text")
            fields = {**data, "text": text if isinstance(text, str) else _dumps(data)}
        try:
            return self.prompt.format_map(fields)
        except KeyError as exc:
            raise _RecordError(
                "invalid_record", f"the prompt template needs field {exc.args[0]!r}"
            ) from None

    def __call__(self, records: Sequence[Record]) -> list[ExtractResult]:
        results: dict[int, ExtractResult] = {}
        ready: list[tuple[Record, list[int], Any]] = []
        for record in records:
            try:
                prompt, guide = self._prepare(record)
            except _RecordError as exc:
                results[record.index] = ExtractResult(record.index, record.key, error=exc.error)
            else:
                ready.append((record, prompt, guide))
        for record, result in self._decode(ready):
            results[record.index] = result
        return [results[r.index] for r in records]

    def _prepare(self, record: Record) -> tuple[list[int], Any]:
        if record.error is not None:
            raise _RecordError(record.error.kind, record.error.message)
        data = record.data
        if data is None or (isinstance(data, str) and not data.strip()) or data == {}:
            raise _RecordError("empty_record", "the record is empty")
        try:
            message = self.message(data)
            ids = prompt_ids(self.model, message, system=self.system, chat=True)
        except _RecordError:
            raise
        except (UnicodeError, ValueError, TypeError) as exc:
            raise _RecordError("invalid_record", f"cannot build the prompt: {exc}") from None
        try:
            budget = fit_context(len(ids), self.max_tokens, self.model.context_length)
            guide = index_for(self.grammar, self.model).guide(max_tokens=budget)
        except ContextLengthError as exc:
            raise _RecordError("context_length", str(exc)) from None
        except TokenBudgetError as exc:
            raise _RecordError("token_budget", str(exc)) from None
        return ids, guide

    def _decode(
        self, ready: list[tuple[Record, list[int], Any]]
    ) -> Iterator[tuple[Record, ExtractResult]]:
        """The batch in one engine call; if the engine fails, each record alone, so one
        record's failure costs only that record."""
        if not ready:
            return
        try:
            completions = self._generate(
                [(p, g) for _, p, g in ready], row_ids=[r.index for r, _, _ in ready]
            )
        except Exception as exc:  # any engine failure becomes this record's error
            if len(ready) > 1:
                for item in ready:
                    yield from self._decode([_fresh(item)])
                return
            record = ready[0][0]
            error = ExtractError("model_error", f"{type(exc).__name__}: {exc}")
            yield record, ExtractResult(record.index, record.key, error=error)
            return
        for (record, _, _), completion in zip(ready, completions, strict=True):
            yield record, self._result(record, completion)

    def _generate(
        self, items: list[tuple[list[int], Any]], *, row_ids: Sequence[int] | None = None
    ) -> list[tuple[Completion, float]]:
        """Decode the items; each record's random stream is seeded from its index
        (``row_ids``), so results do not depend on how records are batched (one process or
        Ray workers give the same output for the same seed)."""
        sampling = self.sampling
        if row_ids is not None:
            sampling = dataclasses.replace(sampling, row_ids=tuple(row_ids))
        completions = self.model.generate_tokens(
            [p for p, _ in items],
            [g for _, g in items],
            max_tokens=self.max_tokens,
            sampling=sampling,
            jump_forward=self.jump_forward,
        )
        return [(c, c.prefill_s + c.decode_s) for c in completions]

    def _result(self, record: Record, done: tuple[Completion, float]) -> ExtractResult:
        completion, seconds = done
        text = completion.text
        common = {"text": text, "completion_tokens": completion.completion_tokens,
                  "seconds": seconds}
        value, instance, errors = check_output(completion, self.grammar, self._parse)
        if errors:
            error = ExtractError("invalid_output", "; ".join(errors))
            return ExtractResult(record.index, record.key, error=error, **common)
        return ExtractResult(record.index, record.key, value=value, _json=instance, **common)

    def restore(self, line: Mapping[str, Any]) -> ExtractResult:
        """A result read back from the output file, its value typed again."""
        error = line.get("error")
        common = {
            "text": line.get("text"),
            "completion_tokens": int(line.get("completion_tokens") or 0),
            "seconds": float(line.get("seconds") or 0.0),
            "resumed": True,
        }
        if error:
            return ExtractResult(
                line["index"], line["key"], error=ExtractError(error["kind"], error["message"]),
                **common,
            )
        instance = line["value"]
        value = self._parse(json.dumps(instance), instance)
        return ExtractResult(line["index"], line["key"], value=value, _json=instance, **common)


class _RecordError(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        self.error = ExtractError(kind, message)
        super().__init__(message)


def _fresh(item: tuple[Record, list[int], Any]) -> tuple[Record, list[int], Any]:
    """The item with its guide rewound: a failed batch may have advanced it."""
    record, prompt, guide = item
    return record, prompt, guide.index.guide(max_tokens=guide.max_tokens)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


Engine = Callable[[Extractor, Iterable[list[Record]]], Iterable[list[ExtractResult]]]


def _local(extractor: Extractor, batches: Iterable[list[Record]]) -> Iterator[list[ExtractResult]]:
    """Batches one after another in this process (the model decodes each batch)."""
    for batch in batches:
        yield extractor(batch)


def _ray(**settings: Any) -> Engine:
    """Batches on Ray actors (:func:`structgen.integrations.ray.ray_engine`); imports Ray."""
    from structgen.integrations.ray import ray_engine

    return lambda extractor, batches: ray_engine(extractor, batches, **settings)


_ENGINES: dict[str, Engine] = {"local": _local}
_ENGINE_NAMES = ("local", "ray")
_RAY_OPTIONS = ("workers", "num_cpus", "max_retries", "cache_dir")


def extract(
    records: Iterable[str | Mapping[str, Any]] | str | os.PathLike[str],
    schema: Any,
    model: Model | None = None,
    *,
    prompt: PromptLike = DEFAULT_PROMPT,
    system: str | None = None,
    batch_size: int = 8,
    max_tokens: int = 256,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    engine: str = "local",
    **options: Any,
) -> Iterator[ExtractResult]:
    """Extract one value of ``schema`` from each record.

    Parameters
    ----------
    records
        Strings, dicts, or the path of a JSONL file (one string or object per line; a line
        that is not UTF-8 or not JSON becomes an ``invalid_record`` error, not an exception).
    schema, model, prompt, system, max_tokens
        See :class:`Extractor`. ``options`` go there too (``temperature``, ``seed``, ...).
    batch_size
        Records per engine call (and per write to ``out``).
    out
        A JSONL file written as batches finish (one line per record, flushed and synced).
        If it exists, records already in it are not generated again: their results are
        read back (``resumed=True``). A line cut short by a killed run is dropped and that
        record redone.
    progress
        Show a progress bar (``tqdm``) on stderr or in the notebook.
    engine
        ``"local"``: this process decodes every batch. ``"ray"``: batches go to Ray actors
        (``structgen[scale]``), each loading the default model once; ``workers=2``,
        ``num_cpus=1``, ``max_retries=3`` and ``cache_dir`` set them up (see
        :func:`structgen.integrations.ray.ray_engine`). Records are seeded by index, so
        both engines give the same results.

    Returns
    -------
    Iterator[ExtractResult]
        One result per record, in input order. Nothing runs until it is iterated.

    Raises
    ------
    StructgenError
        The schema cannot be compiled (before any record is read).
    ValueError
        ``out`` holds results of other input (a record's content hash differs).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(records, (str, os.PathLike)) and not os.path.isfile(records):
        raise FileNotFoundError(f"no records file at {os.fspath(records)!r}")
    if engine not in _ENGINE_NAMES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {list(_ENGINE_NAMES)}")
    settings = {k: options.pop(k) for k in _RAY_OPTIONS if k in options}
    if settings and engine != "ray":
        raise TypeError(f"{sorted(settings)} only apply to engine='ray'")
    extractor = Extractor(
        schema, model, prompt=prompt, system=system, max_tokens=max_tokens, **options
    )
    runner = _ray(**settings) if engine == "ray" else _ENGINES[engine]
    done = _load_done(Path(out)) if out is not None else {}
    total = _count(records)
    return _run(extractor, read_records(records), done, batch_size, out, progress, total,
                runner)


def _run(
    extractor: Extractor,
    records: Iterator[Record],
    done: dict[int, Mapping[str, Any]],
    batch_size: int,
    out: str | os.PathLike[str] | None,
    progress: bool,
    total: int | None,
    engine: Engine,
) -> Iterator[ExtractResult]:
    plans: collections.deque[list[Record | ExtractResult]] = collections.deque()

    def batches() -> Iterator[list[Record]]:
        plan: list[Record | ExtractResult] = []
        todo: list[Record] = []
        for record in records:
            line = done.get(record.index)
            if line is None:
                plan.append(record)
                todo.append(record)
            elif line.get("key") != record.key:
                raise ValueError(
                    f"{out} holds a result for record {record.index} of other input (content "
                    "hash differs); write to a new file or delete it to start over"
                )
            else:
                plan.append(extractor.restore(line))
            if len(todo) >= batch_size:
                plans.append(plan)
                yield todo
                plan, todo = [], []
        if plan:
            plans.append(plan)
            yield todo

    bar = _progress(total, progress)
    sink = open(out, "ab") if out is not None else None  # noqa: SIM115 (closed in finally)
    try:
        for new in engine(extractor, batches()):
            plan = plans.popleft()
            fresh = iter(new)
            ordered = [next(fresh) if isinstance(item, Record) else item for item in plan]
            if sink is not None:
                _write(sink, [r for r in ordered if not r.resumed])
            for result in ordered:
                if bar is not None:
                    bar.update(1)
                    if not result.ok:
                        bar.set_postfix_str(f"last error: {result.error.kind}", refresh=False)
                yield result
    finally:
        if sink is not None:
            sink.close()
        if bar is not None:
            bar.close()


def _write(sink: IO[bytes], results: list[ExtractResult]) -> None:
    if not results:
        return
    lines = "".join(json.dumps(r.to_json(), ensure_ascii=True) + "\n" for r in results)
    sink.write(lines.encode("ascii"))
    sink.flush()
    os.fsync(sink.fileno())


def _load_done(path: Path) -> dict[int, Mapping[str, Any]]:
    """Results already in ``path``, by record index. Everything from the first line that
    does not parse (a write cut short by a kill) is dropped from the file."""
    if not path.exists():
        return {}
    done: dict[int, Mapping[str, Any]] = {}
    data = path.read_bytes()
    good = 0
    for line in data.splitlines(keepends=True):
        try:
            if not line.endswith(b"\n"):
                raise ValueError("incomplete line")
            item = json.loads(line)
            index, key = int(item["index"]), str(item["key"])
        except (ValueError, KeyError, TypeError):
            break
        done.setdefault(index, {**item, "index": index, "key": key})
        good += len(line)
    if good < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(good)
    return done


def read_records(
    records: Iterable[str | Mapping[str, Any]] | str | os.PathLike[str],
) -> Iterator[Record]:
    """Records from a JSONL path or an iterable, each readable or carrying its error."""
    if isinstance(records, (str, os.PathLike)):
        yield from _read_jsonl(Path(records))
        return
    for index, item in enumerate(records):
        if isinstance(item, str):
            yield Record(index, item)
        elif isinstance(item, Mapping):
            yield Record(index, dict(item))
        else:
            error = ExtractError(
                "invalid_record", f"expected a string or a dict, got {type(item).__name__}"
            )
            yield Record(index, None, error)


def _read_jsonl(path: Path) -> Iterator[Record]:
    with open(path, "rb") as handle:
        for index, raw in enumerate(handle):
            line = raw.rstrip(b"\r\n")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                message = f"line {index + 1} is not UTF-8 ({exc.reason} at byte {exc.start})"
                yield Record(index, None, ExtractError("invalid_record", message))
                continue
            if not text.strip():
                yield Record(index, "")
                continue
            try:
                item = json.loads(text)
            except ValueError as exc:
                message = f"line {index + 1} is not JSON: {exc}"
                yield Record(index, None, ExtractError("invalid_record", message))
                continue
            if isinstance(item, (str, dict)):
                yield Record(index, item)
            else:
                kind = type(item).__name__
                message = f"line {index + 1} is a JSON {kind}, not a string or an object"
                yield Record(index, None, ExtractError("invalid_record", message))


def _count(records: Any) -> int | None:
    if isinstance(records, (str, os.PathLike)):
        try:
            with open(records, "rb") as handle:
                return sum(1 for _ in handle)
        except OSError:
            return None
    return len(records) if isinstance(records, Sequence) else None


def _progress(total: int | None, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar without it
        return None
    return tqdm(total=total, unit="record", desc="extract", leave=True)

