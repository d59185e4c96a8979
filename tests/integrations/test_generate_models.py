"""Constrained generation with real models: every sampled output parses, validates and
finishes within ``max_tokens``; jump-forward saves forward passes and keeps outputs valid."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import structgen
from structgen.integrations.sampling import Sampling

SCHEMAS = Path(__file__).parents[2] / "schemas"
MODELS = ["smollm_llamacpp", "smollm_transformers", "random_llama3"]
CASES = {
    "sentiment.json": "Classify: 'The battery died after two days, but support was great.'",
    "address.json": "Extract the address: 221B Baker Street, London NW1 6XE, United Kingdom.",
    "tool_weather.json": "Arguments for a weather lookup: Oslo, 3 days, in celsius.",
}


def load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


@pytest.mark.slow
@pytest.mark.parametrize("model_name", MODELS)
def test_sampled_outputs_always_validate(model_name: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(model_name)
    max_tokens = 96
    for name, prompt in CASES.items():
        schema = load(name)
        outputs = structgen.generate(
            model, prompt, schema, n=2, max_tokens=max_tokens, temperature=0.8, seed=7
        )
        for output in outputs:
            assert output.valid, (name, output.text, output.errors)
            assert output.finish_reason == "stop"
            assert output.completion_tokens < max_tokens
            jsonschema.validate(json.loads(output.text), schema)


@pytest.mark.parametrize("model_name", MODELS)
def test_jump_forward_saves_passes_and_stays_in_the_language(
    model_name: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(model_name)
    grammar = structgen.compile(load("address.json"))
    index = grammar.index(model.vocab)
    prompt = model.encode(model.chat_prompt([{"role": "user", "content": CASES["address.json"]}]))
    [completion] = model.generate_tokens(
        [prompt],
        [index.guide(max_tokens=128)],
        max_tokens=128,
        sampling=Sampling(seed=3),
        jump_forward=True,
    )
    assert completion.forced_tokens > 0
    # One pass for the prefill, one per sampled token except a last one that finishes it:
    # the forced tokens rode along in those passes.
    sampled = completion.completion_tokens - completion.forced_tokens
    assert completion.forward_passes <= sampled + 1
    assert grammar.accepts(completion.text)
    guide = index.guide(max_tokens=128)
    for token_id in completion.token_ids:
        guide.advance(token_id)  # raises if the grammar disallows any token
    assert guide.is_finished()


def first_disagreement(index: structgen.TokenIndex, model, token_ids) -> int | None:
    """Where a run without jump-forward first spelled a forced run with other tokens than
    jump-forward appends (a token position), or None if it never did."""
    from structgen.integrations.model import jump_tokenizer

    tokenize = jump_tokenizer(model._tokenize_bytes)
    guide = index.guide()
    position = 0
    while position < len(token_ids):
        forced = guide.forced_tokens(tokenize)
        if forced:
            if list(token_ids[position : position + len(forced)]) != forced:
                return position
            for token_id in forced:
                guide.advance(token_id)
            position += len(forced)
            continue
        guide.advance(token_ids[position])
        position += 1
    return None


@pytest.mark.parametrize("model_name", ["smollm_llamacpp", "random_llama3"])
def test_greedy_jump_forward_matches_plain_decoding_until_the_model_disagrees(
    model_name: str, request: pytest.FixtureRequest
) -> None:
    """Greedy decoding with and without jump-forward gives the same tokens up to the first
    forced run that the model, left to itself, spells with other tokens than the
    tokenizer's split (``{`` then ``"`` instead of ``{"``): from there it conditions on a
    different token sequence and may write different free text. Where it never disagrees,
    the outputs are identical. (Evaluating a forced run in one pass rather than token by
    token changes the logits by rounding only; a greedy tie within rounding could still
    flip, which these fixed prompts do not hit.)"""
    model = request.getfixturevalue(model_name)
    grammar = structgen.compile(load("tool_weather.json"))
    index = grammar.index(model.vocab)
    prompt = model.encode(
        model.chat_prompt([{"role": "user", "content": CASES["tool_weather.json"]}])
    )
    runs = {
        jump: model.generate_tokens(
            [prompt],
            [index.guide(max_tokens=96)],
            max_tokens=96,
            sampling=Sampling(temperature=0),
            jump_forward=jump,
        )[0]
        for jump in (True, False)
    }
    assert runs[True].forced_tokens > 0
    assert runs[True].forward_passes < runs[False].forward_passes
    split = first_disagreement(index, model, runs[False].token_ids)
    if split is None:
        assert runs[True].token_ids == runs[False].token_ids
    else:
        assert runs[True].token_ids[:split] == runs[False].token_ids[:split]
        assert runs[True].token_ids[split:] != runs[False].token_ids[split:]
    assert grammar.accepts(runs[True].text) and grammar.accepts(runs[False].text)


def test_unconstrained_generation_is_marked_invalid_not_raised(smollm_llamacpp) -> None:
    output = structgen.generate(
        smollm_llamacpp, "Say hello.", {"type": "integer"}, constrain=False, max_tokens=12, seed=0
    )
    assert not output.constrained
    if not output.valid:
        with pytest.raises(structgen.OutputValidationError):
            _ = output.value
    else:
        assert isinstance(output.value, int)
