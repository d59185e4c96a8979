"""Bad input to generation gets a clear error, before any decoding."""

from __future__ import annotations

import pytest

import structgen
from structgen.integrations.sampling import Sampling

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def test_prompt_longer_than_the_context(smollm_llamacpp) -> None:
    prompt = "word " * (smollm_llamacpp.context_length + 10)
    with pytest.raises(structgen.ContextLengthError, match="context holds 4096"):
        structgen.generate(smollm_llamacpp, prompt, SCHEMA, chat=False)


def test_max_tokens_below_the_shortest_output(smollm_llamacpp) -> None:
    with pytest.raises(structgen.TokenBudgetError):
        structgen.generate(smollm_llamacpp, "hi", SCHEMA, max_tokens=2)


def test_guide_for_another_vocabulary(smollm_llamacpp) -> None:
    llama3 = structgen.compile(SCHEMA).index(structgen.Vocabulary.llama3())
    with pytest.raises(structgen.VocabularyError, match="another vocabulary"):
        smollm_llamacpp.generate_tokens(
            [smollm_llamacpp.encode("hi")],
            [llama3.guide(max_tokens=16)],
            max_tokens=16,
            sampling=Sampling(),
        )


def test_gguf_path_that_does_not_exist(tmp_path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(FileNotFoundError, match="no GGUF model file"):
        structgen.models.llamacpp(missing)


def test_tokenizer_without_chat_template(random_llama3) -> None:
    bare = structgen.models.transformers(random_llama3.model, random_llama3.tokenizer)
    with pytest.raises(ValueError, match="no chat template"):
        structgen.generate(bare, "hi", SCHEMA)
    output = structgen.generate(bare, "hi", SCHEMA, chat=False, max_tokens=24, seed=0)
    assert output.valid


@pytest.mark.parametrize(
    ("option", "value"), [("temperature", -1.0), ("top_p", 0.0), ("repetition_penalty", 0.0)]
)
def test_bad_sampling_values(option: str, value: float) -> None:
    with pytest.raises(ValueError, match=option):
        Sampling(**{option: value})
