"""Jump-forward: the bytes a grammar forces next, and the tokens that may be appended for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from structgen.automata.compact import CompactTable
from structgen.automata.stack import Configuration
from structgen.index.masks import any_token_below
from structgen.index.stack_index import StackIndex
from structgen.index.token_index import TokenIndex
from structgen.index.trie import Trie

__all__ = ["forced_symbols", "split_forced"]

_MAX_RUN = 4096


def forced_symbols(index: TokenIndex | StackIndex, state: Any) -> list[int]:
    """The symbols the grammar forces from ``state``: while the state is not accepting and
    exactly one symbol (a byte, or a grammar special token the vocabulary has) keeps the
    DFA alive, that symbol. Stops at accepting states, where EOS is another way on."""
    class_of = index.dfa.class_of
    class_sizes = np.bincount(np.asarray(class_of[:256]), minlength=index.dfa.n_classes)
    first_byte = np.full(index.dfa.n_classes, -1, dtype=np.int64)
    for byte in range(255, -1, -1):
        first_byte[class_of[byte]] = byte
    specials = sorted(set(index.special_token_symbols.values()))
    run: list[int] = []
    while not index.is_accepting(state) and len(run) < _MAX_RUN:
        live = _live_classes(index, state)
        live_specials = [s for s in specials if live[class_of[s]]]
        n_bytes = int(class_sizes[live].sum())
        if n_bytes + len(live_specials) != 1:
            break
        if live_specials:
            symbol = live_specials[0]
        else:
            symbol = next(int(first_byte[c]) for c in np.flatnonzero(live) if class_sizes[c])
        run.append(symbol)
        state = index.dfa.walk([symbol], state)
    return run


def _live_classes(index: TokenIndex | StackIndex, state: Any) -> npt.NDArray[np.bool_]:
    """Per class, whether it keeps the automaton alive: a move of the state, or on a stack
    of the state's own or of the module it calls."""
    table = index.dfa.transitions
    if not isinstance(index, StackIndex):
        return table.targets(state) >= 0
    top = state[-1]
    live = table.targets(top) >= 0
    callee = int(index.dfa.call_start[top])
    return live | (table.targets(callee) >= 0) if callee >= 0 else live


def split_forced(
    index: TokenIndex | StackIndex,
    state: Any,
    run: Sequence[int],
    allowed: Callable[[Any, int], Any],
    tokenize: Callable[[bytes], Sequence[int]] | None = None,
) -> list[int]:
    """Tokens for a forced symbol run, stopping where the model should choose again.

    Byte stretches are split greedily into the longest vocabulary token (or by
    ``tokenize``, the model's own tokenizer, when given); a special symbol is its special
    token. A token is dropped, with everything after it, when a token starting at the
    same place could run on past the end of the forced bytes (then how to cross into the
    free part is the model's choice, and appending the short token would force a split the
    tokenizer would not make), or when ``allowed(state, token)`` (the guide's own check,
    budget included) returns None; otherwise it returns the next state.
    """
    trie = index.trie
    byte_class = np.ascontiguousarray(index.dfa.class_of[:256], dtype=np.int32)
    transitions = index.dfa.transitions

    def runs_on(rest: bytes, state: Any) -> bool:
        if isinstance(index, StackIndex):
            return _runs_on_stack(index, rest, state)
        return _runs_on(trie, transitions, byte_class, rest, state)

    symbol_token: dict[int, int] = {}
    for token_id, symbol in sorted(index.special_token_symbols.items()):
        symbol_token.setdefault(symbol, token_id)
    out: list[int] = []
    position = 0
    while position < len(run):
        symbol = run[position]
        if symbol >= 256:
            token_id = symbol_token.get(symbol)
            if token_id is None:
                break
            state = allowed(state, token_id)
            if state is None:
                break
            out.append(token_id)
            position += 1
            continue
        stretch_end = position
        while stretch_end < len(run) and run[stretch_end] < 256:
            stretch_end += 1
        stretch = bytes(run[position:stretch_end])
        tokens = _greedy(trie, stretch) if tokenize is None else list(tokenize(stretch))
        offset = 0
        for token_id in tokens:
            in_range = 0 <= token_id < index.vocab.vocab_size
            data = index.vocab.token_bytes[token_id] if in_range else None
            if not data or not stretch.startswith(data, offset):
                return out
            if stretch_end == len(run) and runs_on(stretch[offset:], state):
                return out
            state = allowed(state, token_id)
            if state is None:
                return out
            out.append(token_id)
            offset += len(data)
        if offset != len(stretch):
            break
        position = stretch_end
    return out


def _greedy(trie: Trie, data: bytes) -> list[int]:
    """Longest-match split of ``data`` into tokens (lowest id among equal bytes)."""
    symbol, end, token_ptr, token_ids = trie.symbol, trie.end, trie.token_ptr, trie.token_ids
    out: list[int] = []
    start = 0
    while start < len(data):
        node = -1
        best = -1
        best_len = 0
        i = start
        while i < len(data):
            child = _child(symbol, end, trie.n_nodes, node, data[i])
            if child < 0:
                break
            node = child
            i += 1
            if token_ptr[node + 1] > token_ptr[node]:
                best = int(token_ids[token_ptr[node]])
                best_len = i - start
        if best < 0:
            break
        out.append(best)
        start += best_len
    return out


def _child(symbol: np.ndarray, end: np.ndarray, n_nodes: int, node: int, byte: int) -> int:
    j = 0 if node < 0 else node + 1
    stop = n_nodes if node < 0 else int(end[node])
    while j < stop:
        if symbol[j] == byte:
            return j
        j = int(end[j])
    return -1


def _runs_on(
    trie: Trie,
    transitions: CompactTable,
    byte_class: np.ndarray,
    rest: bytes,
    state: int,
) -> bool:
    """Whether a token starting here could cover ``rest`` (the forced bytes left) and go on."""
    node = -1
    for byte in rest:
        node = _child(trie.symbol, trie.end, trie.n_nodes, node, byte)
        if node < 0:
            return False
        state = transitions[state, byte_class[byte]]
        if state < 0:
            return False
    return any_token_below(trie, transitions, byte_class, node, state)


def _runs_on_stack(index: StackIndex, rest: bytes, config: Configuration) -> bool:
    """:func:`_runs_on` over a stack configuration: is a token longer than ``rest`` and
    starting with it allowed here?"""
    trie = index.trie
    node = -1
    for byte in rest:
        node = _child(trie.symbol, trie.end, trie.n_nodes, node, byte)
        if node < 0:
            return False
    below = trie.token_ids[trie.token_ptr[node + 1]:trie.token_ptr[trie.end[node]]]
    words = index.entry(config).words
    return bool(((words[below >> 5] >> (below & 31).astype(np.uint32)) & 1).any())
