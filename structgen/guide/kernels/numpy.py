"""Bitmask kernels for numpy arrays (and the reference the torch kernels are tested against)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["allocate_bitmask", "apply_bitmask", "check_bitmask", "unpack", "write_rows"]


def allocate_bitmask(batch_size: int, n_words: int) -> npt.NDArray[np.int32]:
    """A zeroed ``int32[batch_size, n_words]`` bitmask.

    int32 rather than uint32 because torch long lacked uint32 and engines (xgrammar, vLLM)
    share int32 bitmasks; the bits are the same.
    """
    return np.zeros((batch_size, n_words), dtype=np.int32)


def check_bitmask(shape: tuple[int, ...], dtype: Any, n_words: int, what: str) -> None:
    """Raise ``ValueError``/``TypeError`` naming expected and actual layout."""
    if str(dtype) not in ("int32", "torch.int32"):
        raise TypeError(f"{what} must have dtype int32, got {dtype}")
    if len(shape) != 2 or shape[1] != n_words:
        raise ValueError(
            f"{what} must have shape (batch, {n_words}) = (batch, ceil(embedding_rows / 32)), "
            f"got {tuple(shape)}"
        )


def write_rows(
    bitmask: npt.NDArray[np.int32],
    rows: list[int],
    masks: list[npt.NDArray[np.uint32]],
    n_words: int,
) -> None:
    check_bitmask(bitmask.shape, bitmask.dtype, n_words, "bitmask")
    for row, words in zip(rows, masks, strict=True):
        bitmask[row] = words.view(np.int32)


def unpack(bitmask: npt.NDArray[np.int32], width: int) -> npt.NDArray[np.bool_]:
    """``bool[batch, width]`` from bit ``t % 32`` of word ``t // 32``; False past the mask."""
    words = np.ascontiguousarray(bitmask, dtype="<i4")
    bits = np.unpackbits(words.view(np.uint8), axis=-1, bitorder="little").astype(np.bool_)
    if bits.shape[-1] >= width:
        return bits[..., :width]
    pad = np.zeros((*bits.shape[:-1], width - bits.shape[-1]), dtype=np.bool_)
    return np.concatenate([bits, pad], axis=-1)


def apply_bitmask(logits: npt.NDArray[np.floating], bitmask: npt.NDArray[np.int32]) -> Any:
    """Set ``logits[i, t]`` to ``-inf`` where bit ``t`` of row ``i`` is clear; in place."""
    mask = np.asarray(bitmask)
    if logits.ndim == 1:
        allowed = unpack(mask.reshape(1, -1), logits.shape[0])[0]
    else:
        if mask.shape[0] != logits.shape[0]:
            raise ValueError(f"bitmask has {mask.shape[0]} rows but logits have {logits.shape[0]}")
        allowed = unpack(mask, logits.shape[-1])
    logits[~allowed] = -np.inf
    return logits
