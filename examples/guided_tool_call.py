"""Drive a Hermes tool call token by token with structgen's guide.

A real model picks tokens by its logits; here a seeded random choice among the allowed
tokens stands in for it, which is the hardest case: whatever is picked, the output is a
complete tool call that parses and validates.

    python examples/guided_tool_call.py
"""

from __future__ import annotations

import random

import jsonschema

import structgen
from structgen import hermes


def get_weather(city: str, days: int = 1) -> str:
    """Forecast for a city.

    Args:
        city: City name.
        days: Days ahead.
    """
    return f"{city}: sunny for {days} day(s)"


def main() -> None:
    vocab = structgen.Vocabulary.llama3()
    grammar = hermes.tool_call_grammar([get_weather], tool_choice="required", parallel=False)
    guide = structgen.Guide(grammar.index(vocab), max_tokens=60)
    rng = random.Random(7)
    text = b""
    while not guide.is_finished():
        token = int(rng.choice(guide.allowed_token_ids()))
        guide.advance(token)
        text += vocab.token_bytes[token] or b""
    parsed = hermes.parse_tool_calls(text.decode("utf-8"))
    call = parsed.calls[0]
    schema = hermes.as_tool(get_weather)["function"]["parameters"]
    jsonschema.validate(call.arguments, schema)
    print(text.decode("utf-8"))
    print(f"-> {call.name}({call.arguments}) is valid; within 60 tokens")


if __name__ == "__main__":
    main()
