"""Bitmask kernels for torch tensors: unpacked and applied on the logits' device."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from structgen.guide.kernels.numpy import check_bitmask

__all__ = ["allocate_bitmask", "apply_bitmask", "write_rows"]


def allocate_bitmask(batch_size: int, n_words: int, *, pin_memory: bool = False) -> torch.Tensor:
    """A zeroed CPU ``torch.int32[batch_size, n_words]`` bitmask.

    Pinned memory lets :func:`apply_bitmask` copy it to a GPU without blocking the host.
    """
    return torch.zeros((batch_size, n_words), dtype=torch.int32, pin_memory=pin_memory)


def write_rows(
    bitmask: torch.Tensor, rows: list[int], masks: list[npt.NDArray[np.uint32]], n_words: int
) -> None:
    """Write rows on the host; a device bitmask gets them in one copy."""
    check_bitmask(tuple(bitmask.shape), bitmask.dtype, n_words, "bitmask")
    if bitmask.device.type == "cpu":
        host = bitmask.numpy()
        for row, words in zip(rows, masks, strict=True):
            host[row] = words.view(np.int32)
        return
    staged = np.stack([words.view(np.int32) for words in masks])
    index = torch.as_tensor(rows, dtype=torch.long, device=bitmask.device)
    bitmask.index_copy_(0, index, torch.from_numpy(staged).to(bitmask.device))


_SHIFTS: dict[torch.device, torch.Tensor] = {}


def _shifts(device: torch.device) -> torch.Tensor:
    shifts = _SHIFTS.get(device)
    if shifts is None:
        shifts = _SHIFTS[device] = torch.arange(32, dtype=torch.int32, device=device)
    return shifts


def apply_bitmask(logits: torch.Tensor, bitmask: torch.Tensor) -> torch.Tensor:
    """Set ``logits[i, t]`` to ``-inf`` where bit ``t`` of row ``i`` is clear; in place.

    The bitmask moves to the logits' device in one (non-blocking) copy and is unpacked
    there with shifts, so no per-row host work or synchronisation happens. Columns beyond
    the bitmask's ``32 * n_words`` are masked too.
    """
    if bitmask.dtype != torch.int32:
        raise TypeError(f"bitmask must have dtype torch.int32, got {bitmask.dtype}")
    squeeze = logits.dim() == 1
    scores = logits.unsqueeze(0) if squeeze else logits
    mask = bitmask.reshape(1, -1) if bitmask.dim() == 1 else bitmask
    if mask.shape[0] != scores.shape[0]:
        raise ValueError(f"bitmask has {mask.shape[0]} rows but logits have {scores.shape[0]}")
    mask = mask.to(scores.device, non_blocking=True)
    batch, width = scores.shape
    bits = (mask.unsqueeze(-1) >> _shifts(scores.device)) & 1
    allowed = bits.reshape(batch, -1).to(torch.bool)
    if allowed.shape[1] >= width:
        allowed = allowed[:, :width]
    else:
        pad = torch.zeros(batch, width - allowed.shape[1], dtype=torch.bool, device=scores.device)
        allowed = torch.cat([allowed, pad], dim=1)
    scores.masked_fill_(~allowed, float("-inf"))
    return logits
