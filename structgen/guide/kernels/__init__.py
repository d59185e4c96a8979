"""Bitmask kernels per array library, picked by the type of the array passed in.

``numpy`` arrays go to :mod:`structgen.guide.kernels.numpy`; torch tensors to
:mod:`structgen.guide.kernels.torch`, imported only when a tensor arrives (so that
``import structgen`` never imports torch).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from structgen.guide.kernels import numpy as numpy_kernels

__all__ = ["allocate_bitmask", "apply_bitmask", "backend", "write_rows"]


def backend(array: Any) -> ModuleType:
    """The kernel module for ``array``: numpy or torch."""
    if isinstance(array, np.ndarray):
        return numpy_kernels
    if type(array).__module__.split(".")[0] == "torch":
        from structgen.guide.kernels import torch as torch_kernels

        return torch_kernels
    raise TypeError(
        f"expected a numpy array or a torch tensor, got {type(array).__module__}."
        f"{type(array).__name__}"
    )


def write_rows(
    bitmask: Any, rows: list[int], masks: list[npt.NDArray[np.uint32]], n_words: int
) -> None:
    """Copy packed masks into rows of an ``int32[batch, n_words]`` bitmask (numpy or torch)."""
    backend(bitmask).write_rows(bitmask, rows, masks, n_words)


def apply_bitmask(logits: Any, bitmask: Any) -> Any:
    """Set disallowed logits to ``-inf`` in place, on the logits' own device."""
    return backend(logits).apply_bitmask(logits, bitmask)


def allocate_bitmask(batch_size: int, n_words: int) -> npt.NDArray[np.int32]:
    """A zeroed numpy ``int32[batch_size, n_words]`` bitmask."""
    return numpy_kernels.allocate_bitmask(batch_size, n_words)
