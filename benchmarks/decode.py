"""Decoding speed with and without the constraint, and what jump-forward saves.

For each model and schema, three runs of the same prompts:

* ``free``: no grammar (the baseline; outputs are also validated, to show what the
  constraint buys);
* ``masked``: the grammar's mask every step, jump-forward off (pure mask overhead);
* ``jump``: the mask plus jump-forward (forced tokens ride along in one forward pass).

Per run: output tokens, forward passes, decode seconds, ms per forward pass and per output
token, tokens/s, valid outputs. The constraint overhead is the ratio of ms per forward pass
``masked / free`` minus one (both runs do one pass per sampled token, so this isolates the
mask work left on the critical path); jump-forward's saving is ``1 - passes / tokens``.

Models: ``default`` (SmolLM2-135M GGUF on llama.cpp, CPU), ``smollm-hf`` (the same file
through transformers), ``llama3-8b`` (a randomly initialised Llama-3-8B-shaped model in
bf16 on CUDA, batch 1 and 32) and ``llama3-tiny`` (the same code path, tiny, for CPU).

    python benchmarks/decode.py --model default --repeats 3
    python benchmarks/decode.py --model llama3-8b --batch 1,32 --json decode_gpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema

import structgen
from structgen.api.generate import index_for
from structgen.integrations.sampling import Sampling

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = {
    "address": "Extract the address: 221B Baker Street, London NW1 6XE, United Kingdom.",
    "sentiment": "Classify the review: 'Battery died in two days; support replaced it fast.'",
    "tool_weather": "Call the weather tool for Oslo, 3 days ahead, in celsius.",
    "support_ticket": "Ticket: the app crashes on login since the last update (iOS 17).",
    "calendar_event": "Team sync on 2025-03-14 from 10:00 to 10:30 in room B2 with Ana, Li.",
}


def load_model(name: str, device: str) -> Any:
    if name == "default":
        return structgen.models.default()
    if name == "smollm-hf":
        import os

        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, file = os.path.split(structgen.models.default_model_path())
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file).to(device)
        return structgen.models.transformers(model, tokenizer, name="SmolLM2-135M (hf)")
    if name in ("llama3-8b", "llama3-tiny"):
        return random_llama3(name, device)
    raise SystemExit(f"unknown model {name!r}")


def random_llama3(name: str, device: str) -> Any:
    """A randomly initialised Llama-3 model with the real Llama-3 tokenizer, no download;
    the 8B shape in bf16 on the device (16 GB, never materialised in float32)."""
    import torch

    from structgen.testing import llama3_tokenizer, random_llama

    shape = (
        dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
             num_attention_heads=32, num_key_value_heads=8)
        if name == "llama3-8b"
        else {}
    )  # fmt: skip
    model = random_llama(
        device=device,
        dtype=torch.bfloat16 if device == "cuda" else torch.float32,
        max_position_embeddings=8192,
        rope_theta=500000.0,
        **shape,
    )
    tokenizer = llama3_tokenizer()
    template = (
        "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
        "{{ m['content'] }}<|eot_id|>{% endfor %}"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    return structgen.models.transformers(model, tokenizer, chat_template=template, name=name)


def run_once(
    model: Any, schema: dict, prompt: str, mode: str, batch: int, max_tokens: int, seed: int
) -> dict[str, Any]:
    grammar = structgen.compile(schema)
    ids = model.encode(model.chat_prompt([{"role": "user", "content": prompt}]))
    guides = None
    if mode != "free":
        index = index_for(grammar, model)
        guides = [index.guide(max_tokens=max_tokens) for _ in range(batch)]
    sampling = Sampling(temperature=0.8, repetition_penalty=1.1, seed=seed)
    _sync(model)
    started = time.perf_counter()
    completions = model.generate_tokens(
        [ids] * batch, guides, max_tokens=max_tokens, sampling=sampling, jump_forward=mode == "jump"
    )
    _sync(model)
    wall = time.perf_counter() - started
    tokens = sum(c.completion_tokens for c in completions)
    # Rows of a batch step together: the steps of the batch are its longest row's passes.
    steps = max(c.forward_passes for c in completions) - 1
    valid = 0
    for c in completions:
        try:
            jsonschema.validate(json.loads(c.text), schema)
            valid += 1
        except (ValueError, jsonschema.ValidationError):
            pass
    decode_s = max(c.decode_s for c in completions)
    return {
        "tokens": tokens,
        "passes": sum(c.forward_passes - 1 for c in completions),
        "steps": steps,
        "forced": sum(c.forced_tokens for c in completions),
        "decode_s": decode_s,
        "wall_s": wall,
        "mask_wait_s": max(c.mask_s for c in completions),
        "valid": valid,
        "outputs": batch,
    }


def _sync(model: Any) -> None:
    device = getattr(model, "device", None)
    if device is not None and device.type == "cuda":
        import torch

        torch.cuda.synchronize()


def time_mask_apply(model: Any, batch: int, repeats: int = 50) -> float:
    """Microseconds to apply a batch's bitmask to logits on the model's device."""
    import torch

    from structgen.guide.kernels import torch as torch_kernels

    device = model.device
    width = model.vocab.embedding_rows
    n_words = (width + 31) // 32
    logits = torch.randn(batch, width, device=device)
    bitmask = torch_kernels.allocate_bitmask(batch, n_words, pin_memory=device.type == "cuda")
    bitmask.fill_(-1)
    times = []
    for _ in range(repeats):
        _sync(model)
        started = time.perf_counter()
        torch_kernels.apply_bitmask(logits, bitmask)
        _sync(model)
        times.append(time.perf_counter() - started)
    return 1e6 * statistics.median(times)


def summarize(runs: list[dict[str, Any]]) -> dict[str, float]:
    ms_per_step = [1000 * r["decode_s"] / max(r["steps"], 1) for r in runs]
    ms_per_token = [1000 * r["decode_s"] / max(r["tokens"], 1) for r in runs]
    tokens = sum(r["tokens"] for r in runs)
    return {
        "ms_per_pass": statistics.median(ms_per_step),
        "ms_per_token": statistics.median(ms_per_token),
        "tokens_per_s": tokens / sum(r["decode_s"] for r in runs),
        "tokens": tokens,
        "passes": sum(r["passes"] for r in runs),
        "forced": sum(r["forced"] for r in runs),
        "valid": sum(r["valid"] for r in runs),
        "outputs": sum(r["outputs"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: by model)")
    parser.add_argument("--batch", default="1", help="comma-separated batch sizes")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--schemas", default=",".join(SCHEMAS))
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    device = args.device or ("cuda" if args.model == "llama3-8b" else "cpu")
    model = load_model(args.model, device)
    names = args.schemas.split(",")
    schemas = {n: json.loads((ROOT / "schemas" / f"{n}.json").read_text()) for n in names}
    report: dict[str, Any] = {"model": args.model, "device": device, "results": []}
    for batch in [int(b) for b in args.batch.split(",")]:
        # Warm-up: compile, index, JIT and the engine's first call stay out of the timings.
        for name in names:
            run_once(model, schemas[name], SCHEMAS[name], "jump", batch, args.max_tokens, seed=0)
            run_once(model, schemas[name], SCHEMAS[name], "free", batch, 8, seed=0)
        modes: dict[str, list[dict[str, Any]]] = {"free": [], "masked": [], "jump": []}
        for repeat in range(args.repeats):
            for name in names:
                for mode in modes:
                    modes[mode].append(
                        run_once(
                            model, schemas[name], SCHEMAS[name], mode, batch, args.max_tokens,
                            seed=repeat,
                        )
                    )  # fmt: skip
        stats = {mode: summarize(runs) for mode, runs in modes.items()}
        overhead = stats["masked"]["ms_per_pass"] / stats["free"]["ms_per_pass"] - 1
        saved = stats["jump"]["forced"] / max(stats["jump"]["tokens"], 1)
        row = {"batch": batch, **{m: s for m, s in stats.items()}, "overhead": overhead,
               "passes_saved": saved}  # fmt: skip
        if hasattr(model, "device"):
            row["mask_apply_us"] = time_mask_apply(model, batch)
        report["results"].append(row)
        print(f"\n{args.model} on {device}, batch {batch}, max_tokens {args.max_tokens}, "
              f"{args.repeats} repeats x {len(names)} schemas")  # fmt: skip
        print("| run | ms/pass | ms/token | tokens/s | tokens | passes | valid |")
        print("|---|---|---|---|---|---|---|")
        for mode, s in stats.items():
            print(f"| {mode} | {s['ms_per_pass']:.2f} | {s['ms_per_token']:.2f} | "
                  f"{s['tokens_per_s']:.1f} | {s['tokens']} | {s['passes']} | "
                  f"{s['valid']}/{s['outputs']} |")  # fmt: skip
        print(f"constraint overhead per pass (masked/free - 1): {overhead:+.1%}; "
              f"jump-forward: {saved:.1%} of output tokens had no pass of their own")  # fmt: skip
        if "mask_apply_us" in row:
            print(f"bitmask apply on {device}: {row['mask_apply_us']:.0f} us per step")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
