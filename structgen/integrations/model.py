"""The `Model` protocol every engine implements, and what one decoded sequence reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from structgen.errors import ContextLengthError, VocabularyError
from structgen.guide import Guide
from structgen.index import Vocabulary
from structgen.integrations.sampling import Sampling

__all__ = [
    "Completion",
    "Model",
    "check_guides",
    "decode_tokens",
    "fit_context",
    "jump_tokenizer",
    "take_forced",
]

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, slots=True)
class Completion:
    """One decoded sequence.

    ``forward_passes`` counts the model calls that produced this sequence's tokens (the
    prompt's prefill included); with jump-forward, ``forced_tokens`` of its tokens were
    appended without a pass of their own.
    """

    token_ids: tuple[int, ...]
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    forward_passes: int
    forced_tokens: int
    prefill_s: float
    decode_s: float
    mask_s: float

    @property
    def completion_tokens(self) -> int:
        return len(self.token_ids)


@runtime_checkable
class Model(Protocol):
    """A language model structgen can constrain: a vocabulary and a decode loop.

    Implemented by :class:`~structgen.integrations.llamacpp.LlamaCppModel` and
    :class:`~structgen.integrations.transformers.TransformersModel`.
    """

    name: str
    vocab: Vocabulary
    context_length: int

    def encode(self, text: str) -> list[int]:
        """Token ids of a prompt (special-token text is parsed as special tokens)."""
        ...

    def decode(self, token_ids: Sequence[int]) -> str:
        """Text of generated tokens; special tokens other than EOS keep their text."""
        ...

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """``messages`` rendered with the model's chat template, ready for the reply."""
        ...

    def generate_tokens(
        self,
        prompts: Sequence[Sequence[int]],
        guides: Sequence[Guide] | None,
        *,
        max_tokens: int,
        sampling: Sampling,
        jump_forward: bool = True,
    ) -> list[Completion]:
        """Decode one sequence per prompt, each under its guide when ``guides`` is given."""
        ...


def check_guides(vocab: Vocabulary, guides: Sequence[Guide] | None, n: int) -> None:
    """Refuse guides built for another vocabulary, or the wrong number of them."""
    if guides is None:
        return
    if len(guides) != n:
        raise ValueError(f"expected {n} guides (one per prompt), got {len(guides)}")
    for row, guide in enumerate(guides):
        theirs = guide.index.vocab
        if theirs.fingerprint != vocab.fingerprint:
            raise VocabularyError(
                f"guide {row} was built for another vocabulary ({theirs.vocab_size} tokens, "
                f"fingerprint {theirs.fingerprint[:12]}) than the model's ({vocab.vocab_size} "
                f"tokens, fingerprint {vocab.fingerprint[:12]}); build the index with "
                "grammar.index(model.vocab)"
            )


def fit_context(prompt_tokens: int, max_tokens: int, context_length: int) -> int:
    """The generation budget that fits the context, or a clear error if the prompt fills it.

    A budget cut by the context still ends every constrained sequence complete: the guide
    is built with the cut budget.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    room = context_length - prompt_tokens
    if room < 1:
        raise ContextLengthError(
            f"the prompt has {prompt_tokens} tokens but the model's context holds "
            f"{context_length}: shorten the prompt or load the model with a larger context"
        )
    return min(max_tokens, room)


def decode_tokens(vocab: Vocabulary, token_ids: Sequence[int]) -> str:
    """The text of ``token_ids`` from the vocabulary's bytes: EOS writes nothing, another
    special token writes its text (a Hermes ``<tool_call>`` tag), bytes split across tokens
    join before decoding."""
    parts: list[bytes] = []
    eos = set(vocab.eos_token_ids)
    for token_id in token_ids:
        if token_id in eos:
            continue
        data = vocab.token_bytes[token_id] if 0 <= token_id < vocab.vocab_size else None
        if data is None:
            data = vocab.special_tokens.get(token_id, "").encode("utf-8")
        parts.append(data)
    return b"".join(parts).decode("utf-8", errors="replace")


def jump_tokenizer(
    tokenize: Callable[[bytes], Sequence[int]],
) -> Callable[[bytes], list[int]]:
    """The model's tokenizer for forced byte runs (jump-forward), so the model sees the
    split it was trained on; a run that is not whole UTF-8 is not jumped."""

    def run(data: bytes) -> list[int]:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return []
        return list(tokenize(data))

    return run


def take_forced(
    guide: Guide, tokenize: Callable[[bytes], Sequence[int]], room: int
) -> list[int]:
    """Jump-forward: the tokens the grammar forces from the guide's position (at most
    ``room``), split by ``tokenize`` (from :func:`jump_tokenizer`) and consumed by the
    guide."""
    forced = guide.forced_tokens(tokenize)[: max(room, 0)]
    for token_id in forced:
        guide.advance(token_id)
    return forced
