"""`build_index` and `TokenIndex`: a grammar's byte DFA bound to a vocabulary's token ids."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from structgen._version import __version__
from structgen.automata.compact import CompactDFA
from structgen.automata.counted import WINDOW, count_walk, settler
from structgen.automata.dfa import ByteDFA
from structgen.automata.unique import Position, track_walk
from structgen.errors import GrammarLimitError
from structgen.index.cache import DiskCache, cache_key
from structgen.index.collapse import collapse
from structgen.index.distance import UNREACHABLE, tokens_to_accept
from structgen.index.mask_store import MaskStore, MaskStoreBuilder
from structgen.index.masks import NO_COSTS, walk
from structgen.index.plain import PlainTokens, TextChains, plain_tokens
from structgen.index.trie import vocabulary_trie
from structgen.index.unique_masks import TokenGroups, UniqueMasks
from structgen.index.vocab_side import VocabularySide
from structgen.index.vocabulary import Vocabulary

__all__ = ["MaskEntry", "TokenIndex", "build_index"]

# Bumped whenever the arrays a TokenIndex stores on disk, or the DFA arrays its key hashes
# (the compact table since /3), change: old entries then miss.
_CACHE_LAYOUT = "TokenIndex/3"

Graph = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]
"""Token moves as CSR: the end states of state ``s``'s tokens are ``dst[ptr[s]:ptr[s + 1]]``."""


class MaskEntry(NamedTuple):
    """One cached mask: the read-only bitset and how many non-EOS tokens it allows."""

    words: npt.NDArray[np.uint32]
    n_text: int


def build_index(
    grammar_or_dfa: Any,
    vocab: Vocabulary,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    special_tokens: Sequence[str] = (),
    max_cached_masks: int = 4096,
) -> TokenIndex:
    """Bind a compiled grammar to a vocabulary, ready to produce token masks.

    Cheap: the per-vocabulary byte trie is built once per process (about 0.1 s for
    Llama-3) and shared; per grammar nothing touches all tokens until a mask is asked for,
    and masks are computed per DFA state on first use (see :class:`TokenIndex`).

    Parameters
    ----------
    grammar_or_dfa
        A :class:`structgen.Grammar` (its ``dfa`` and ``special_tokens`` are used), a
        :class:`~structgen.automata.compact.CompactDFA` or a
        :class:`structgen.automata.ByteDFA` (made compact).
    vocab
        The model's vocabulary.
    cache_dir
        A folder for the disk cache: the vocabulary's trie, and what :meth:`TokenIndex.build_all`
        and :meth:`TokenIndex.tokens_to_accept` compute, keyed by the DFA's content, the
        vocabulary fingerprint and the structgen version.
    special_tokens
        Only with a bare DFA: the texts of its symbols 256, 257, ... (a grammar
        carries its own).
    max_cached_masks
        How many per-state masks to keep in memory (each ``ceil(embedding_rows / 32) * 4``
        bytes, 16 KiB for Llama-3); the oldest are dropped beyond it.

    Raises
    ------
    TypeError
        If ``grammar_or_dfa`` is neither a grammar nor a DFA.
    """
    dfa = getattr(grammar_or_dfa, "dfa", grammar_or_dfa)
    if not isinstance(dfa, (ByteDFA, CompactDFA)):
        raise TypeError(
            "expected a structgen.Grammar, ByteDFA or CompactDFA, "
            f"got {type(grammar_or_dfa).__name__}"
        )
    if dfa is not grammar_or_dfa:
        special_tokens = tuple(getattr(grammar_or_dfa, "special_tokens", ()))
    return TokenIndex(
        dfa,
        vocab,
        special_tokens=special_tokens,
        cache=None if cache_dir is None else DiskCache(cache_dir),
        max_cached_masks=max_cached_masks,
    )


class TokenIndex(VocabularySide):
    """Token masks of one grammar over one vocabulary, per DFA state.

    A mask is a packed bitset: ``uint32[ceil(embedding_rows / 32)]``, token ``t`` is bit
    ``t % 32`` of word ``t // 32``. Token ``t`` is allowed in state ``s`` when:

    * it writes bytes and the DFA stays alive through all of them (a token that ends in
      the middle of a UTF-8 character is allowed when its bytes are);
    * it is a special token whose text is one of the grammar's ``special_tokens`` (one DFA
      symbol, ``256 + i``) and that symbol may follow;
    * it is an EOS id and ``s`` is accepting (EOS wins if an EOS token also names a grammar
      special token).

    Every other special token and every id at or above ``vocab_size`` is never allowed.

    Masks are computed on first use, one trie walk each (microseconds where the grammar
    admits a few bytes), and kept (at most ``max_cached_masks``). Inside string text the
    walk skips the plain tokens, which per-vocabulary bitsets supply by character count
    (:mod:`structgen.index.plain`): about 40 µs instead of 1 ms on Llama-3. The state a
    token leads to is not stored per state (128,000 entries inside a string):
    :meth:`next_state` runs the token's bytes through the DFA, which takes about a
    microsecond. Thread-safe: walks release the GIL, caches are
    guarded, and many guides may share one index.
    """

    def __init__(
        self,
        dfa: ByteDFA | CompactDFA,
        vocab: Vocabulary,
        *,
        special_tokens: Sequence[str] = (),
        cache: DiskCache | None = None,
        max_cached_masks: int = 4096,
    ) -> None:
        if isinstance(dfa, ByteDFA):
            dfa = CompactDFA.from_dfa(dfa)
        self.dfa = dfa
        super().__init__(vocab, vocabulary_trie(vocab, cache=cache),
                         special_tokens=special_tokens, n_symbols=dfa.n_symbols,
                         max_cached_masks=max_cached_masks)
        self._transitions = dfa.transitions
        self._class_of = dfa.class_of
        self._byte_class = np.ascontiguousarray(self._class_of[:256])
        self._accepting = np.asarray(dfa.accepting, dtype=np.bool_)
        self._accepting_list: list[bool] = self._accepting.tolist()
        self._byte_class_list: list[int] = self._byte_class.tolist()
        self._cache = cache
        self._key: str | None = None

        if dfa.counters is not None:
            longest = int(self._trie.depth.max(initial=0))  # the longest token, in bytes
            if longest > WINDOW:
                raise ValueError(
                    f"the grammar counts long strings {WINDOW} characters ahead, but this "
                    f"vocabulary has a token of {longest} bytes"
                )
        self._settle = None if dfa.counters is None else settler(dfa.counters)
        self._unique: UniqueMasks | None = None
        if dfa.unique is not None:
            self._unique = self._unique_masks(dfa)
        self._masks: dict[int, MaskEntry] = {}
        self._limited: dict[tuple[int, int], MaskEntry] = {}
        self._max_cost: dict[int, int] = {}
        self._costs: npt.NDArray[np.int32] | None = None
        self._costs_exact = False
        self._ceiling: tuple[npt.NDArray[np.int32], int] | None = None
        # The exact costs, found by an eager walk before anyone asked for them (the token
        # graph they come from, 10 MB on the largest schemas, is not kept).
        self._exact: npt.NDArray[np.int32] | None = None
        # After build_all: the distinct masks and per state its row (-1: not reached).
        self._eager: tuple[MaskStore, npt.NDArray[np.signedinteger]] | None = None
        if cache is not None:
            self._restore(cache)

    def __repr__(self) -> str:
        return (
            f"TokenIndex(states={self.n_states}, vocab_size={self.vocab.vocab_size}, "
            f"cached_masks={len(self._masks)}, eager={self._eager is not None})"
        )

    # -- queries ---------------------------------------------------------------------------

    @property
    def start(self) -> int:
        """The DFA's start state."""
        return 0

    def is_accepting(self, state: int) -> bool:
        return self._accepting_list[state]

    def cost(self, state: int, *, exact: bool = False) -> int:
        """``tokens_to_accept(exact=exact)[state]``: what a budget plans with."""
        return int(self.tokens_to_accept(exact=exact)[state])

    def entry(self, state: int, limit: int | None = None) -> MaskEntry:
        """The cached mask of ``state`` (under ``limit``) with its non-EOS token count."""
        if not 0 <= state < self.dfa.n_states:
            raise ValueError(f"state {state} is outside the DFA's states [0, {self.n_states})")
        if limit is None or limit >= self._global_ceiling():
            return self._unlimited(state)
        ceiling = self._max_cost.get(state)
        if ceiling is not None and limit >= ceiling:
            return self._unlimited(state)
        found = self._limited.get((state, limit))
        if found is not None:
            return found
        costs = self.tokens_to_accept()
        words, n_text, ceiling = self._compute(state, costs, limit)
        result = MaskEntry(words, n_text)
        with self._lock:
            if costs is self._costs:  # not replaced (by exact ones) meanwhile
                self._max_cost[state] = ceiling
                if ceiling <= limit:
                    self._remember(self._masks, state, result)
                else:
                    self._remember(self._limited, (state, limit), result)
        return result

    def next_position(self, state: int, count: int, token_id: int) -> tuple[int, int]:
        """:meth:`next_state` with the character count of a long string the walk is in
        (see :mod:`structgen.automata.counted`; 0 when the grammar has none)."""
        counters = self.dfa.counters
        target = self.next_state(state, token_id)
        if counters is None or not (counters.kind[state] or (target >= 0
                                                            and counters.kind[target])):
            return target, count
        symbols = self._symbols(token_id)  # a valid target: a token with symbols
        assert symbols is not None
        return count_walk(self.dfa.fast_step, counters, symbols, state, count)

    @property
    def unique_items(self) -> UniqueMasks | None:
        """The run-time checks of arrays with unique string items (None: none here)."""
        return self._unique

    def track_position(self, position: Position, token_id: int) -> Position | None:
        """The walk's position after ``token_id`` (None: not allowed) where the grammar
        tracks unique items (:mod:`structgen.automata.unique`)."""
        unique = self.dfa.unique
        assert unique is not None
        symbols = self._symbols(token_id)
        if symbols is None:
            return None
        return track_walk(self.dfa.fast_step, unique, symbols, position, self._settle)

    @cached_property
    def _plain(self) -> tuple[PlainTokens, TextChains]:
        plain = plain_tokens(self.vocab, self._trie)
        return plain, TextChains(self._transitions, self._byte_class, plain.longest)

    def _unique_masks(self, dfa: CompactDFA) -> UniqueMasks:
        assert dfa.unique is not None
        groups = _GROUPS.get(self.vocab.fingerprint)
        if groups is None:
            groups = _GROUPS[self.vocab.fingerprint] = TokenGroups.of(self._token_bytes)
        return UniqueMasks(dfa.unique, groups, dfa.fast_step, self.track_position,
                           self.tokens_to_accept, self._single_bytes)

    def next_state(self, state: int, token_id: int) -> int:
        """The DFA state after ``token_id`` from ``state``; -1 if the grammar forbids it.

        Budgets are not considered. EOS ids and tokens that never write return -1: EOS ends
        generation instead of moving the DFA.
        """
        data = self._token_bytes[token_id] if 0 <= token_id < self.vocab.vocab_size else None
        if data is None:
            symbol = self._special_symbol.get(token_id)
            if symbol is None:
                return -1
            return self._transitions[state, int(self._class_of[symbol])]
        byte_class = self._byte_class_list
        row_of, offset = self._transitions.row_of.item, self._transitions.rows.item
        shared = self._transitions.row_of.size > 0
        for byte in data:
            state += offset(row_of(state) if shared else state, byte_class[byte])
            if state < 0:
                return -1
        return int(state)

    # -- budgets ---------------------------------------------------------------------------

    def tokens_to_accept(self, *, exact: bool = False) -> npt.NDArray[np.int32]:
        """Per DFA state, the fewest tokens to an accepting state (EOS not counted).

        Every value is achievable: from a state with value ``d`` some token leads to a state
        with value ``d - 1`` (see :func:`structgen.index.distance.tokens_to_accept`). By
        default single-symbol tokens and every token along each state's shortest byte
        completions are considered: about 6 microseconds per state, and rarely above the
        true minimum. ``exact=True`` adds every token move of every state a guide can reach
        (one trie walk per state: about 1.3 s for 12,000 states on Llama-3, and shared with
        :meth:`build_all`) and gives the true minimum. The result is cached (and stored
        with ``cache_dir``); an exact result replaces a default one.
        """
        costs = self._costs
        if costs is not None and (self._costs_exact or not exact):
            return costs
        if exact:
            costs = self._exact
            if costs is None:
                costs = self._distances(self._token_graph()[0])
        else:
            costs = self._distances(None)
        with self._lock:
            if self._costs is None or exact:
                self._costs = costs
                self._costs_exact = exact
                if exact:
                    self._exact = None  # now held as the costs
                # Limited masks and ceilings depend on the costs.
                self._limited.clear()
                self._max_cost.clear()
            costs = self._costs
        self._save()
        return costs

    @property
    def tokens_to_accept_is_exact(self) -> bool:
        """Whether :meth:`tokens_to_accept` currently holds the exact minimum."""
        return self._costs_exact

    # -- eager build -----------------------------------------------------------------------

    def build_all(self, *, max_bytes: int = 1 << 30) -> None:
        """Compute the masks of every state reachable from the start by tokens.

        A breadth-first search over token moves. Walks the grammar's collapsed class trie,
        which is built first (tens of ms) and dropped after. Costs one walk per reachable
        state, from a few microseconds to 2 ms each on Llama-3. Distinct masks are kept
        once, cut into blocks that masks share (:class:`~structgen.index.mask_store.MaskStore`:
        1.6 MB instead of 18 MB of 16 KiB bitsets on ``schemas/resume.json``). The token
        graph the walk finds also gives the exact :meth:`tokens_to_accept`, which is kept
        (4 bytes per state) for when ``exact=True`` is asked for; the graph is not. With
        ``cache_dir`` the result is stored on disk.

        Raises
        ------
        GrammarLimitError
            When the distinct masks, as the whole bitsets :meth:`mask_table` returns, would
            take more than ``max_bytes`` (default 1 GiB, 65,536 masks over Llama-3); the
            lazy per-state masks still work.
        """
        if self._eager is not None:
            return
        builder = MaskStoreBuilder(self.n_words, self._eos_words)
        graph, rows = self._token_graph(builder, max_bytes)
        exact = None if self._costs_exact or self._exact is not None else self._distances(graph)
        del graph
        store = builder.finish()
        state_row = rows.astype(np.int16 if len(store) < 1 << 15 else np.int32)
        state_row.flags.writeable = False
        with self._lock:
            self._eager = (store, state_row)
            if exact is not None and not self._costs_exact:
                self._exact = exact
        self._save()

    def mask_table(self) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32]]:
        """After :meth:`build_all`: distinct masks ``uint32[k, n_words]`` and per state its
        row (-1 for states no token sequence reaches), as fresh arrays (the index keeps the
        masks in blocks, see :meth:`build_all`)."""
        eager = self._eager
        if eager is None:
            raise ValueError("call build_all() first: the mask table is built eagerly")
        return eager[0].dense(), eager[1].astype(np.int32)

    @property
    def nbytes(self) -> int:
        """Memory held by this index: its DFA (shared with the grammar), per-state lookups
        and cached masks (the shared vocabulary trie not counted: see ``trie.nbytes``)."""
        total = self.dfa.nbytes + self._byte_class.nbytes
        total += sys.getsizeof(self._accepting_list) + sys.getsizeof(self._byte_class_list)
        with self._lock:
            total += sum(e.words.nbytes for e in self._masks.values())
            total += sum(e.words.nbytes for e in self._limited.values())
            for array in (self._costs, self._exact):
                if array is not None:
                    total += array.nbytes
            if self._eager is not None:
                total += self._eager[0].nbytes + self._eager[1].nbytes
        return int(total)

    # -- internals -------------------------------------------------------------------------

    def _unlimited(self, state: int) -> MaskEntry:
        found = self._masks.get(state)
        if found is not None:
            return found
        eager = self._eager
        if eager is not None:
            row = int(eager[1][state])
            if row >= 0:
                return MaskEntry(eager[0].words(row), int(eager[0].n_text[row]))
        words, n_text, _ = self._compute(state, None, 0)
        result = MaskEntry(words, n_text)
        with self._lock:
            self._remember(self._masks, state, result)
        return result

    def _global_ceiling(self) -> int:
        """A limit at or above which no token is ever filtered: the largest cost, if no
        state is unreachable (else never)."""
        costs = self.tokens_to_accept()
        ceiling = self._ceiling
        if ceiling is None or ceiling[0] is not costs:
            top = int(costs.max(initial=0))
            ceiling = self._ceiling = (costs, top if top != UNREACHABLE else UNREACHABLE)
        return ceiling[1]

    def _compute(
        self, state: int, costs: npt.NDArray[np.int32] | None, limit: int
    ) -> tuple[npt.NDArray[np.uint32], int, int]:
        """(words, non-EOS count, max cost over live tokens) by one trie walk; inside
        string text, over the few tokens that are not plain text
        (:mod:`structgen.index.plain`)."""
        words = np.zeros(self.n_words, dtype=np.uint32)
        plain, chains = self._plain
        chain = chains(state)
        n_text, ceiling, _ = walk(
            self._trie if chain is None else plain.rest,
            self._transitions,
            self._byte_class,
            state,
            words=words,
            costs=NO_COSTS if costs is None else costs,
            limit=limit,
        )
        if chain is not None:
            allowed, top = plain.fill(words, chain, costs, limit)
            n_text += allowed
            ceiling = max(ceiling, top)
        for token_id, symbol in self._specials:
            target = int(self._transitions[state, self._class_of[symbol]])
            if target < 0:
                continue
            if costs is not None:
                cost = int(costs[target])
                ceiling = max(ceiling, cost)
                if cost > limit:
                    continue
            words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
            n_text += 1
        if self._accepting_list[state]:
            words |= self._eos_words
        words.flags.writeable = False
        return words, int(n_text), int(ceiling)

    def _distances(self, graph: Graph | None) -> npt.NDArray[np.int32]:
        """:func:`~structgen.index.distance.tokens_to_accept` of this DFA; exact over the
        states ``graph`` covers."""
        single = [*sorted(self._single_bytes), *(symbol for _, symbol in self._specials)]
        unique = self.dfa.unique
        costs = tokens_to_accept(
            self._trie,
            self._transitions,
            self._class_of,
            self._accepting,
            np.asarray(self.dfa.bytes_to_accept, dtype=np.int32),
            np.asarray(single, dtype=np.int32),
            graph,
            None if unique is None else unique.zone > 0,
        )
        costs.flags.writeable = False
        return costs

    def _token_graph(
        self, masks: MaskStoreBuilder | None = None, max_bytes: int = 1 << 62
    ) -> tuple[Graph, npt.NDArray[np.int32]]:
        """Breadth-first over token moves from the start: the token graph and, with
        ``masks``, per state the row of its mask there (-1 where not reached)."""
        trie = collapse(self._trie, self._byte_class)
        plain, chains = self._plain
        rest = collapse(plain.rest, self._byte_class)
        identity = np.arange(self.dfa.n_classes, dtype=np.int32)
        n_states = self.dfa.n_states
        targets = np.empty(n_states, dtype=np.int32)
        stamp = np.full(n_states, -1, dtype=np.int32)
        seen = np.zeros(n_states, dtype=np.bool_)
        row_of = np.full(n_states, -1, dtype=np.int32)
        edges: list[npt.NDArray[np.int32]] = [np.zeros(0, np.int32)] * n_states
        order = [0]
        seen[0] = True
        emit = masks is not None
        words = np.zeros(self.n_words if emit else 0, dtype=np.uint32)
        head = 0
        while head < len(order):
            state = order[head]
            head += 1
            if emit:
                words[:] = 0
            chain = chains(state)
            _, _, n_targets = walk(
                trie if chain is None else rest,
                self._transitions,
                identity,
                state,
                words=words,
                targets=targets,
                stamp=stamp,
            )
            ends = set(targets[:n_targets].tolist())
            if chain is not None:
                ends |= plain.ends(chain)
                if emit:
                    plain.fill(words, chain, None, 0)
            for token_id, symbol in self._specials:
                target = int(self._transitions[state, self._class_of[symbol]])
                if target >= 0:
                    ends.add(target)
                    if emit:
                        words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
            out = np.fromiter(sorted(ends), dtype=np.int32, count=len(ends))
            edges[state] = out
            for target in out.tolist() + self._jumps(state):
                if not seen[target]:
                    seen[target] = True
                    order.append(target)
            if masks is not None:
                if self._accepting_list[state]:
                    words |= self._eos_words
                row_of[state] = masks.add(words)
                if len(masks) * words.nbytes > max_bytes:
                    raise GrammarLimitError(
                        f"the mask table needs more than max_bytes={max_bytes} "
                        f"({len(masks)} distinct masks of {words.nbytes} bytes); "
                        "raise it, or use the lazy masks (mask(), Guide) instead",
                        limit="index_memory", reached=len(masks) * words.nbytes,
                    )
        ptr = np.zeros(n_states + 1, dtype=np.int64)
        np.cumsum([len(e) for e in edges], out=ptr[1:])
        dst = np.concatenate(edges).astype(np.int32) if n_states else np.zeros(0, np.int32)
        return (ptr, dst), row_of

    def _jumps(self, state: int) -> list[int]:
        """The states a long string's count may move ``state`` to (no token moves there)."""
        counters = self.dfa.counters
        return [] if counters is None else counters.jumps(state)

    # -- disk cache ------------------------------------------------------------------------

    def _cache_key(self) -> str:
        if self._key is None:
            dfa = self.dfa
            self._key = cache_key(
                _CACHE_LAYOUT,
                __version__,
                self.vocab.fingerprint,
                json.dumps(list(self.special_tokens)),
                repr((self._transitions.shape, self._transitions.row_of.shape)),
                self._transitions.row_of.astype("<i4").tobytes(),
                self._transitions.rows.astype("<i4").tobytes(),
                self._class_of.astype("<i4").tobytes(),
                np.asarray(dfa.accepting, dtype=np.uint8).tobytes(),
                *([] if dfa.counters is None else [
                    a.astype("<i8").tobytes() for a in dataclasses.astuple(dfa.counters)
                ]),
                *([] if dfa.unique is None else [
                    a.astype("<i1").tobytes() for a in dataclasses.astuple(dfa.unique)
                ]),
            )
        return self._key

    def _restore(self, cache: DiskCache) -> None:
        arrays = cache.load(self._cache_key())
        if arrays is None:
            return
        n_states = self.dfa.n_states
        costs = _frozen_costs(arrays.get("tokens_to_accept"), n_states)
        if costs is not None:
            self._costs = costs
            self._costs_exact = bool(arrays.get("tokens_to_accept_exact", np.array(False)))
        if not self._costs_exact:
            self._exact = _frozen_costs(arrays.get("exact_tokens_to_accept"), n_states)
        rows = arrays.get("state_row")
        try:
            store = MaskStore(
                arrays["mask_blocks"], arrays["mask_block_ids"], arrays["mask_n_text"],
                self.n_words,
            )
        except (KeyError, ValueError):
            return
        if (
            rows is not None
            and rows.shape == (n_states,)
            and rows.dtype.kind == "i"
            and (n_states == 0 or -1 <= int(rows.min()) <= int(rows.max()) < len(store))
        ):
            rows = rows.copy()
            rows.flags.writeable = False
            self._eager = (store, rows)

    def _save(self) -> None:
        if self._cache is None:
            return
        arrays: dict[str, npt.NDArray[Any]] = {}
        with self._lock:
            if self._costs is not None:
                arrays["tokens_to_accept"] = self._costs
                arrays["tokens_to_accept_exact"] = np.array(self._costs_exact)
            if self._exact is not None:
                arrays["exact_tokens_to_accept"] = self._exact
            if self._eager is not None:
                arrays.update(self._eager[0].arrays())
                arrays["state_row"] = self._eager[1]
        if arrays:
            self._cache.store(self._cache_key(), arrays)


def _frozen_costs(
    costs: npt.NDArray[Any] | None, n_states: int
) -> npt.NDArray[np.int32] | None:
    """Stored costs as a read-only ``int32[n_states]``, or None if absent or misshapen."""
    if costs is None or costs.shape != (n_states,):
        return None
    costs = costs.astype(np.int32)
    costs.flags.writeable = False
    return costs


_GROUPS: dict[str, TokenGroups] = {}  # per vocabulary fingerprint
