"""`MaskStore`: the eager table's distinct masks, stored as shared blocks of words.

A grammar's distinct masks are mostly alike: over Llama-3 the 1,134 distinct masks of
``schemas/resume.json`` (18 MB as whole bitsets) are almost all-ones inside strings and
almost all-zeros elsewhere, and differ only in a few ranges of token ids. Cut into blocks of
:data:`BLOCK_WORDS` words, they share all but about 10,000 blocks: the store keeps each
distinct block once and, per mask, the ids of its blocks (1.6 MB in all). Reading a mask
gathers its blocks (about 2 microseconds for Llama-3's 4,008 words), byte-exact.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from structgen.index.masks import count_bits

__all__ = ["BLOCK_WORDS", "MaskStore", "MaskStoreBuilder"]

BLOCK_WORDS = 32
"""Words per block (1,024 tokens): small enough that masks share most blocks, large enough
that the per-mask block ids (``uint16`` while under 65,536 distinct blocks) stay small."""


class MaskStore:
    """Distinct masks of ``n_words`` words as block ids into shared blocks.

    Attributes
    ----------
    blocks
        ``uint32[n_blocks, BLOCK_WORDS]``: each distinct block once (the last block of a mask
        is zero-padded past ``n_words``).
    block_ids
        ``uint16`` or ``uint32[n_masks, ceil(n_words / BLOCK_WORDS)]``: mask ``m`` is
        ``blocks[block_ids[m]]`` flattened and cut to ``n_words``.
    n_text
        ``int32[n_masks]``: per mask, how many non-EOS tokens it allows (counted once here
        rather than per token by the guides).
    """

    def __init__(
        self,
        blocks: npt.NDArray[np.uint32],
        block_ids: npt.NDArray[np.unsignedinteger],
        n_text: npt.NDArray[np.int32],
        n_words: int,
    ) -> None:
        n_chunks = -(-n_words // BLOCK_WORDS)
        if (
            blocks.ndim != 2
            or blocks.shape[1] != BLOCK_WORDS
            or block_ids.ndim != 2
            or block_ids.shape[1] != n_chunks
            or n_text.shape != (block_ids.shape[0],)
            or (block_ids.size and int(block_ids.max()) >= blocks.shape[0])
        ):
            raise ValueError("inconsistent mask store arrays")
        self.blocks = _frozen(blocks.astype(np.uint32, copy=False))
        self.block_ids = _frozen(block_ids.astype(_id_dtype(blocks.shape[0]), copy=False))
        self.n_text = _frozen(n_text.astype(np.int32, copy=False))
        self.n_words = n_words

    def __len__(self) -> int:
        return int(self.block_ids.shape[0])

    def words(self, mask: int) -> npt.NDArray[np.uint32]:
        """Mask ``mask`` as a fresh read-only ``uint32[n_words]`` bitset."""
        words = self.blocks.take(self.block_ids[mask], axis=0).reshape(-1)[: self.n_words]
        words.flags.writeable = False
        return words

    def dense(self) -> npt.NDArray[np.uint32]:
        """Every mask as one ``uint32[n_masks, n_words]`` table (built on each call)."""
        flat = self.blocks.take(self.block_ids.reshape(-1), axis=0)
        table = flat.reshape(len(self), -1)[:, : self.n_words]
        return np.ascontiguousarray(table)

    @property
    def nbytes(self) -> int:
        return int(self.blocks.nbytes + self.block_ids.nbytes + self.n_text.nbytes)

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays by name, for the disk cache."""
        return {"mask_blocks": self.blocks, "mask_block_ids": self.block_ids,
                "mask_n_text": self.n_text}


class MaskStoreBuilder:
    """Collects masks one by one, keeping each distinct block and each distinct mask once.

    A mask seen before (most states repeat one) is found by its hash and confirmed against
    its stored blocks, so the build holds no whole bitset beyond the one being added. A new
    mask's ``n_text`` counts its bits outside ``uncounted`` (the EOS bits).
    """

    def __init__(self, n_words: int, uncounted: npt.NDArray[np.uint32]) -> None:
        self.n_words = n_words
        self._counted = ~uncounted
        self._padded = np.zeros(-(-n_words // BLOCK_WORDS) * BLOCK_WORDS, dtype=np.uint32)
        self._block_of: dict[bytes, int] = {}
        self._blocks: list[bytes] = []
        self._rows_of_hash: dict[int, list[int]] = {}
        self._ids: list[list[int]] = []
        self._n_text: list[int] = []

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, words: npt.NDArray[np.uint32]) -> int:
        """The row of ``words`` (``uint32[n_words]``), added if new."""
        self._padded[: self.n_words] = words
        data = self._padded.tobytes()
        rows = self._rows_of_hash.setdefault(hash(data), [])
        blocks = self._blocks
        for row in rows:
            if b"".join([blocks[i] for i in self._ids[row]]) == data:
                return row
        step = BLOCK_WORDS * 4
        ids = []
        for start in range(0, len(data), step):
            block = data[start : start + step]
            found = self._block_of.get(block)
            if found is None:
                found = self._block_of[block] = len(blocks)
                blocks.append(block)
            ids.append(found)
        rows.append(len(self._ids))
        self._ids.append(ids)
        self._n_text.append(count_bits(words & self._counted))
        return len(self._ids) - 1

    def finish(self) -> MaskStore:
        n_chunks = self._padded.size // BLOCK_WORDS
        blocks = np.frombuffer(b"".join(self._blocks), dtype=np.uint32).reshape(-1, BLOCK_WORDS)
        ids = np.asarray(self._ids, dtype=_id_dtype(len(self._blocks))).reshape(-1, n_chunks)
        return MaskStore(blocks.copy(), ids, np.asarray(self._n_text, np.int32), self.n_words)


def _id_dtype(n_blocks: int) -> type[np.unsignedinteger]:
    return np.uint16 if n_blocks <= 1 << 16 else np.uint32


def _frozen(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array
