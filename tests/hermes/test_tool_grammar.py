"""The tool-call grammar: calls that parse, name a real tool and validate, under random walks."""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

import structgen
from structgen.hermes import parse_tool_calls, tool_call_grammar


def get_weather(city: str, days: int = 1, unit: str = "celsius") -> str:
    """Forecast for a city.

    Args:
        city: City name.
        days: Days ahead, 1 to 7.
        unit: celsius or fahrenheit.
    """
    return f"{city}: sunny"


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


TOOLS = [get_weather, add]
CALL = '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>'


def test_language_of_auto() -> None:
    grammar = tool_call_grammar(TOOLS)
    assert grammar.accepts(CALL)
    assert grammar.accepts("Let me add. " + CALL)
    assert grammar.accepts(CALL + "\n" + CALL)
    assert grammar.accepts("No tools needed.")
    assert not grammar.accepts("text with <tool_call> inside")
    assert not grammar.accepts(CALL.replace('"add"', '"mul"'))
    assert not grammar.accepts(CALL.replace('"a": 1', '"a": "1"'))
    assert not grammar.accepts(CALL.replace('"b": 2', '"c": 2'))


def test_tool_choice_variants() -> None:
    required = tool_call_grammar(TOOLS, tool_choice="required", parallel=False)
    assert required.accepts(CALL)
    assert not required.accepts("Sure. " + CALL)
    assert not required.accepts(CALL + "\n" + CALL)
    named = tool_call_grammar(TOOLS, tool_choice="get_weather")
    assert not named.accepts(CALL)
    assert named.accepts('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}'
                         "\n</tool_call>")
    none = tool_call_grammar(TOOLS, tool_choice="none")
    assert none.accepts("Plain answer.")
    assert not none.accepts(CALL)
    with pytest.raises(ValueError, match="tool_choice"):
        tool_call_grammar(TOOLS, tool_choice="nope")


def test_arguments_first_order() -> None:
    grammar = tool_call_grammar(TOOLS, key_order="arguments", tool_choice="required")
    assert grammar.accepts('<tool_call>\n{"arguments": {"a": 1, "b": 2}, "name": "add"}'
                           "\n</tool_call>")
    assert not grammar.accepts(CALL)


def _walk(grammar: structgen.Grammar, vocab: structgen.Vocabulary, seed: int,
          max_tokens: int) -> tuple[bytes, list[int]]:
    guide = structgen.Guide(grammar.index(vocab), max_tokens=max_tokens)
    rng = random.Random(seed)
    out, ids = b"", []
    while not guide.is_finished():
        token = int(rng.choice(guide.allowed_token_ids()))
        ids.append(token)
        guide.advance(token)
        out += vocab.token_bytes[token] or b""
    return out, ids


def test_random_walks_give_valid_calls_llama3() -> None:
    vocab = structgen.Vocabulary.llama3()
    grammar = tool_call_grammar(TOOLS, tool_choice="required")
    schemas = {spec["function"]["name"]: spec["function"]["parameters"]
               for spec in structgen.hermes.as_tools(TOOLS)}
    for seed in range(8):
        text, _ = _walk(grammar, vocab, seed, max_tokens=120)
        parsed = parse_tool_calls(text.decode("utf-8"))
        assert not parsed.errors, (text, parsed.errors)
        assert parsed.calls
        for call in parsed.calls:
            assert call.name in schemas
            jsonschema.validate(call.arguments, schemas[call.name])


def test_special_tags_are_single_symbols_and_none_never_emits_them() -> None:
    tags = ("<tool_call>", "</tool_call>")
    base = structgen.Vocabulary.llama3()
    # A Hermes-like vocabulary: the tags are special tokens of their own.
    special = structgen.Vocabulary.from_token_bytes(
        [*base.token_bytes[:128000], None, None, None],
        special_tokens={128000: tags[0], 128001: tags[1], 128002: "<|im_end|>"},
        eos_token_ids=(128002,),
    )
    required = tool_call_grammar(TOOLS, tool_choice="required", special_tags=True,
                                 parallel=False)
    text, ids = _walk(required, special, seed=3, max_tokens=120)
    assert ids[0] == 128000 and 128001 in ids
    body = json.loads(text.decode("utf-8"))
    assert body["name"] in {"get_weather", "add"}
    none = tool_call_grammar(TOOLS, tool_choice="none", special_tags=True)
    guide = structgen.Guide(none.index(special), max_tokens=40)
    allowed = set(guide.allowed_token_ids().tolist())
    assert 128000 not in allowed and 128001 not in allowed
