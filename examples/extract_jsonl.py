"""An extraction pipeline over a JSONL file: batched, per-record errors, resumable.

Reads ``examples/data/support_tickets.jsonl`` (one object per line, some of them broken on
purpose) and writes one result per line to the output file. Run it twice: the second run
reads the finished records back instead of generating them again.

    python examples/extract_jsonl.py [OUT.jsonl]
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

import structgen

DATA = Path(__file__).parent / "data" / "support_tickets.jsonl"


class Ticket(BaseModel):
    product: str = Field(max_length=20)
    urgency: Literal["low", "medium", "high"]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "tickets.jsonl"
    results = structgen.extract(
        DATA, Ticket,
        prompt="Support ticket from {customer}:\n{text}",
        batch_size=4, max_tokens=40, out=out,
    )
    counts: Counter[str] = Counter()
    for result in results:
        shown = repr(result.value) if result.ok else f"error {result.error}"
        print(f"{result.index:>2} {'resumed ' if result.resumed else ''}{shown}")
        counts["ok" if result.ok else result.error.kind] += 1
    print(f"results in {out}: {dict(counts)}")


if __name__ == "__main__":
    main()
