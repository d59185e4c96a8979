"""Sampling settings and the samplers that pick a token from masked logits.

The order matches ``transformers``' logits processors, with the grammar mask in the
middle: repetition penalty, mask, temperature, top-p, draw. Masking before top-p matters:
the nucleus is taken among allowed tokens only, so a constraint never leaves top-p with
nothing to keep.

Every row draws from its own random stream, seeded from ``(seed, row)``, so a sequence's
tokens do not depend on which other sequences share its batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import torch

__all__ = ["Sampling", "sample_numpy", "sample_torch"]


@dataclass(frozen=True, slots=True)
class Sampling:
    """How to pick tokens.

    Parameters
    ----------
    temperature
        ``0`` is greedy (argmax). The Hermes 2 Pro card samples at 0.8.
    top_p
        Nucleus: keep the smallest set of most likely allowed tokens whose probability
        reaches ``top_p``; ``1.0`` keeps all.
    repetition_penalty
        Divide positive logits (multiply negative ones) of tokens already in the sequence,
        prompt included, as ``transformers`` does; ``1.0`` is off, the Hermes card uses 1.1.
    seed
        Seeds each row's random stream; ``None`` draws fresh entropy.
    row_ids
        Stable ids of the rows (record numbers), so that a row's stream follows the record
        rather than its position in whatever batch it lands in (batches differ between
        executors: one process, Ray workers); default: the positions.
    """

    temperature: float = 0.8
    top_p: float = 1.0
    repetition_penalty: float = 1.1
    seed: int | None = None
    row_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not self.repetition_penalty > 0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def row_seed(self, row: int) -> int | None:
        """The seed of row ``row``'s stream (``None`` when unseeded), from its id when
        ``row_ids`` is given."""
        if self.seed is None:
            return None
        row_id = row if self.row_ids is None else self.row_ids[row]
        return (self.seed * 1_000_003 + row_id) % 2**63


def sample_numpy(
    logits: npt.NDArray[np.floating],
    sampling: Sampling,
    rng: np.random.Generator,
    seen: npt.NDArray[np.bool_] | None = None,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> int:
    """One token from a row of logits (modified in place by the penalty).

    With a mask, only the allowed tokens are scored: the softmax and the draw run over
    that subset, so a constrained step costs less than a free one (a few allowed tokens
    against the whole vocabulary). The draw is an inverse-CDF lookup of one uniform.

    Parameters
    ----------
    logits
        ``float[width]``.
    seen
        ``bool[width]``: tokens already in the sequence, for the repetition penalty.
    allowed
        ``bool[width]``: the grammar's mask; ``None`` allows every token.
    """
    if seen is not None and sampling.repetition_penalty != 1.0:
        penalty = sampling.repetition_penalty
        hit = np.flatnonzero(seen)
        scores = logits[hit]
        logits[hit] = np.where(scores < 0, scores * penalty, scores / penalty)
    candidates = None if allowed is None else np.flatnonzero(allowed)
    scores = logits if candidates is None else logits[candidates]
    if scores.size == 0 or not np.isfinite(scores).any():
        raise ValueError("no token is allowed: every logit is -inf after masking")
    if sampling.greedy:
        choice = int(np.argmax(scores))
    else:
        scaled = scores.astype(np.float64)
        scaled -= scaled.max()
        scaled /= sampling.temperature
        probs = np.exp(scaled)
        if sampling.top_p < 1.0:
            order = np.argsort(-probs, kind="stable")
            ranked = probs[order]
            cumulative = np.cumsum(ranked)
            keep = cumulative - ranked < sampling.top_p * cumulative[-1]
            keep[0] = True
            probs[order[~keep]] = 0.0
        cdf = np.cumsum(probs)
        choice = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        choice = min(choice, scores.size - 1)
    return choice if candidates is None else int(candidates[choice])


def sample_torch(
    logits: torch.Tensor,
    sampling: Sampling,
    generators: list[Any],
    seen: torch.Tensor | None = None,
) -> torch.Tensor:
    """One token per row from ``float[batch, width]`` logits, already masked (in place).

    ``generators`` holds one ``torch.Generator`` per row, on the logits' device.
    """
    import torch

    if seen is not None and sampling.repetition_penalty != 1.0:
        penalty = sampling.repetition_penalty
        penalized = torch.where(logits < 0, logits * penalty, logits / penalty)
        logits = torch.where(seen, penalized, logits)
    if sampling.greedy:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / sampling.temperature, dim=-1)
    if sampling.top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        cumulative = sorted_probs.cumsum(dim=-1)
        drop_sorted = cumulative - sorted_probs >= sampling.top_p
        drop_sorted[:, 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(1, order, drop_sorted)
        probs = probs.masked_fill(drop, 0.0)
    rows = [
        torch.multinomial(probs[row], 1, generator=generators[row])
        for row in range(probs.shape[0])
    ]
    return torch.cat(rows)
