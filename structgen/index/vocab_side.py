"""`VocabularySide`: what a token index knows of its vocabulary, whatever a state is.

Both indexes, per DFA state (:class:`~structgen.index.TokenIndex`) and per stack
configuration (:class:`~structgen.index.StackIndex`), answer the guide's questions the
same way about EOS, the grammar's special tokens and the tokens' bytes, and keep their
masks in the same bounded caches.
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from structgen.index.masks import mask_to_ids
from structgen.index.trie import Trie
from structgen.index.vocabulary import Vocabulary

__all__ = ["VocabularySide"]


class VocabularySide(ABC):
    """EOS ids and their bits, the vocabulary tokens that spell the grammar's special
    symbols (``256 + i`` for ``special_tokens[i]``, below ``n_symbols``), the byte trie,
    and the lock and bound of the mask caches. Subclasses provide ``dfa`` and ``entry``."""

    dfa: Any

    def __init__(self, vocab: Vocabulary, trie: Trie, *, special_tokens: Sequence[str],
                 n_symbols: int, max_cached_masks: int) -> None:
        self.vocab = vocab
        self.special_tokens = tuple(special_tokens)
        self.n_words = (vocab.embedding_rows + 31) // 32
        self.max_cached_masks = max(1, int(max_cached_masks))
        self._trie = trie
        self._token_bytes = vocab.token_bytes
        self._lock = threading.Lock()
        eos = sorted(i for i in vocab.eos_token_ids if i < vocab.vocab_size)
        self._eos = frozenset(eos)
        self._eos_words = np.zeros(self.n_words, dtype=np.uint32)
        for token_id in eos:
            self._eos_words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
        # Vocabulary special tokens that spell one of the grammar's special symbols.
        symbol_of_text = {text: 256 + i for i, text in enumerate(self.special_tokens)}
        self._special_symbol: dict[int, int] = {}
        for token_id, text in vocab.special_tokens.items():
            symbol = symbol_of_text.get(text)
            if symbol is not None and token_id not in self._eos and symbol < n_symbols:
                self._special_symbol[token_id] = symbol
        self._specials = sorted(self._special_symbol.items())

    @property
    def n_states(self) -> int:
        return int(self.dfa.n_states)

    @property
    def trie(self) -> Trie:
        """The vocabulary's byte trie (shared by every index over this vocabulary)."""
        return self._trie

    def is_eos(self, token_id: int) -> bool:
        return token_id in self._eos

    def special_symbol(self, token_id: int) -> int | None:
        """The DFA symbol of a special token the grammar uses, else ``None``."""
        return self._special_symbol.get(token_id)

    @property
    def special_token_symbols(self) -> dict[int, int]:
        """Vocabulary special token id -> DFA symbol (``256 + i``), for the grammar's specials."""
        return dict(self._special_symbol)

    @abstractmethod
    def entry(self, state: Any, limit: int | None = None) -> Any:
        """The mask of ``state`` under ``limit`` with its non-EOS token count."""

    def mask(self, state: Any, *, limit: int | None = None) -> npt.NDArray[np.uint32]:
        """The allowed tokens in ``state`` as a read-only packed bitset.

        Parameters
        ----------
        state
            A DFA state, ``0 <= state < n_states`` (a stack configuration for a
            :class:`~structgen.index.StackIndex`).
        limit
            If given, a non-EOS token is allowed only if the ``cost`` of where it leads
            is at most ``limit`` (budget-aware decoding; a negative limit leaves EOS alone).
        """
        return self.entry(state, limit).words  # type: ignore[no-any-return]

    def allowed_token_ids(self, state: Any, *,
                          limit: int | None = None) -> npt.NDArray[np.int32]:
        """:meth:`mask` as a sorted ``int32`` array of token ids."""
        return mask_to_ids(self.entry(state, limit).words)

    def guide(self, max_tokens: int | None = None) -> Any:
        """A fresh :class:`structgen.guide.Guide` over this index (see there).

        Typed ``Any`` because the guide layer sits above this one (``Guide(index)`` is the
        same call, typed).

        Raises
        ------
        TokenBudgetError
            If ``max_tokens`` is below the shortest valid output plus one for EOS.
        """
        # The guide layer sits above this one; reach it at call time only.
        module = importlib.import_module("structgen.guide.guide")
        return module.Guide(self, max_tokens=max_tokens)

    def _symbols(self, token_id: int) -> bytes | list[int] | None:
        """What ``token_id`` writes: its bytes, or the grammar symbol of a special token
        (None: neither)."""
        data = self._token_bytes[token_id] if 0 <= token_id < self.vocab.vocab_size else None
        if data is not None:
            return data
        symbol = self._special_symbol.get(token_id)
        return None if symbol is None else [symbol]

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        """Insert under the lock, dropping the oldest entries beyond the limit."""
        cache[key] = value
        while len(cache) > self.max_cached_masks:
            del cache[next(iter(cache))]

    @cached_property
    def _single_bytes(self) -> frozenset[int]:
        """Bytes the vocabulary has a token of their own for (budgets plan with them)."""
        trie = self._trie
        roots = np.flatnonzero(trie.depth == 1)
        holding = trie.token_ptr[roots + 1] > trie.token_ptr[roots]
        return frozenset(b for b in trie.symbol[roots[holding]].tolist() if b < 256)
