"""The decode benchmark that ``benchmarks/gpu.sh`` runs on CUDA (the Llama-3-8B shape in
bf16), run here on its tiny CPU twin: the same code path, arguments and JSON report, so
the GPU script cannot fail on anything but the device."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _decode_module() -> Any:
    spec = importlib.util.spec_from_file_location("decode", ROOT / "benchmarks" / "decode.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_decode_benchmark_on_the_tiny_llama(tmp_path: Path) -> None:
    out = tmp_path / "decode.json"
    decode = _decode_module()
    assert decode.main(["--model", "llama3-tiny", "--batch", "1,2", "--max-tokens", "40",
                        "--repeats", "1", "--schemas", "sentiment", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["model"] == "llama3-tiny" and report["device"] == "cpu"
    assert [row["batch"] for row in report["results"]] == [1, 2]
    for row in report["results"]:
        for mode in ("masked", "jump"):  # constrained: every output valid within budget
            assert row[mode]["valid"] == row[mode]["outputs"] == row["batch"]
            assert 0 < row[mode]["tokens"] <= 40 * row["batch"]
        assert row["free"]["ms_per_pass"] > 0
        assert row["jump"]["passes"] <= row["jump"]["tokens"]
        assert row["mask_apply_us"] > 0
