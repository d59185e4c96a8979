"""A byte-level stand-in model for fast API tests, and the embedded model for a few real ones.

``FakeModel`` picks a random allowed token at each step (EOS half the time it is allowed):
outputs are noise, so validity comes from the grammar alone. A prompt containing ``CRASH``
makes it raise, to test that one record's failure does not cost its batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

import structgen
from structgen.guide import Guide
from structgen.integrations.model import Completion, check_guides, decode_tokens, fit_context
from structgen.integrations.sampling import Sampling

EOS = 256


class FakeModel:
    name = "fake-bytes"
    context_length = 600

    def __init__(self) -> None:
        self.vocab = structgen.Vocabulary.from_token_bytes(
            [bytes([b]) for b in range(256)] + [None],
            special_tokens={EOS: "<eos>"},
            eos_token_ids=EOS,
        )
        self.batches: list[int] = []

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, token_ids: Sequence[int]) -> str:
        return decode_tokens(self.vocab, token_ids)

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        return "".join(f"<{m['role']}>{m['content']}\n" for m in messages) + "<assistant>"

    def generate_tokens(
        self,
        prompts: Sequence[Sequence[int]],
        guides: Sequence[Guide] | None,
        *,
        max_tokens: int,
        sampling: Sampling,
        jump_forward: bool = True,
    ) -> list[Completion]:
        check_guides(self.vocab, guides, len(prompts))
        self.batches.append(len(prompts))
        if any(b"CRASH" in bytes(p) for p in prompts):
            raise RuntimeError("the engine fell over")
        out = []
        for row, prompt in enumerate(prompts):
            rng = np.random.default_rng(sampling.row_seed(row))
            budget = fit_context(len(prompt), max_tokens, self.context_length)
            assert guides is not None
            guide = guides[row]
            tokens: list[int] = []
            finish = "length"
            while len(tokens) < budget:
                allowed = guide.allowed_token_ids()
                stop = EOS in allowed and rng.random() < 0.5
                token = EOS if stop else int(rng.choice(allowed))
                guide.advance(token)
                if token == EOS:
                    finish = "stop"
                    break
                tokens.append(token)
            out.append(Completion(
                token_ids=tuple(tokens), text=self.decode(tokens), finish_reason=finish,
                prompt_tokens=len(prompt), forward_passes=len(tokens) + 1, forced_tokens=0,
                prefill_s=0.0, decode_s=0.001, mask_s=0.0,
            ))
        return out


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture(scope="session")
def smollm() -> Any:
    """The embedded default model (loaded once per test session)."""
    return structgen.models.default()
