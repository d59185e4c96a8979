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
