"""`BatchGuide`: many sequences decoded together, one bitmask for the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from structgen.guide import kernels
from structgen.guide.guide import Guide
from structgen.index.token_index import TokenIndex

__all__ = ["BatchGuide"]


class BatchGuide:
    """Guides for a batch of sequences, which may use different grammars and finish apart.

    Each step: :meth:`fill_bitmask` writes every row into one preallocated
    ``int32[batch, n_words]`` bitmask (host work; the trie walks release the GIL, so this
    can run in a thread while the model computes the step's logits), :meth:`apply` masks
    the logits on their own device (one copy of the bitmask, unpacked there by the torch
    kernel), and :meth:`advance` consumes the sampled tokens. A finished row (EOS
    consumed, or only EOS left) allows only EOS and ``pad_token_id``, so an engine that
    keeps stepping the whole batch can pad it.

    Parameters
    ----------
    guides
        One guide per row; all indexes must share ``n_words`` (the same vocabulary size).
    pad_token_id
        Also allowed on finished rows.

    Raises
    ------
    ValueError
        If ``guides`` is empty or the guides' vocabularies differ in width.
    """

    def __init__(self, guides: Sequence[Guide], *, pad_token_id: int | None = None) -> None:
        self.guides = list(guides)
        if not self.guides:
            raise ValueError("a BatchGuide needs at least one guide")
        widths = {g.index.n_words for g in self.guides}
        if len(widths) != 1:
            raise ValueError(f"guides disagree on the bitmask width (n_words): {sorted(widths)}")
        self.n_words = widths.pop()
        self.pad_token_id = pad_token_id
        self._done_masks: dict[int, npt.NDArray[np.uint32]] = {}

    @classmethod
    def from_index(
        cls,
        index: TokenIndex,
        batch_size: int,
        *,
        max_tokens: int | None = None,
        pad_token_id: int | None = None,
    ) -> BatchGuide:
        """``batch_size`` fresh guides over one index."""
        return cls(
            [Guide(index, max_tokens=max_tokens) for _ in range(batch_size)],
            pad_token_id=pad_token_id,
        )

    def __len__(self) -> int:
        return len(self.guides)

    @property
    def batch_size(self) -> int:
        return len(self.guides)

    def allocate_bitmask(self) -> npt.NDArray[np.int32]:
        """A zeroed numpy ``int32[batch, n_words]`` bitmask (torch:
        ``structgen.guide.kernels.torch.allocate_bitmask``)."""
        return kernels.allocate_bitmask(len(self.guides), self.n_words)

    def finished(self) -> npt.NDArray[np.bool_]:
        """Per row, whether it is finished."""
        return np.fromiter((g.is_finished() for g in self.guides), dtype=np.bool_)

    def is_finished(self) -> bool:
        """Whether every row is finished."""
        return all(g.is_finished() for g in self.guides)

    def _done_mask(self, guide: Guide) -> npt.NDArray[np.uint32]:
        index = guide.index
        key = id(index)
        words = self._done_masks.get(key)
        if words is None:
            words = np.zeros(self.n_words, dtype=np.uint32)
            ids = [*index.vocab.eos_token_ids]
            if self.pad_token_id is not None:
                ids.append(self.pad_token_id)
            for token_id in ids:
                if 0 <= token_id < 32 * self.n_words:
                    words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
            self._done_masks[key] = words
        return words

    def row_mask(self, row: int) -> npt.NDArray[np.uint32]:
        """Row ``row``'s packed bitset as :meth:`fill_bitmask` writes it."""
        guide = self.guides[row]
        return self._done_mask(guide) if guide.is_finished() else guide.mask()

    def fill_bitmask(self, bitmask: Any) -> None:
        """Write every row's allowed tokens into ``bitmask``.

        Parameters
        ----------
        bitmask
            numpy or torch ``int32[batch, n_words]``. A CPU tensor (pinned, ideally) is
            written in place; a device tensor receives all rows in one copy.
        """
        rows = list(range(len(self.guides)))
        kernels.write_rows(bitmask, rows, [self.row_mask(r) for r in rows], self.n_words)

    def apply(self, logits: Any, bitmask: Any) -> Any:
        """Set the logits of disallowed tokens to ``-inf``, in place, and return them.

        Parameters
        ----------
        logits
            numpy or torch ``float[batch, width]``; ``width`` may differ from
            ``32 * n_words`` (columns past the bitmask are masked).
        bitmask
            As filled by :meth:`fill_bitmask`; moved to the logits' device if needed.
        """
        return kernels.apply_bitmask(logits, bitmask)

    def advance(self, token_ids: Any) -> None:
        """Consume one sampled token per row.

        Finished rows accept EOS and ``pad_token_id`` and stay finished.

        Raises
        ------
        ValueError
            If the number of tokens differs from the batch size, or a row's token is not
            allowed (the message names the row).
        """
        ids = token_ids.tolist() if hasattr(token_ids, "tolist") else list(token_ids)
        ids = [int(t[0]) if isinstance(t, list) else int(t) for t in ids]
        if len(ids) != len(self.guides):
            raise ValueError(f"expected {len(self.guides)} token ids, got {len(ids)}")
        for row, (guide, token_id) in enumerate(zip(self.guides, ids, strict=True)):
            if guide.is_finished() and (
                guide.index.is_eos(token_id) or token_id == self.pad_token_id
            ):
                if guide.is_allowed(token_id):
                    guide.advance(token_id)  # the EOS that finishes it
                continue
            try:
                guide.advance(token_id)
            except ValueError as exc:
                raise ValueError(f"row {row}: {exc}") from None
