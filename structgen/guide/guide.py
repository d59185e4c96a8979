"""`Guide`: one sequence's position in a grammar, and the tokens allowed next."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from structgen.automata.unique import Position
from structgen.guide import kernels
from structgen.guide.budget import check_budget, step_limit
from structgen.guide.forced import forced_symbols, split_forced
from structgen.index.masks import mask_to_ids
from structgen.index.stack_index import StackIndex
from structgen.index.token_index import MaskEntry, TokenIndex

__all__ = ["Guide"]


class Guide:
    """The runtime state of one generation: a DFA state, a token budget, and the masks.

    In a long string the grammar counts beside its DFA (:mod:`structgen.automata.counted`),
    the guide also keeps the characters written there; its masks stay those of a DFA state.

    Parameters
    ----------
    index
        The grammar's :class:`~structgen.index.TokenIndex` over the model's vocabulary;
        shared freely between guides and threads.
    max_tokens
        Optional budget, EOS included (see :mod:`structgen.guide.budget`): with it, every
        sequence of allowed tokens finishes, valid, within ``max_tokens`` tokens.

    Raises
    ------
    TokenBudgetError
        If ``max_tokens`` is below the shortest valid output plus one for EOS.

    Examples
    --------
    >>> guide = index.guide(max_tokens=256)                        # doctest: +SKIP
    >>> while not guide.is_finished():                             # doctest: +SKIP
    ...     guide.fill_bitmask(bitmask)                            # one row of int32 words
    ...     token = sample(apply(logits, bitmask))
    ...     guide.advance(token)
    """

    __slots__ = ("_count", "_eos_consumed", "_item", "_memo", "_remaining", "_seen", "_state",
                 "index", "max_tokens")

    def __init__(self, index: TokenIndex | StackIndex, *,
                 max_tokens: int | None = None) -> None:
        if max_tokens is not None:
            max_tokens = int(max_tokens)
            check_budget(index, max_tokens)
        self.index = index
        self.max_tokens = max_tokens
        self._state: Any = index.start  # a DFA state, or a stack configuration
        self._count = 0  # characters of the long string being written (automata.counted)
        # In an array with unique string items (automata.unique): the values written and
        # the raw bytes of the item being written.
        self._seen: frozenset[bytes] = frozenset()
        self._item: bytes | None = None
        self._memo: MaskEntry | None = None  # this position's mask, once computed there
        self._remaining = max_tokens
        self._eos_consumed = False

    def __repr__(self) -> str:
        return (
            f"Guide(state={self._state}, remaining_budget={self._remaining}, "
            f"finished={self.is_finished()})"
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> Any:
        """The current DFA state (a stack configuration, a tuple of states, where the
        grammar calls modules: see :mod:`structgen.automata.stack`)."""
        return self._state

    @property
    def remaining_budget(self) -> int | None:
        """Tokens still allowed, EOS included; ``None`` without ``max_tokens``."""
        return self._remaining

    def copy(self) -> Guide:
        """An independent guide at the same position (for beams and speculation)."""
        twin = Guide.__new__(Guide)
        twin.index = self.index
        twin.max_tokens = self.max_tokens
        twin._state = self._state
        twin._count = self._count
        twin._seen = self._seen
        twin._item = self._item
        twin._memo = self._memo
        twin._remaining = self._remaining
        twin._eos_consumed = self._eos_consumed
        return twin

    # -- masks -------------------------------------------------------------------------------

    def _entry(self) -> MaskEntry:
        if self._eos_consumed:
            return _EMPTY.get(self.index.n_words) or _empty(self.index.n_words)
        limit = None if self._remaining is None else step_limit(self._remaining)
        entry = self.index.entry(self._state, limit)
        unique = self.index.unique_items
        if unique is None:
            return entry
        if self._memo is None:
            position = (self._state, self._count, self._seen, self._item)
            self._memo = _without(entry, unique.forbidden(position, entry.words, limit))
        return self._memo

    def mask(self) -> npt.NDArray[np.uint32]:
        """The allowed tokens as a read-only packed ``uint32`` bitset."""
        return self._entry().words

    def allowed_token_ids(self) -> npt.NDArray[np.int32]:
        """The allowed token ids, ascending (empty once EOS is consumed)."""
        return mask_to_ids(self._entry().words)

    def fill_bitmask(self, buffer: Any, row: int = 0) -> None:
        """Write the allowed tokens into ``buffer[row]``.

        Parameters
        ----------
        buffer
            numpy or torch ``int32[batch, ceil(embedding_rows / 32)]``; bit ``t % 32`` of
            word ``t // 32`` is set when token ``t`` is allowed. A CPU buffer is written
            in place (about a microsecond once the state's mask is cached).
        row
            The row to write.
        """
        kernels.write_rows(buffer, [row], [self._entry().words], self.index.n_words)

    def is_allowed(self, token_id: int) -> bool:
        """Whether :meth:`advance` would accept ``token_id`` (without computing a mask)."""
        return self._target(int(token_id)) is not None

    # -- moves -------------------------------------------------------------------------------

    def _target(self, token_id: int) -> Position | None:
        """The position after ``token_id`` (unchanged for EOS), or None if not allowed."""
        if self._eos_consumed:
            return None
        index = self.index
        here = (self._state, self._count, self._seen, self._item)
        if index.is_eos(token_id):
            room = self._remaining is None or self._remaining >= 1
            ok = room and index.is_accepting(self._state)
            return here if ok else None
        if not 0 <= token_id < index.vocab.vocab_size:
            return None
        limit = None if self._remaining is None else step_limit(self._remaining)
        unique = index.unique_items
        if unique is None:
            target, count = index.next_position(self._state, self._count, token_id)
            after: Position | None = (target, count, self._seen, self._item)
        else:
            after = index.track_position(here, token_id)
        if after is None or _dead(after[0]):
            return None
        if limit is not None and index.cost(after[0]) > limit:
            return None
        if (unique is not None and unique.needs_cost(after, limit)
                and not unique.fits(unique.cost(after), limit)):
            return None
        return after

    def advance(self, token_id: int) -> None:
        """Consume ``token_id``.

        Raises
        ------
        ValueError
            If the token is not allowed here: naming the token, its bytes and the state.
        """
        token_id = int(token_id)
        target = self._target(token_id)
        if target is None:
            raise ValueError(self._refusal(token_id))
        if self.index.is_eos(token_id):
            self._eos_consumed = True
        self._state, self._count, self._seen, self._item = target
        self._memo = None
        if self._remaining is not None:
            self._remaining -= 1

    def _refusal(self, token_id: int) -> str:
        index = self.index
        if 0 <= token_id < index.vocab.vocab_size:
            data = index.vocab.token_bytes[token_id]
            what = (
                repr(data)
                if data is not None
                else index.vocab.special_tokens.get(token_id, "no bytes")
            )
        else:
            what = f"outside the vocabulary [0, {index.vocab.vocab_size})"
        where = f"state {self._state}"
        if self._eos_consumed:
            reason = "the guide already consumed EOS"
        elif index.is_eos(token_id):
            reason = "EOS is allowed only in accepting states"
        elif self._remaining is not None and not _dead(index.next_state(self._state, token_id)):
            reason = f"it leaves no room to finish within the remaining {self._remaining} tokens"
        else:
            reason = "the grammar does not allow it here"
        return f"token {token_id} ({what}) is not allowed in {where}: {reason}"

    def is_finished(self) -> bool:
        """EOS was consumed, or the state is accepting and only EOS is allowed."""
        if self._eos_consumed:
            return True
        return self.index.is_accepting(self._state) and self._entry().n_text == 0

    # -- jump-forward ------------------------------------------------------------------------

    def forced_tokens(self, tokenize: Callable[[bytes], Sequence[int]] | None = None) -> list[int]:
        """Tokens that may be appended without sampling (jump-forward decoding).

        The grammar may force the next bytes: while the state is not accepting and exactly
        one symbol keeps the DFA alive (``{"name": "`` at the start of an object with a
        required first property), the output is determined. This returns a tokenization
        of that forced run that the engine can feed to the model in one step, then
        :meth:`advance` through:

        * byte stretches are split by ``tokenize`` (the model's tokenizer, so that the
          model sees the split it was trained on) or, without it, greedily into the
          longest vocabulary tokens, which matches BPE on the short punctuation and key
          runs that JSON forces;
        * the split stops before a token where a token starting at the same byte could run
          on past the end of the forced bytes (``": "`` before a free string: the model
          may want ``" "`` joined with what follows), so jump-forward never commits to a
          token boundary the model might cross;
        * every returned token is allowed in turn, budget included.

        Does not advance the guide. Empty when nothing is forced.
        """
        if self._eos_consumed:
            return []
        run = forced_symbols(self.index, self._state)
        if not run:
            return []
        probe = self.copy()

        def allowed(state: Any, token_id: int) -> Any:
            target = probe._target(token_id)
            if target is None:
                return None
            probe.advance(token_id)
            return target[0]

        return split_forced(self.index, self._state, run, allowed, tokenize)


def _dead(target: Any) -> bool:
    """Whether a move's target (a state, or a stack configuration) is the dead state."""
    return not isinstance(target, tuple) and target < 0


def _without(entry: MaskEntry, token_ids: list[int]) -> MaskEntry:
    """``entry`` less ``token_ids`` (each one it allows)."""
    if not token_ids:
        return entry
    words = entry.words.copy()
    for token_id in token_ids:
        words[token_id >> 5] &= np.uint32(~(1 << (token_id & 31)) & 0xFFFFFFFF)
    words.flags.writeable = False
    return MaskEntry(words, entry.n_text - len(token_ids))


def _empty(n_words: int) -> MaskEntry:
    words = np.zeros(n_words, dtype=np.uint32)
    words.flags.writeable = False
    entry = MaskEntry(words, 0)
    _EMPTY[n_words] = entry
    return entry


_EMPTY: dict[int, MaskEntry] = {}
