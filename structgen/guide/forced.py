"""Jump-forward: the bytes a grammar forces next, and the tokens that may be appended for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from structgen.automata.compact import CompactTable
from structgen.index.masks import any_token_below
from structgen.index.token_index import TokenIndex
from structgen.index.trie import Trie

__all__ = ["forced_symbols", "split_forced"]

_MAX_RUN = 4096


def forced_symbols(index: TokenIndex, state: int) -> list[int]:
    """The symbols the grammar forces from ``state``: while the state is not accepting and
    exactly one symbol (a byte, or a grammar special token the vocabulary has) keeps the
    DFA alive, that symbol. Stops at accepting states, where EOS is another way on."""
    transitions = index.dfa.transitions
    class_of = index.dfa.class_of
    class_sizes = np.bincount(np.asarray(class_of[:256]), minlength=index.dfa.n_classes)
    first_byte = np.full(index.dfa.n_classes, -1, dtype=np.int64)
    for byte in range(255, -1, -1):
        first_byte[class_of[byte]] = byte
    specials = sorted(set(index.special_token_symbols.values()))
    run: list[int] = []
    while not index.is_accepting(state) and len(run) < _MAX_RUN:
        row = transitions.targets(state)
        live = np.flatnonzero(row >= 0)
        live_specials = [s for s in specials if row[class_of[s]] >= 0]
        n_bytes = int(class_sizes[live].sum())
        if n_bytes + len(live_specials) != 1:
            break
        if live_specials:
            symbol = live_specials[0]
        else:
            symbol = next(int(first_byte[c]) for c in live if class_sizes[c])
        run.append(symbol)
        state = int(row[class_of[symbol]])
    return run


def split_forced(
    index: TokenIndex,
    state: int,
    run: Sequence[int],
    allowed: Callable[[int, int], int],
    tokenize: Callable[[bytes], Sequence[int]] | None = None,
) -> list[int]:
    """Tokens for a forced symbol run, stopping where the model should choose again.

    Byte stretches are split greedily into the longest vocabulary token (or by
    ``tokenize``, the model's own tokenizer, when given); a special symbol is its special
    token. A token is dropped, with everything after it, when a token starting at the
    same place could run on past the end of the forced bytes (then how to cross into the
    free part is the model's choice, and appending the short token would force a split the
    tokenizer would not make), or when ``allowed(state, token)`` (the guide's own check,
    budget included) returns -1; otherwise it returns the next state.
    """
    trie = index.trie
    byte_class = np.ascontiguousarray(index.dfa.class_of[:256], dtype=np.int32)
    transitions = index.dfa.transitions
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
            if state < 0:
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
            if stretch_end == len(run) and _runs_on(
                trie, transitions, byte_class, stretch[offset:], state
            ):
                return out
            state = allowed(state, token_id)
            if state < 0:
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
