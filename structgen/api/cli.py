"""The `structgen` command line: demo, compile, generate, extract and bench.

Exit codes: 0 done; 1 the schema cannot be compiled, or an output did not validate;
2 an input cannot be read (missing file, not JSON, unknown vocabulary or module).
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from structgen.errors import StructgenError
from structgen.grammar import Grammar
from structgen.grammar import compile as compile_schema

if TYPE_CHECKING:
    from structgen.index import Vocabulary
    from structgen.integrations.model import Model

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

VocabName = Literal["none", "llama3", "smollm2"]

SchemaOption = Annotated[
    str,
    typer.Option(
        "--schema", "-s", help="A JSON Schema file, or module:attribute naming a Pydantic model."
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(help="A GGUF model file; default: the embedded SmolLM2-135M-Instruct."),
]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _load_schema(spec: str) -> Any:
    """A schema from a JSON file, or a Python object named ``module:attribute``."""
    path = Path(spec)
    if path.exists() or ":" not in spec or spec.endswith(".json"):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot read schema {spec}: {exc.strerror or exc}", 2) from None
        except UnicodeDecodeError as exc:
            message = f"schema {spec} is not UTF-8: {exc.reason} at byte {exc.start}"
            raise _fail(message, 2) from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(
                f"schema {spec} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", 2
            ) from None
    module_name, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise _fail(f"cannot import schema {spec}: {exc}", 2) from None


def _compile(spec: str, *, strict: bool = True) -> tuple[Any, Grammar]:
    schema = _load_schema(spec)
    try:
        return schema, compile_schema(schema, strict=strict)
    except StructgenError as exc:
        raise _fail(f"{spec}: {type(exc).__name__}: {exc}", 1) from None


def _vocabulary(name: VocabName) -> Vocabulary | None:
    from structgen.api.models import default_model_path
    from structgen.index import Vocabulary

    try:
        if name == "llama3":
            return Vocabulary.llama3()
        if name == "smollm2":
            return Vocabulary.from_gguf(default_model_path())
    except (StructgenError, ModuleNotFoundError) as exc:
        raise _fail(f"vocabulary {name}: {exc}", 2) from None
    return None


def _model(path: Path | None) -> Model:
    from structgen.api import models

    try:
        return models.default() if path is None else models.llamacpp(path)
    except (FileNotFoundError, ModuleNotFoundError, ValueError) as exc:
        raise _fail(f"cannot load the model: {exc}", 2) from None


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
) -> None:
    """Typed extraction and a Hermes tool call with the embedded model, offline."""
    from structgen.api.demo import run_demo

    run_demo(typer.echo, seed=seed)


@app.command("compile")
def compile_command(
    schema: Annotated[str, typer.Argument(help="A JSON Schema file, or module:Model.")],
    strict: Annotated[
        bool, typer.Option(help="Refuse keywords the grammar cannot enforce.")
    ] = True,
    stats: Annotated[bool, typer.Option(help="Print sizes, build time and memory.")] = True,
    vocab: Annotated[
        str, typer.Option(help="Also index over a vocabulary: none, llama3 or smollm2.")
    ] = "none",
) -> None:
    """Compile one schema; print its automaton's size and what it leaves unenforced."""
    if vocab not in ("none", "llama3", "smollm2"):
        raise _fail(f"unknown vocabulary {vocab!r}: expected none, llama3 or smollm2", 2)
    _, grammar = _compile(schema, strict=strict)
    if stats:
        s = grammar.stats
        typer.echo(
            f"states {s.states}, classes {s.classes}, built in {s.build_s * 1000:.1f} ms "
            f"(schema {s.normalize_s * 1000:.1f} ms, automaton {s.automaton_s * 1000:.1f} ms), "
            f"transition table {grammar.dfa.transitions.nbytes / 1024:.1f} KiB "
            f"({grammar.dfa.transitions.rows.shape[0]:,} rows of offsets)"
            + (f", {grammar.dfa.n_modules} modules called on a stack"
               if grammar.uses_stack else "")
        )
    vocabulary = _vocabulary(vocab)  # type: ignore[arg-type]
    if vocabulary is not None:
        started = time.perf_counter()
        index = grammar.index(vocabulary)
        allowed = len(index.allowed_token_ids(index.start))
        typer.echo(
            f"{vocab}: {vocabulary.vocab_size:,} tokens; index and first mask in "
            f"{(time.perf_counter() - started) * 1000:.1f} ms; {allowed:,} tokens allowed "
            f"at the start; index memory {index.nbytes / 1024:.1f} KiB"
        )
    if not grammar.unenforced:
        typer.echo("unenforced: none (every keyword is enforced by the grammar)")
    for item in grammar.unenforced:
        typer.echo(f"unenforced: {item}")


@app.command()
def generate(
    schema: SchemaOption,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The user message.")],
    max_tokens: Annotated[int, typer.Option(help="Token budget (EOS included).")] = 256,
    temperature: Annotated[float, typer.Option(help="0 is greedy.")] = 0.2,
    seed: Annotated[int | None, typer.Option(help="Seed for sampling.")] = None,
    system: Annotated[
        str | None, typer.Option(help="System prompt; default: Hermes JSON mode.")
    ] = None,
    model: ModelOption = None,
) -> None:
    """Generate one JSON value that follows the schema; print it (stats on stderr)."""
    from structgen.api.decorators import json_mode_system
    from structgen.api.generate import generate as run

    schema_value, grammar = _compile(schema)
    llm = _model(model)
    try:
        result = run(
            llm, prompt, grammar, max_tokens=max_tokens, temperature=temperature, seed=seed,
            system=json_mode_system(schema_value) if system is None else system,
        )
    except StructgenError as exc:
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from None
    typer.echo(result.text)
    typer.echo(
        f"{llm.name}: {result.completion_tokens} tokens in {result.seconds:.2f} s "
        f"({result.tokens_per_s:.1f} tokens/s), {'valid' if result.valid else 'INVALID'}",
        err=True,
    )
    if not result.valid:
        raise _fail("; ".join(result.errors), 1)


@app.command()
def extract(
    records: Annotated[Path, typer.Argument(help="JSONL input: one string or object a line.")],
    schema: SchemaOption,
    out: Annotated[Path, typer.Option(help="JSONL output; an existing file is resumed.")],
    prompt: Annotated[
        str, typer.Option(help="Template; {text} or the record's keys.")
    ] = "Extract the information in this text as JSON.\n\n{text}",
    batch_size: Annotated[int, typer.Option(help="Records per batch and per write.")] = 8,
    max_tokens: Annotated[int, typer.Option(help="Token budget per record.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 is greedy.")] = 0.0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    model: ModelOption = None,
    engine: Annotated[
        str, typer.Option(help="local: this process; ray: Ray workers (structgen[scale]).")
    ] = "local",
    workers: Annotated[int, typer.Option(help="Ray workers (with --engine ray).")] = 2,
) -> None:
    """Extract one value per record into OUT (resumable); errors are recorded per record."""
    from structgen.api.extract import extract as run

    if not records.is_file():
        raise _fail(f"no records file at {records}", 2)
    if engine not in ("local", "ray"):
        raise _fail(f"--engine must be local or ray, got {engine!r}", 2)
    if engine == "ray" and model is not None:
        raise _fail("--engine ray runs the default model on each worker; drop --model", 2)
    schema_value, _ = _compile(schema)
    llm = _model(model) if engine == "local" else None
    scale = {"workers": workers} if engine == "ray" else {}
    try:
        results = run(
            records, schema_value, llm, prompt=prompt, batch_size=batch_size,
            max_tokens=max_tokens, out=out, progress=progress, temperature=temperature,
            engine=engine, **scale,
        )
        counts: Counter[str] = Counter()
        resumed = 0
        for result in results:
            counts["ok" if result.ok else result.error.kind] += 1  # type: ignore[union-attr]
            resumed += result.resumed
    except (ValueError, OSError) as exc:
        raise _fail(str(exc), 2) from None
    total = sum(counts.values())
    errors = ", ".join(f"{kind} {n}" for kind, n in counts.most_common() if kind != "ok")
    typer.echo(
        f"{total} records: {counts['ok']} extracted, {total - counts['ok']} errors"
        f"{' (' + errors + ')' if errors else ''}; {resumed} resumed from {out}"
    )


@app.command()
def bench(
    schemas: Annotated[
        list[str] | None, typer.Argument(help="Schema files; default: the curated schemas.")
    ] = None,
    vocab: Annotated[str, typer.Option(help="llama3 or smollm2.")] = "smollm2",
    steps: Annotated[int, typer.Option(help="Random-walk tokens timed per schema.")] = 200,
    generate_tokens: Annotated[
        int, typer.Option("--generate", help="Also time N tokens with the default model.")
    ] = 0,
) -> None:
    """Time compile, first mask and per-token masks (p50/p99) per schema."""
    import numpy as np

    if vocab not in ("llama3", "smollm2"):
        raise _fail(f"unknown vocabulary {vocab!r}: expected llama3 or smollm2", 2)
    vocabulary = _vocabulary(vocab)  # type: ignore[arg-type]
    assert vocabulary is not None
    paths = schemas or [str(p) for p in sorted(_SCHEMAS.glob("*.json"))]
    typer.echo(
        f"{'schema':<18} {'states':>7} {'compile ms':>10} {'1st mask ms':>11} "
        f"{'p50 µs':>8} {'p99 µs':>8}"
    )
    rng = np.random.default_rng(0)
    for spec in paths:
        name = Path(spec).stem
        try:
            _, grammar = _compile(spec)
        except typer.Exit:
            continue
        started = time.perf_counter()
        guide = grammar.index(vocabulary).guide(max_tokens=steps + 1)
        guide.mask()
        first_ms = (time.perf_counter() - started) * 1000
        per_token: list[float] = []
        while not guide.is_finished() and len(per_token) < steps:
            allowed = guide.allowed_token_ids()
            guide.advance(int(rng.choice(allowed)))
            tick = time.perf_counter()
            guide.mask()
            per_token.append((time.perf_counter() - tick) * 1e6)
        p50 = statistics.median(per_token) if per_token else 0.0
        p99 = float(np.percentile(per_token, 99)) if per_token else 0.0
        typer.echo(
            f"{name:<18} {grammar.stats.states:>7} {grammar.stats.build_s * 1000:>10.1f} "
            f"{first_ms:>11.2f} {p50:>8.1f} {p99:>8.1f}"
        )
    if generate_tokens > 0:
        _bench_generation(generate_tokens)


def _bench_generation(max_tokens: int) -> None:
    from structgen.api.generate import generate as run

    llm = _model(None)
    schema = {"type": "object", "properties": {"city": {"type": "string"},
              "population": {"type": "integer"}}, "required": ["city", "population"]}
    for constrain in (False, True):
        result = run(llm, "Describe a city as JSON.", schema, max_tokens=max_tokens,
                     temperature=0.0, constrain=constrain)
        typer.echo(
            f"{llm.name} {'constrained' if constrain else 'free':>11}: "
            f"{result.completion_tokens} tokens, {result.tokens_per_s:.1f} tokens/s, "
            f"{result.completion.forward_passes} forward passes, valid={result.valid}"
        )


def main() -> None:
    app(prog_name="structgen")


if __name__ == "__main__":
    sys.exit(main())
