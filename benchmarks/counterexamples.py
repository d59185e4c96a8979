"""Instances that tell an exact grammar from a relaxed one, run through every engine.

    python benchmarks/counterexamples.py [--data ../shared/data]

Where a peer compiles a JSONSchemaBench schema that structgen refuses, the coverage table
alone cannot say whether the peer enforces that schema. ``benchmarks/data/counterexamples.json``
lists instances for such schemas, each with what ``jsonschema`` says about it; this script
compiles each schema with structgen (as ``conformance.py`` does) and with each peer, and
reports whether each engine accepts the instance as a complete output (its Llama-3 tokens,
then EOS; for structgen, the instance as ``Grammar.serialize`` writes it, properties in
declared order, as ``conformance.py`` does). An engine that accepts an invalid instance
enforces less than the schema says.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jsonschema
from peers import (  # run as a script: benchmarks/ is on sys.path
    PeerUnsupported,
    load_llama3_vocab,
    load_peers,
)

import structgen

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"


def _schema(data: Path, name: str) -> Any:
    subset = name.split("/", 1)[0]
    with open(data / "jsonschemabench" / f"{subset}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and json.loads(line)["id"] == name:
                return json.loads(line)["schema"]
    raise KeyError(f"{name} is not in {data / 'jsonschemabench' / subset}.jsonl")


def _structgen(schema: Any) -> structgen.Grammar | str:
    try:
        return structgen.compile(schema, spec_faithful=True, unicode_escapes="controls",
                                 timeout_s=8)
    except structgen.StructgenError as exc:
        return f"refused ({type(exc).__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--peers", nargs="*", default=["xgrammar", "llguidance"],
                        help="outlines-core is left out by default: its index build on "
                             "these schemas runs for minutes")
    args = parser.parse_args()
    cases = json.loads((HERE / "data" / "counterexamples.json").read_text(encoding="utf-8"))
    vocab = load_llama3_vocab()
    peers = load_peers(args.peers, vocab=vocab, options={"xgrammar": {"strict_mode": False}})
    schemas = {name: _schema(args.data, name) for name in {c["schema"] for c in cases}}
    engines: dict[str, dict[str, Any]] = {name: {} for name in schemas}
    for name, schema in schemas.items():
        engines[name]["structgen"] = _structgen(schema)
        for peer in peers:
            try:
                engines[name][peer.name] = (peer, peer.compile(schema))
            except PeerUnsupported as exc:
                engines[name][peer.name] = f"refused ({str(exc)[:60]})"
    names = ["structgen", *(p.name for p in peers)]
    print("| schema | instance | jsonschema | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for case in cases:
        schema = schemas[case["schema"]]
        text = json.dumps(case["instance"])
        valid = jsonschema.validators.validator_for(schema)(schema).is_valid(case["instance"])
        cells = []
        for engine in names:
            compiled = engines[case["schema"]][engine]
            if isinstance(compiled, str):
                cells.append(compiled)
            elif isinstance(compiled, structgen.Grammar):  # its spelling: declared order
                spelled = compiled.serialize(case["instance"])
                cells.append("accepts" if compiled.accepts(spelled) else "rejects")
            else:
                peer, grammar = compiled
                accepted = peer.accepts_tokens(grammar, vocab.encode(text))
                cells.append("accepts" if accepted else "rejects")
        verdict = "valid" if valid else "invalid"
        print(f"| {case['schema']} | {case['why']} | {verdict} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
