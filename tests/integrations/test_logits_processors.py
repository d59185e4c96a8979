"""structgen's logits processors inside other engines' loops: ``transformers``'
``model.generate`` and outlines' generators (transformers and llama.cpp models)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import llama_cpp
import outlines
import torch

import structgen
from structgen.integrations.outlines import structgen_processor
from structgen.integrations.transformers import StructgenLogitsProcessor

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 20},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "units": {"enum": ["metric", "imperial"]},
    },
    "required": ["city", "days"],
}


def test_hf_generate_batched_with_sampling(random_llama3) -> None:
    grammar = structgen.compile(SCHEMA)
    model, tokenizer = random_llama3.model, random_llama3.tokenizer
    processor = StructgenLogitsProcessor(
        grammar.index(random_llama3.vocab), max_tokens=40, pad_token_id=random_llama3.pad_token_id
    )
    inputs = tokenizer(
        ["Weather in Oslo:", "A much longer prompt about the weather in Bergen:"],
        return_tensors="pt",
        padding=True,
        padding_side="left",
    )
    torch.manual_seed(0)
    output = model.generate(
        **inputs,
        logits_processor=[processor],
        max_new_tokens=40,
        do_sample=True,
        num_return_sequences=3,
        pad_token_id=random_llama3.pad_token_id,
        eos_token_id=sorted(random_llama3.vocab.eos_token_ids),
    )
    rows = output[:, inputs["input_ids"].shape[1] :].tolist()
    assert len(rows) == 6
    for row in rows:
        text = random_llama3.decode([t for t in row if t != random_llama3.pad_token_id])
        assert grammar.accepts(text), text
        assert json.loads(text)["days"] in range(1, 8)


def test_outlines_transformers_model_switches_engine(random_llama3) -> None:
    model = outlines.from_transformers(random_llama3.model, random_llama3.tokenizer)
    generator = outlines.Generator(
        model, processor=structgen_processor(model, SCHEMA, max_tokens=40)
    )
    grammar = structgen.compile(SCHEMA)
    for _ in range(3):
        text = generator("Weather in Oslo:", max_new_tokens=40, do_sample=True)
        assert grammar.accepts(text), text


def test_outlines_llamacpp_model_switches_engine() -> None:
    llama = llama_cpp.Llama(
        model_path=structgen.models.default_model_path(), n_ctx=512, verbose=False
    )
    try:
        model = outlines.from_llamacpp(llama)
        processor = structgen_processor(model, SCHEMA, max_tokens=40)
        generator = outlines.Generator(model, processor=processor)
        grammar = structgen.compile(SCHEMA)
        for seed in range(3):
            text = generator("Weather in Oslo for 3 days, as JSON:", max_tokens=40, seed=seed)
            assert grammar.accepts(text), text
    finally:
        llama.close()


def test_hf_generate_with_a_stack_grammar(random_llama3) -> None:
    """A recursive schema called on a stack: masks per stack configuration, inside
    ``model.generate``, batched; every row is a complete, valid tree within budget."""
    tree = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "tree_node.json")
                      .read_text(encoding="utf-8"))
    grammar = structgen.compile(tree, recursion="stack")
    model, tokenizer = random_llama3.model, random_llama3.tokenizer
    processor = StructgenLogitsProcessor(
        grammar.index(random_llama3.vocab), max_tokens=48,
        pad_token_id=random_llama3.pad_token_id,
    )
    inputs = tokenizer(["A tree:"], return_tensors="pt")
    torch.manual_seed(1)
    output = model.generate(
        **inputs, logits_processor=[processor], max_new_tokens=48, do_sample=True,
        num_return_sequences=4, pad_token_id=random_llama3.pad_token_id,
        eos_token_id=sorted(random_llama3.vocab.eos_token_ids),
    )
    validator = jsonschema.validators.validator_for(tree)(tree)
    for row in output[:, inputs["input_ids"].shape[1]:].tolist():
        text = random_llama3.decode([t for t in row if t != random_llama3.pad_token_id])
        assert grammar.accepts(text), text
        assert validator.is_valid(json.loads(text)), text
