"""Plain string text: the tokens a free string keeps, found once per vocabulary.

Inside a string whose characters are free (or only counted, as by ``maxLength``), every
token that writes whole characters other than ``"``, ``\\`` and the controls below
U+0020 leads the DFA to a state that depends only on how many characters it writes:
121,825 of Llama-3's 128,000 tokens. A trie walk from such a state visits nearly every
node (about 1 ms, 1.8 ms with costs). :class:`~structgen.index.TokenIndex` instead takes
those tokens from bitsets made once per vocabulary, grouped by character count, and walks
only the trie of the others (6,175 tokens on Llama-3).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from structgen.automata.compact import CompactTable
from structgen.index._jit import jit
from structgen.index.cache import Recent
from structgen.index.trie import Trie, subtrie
from structgen.index.vocabulary import Vocabulary

__all__ = ["MAX_FORMS", "PlainTokens", "TextChains", "is_plain", "plain_tokens"]

# Well-formed UTF-8 beyond ASCII, as byte ranges per position (Unicode Table 3-7).
_MULTIBYTE = (
    ((0xC2, 0xDF), (0x80, 0xBF)),
    ((0xE0, 0xE0), (0xA0, 0xBF), (0x80, 0xBF)),
    ((0xE1, 0xEC), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xED, 0xED), (0x80, 0x9F), (0x80, 0xBF)),
    ((0xEE, 0xEF), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xF0, 0xF0), (0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xF1, 0xF3), (0x80, 0xBF), (0x80, 0xBF), (0x80, 0xBF)),
    ((0xF4, 0xF4), (0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)),
)
_ASCII = bytes(b for b in range(0x20, 0x80) if b not in b'"\\')
# Bytes that are never plain; other bytes at or above 0x80 only form multi-byte characters.
_NOT_PLAIN = bytes(range(0x20)) + b'"\\'


def is_plain(data: bytes) -> bool:
    """Whether ``data`` is whole UTF-8 characters, none of them ``"``, ``\\`` or a control
    below U+0020."""
    if len(data.translate(None, _NOT_PLAIN)) != len(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True, eq=False)
class PlainTokens:
    """A vocabulary's plain tokens by character count, and the trie of its other tokens.

    ``upto[n]`` is the bitset of plain tokens of at most ``n`` characters (``upto[0]`` is
    empty); ``counts[n]`` how many have exactly ``n``.
    """

    upto: tuple[npt.NDArray[np.uint32], ...]
    counts: tuple[int, ...]
    rest: Trie

    @classmethod
    def of(cls, vocab: Vocabulary, trie: Trie) -> PlainTokens:
        """Split ``vocab``'s tokens; ``trie`` is its byte trie."""
        chars = np.zeros(vocab.embedding_rows, dtype=np.int32)  # 0: not plain
        for token_id, data in enumerate(vocab.token_bytes):
            if data is not None and is_plain(data):
                chars[token_id] = len(data.decode("utf-8"))
        longest = int(chars.max(initial=0))
        padded = np.zeros(((chars.shape[0] + 31) // 32) * 32, dtype=np.int32)
        padded[: chars.shape[0]] = chars
        upto = []
        for n in range(longest + 1):
            bits = np.packbits((padded > 0) & (padded <= n), bitorder="little")
            words = bits.view("<u4").astype(np.uint32)
            words.flags.writeable = False
            upto.append(words)
        counts = np.bincount(chars, minlength=longest + 1)
        return cls(tuple(upto), (0, *counts[1:].tolist()), subtrie(trie, chars == 0))

    @property
    def longest(self) -> int:
        """The most characters a plain token writes."""
        return len(self.counts) - 1

    def fill(
        self, words: npt.NDArray[np.uint32], chain: list[int],
        costs: npt.NDArray[np.signedinteger] | None, limit: int,
    ) -> tuple[int, int]:
        """OR into ``words`` the plain tokens allowed where plain text of ``n`` characters
        leads to ``chain[n]`` (dead beyond the chain or at a negative entry): alive, and
        with ``costs``, at most ``limit`` away from acceptance. Returns (tokens allowed,
        largest cost over live plain tokens, -1 if none)."""
        allowed = 0
        ceiling = -1
        run = 0  # allowed counts so far form runs; the current one starts after ``run``
        for n in range(1, self.longest + 1):
            end = chain[n] if n < len(chain) else -1
            keep = end >= 0
            if keep and costs is not None and self.counts[n]:
                cost = int(costs[end])
                ceiling = max(ceiling, cost)
                keep = cost <= limit
            if keep:
                allowed += self.counts[n]
                continue
            if run < n - 1:
                np.bitwise_or(words, self.upto[n - 1] ^ self.upto[run], out=words)
            run = n
            if end < 0:
                break
        else:
            if run < self.longest:
                np.bitwise_or(words, self.upto[self.longest] ^ self.upto[run], out=words)
        return allowed, ceiling

    def ends(self, chain: list[int]) -> set[int]:
        """The states plain tokens reach where plain text leads along ``chain``."""
        return {chain[n] for n in range(1, min(len(chain), self.longest + 1))
                if self.counts[n] and chain[n] >= 0}


_PLAIN: Recent[PlainTokens] = Recent(kept=4)


def plain_tokens(vocab: Vocabulary, trie: Trie) -> PlainTokens:
    """:meth:`PlainTokens.of`, once per vocabulary fingerprint in this process."""
    found = _PLAIN.get(vocab.fingerprint)
    return found if found is not None else _PLAIN.keep(vocab.fingerprint,
                                                       PlainTokens.of(vocab, trie))


class TextChains:
    """Per state of one DFA, the states plain text leads to, when every plain character
    leads to the same state.

    ``chain[n]`` is the state after any ``n`` plain characters; the chain stops at the
    first dead entry (-1) or after ``longest`` characters. ``None`` where some state on
    the way tells plain characters apart, and where no plain character is alive (the
    whole walk is cheap there). A state's plain characters lead to one state when its row
    sends every plain ASCII class to one live state and every well-formed multi-byte
    character (one byte per class at each position: at most :data:`MAX_FORMS` sequences)
    reaches that same state through live ones. The successor of each state is found once,
    in compiled code (a chain through a ``maxLength`` string has a state per character).
    """

    def __init__(self, table: CompactTable, byte_class: npt.NDArray[np.int32],
                 longest: int) -> None:
        self._table = table
        self._byte_class = byte_class
        self._longest = longest

    @cached_property
    def _ascii_classes(self) -> npt.NDArray[np.int32]:
        return np.unique(self._byte_class[np.frombuffer(_ASCII, np.uint8)]).astype(np.int32)

    @cached_property
    def _kernel_args(self) -> tuple[npt.NDArray[np.int32], ...] | None:
        """Arrays for :func:`_chain_kernel`, made when a state first passes the ASCII test
        (None: too many forms)."""
        byte_class = self._byte_class
        forms: list[list[int]] = []
        for ranges in _MULTIBYTE:
            positions = [sorted({int(byte_class[b]) for b in range(lo, hi + 1)})
                         for lo, hi in ranges]
            forms += [list(f) for f in itertools.product(*positions)]
            if len(forms) > MAX_FORMS:
                return None
        classes = np.full((len(forms), 4), -1, dtype=np.int32)
        for i, form in enumerate(forms):
            classes[i, : len(form)] = form
        memo = np.full(self._table.n_states, _UNKNOWN, dtype=np.int32)
        return self._ascii_classes, classes, memo

    def __call__(self, state: int) -> list[int] | None:
        """Not kept per state (``build_all`` asks for every state): successors are."""
        table = self._table
        offsets = table.rows[table.row_of[state] if table.row_of.size else state,
                             self._ascii_classes]
        if offsets[0] < -state or (offsets != offsets[0]).any():
            return None  # no plain ASCII byte alive, or they part ways: a cheap walk
        args = self._kernel_args
        if args is None:
            return None
        ascii_classes, classes, memo = args
        out = np.empty(self._longest + 1, dtype=np.int32)
        length = _chain_kernel(self._table.row_of, self._table.rows, state, ascii_classes,
                               classes, memo, out)
        return None if length < 0 else out[:length].tolist()


MAX_FORMS = 4096
"""Multi-byte character forms (one byte per class at each position) a DFA may tell apart
before :class:`TextChains` gives up on it: each state's check steps through every form."""

_UNKNOWN = -3  # memo: successor not computed yet
_UNEVEN = -2  # memo: plain characters lead to different states


@jit
def _successor(row_of, rows, state, ascii_classes, classes):  # type: ignore[no-untyped-def]
    """The one state every plain character leads ``state`` to (-1: dead for all), or
    ``_UNEVEN``."""
    shared = row_of.shape[0] > 0
    row = row_of[state] if shared else state
    offset = rows[row, ascii_classes[0]]
    for c in ascii_classes:
        if rows[row, c] != offset:
            return _UNEVEN
    target = state + offset
    if target < 0:
        target = -1
    for i in range(classes.shape[0]):
        q = state
        for position in range(4):
            c = classes[i, position]
            if c < 0:
                break
            q = q + rows[row_of[q] if shared else q, c]
            if q < 0:
                q = -1
                break
        if q != target:
            return _UNEVEN
    return target


@jit
def _chain_kernel(row_of, rows, start, ascii_classes, classes, memo, out):  # type: ignore[no-untyped-def]
    """Fill ``out`` with ``start``'s chain; its length, or -1 where there is none (uneven
    somewhere, or no plain character alive from ``start``). ``memo`` keeps successors."""
    out[0] = start
    longest = out.shape[0] - 1
    state = start
    for n in range(1, longest + 1):
        target = memo[state]
        if target == _UNKNOWN:
            target = _successor(row_of, rows, state, ascii_classes, classes)
            memo[state] = target
        if target == _UNEVEN or (n == 1 and target < 0):
            return -1
        out[n] = target
        if target < 0:
            return n + 1
        if target == state:  # a loop: the same state from here on
            for k in range(n + 1, longest + 1):
                out[k] = target
            return longest + 1
        state = target
    return longest + 1
