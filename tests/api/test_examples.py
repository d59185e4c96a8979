"""The scripts in examples/ run and end well."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_guided_tool_call_example() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "guided_tool_call.py")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "is valid; within 60 tokens" in result.stdout
    assert "<tool_call>" in result.stdout


def test_hermes_tool_loop_example() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "hermes_tool_loop.py")],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[user] What is the weather like in Oslo right now?"
    assert lines[1].startswith('[assistant -> tool call] get_weather({"city": ')
    assert lines[2].startswith("[tool get_weather] {'city': ")
    assert lines[3].startswith("[assistant] ") and len(lines[3]) > len("[assistant] ")
    assert lines[-1] == "-> stopped: answered after 2 round(s); 1 of 1 call(s) ran"


def test_decorator_example() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "decorator.py")],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Book.generate      -> Book(" in result.stdout
    assert "triage             -> <Priority." in result.stdout


def test_extract_jsonl_example_resumes(tmp_path) -> None:
    out = tmp_path / "tickets.jsonl"
    runs = [
        subprocess.run(
            [sys.executable, str(EXAMPLES / "extract_jsonl.py"), str(out)],
            capture_output=True, text=True, timeout=600, check=False,
        )
        for _ in range(2)
    ]
    for result in runs:
        assert result.returncode == 0, result.stderr
        assert "'empty_record': 1, 'invalid_record': 2" in result.stdout
    assert runs[1].stdout.count("resumed") == 7
    assert len(out.read_text().splitlines()) == 7
