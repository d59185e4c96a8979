"""Function calling and JSON mode in the Hermes formats, with and without structgen's grammar.

    python benchmarks/function_calling_eval.py [--model default|random-llama]
        [--data benchmarks/data/function_calling.jsonl] [--max-tokens 160]
        [--temperature 0] [--seed 0] [--parallel] [--key-order arguments|name]
        [--tool-modes free auto required] [--json-modes free constrained]
        [--limit N] [--json out.json] [--verbose]

Records (JSONL): ``{"kind": "tool_call", "tools": [...], "messages": [...], "expected":
{"name", "arguments"}}`` and ``{"kind": "json_mode", "prompt", "schema", "expected"?}``.

Tool calls: the messages are rendered with the Hermes tools system prompt
(``structgen.hermes.render``, card style) and one assistant turn is generated three ways:
``free`` (no constraint), ``auto`` (``tool_call_grammar(tool_choice="auto")``: prose or
a call) and ``required`` (a call only; one call per turn unless ``--parallel``, as every record
expects one). The first parsed call is scored: *valid* when it names
one of the tools and its arguments validate (``jsonschema``, formats checked); *name* when the
name is the expected one; *args* when the arguments equal the expected ones (a key the
expected call leaves out may appear only with the schema's default; ``1`` equals ``1.0``);
*exact* when both match.

JSON mode: the Hermes JSON-mode system prompt (``structgen.hermes.json_mode_prompt``) and the
prompt as the user turn, generated ``free`` and ``constrained`` (``structgen.generate``);
*valid* is JSON that validates against the schema, *exact* equals ``expected`` where given.

Greedy decoding by default (one deterministic sample per record). ``--model random-llama`` is
a random-init 2-layer Llama-3 with the Hermes tokenizer: its exact matches are chance, its
validity shows what the grammar alone guarantees.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

import structgen
from structgen import hermes
from structgen.integrations.sampling import Sampling

DATA = Path(__file__).resolve().parent / "data" / "function_calling.jsonl"
TOOL_MODES = ("free", "auto", "required")
JSON_MODES = ("free", "constrained")


@dataclass
class Tally:
    """Counts for one (kind, mode) row."""

    records: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tokens: int = 0
    seconds: float = 0.0

    def add(self, scores: dict[str, bool], tokens: int, seconds: float) -> None:
        self.records += 1
        for key, value in scores.items():
            self.counts[key] += int(value)
        self.tokens += tokens
        self.seconds += seconds

    def rate(self, key: str) -> str:
        return f"{self.counts[key]}/{self.records} ({100 * self.counts[key] / self.records:.0f}%)"


def load_model(name: str) -> Any:
    if name == "default":
        return structgen.models.default()
    if name == "random-llama":
        import torch

        from structgen.testing import random_llama

        torch.set_num_threads(1)  # on shared cores more threads only wait on each other
        model = random_llama(max_position_embeddings=2048, eos_token_id=128003)
        return structgen.models.transformers(model, hermes.hermes_tokenizer())
    raise SystemExit(f"unknown --model {name!r}: default or random-llama")


def same(expected: Any, actual: Any) -> bool:
    """JSON equality where 1 == 1.0 but True != 1."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual  # exact for ints of any size, and 1 == 1.0
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    return bool(type(expected) is type(actual) and expected == actual)


def arguments_match(expected: dict[str, Any], actual: dict[str, Any],
                    schema: dict[str, Any]) -> bool:
    properties = schema.get("properties", {})
    for key, value in actual.items():
        if key in expected:
            continue
        if "default" not in properties.get(key, {}) or not same(properties[key]["default"], value):
            return False
    return all(key in actual and same(value, actual[key]) for key, value in expected.items())


def score_call(record: dict[str, Any], text: str) -> tuple[dict[str, bool], str]:
    parsed = hermes.parse_tool_calls(text)
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in record["tools"]}
    expected = record["expected"]
    scores = {"call": bool(parsed.calls), "valid": False, "name": False, "args": False,
              "exact": False}
    if not parsed.calls:
        return scores, f"no call ({len(parsed.errors)} bad blocks)"
    call = parsed.calls[0]
    if call.name in schemas:
        validator = jsonschema.Draft202012Validator(
            schemas[call.name], format_checker=jsonschema.FormatChecker())
        scores["valid"] = validator.is_valid(call.arguments)
    scores["name"] = call.name == expected["name"]
    if scores["name"]:
        scores["args"] = arguments_match(expected["arguments"], call.arguments,
                                         schemas[call.name])
    scores["exact"] = scores["name"] and scores["args"]
    return scores, f"{call.name}({json.dumps(call.arguments, ensure_ascii=False)})"


def run_tool_record(model: Any, record: dict[str, Any], args: argparse.Namespace,
                    indexes: dict[tuple[str, str], Any], tallies: dict[tuple[str, str], Tally]
                    ) -> None:
    prompt = model.encode(hermes.render(record["messages"], tools=record["tools"]))
    sampling = Sampling(temperature=args.temperature, seed=args.seed)
    for mode in args.tool_modes:
        guides = None
        if mode != "free":
            key = (record["toolset"], mode)
            if key not in indexes:
                grammar = hermes.tool_call_grammar(record["tools"], tool_choice=mode,
                                                   key_order=args.key_order,
                                                   parallel=args.parallel)
                indexes[key] = grammar.index(model.vocab)
            guides = [indexes[key].guide(max_tokens=args.max_tokens)]
        started = time.perf_counter()
        completion = model.generate_tokens([prompt], guides, max_tokens=args.max_tokens,
                                           sampling=sampling)[0]
        seconds = time.perf_counter() - started
        scores, shown = score_call(record, completion.text)
        tallies[("tool_call", mode)].add(scores, completion.completion_tokens, seconds)
        if args.verbose:
            print(f"{record['id']:8} {mode:9} {'ok ' if scores['exact'] else '-- '} {shown}"
                  f"  [{completion.text[:80]!r}]", file=sys.stderr)


def run_json_record(model: Any, record: dict[str, Any], args: argparse.Namespace,
                    tallies: dict[tuple[str, str], Tally]) -> None:
    prompt = hermes.render([
        {"role": "system", "content": hermes.json_mode_prompt(record["schema"])},
        {"role": "user", "content": record["prompt"]},
    ])
    for mode in args.json_modes:
        started = time.perf_counter()
        generation = structgen.generate(
            model, prompt, record["schema"], chat=False, constrain=mode == "constrained",
            max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed,
        )
        seconds = time.perf_counter() - started
        valid = generation.valid
        exact = False
        if valid and "expected" in record:
            exact = same(record["expected"], json.loads(generation.text))
        scores = {"valid": valid, "exact": exact, "has_expected": "expected" in record}
        tallies[("json_mode", mode)].add(scores, generation.completion_tokens, seconds)
        if args.verbose:
            print(f"{record['id']:8} {mode:11} {'valid' if valid else 'INVALID'} "
                  f"{generation.text[:100]!r}", file=sys.stderr)


def report(tallies: dict[tuple[str, str], Tally], model_name: str) -> str:
    lines = [f"model: {model_name}", "",
             "| tool calls | records | any call | valid call | name match | args match "
             "| exact call | tokens/record | s/record |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mode in TOOL_MODES:
        t = tallies.get(("tool_call", mode))
        if t and t.records:
            lines.append(f"| {mode} | {t.records} | {t.rate('call')} | {t.rate('valid')} "
                         f"| {t.rate('name')} | {t.rate('args')} | {t.rate('exact')} "
                         f"| {t.tokens / t.records:.0f} | {t.seconds / t.records:.1f} |")
    lines += ["", "| JSON mode | records | schema-valid | exact value (of those with one) "
              "| tokens/record | s/record |", "|---|---|---|---|---|---|"]
    for mode in JSON_MODES:
        t = tallies.get(("json_mode", mode))
        if t and t.records:
            exact = f"{t.counts['exact']}/{t.counts['has_expected']}"
            lines.append(f"| {mode} | {t.records} | {t.rate('valid')} | {exact} "
                         f"| {t.tokens / t.records:.0f} | {t.seconds / t.records:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", action="store_true",
                        help="let the grammar allow several calls per turn (small models then "
                             "tend to repeat the call until max_tokens)")
    parser.add_argument("--key-order", choices=("arguments", "name"), default="name",
                        help="key generated first in a call; the card prompt shows arguments")
    parser.add_argument("--tool-modes", nargs="*", default=list(TOOL_MODES),
                        choices=TOOL_MODES)
    parser.add_argument("--json-modes", nargs="*", default=list(JSON_MODES),
                        choices=JSON_MODES)
    parser.add_argument("--limit", type=int, default=None, help="first N records only")
    parser.add_argument("--json", type=Path, default=None, help="write the counts here")
    parser.add_argument("--verbose", action="store_true", help="one line per generation")
    args = parser.parse_args(argv)
    records = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    records = records[: args.limit] if args.limit else records
    model = load_model(args.model)
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    indexes: dict[tuple[str, str], Any] = {}
    started = time.perf_counter()
    # Records sharing a tool set run together, so the model's prompt cache keeps the shared
    # system prompt.
    for record in sorted(records, key=lambda r: (r["kind"], r.get("toolset", ""))):
        if record["kind"] == "tool_call":
            run_tool_record(model, record, args, indexes, tallies)
        else:
            run_json_record(model, record, args, tallies)
    print(report(tallies, f"{model.name} ({args.model}), temperature {args.temperature}, "
                          f"max_tokens {args.max_tokens}, parallel {args.parallel}, "
                          f"key order {args.key_order}"))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(
            {f"{kind}/{mode}": {"records": t.records, **t.counts}
             for (kind, mode), t in tallies.items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
