"""Plots of a conformance run: compile time, first mask, per-token mask, memory, coverage.

    python benchmarks/plots.py RUN.json [RUN.json ...] [--out benchmarks/plots]

Reads the outcomes that ``benchmarks/conformance.py --json`` saves and writes one PNG per
figure; ``RESULTS.md`` embeds them. Times are wall-clock on the machine named there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from conformance import DATASETS, ENGINES, Outcome, load_outcomes  # benchmarks/ on sys.path

COLORS = {"structgen": "#d62728", "structgen-lenient": "#ff9896", "outlines-core": "#7f7f7f",
          "xgrammar": "#1f77b4", "llguidance": "#2ca02c"}
DEFAULT_OUT = Path(__file__).resolve().parent / "plots"


def _ecdf(ax: plt.Axes, values: Sequence[float], engine: str, total: int) -> None:
    """Fraction of *all* schemas done within x: the curve tops out at the share handled."""
    xs = np.sort(np.asarray(values, dtype=float))
    if not len(xs):
        return
    ys = np.arange(1, len(xs) + 1) / max(total, 1)
    ax.step(xs, ys, where="post", color=COLORS[engine],
            label=f"{engine} ({len(xs)}/{total})")


def _engines(outcomes: list[Outcome]) -> list[str]:
    return [e for e in ENGINES if any(o.engine == e for o in outcomes)]


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)


def compile_times(outcomes: list[Outcome], out: Path) -> None:
    datasets = [d for d in DATASETS if any(o.dataset == d for o in outcomes)]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        these = [o for o in outcomes if o.dataset == dataset]
        for engine in _engines(these):
            mine = [o for o in these if o.engine == engine]
            times = [o.compile_s * 1e3 for o in mine if o.compiled and o.compile_s is not None]
            _ecdf(ax, times, engine, len(mine))
        ax.set_xscale("log")
        ax.set_xlabel("compile time (ms, log)")
        ax.set_ylabel("fraction of schemas compiled within x")
        ax.set_title(DATASETS[dataset])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    _save(fig, out / "compile_time.png")


def _jsb_metric(outcomes: list[Outcome], out: Path, name: str, label: str,
                value: Callable[[Outcome], Sequence[float]], per_token: bool = False) -> None:
    jsb = [o for o in outcomes if o.dataset == "jsb"]
    if not jsb:
        return
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for engine in _engines(jsb):
        mine = [o for o in jsb if o.engine == engine and o.first_mask_s is not None]
        values = [v for o in mine for v in value(o)]
        total = len(values) if per_token else len([o for o in jsb if o.engine == engine])
        _ecdf(ax, values, engine, total)
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("fraction of tokens" if per_token else "fraction of schemas")
    ax.set_title(f"JSONSchemaBench: {name.replace('_', ' ')}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    _save(fig, out / f"{name}.png")


def coverage(outcomes: list[Outcome], out: Path) -> None:
    jsb = [o for o in outcomes if o.dataset == "jsb"]
    if not jsb:
        return
    engines = _engines(jsb)
    subsets = sorted({o.subset for o in jsb})
    width = 0.8 / len(engines)
    fig, ax = plt.subplots(figsize=(12, 4.5))
    x = np.arange(len(subsets))
    for i, engine in enumerate(engines):
        compiled, covered = [], []
        for subset in subsets:
            rs = [o for o in jsb if o.engine == engine and o.subset == subset]
            compiled.append(sum(o.compiled for o in rs) / max(len(rs), 1))
            covered.append(sum(o.covered for o in rs) / max(len(rs), 1))
        at = x + (i - (len(engines) - 1) / 2) * width
        ax.bar(at, compiled, width, color=COLORS[engine], alpha=0.35)
        ax.bar(at, covered, width, color=COLORS[engine], label=engine)
    ax.set_xticks(x, subsets, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction of schemas")
    ax.set_title("JSONSchemaBench coverage per subset: compiled (light), "
                 "empirical: random walks all valid (dark)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=len(engines))
    _save(fig, out / "coverage_jsb.png")


def answers(outcomes: list[Outcome], out: Path) -> None:
    """Stacked bars: right, wrong (false accept / false reject) and refused, per engine."""
    panels = [(d, u) for d, u in (("maskbench", "schemas"), ("suite", "tests"))
              if any(o.dataset == d for o in outcomes)]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, (dataset, unit) in zip(axes[0], panels, strict=True):
        these = [o for o in outcomes if o.dataset == dataset]
        engines = _engines(these)
        parts: dict[str, list[float]] = {k: [] for k in (
            "passed", "false accept", "false reject", "not compiled")}
        for engine in engines:
            rs = [o for o in these if o.engine == engine]
            if unit == "schemas":
                fa = sum(o.compiled and o.false_accepts > 0 for o in rs)
                fr = sum(o.compiled and o.false_accepts == 0 and o.false_rejects > 0
                         for o in rs)
                parts["passed"].append(sum(o.schema_passed for o in rs))
                parts["not compiled"].append(sum(not o.compiled for o in rs))
            else:
                fa = sum(o.false_accepts for o in rs)
                fr = sum(o.false_rejects for o in rs)
                parts["passed"].append(sum(o.passed for o in rs))
                parts["not compiled"].append(sum(o.tests for o in rs if not o.compiled))
            parts["false accept"].append(fa)
            parts["false reject"].append(fr)
        bottom = np.zeros(len(engines))
        colors = {"passed": "#2ca02c", "false accept": "#d62728", "false reject": "#ff7f0e",
                  "not compiled": "#c7c7c7"}
        for name, values in parts.items():
            ax.bar(engines, values, bottom=bottom, color=colors[name], label=name)
            bottom += np.asarray(values, dtype=float)
        ax.set_ylabel(unit)
        title = "schema passes when every answer is right" if unit == "schemas" else "tests"
        ax.set_title(f"{DATASETS[dataset]}: {title}", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    _save(fig, out / "answers.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    _, outcomes = load_outcomes(args.runs)
    args.out.mkdir(parents=True, exist_ok=True)
    compile_times(outcomes, args.out)
    _jsb_metric(outcomes, args.out, "first_mask", "time to first mask (ms, log)",
                lambda o: [o.first_mask_s * 1e3] if o.first_mask_s is not None else [])
    _jsb_metric(outcomes, args.out, "per_token", "per-token mask time (µs, log)",
                lambda o: [s * 1e6 for s in o.token_sample], per_token=True)
    _jsb_metric(outcomes, args.out, "memory", "memory held (KiB, log)",
                lambda o: [o.memory_bytes / 1024] if o.memory_bytes else [])
    coverage(outcomes, args.out)
    answers(outcomes, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
