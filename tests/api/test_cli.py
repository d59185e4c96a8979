"""The `structgen` command: output and exit codes (2 unreadable input, 1 refused schema)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from structgen.api.cli import app

runner = CliRunner()


def _schema(tmp_path, schema, name="s.json"):
    path = tmp_path / name
    path.write_text(json.dumps(schema) if not isinstance(schema, str) else schema)
    return str(path)


def test_compile_prints_sizes_and_unenforced(tmp_path) -> None:
    path = _schema(tmp_path, {"type": "array", "items": {"type": "integer"}, "uniqueItems": True})
    result = runner.invoke(app, ["compile", path, "--no-strict"])
    assert result.exit_code == 0, result.output
    assert "states" in result.output and "transition table" in result.output
    assert "unenforced: /uniqueItems" in result.output


def test_compile_with_a_vocabulary_reports_the_index(tmp_path) -> None:
    path = _schema(tmp_path, {"enum": ["a", "b"]})
    result = runner.invoke(app, ["compile", path, "--vocab", "llama3"])
    assert result.exit_code == 0, result.output
    assert "llama3: 128,256 tokens" in result.output and "tokens allowed" in result.output


def test_compile_accepts_a_pydantic_model_by_name() -> None:
    result = runner.invoke(app, ["compile", "structgen.hermes.calls:ToolCall"])
    assert result.exit_code in (0, 1), result.output  # compiled, or refused with a reason


def test_bad_inputs_exit_non_zero_with_a_reason(tmp_path) -> None:
    cases = [
        (["compile", str(tmp_path / "missing.json")], 2, "cannot read schema"),
        (["compile", _schema(tmp_path, '{"type": ', "cut.json")], 2, "is not JSON"),
        (["compile", _schema(tmp_path, {"type": "array", "uniqueItems": True}, "u.json")], 1,
         "UnsupportedSchemaError: /uniqueItems"),
        (["compile", _schema(tmp_path, {"type": 5}, "t.json")], 1, "SchemaError"),
        (["compile", "no_such_module:Model"], 2, "cannot import schema"),
        (["compile", _schema(tmp_path, {"type": "integer"}, "i.json"), "--vocab", "gpt9"], 2,
         "unknown vocabulary"),
        (["extract", str(tmp_path / "none.jsonl"), "--schema", "x.json", "--out", "o.jsonl"],
         2, "no records file"),
    ]
    for args, code, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)


def test_bench_times_masks(tmp_path) -> None:
    path = _schema(tmp_path, {"enum": ["alpha", "beta"]})
    result = runner.invoke(app, ["bench", path, "--vocab", "llama3", "--steps", "10"])
    assert result.exit_code == 0, result.output
    assert "p50" in result.output and "s " in result.output


def test_generate_prints_valid_json(tmp_path, smollm) -> None:
    path = _schema(tmp_path, {"type": "object", "properties": {"ok": {"type": "boolean"}},
                              "required": ["ok"]})
    result = runner.invoke(
        app, ["generate", "--schema", path, "--prompt", "Is the sky blue?", "--max-tokens", "12",
              "--temperature", "0"],
    )
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout.splitlines()[0])["ok"], bool)
