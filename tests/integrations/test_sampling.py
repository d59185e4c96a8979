"""The samplers: masks, greedy ties, top-p, repetition penalty, per-row streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from structgen.integrations.sampling import Sampling, sample_numpy, sample_torch


def test_numpy_never_draws_a_disallowed_token() -> None:
    rng = np.random.default_rng(0)
    allowed = np.zeros(1000, dtype=np.bool_)
    allowed[[3, 500, 999]] = True
    for _ in range(200):
        logits = rng.standard_normal(1000).astype(np.float32) * 5
        token = sample_numpy(logits, Sampling(temperature=1.0), rng, allowed=allowed)
        assert token in (3, 500, 999)


def test_numpy_greedy_is_the_best_allowed_token() -> None:
    logits = np.array([9.0, 1.0, 3.0, 3.0], dtype=np.float32)
    allowed = np.array([False, True, True, True])
    token = sample_numpy(logits, Sampling(temperature=0), np.random.default_rng(), None, allowed)
    assert token == 2  # the first of the tied best, as argmax over the masked row


def test_numpy_top_p_keeps_the_nucleus_only() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05], dtype=np.float64)).astype(np.float32)
    rng = np.random.default_rng(1)
    drawn = {sample_numpy(logits.copy(), Sampling(temperature=1.0, top_p=0.7), rng)
             for _ in range(300)}  # fmt: skip
    assert drawn == {0, 1}


def test_numpy_draws_follow_the_softmax() -> None:
    logits = np.log(np.array([0.7, 0.2, 0.1])).astype(np.float32)
    rng = np.random.default_rng(2)
    counts = np.bincount(
        [sample_numpy(logits.copy(), Sampling(temperature=1.0, repetition_penalty=1.0), rng)
         for _ in range(4000)],
        minlength=3,
    )  # fmt: skip
    assert np.allclose(counts / 4000, [0.7, 0.2, 0.1], atol=0.03)


def test_repetition_penalty_lowers_seen_tokens_either_sign() -> None:
    logits = np.array([2.0, -2.0, 1.0], dtype=np.float32)
    seen = np.array([True, True, False])
    sample_numpy(logits, Sampling(temperature=0, repetition_penalty=2.0), np.random.default_rng(),
                 seen)  # fmt: skip
    assert logits.tolist() == [1.0, -4.0, 1.0]


def test_nothing_allowed_is_an_error() -> None:
    with pytest.raises(ValueError, match="no token is allowed"):
        sample_numpy(np.zeros(4, np.float32), Sampling(), np.random.default_rng(),
                     allowed=np.zeros(4, np.bool_))  # fmt: skip


def test_rows_draw_from_their_own_seeded_streams() -> None:
    sampling = Sampling(temperature=1.0, seed=5)
    logits = torch.zeros(3, 50)

    def draw(rows: list[int]) -> list[int]:
        generators = [torch.Generator().manual_seed(sampling.row_seed(r)) for r in rows]
        return sample_torch(logits[: len(rows)].clone(), sampling, generators).tolist()

    assert draw([0, 1, 2])[1:] == draw([1, 2])
    ids = Sampling(temperature=1.0, seed=5, row_ids=(7, 8))
    assert ids.row_seed(0) == sampling.row_seed(7)


def test_torch_top_p_and_greedy() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    generators = [torch.Generator().manual_seed(0)]
    drawn = {int(sample_torch(logits.clone(), Sampling(temperature=1.0, top_p=0.7,
                                                       repetition_penalty=1.0), generators))
             for _ in range(200)}  # fmt: skip
    assert drawn == {0, 1}
    assert int(sample_torch(logits.clone(), Sampling(temperature=0), generators)) == 0
