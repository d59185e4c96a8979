"""`StackIndex`: token masks of a grammar whose modules call each other on a stack.

A token may open calls (``{"`` entering a called object) and close them (``"}]``
leaving two), so its mask depends on the whole configuration, not on one state: masks
are computed per configuration, by one trie walk that carries the stack along, and kept
(the configurations one generation visits are about as many as its tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from structgen.automata.compact import CompactDFA
from structgen.automata.dfa import accept_distances
from structgen.automata.stack import Configuration, StackDFA
from structgen.index._jit import jit
from structgen.index.distance import UNREACHABLE
from structgen.index.plain import PlainTokens, TextChains, plain_tokens
from structgen.index.token_index import MaskEntry, TokenIndex
from structgen.index.trie import vocabulary_trie
from structgen.index.vocab_side import VocabularySide
from structgen.index.vocabulary import Vocabulary

__all__ = ["StackIndex"]

_UNLIMITED = 1 << 62


class StackIndex(VocabularySide):
    """Token masks of a :class:`~structgen.automata.stack.StackDFA` over one vocabulary.

    The same rules as :class:`~structgen.index.TokenIndex` (a token is allowed when all
    its bytes are; EOS exactly where the document is complete; a grammar special token
    when its symbol may follow), per configuration instead of per state. Budgets use
    :meth:`cost`, a sum over the configuration's states of a per-state bound on the
    tokens to the end of its module (:meth:`_budget_costs`): close to the exact count where
    no call is needed on the way, in symbols where one is.
    Thread-safe; many guides may share one index.
    """

    def __init__(self, dfa: StackDFA, vocab: Vocabulary, *,
                 special_tokens: Sequence[str] = (), max_cached_masks: int = 4096) -> None:
        self.dfa = dfa
        super().__init__(vocab, vocabulary_trie(vocab), special_tokens=special_tokens,
                         n_symbols=dfa.n_symbols, max_cached_masks=max_cached_masks)
        self._byte_class = np.ascontiguousarray(dfa.class_of[:256])
        self._returns = dfa.returns.astype(np.uint8)
        # Per state, what budgets plan with (:meth:`_budget_costs`, made when a budget
        # first asks); masks without a limit use the symbols still needed until then.
        self._byte_costs = dfa.bytes_to_accept.astype(np.int64)
        self._token_costs: npt.NDArray[np.int64] | None = None
        # Per configuration its whole mask and the largest cost a live token leads to (a
        # limit at or above it filters nothing); masks under smaller limits apart.
        self._masks: dict[Configuration, tuple[MaskEntry, int]] = {}
        self._limited: dict[tuple[Configuration, int], MaskEntry] = {}

    def __repr__(self) -> str:
        return (f"StackIndex(states={self.n_states}, modules={self.dfa.n_modules}, "
                f"vocab_size={self.vocab.vocab_size}, cached_masks={len(self._masks)})")

    # -- queries ---------------------------------------------------------------------------

    @property
    def start(self) -> Configuration:
        return self.dfa.start

    @property
    def unique_items(self) -> None:
        """Never any: a grammar with calls has no tracked arrays."""
        return None

    def is_accepting(self, config: Configuration) -> bool:
        return self.dfa.is_accepting(config)

    def cost(self, config: Configuration, *, exact: bool = False) -> int:
        """Tokens still needed to finish from ``config``, EOS not counted: the sum over its
        states of :meth:`_budget_costs`, an upper bound that some allowed token lowers by
        one. ``exact`` is accepted for symmetry with :meth:`TokenIndex.cost` and changes
        nothing.

        Raises
        ------
        ValueError
            If the vocabulary lacks a single-byte token for a byte the grammar may need:
            then the bound does not hold.
        """
        return int(self._budget_costs()[list(config)].sum())

    def entry(self, config: Configuration, limit: int | None = None) -> MaskEntry:
        """The mask of ``config`` (a non-EOS token only if it leads to a configuration
        whose :meth:`cost` is at most ``limit``), with its non-EOS token count."""
        config = tuple(config)
        whole = self._masks.get(config)
        if whole is not None and (limit is None or whole[1] <= limit):
            return whole[0]
        if limit is not None and (found := self._limited.get((config, limit))) is not None:
            return found
        costs = self._token_costs if limit is None else self._budget_costs()
        words, n_text, ceiling = self._compute(
            config, _UNLIMITED if limit is None else limit,
            self._byte_costs if costs is None else costs)
        if costs is None:
            ceiling = _UNLIMITED  # in symbols, not what budgets plan with: no limit may reuse it
        result = MaskEntry(words, n_text)
        with self._lock:
            if limit is None or ceiling <= limit:
                self._remember(self._masks, config, (result, ceiling))
            else:
                self._remember(self._limited, (config, limit), result)
        return result

    def next_state(self, config: Configuration, token_id: int) -> Configuration | int:
        """The configuration after ``token_id``; -1 if the grammar forbids it (and for EOS
        and tokens that write nothing)."""
        symbols = self._symbols(token_id)
        if symbols is None:
            return -1
        target = self.dfa.walk(symbols, tuple(config))
        return -1 if target is None else target

    def next_position(self, config: Configuration, count: int,
                      token_id: int) -> tuple[Configuration | int, int]:
        """:meth:`next_state`, in the guide's (state, count) form (no counted strings)."""
        return self.next_state(config, token_id), 0

    def build_all(self, **_: Any) -> None:
        """Not available: masks depend on the whole stack, so there is no finite table.

        Raises
        ------
        NotImplementedError
            Always; compile with ``recursion="unroll"`` for per-state tables.
        """
        raise NotImplementedError(
            "this grammar calls modules on a stack (recursion='stack' or 'auto' on a "
            "large schema): masks depend on the whole stack and cannot be tabled per "
            "state; compile with recursion='unroll' for build_all()"
        )

    @property
    def nbytes(self) -> int:
        with self._lock:
            masks = sum(e.words.nbytes for e in (*(w for w, _ in self._masks.values()),
                                                   *self._limited.values()))
        return int(self.dfa.nbytes + masks)

    # -- internals -------------------------------------------------------------------------

    @cached_property
    def _plain(self) -> tuple[PlainTokens, TextChains]:
        plain = plain_tokens(self.vocab, self._trie)
        return plain, TextChains(self.dfa.transitions, self._byte_class, plain.longest)

    def _budget_costs(self) -> npt.NDArray[np.int64]:
        """Per state, the fewer of two bounds on the tokens to the end of its module: the
        symbols (a call counting its callee's shortest value), and the tokens when no
        call is needed (:meth:`TokenIndex.tokens_to_accept` of the modules' table, whose
        tokens never call or return midway, with the modules' ends accepting). Each
        keeps some allowed token lowering it by one, so their minimum does.

        Raises
        ------
        ValueError
            If the vocabulary lacks a single-byte token for a byte the grammar may need.
        """
        if self._token_costs is not None:
            return self._token_costs
        dfa = self.dfa
        # Bytes some transition takes (offsets of live moves are far above DEAD).
        rows = dfa.transitions.rows
        used = {b for b in range(256) if (rows[:, self._byte_class[b]] > -(1 << 30)).any()}
        if missing := used - self._single_bytes:
            raise ValueError(
                "budgets over a grammar with calls need a token for each byte; this "
                f"vocabulary has none for {sorted(missing)[:8]}"
            )
        ends = dfa.accepting | dfa.returns
        local = CompactDFA(dfa.transitions, ends, dfa.class_of,
                           accept_distances(dfa.transitions.dense(), ends))
        tokens = TokenIndex(local, self.vocab, special_tokens=self.special_tokens)
        found = tokens.tokens_to_accept().astype(np.int64)
        costs = np.minimum(np.where(found == UNREACHABLE, _UNLIMITED, found), self._byte_costs)
        with self._lock:
            self._token_costs = costs
        return costs

    def _compute(self, config: Configuration, limit: int,
                 costs: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint32], int, int]:
        """(words, non-EOS count, max cost over live tokens) by one trie walk. Inside
        string text the plain tokens come from bitsets, as in
        :meth:`TokenIndex._compute`: they never leave the string, so never call or return."""
        words = np.zeros(self.n_words, dtype=np.uint32)
        below = np.asarray(config[:-1], dtype=np.int64)
        below_cost = np.zeros(below.shape[0] + 1, dtype=np.int64)
        np.cumsum(costs[below], out=below_cost[1:])
        plain, chains = self._plain
        chain = chains(config[-1])
        trie, table = (self._trie if chain is None else plain.rest), self.dfa.transitions
        n_text, ceiling = _stack_kernel(
            trie.label, trie.end, trie.token_ptr, trie.token_ids, trie.max_depth,
            table.row_of, table.rows, self._byte_class, self.dfa.call_start,
            self.dfa.call_return, self._returns, costs, below, below_cost,
            config[-1], limit, words,
        )
        if chain is not None:
            base = int(below_cost[-1])  # plain text keeps every frame below
            allowed, top = plain.fill(words, chain, costs, min(limit - base, _UNLIMITED))
            n_text += allowed
            ceiling = max(ceiling, top + base if top >= 0 else -1)
        for token_id, symbol in self._special_symbol.items():
            target = self.dfa.walk([symbol], config)
            if target is None:
                continue
            cost = int(costs[list(target)].sum())
            ceiling = max(ceiling, cost)
            if cost <= limit:
                words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
                n_text += 1
        if self.dfa.is_accepting(config):
            words |= self._eos_words
        words.flags.writeable = False
        return words, int(n_text), int(ceiling)


@jit
def _stack_kernel(  # type: ignore[no-untyped-def]
    label, end, token_ptr, token_ids, max_depth, row_of, rows, byte_class, call_start,
    call_return, returns, costs, below, below_cost, top, limit, words,
):
    """The trie walk of :class:`~structgen.index.masks.walk` with a stack per trie depth:
    the frames of ``below`` still standing, and the return states pushed since."""
    n_classes = rows.shape[1]
    flat = rows.ravel()
    shared = row_of.shape[0] > 0
    size = max_depth + 1
    here = np.empty(size, np.int64)
    kept = np.empty(size, np.int64)
    n_pushed = np.empty(size, np.int64)
    pushed_cost = np.empty(size, np.int64)
    pushed = np.empty((size, size), np.int64)
    here[0] = top
    kept[0] = below.shape[0]
    n_pushed[0] = 0
    pushed_cost[0] = 0
    allowed = 0
    max_cost = -1
    n_nodes = label.shape[0]
    i = 0
    while i < n_nodes:
        packed = label[i]
        d = packed >> 16
        cls = byte_class[packed & 0xFFFF]
        s = here[d - 1]
        n = n_pushed[d - 1]
        paid = pushed_cost[d - 1]
        q = s + flat[(row_of[s] if shared else s) * n_classes + cls]
        called = q < 0 and call_start[s] >= 0
        if called:
            callee = call_start[s]
            q = callee + flat[(row_of[callee] if shared else callee) * n_classes + cls]
        if q < 0:
            i = end[i]
            continue
        for k in range(n):
            pushed[d, k] = pushed[d - 1, k]
        if called:
            back = call_return[s]
            pushed[d, n] = back
            n += 1
            paid += costs[back]
        standing = kept[d - 1]
        dead = False
        while returns[q]:
            if n > 0:
                n -= 1
                q = pushed[d, n]
                paid -= costs[q]
            elif standing > 0:
                standing -= 1
                q = below[standing]
            else:
                dead = True
                break
        if dead:
            i = end[i]
            continue
        here[d] = q
        kept[d] = standing
        n_pushed[d] = n
        pushed_cost[d] = paid
        lo = token_ptr[i]
        hi = token_ptr[i + 1]
        if hi > lo:
            cost = below_cost[standing] + paid + costs[q]
            if cost > max_cost:
                max_cost = cost
            if cost <= limit:
                allowed += hi - lo
                for k in range(lo, hi):
                    t = token_ids[k]
                    words[t >> 5] |= np.uint32(1) << np.uint32(t & 31)
        i += 1
    return allowed, max_cost
