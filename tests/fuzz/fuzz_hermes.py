"""Hostile model outputs for the Hermes parsers, and the check they must pass.

The texts are built from fragments a parser can trip on: tags (whole, cut, inside strings),
quotes, escapes, braces, end-of-turn markers, Python literals, huge numbers and lone
surrogates. Shared by ``tests/fuzz`` and ``benchmarks/fuzz.py``.
"""

from __future__ import annotations

import random

from structgen.hermes.parser import parse_tool_calls
from structgen.hermes.stream import ContentDelta, ToolCallStreamParser

FRAGMENTS = [
    "<tool_call>", "</tool_call>", "<tool_", "</tool", "call>", "<|im_end|>", "<|im_", "end|>",
    "{", "}", "[", "]", '"', "'", "\\", '\\"', ":", ", ", "\n", " ", "&", "<", ">",
    '{"name": "f", "arguments": {"a": 1}}', '{"name": "g"}', '"arguments"', '"name"',
    "{'name': 'h', 'arguments': {'x': (1, 2)}}", '{"name": "f"}, "arguments": {}}',
    '"</tool_call>"', "'<tool_call>'", "null", "NaN", "1e400", "9" * 5000, "é", "😀",
    "\ud800", "\x00", "prose ", "True", "[[[[", "]]]]",
]


def random_output(rng: random.Random, *, pieces: int = 30) -> str:
    """A text of random fragments; now and then a long run of one of them."""
    parts = []
    for _ in range(rng.randrange(pieces + 1)):
        fragment = rng.choice(FRAGMENTS)
        parts.append(fragment * (rng.choice([1, 1, 1, 2, 200]) if len(fragment) < 20 else 1))
    return "".join(parts)


def random_split(text: str, rng: random.Random, *, mean: int = 4) -> list[str]:
    """``text`` cut into deltas of about ``mean`` characters (a token's worth)."""
    pieces, i = [], 0
    while i < len(text):
        step = max(1, min(len(text), int(min(rng.expovariate(1 / mean), 1e9))))
        pieces.append(text[i:i + step])
        i += step
    return pieces


def check_output(text: str, pieces: list[str]) -> list[str]:
    """Problems found: streaming and whole-text parsing must agree, and must not raise."""
    expected = parse_tool_calls(text)
    parser = ToolCallStreamParser()
    events = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.close()
    got = parser.result()
    problems = []
    if got != expected:
        problems.append(f"stream != whole text for {text[:200]!r}")
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    if content != (expected.content or ""):
        problems.append(f"content deltas differ for {text[:200]!r}")
    return problems
