"""The `structgen` command line: demo and compile."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from structgen.errors import StructgenError
from structgen.grammar import compile as compile_schema

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@app.command()
def demo(
    schemas: Annotated[Path, typer.Option(help="Folder of JSON Schemas to compile.")] = _SCHEMAS,
) -> None:
    """Compile every schema in a folder and print what was built."""
    paths = sorted(schemas.glob("*.json"))
    if not paths:
        typer.echo(f"no schemas found in {schemas}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{'schema':<18} {'states':>7} {'classes':>7} {'build ms':>9}  example accepted")
    for path in paths:
        try:
            grammar = compile_schema(json.loads(path.read_text(encoding="utf-8")), timeout_s=20)
        except StructgenError as exc:
            typer.echo(f"{path.stem:<18} {type(exc).__name__}: {exc}")
            continue
        example_file = path.parent / "examples" / path.name
        verdict = "-"
        if example_file.exists():
            examples = json.loads(example_file.read_text(encoding="utf-8"))
            accepted = all(grammar.accepts(grammar.serialize(e)) for e in examples)
            verdict = "yes" if accepted else "NO"
        typer.echo(
            f"{path.stem:<18} {grammar.stats.states:>7} {grammar.stats.classes:>7} "
            f"{grammar.stats.build_s * 1000:>9.1f}  {verdict}"
        )


@app.command("compile")
def compile_command(
    schema: Annotated[Path, typer.Argument(help="A JSON Schema file.")],
    strict: Annotated[
        bool, typer.Option(help="Refuse keywords the grammar cannot enforce.")
    ] = True,
    stats: Annotated[bool, typer.Option(help="Print sizes and build time.")] = True,
) -> None:
    """Compile one schema; print its automaton's size and what it leaves unenforced."""
    try:
        text = schema.read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"cannot read {schema}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    started = time.perf_counter()
    try:
        grammar = compile_schema(text, strict=strict)
    except StructgenError as exc:
        typer.echo(f"{schema}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from None
    if stats:
        typer.echo(
            f"states {grammar.stats.states}, classes {grammar.stats.classes}, "
            f"built in {(time.perf_counter() - started) * 1000:.1f} ms"
        )
    for item in grammar.unenforced:
        typer.echo(f"unenforced: {item}")


def main() -> None:
    app(prog_name="structgen")


if __name__ == "__main__":
    sys.exit(main())
