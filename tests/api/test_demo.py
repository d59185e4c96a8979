"""``structgen demo`` (what ``make demo`` runs) does the real job with the embedded model."""

from __future__ import annotations

import subprocess
import sys


def test_demo_extracts_a_typed_object_and_makes_a_tool_call() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "structgen", "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "-> Person(name=" in out
    assert "assistant calls get_weather({" in out
    assert "tool returns:" in out
    assert "unparsed call" not in out
