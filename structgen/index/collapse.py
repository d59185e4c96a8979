"""Merge a byte trie's nodes that a DFA cannot tell apart into a trie of byte-class strings."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from structgen.index._jit import jit
from structgen.index.trie import Trie, build_trie_reference

__all__ = ["collapse", "collapse_reference"]


def collapse(trie: Trie, byte_class: npt.NDArray[np.int32]) -> Trie:
    """The trie of class strings: ``byte_class[b]`` replaces each byte, equal paths merge.

    A walk over it visits each class string once instead of each token string. On Llama-3
    with the JSON grammars in ``schemas/`` (52-77 byte classes, as UTF-8 validation and
    property names split the bytes finely) the 274,520 byte nodes merge into 167k-207k
    class nodes, which saves about a quarter of a full walk and costs 10-20 ms to build;
    so lazy masks walk the byte trie and only the eager :meth:`TokenIndex.build_all`,
    which walks every state, collapses first.

    Parameters
    ----------
    trie
        A byte trie (:func:`structgen.index.trie.build_trie`).
    byte_class
        ``int32[256]``: the DFA class of each byte (``ByteDFA.class_of[:256]``).

    Returns
    -------
    Trie
        Symbols are class ids; children in increasing class order; the tokens of a node in
        the order of their bytes, then id.
    """
    byte_class = np.ascontiguousarray(byte_class[:256], dtype=np.int32)
    if trie.n_nodes == 0:
        return trie
    symbol, depth, end, token_ptr, token_ids, n_nodes = _collapse_kernel(
        trie.symbol, trie.end, trie.token_ptr, trie.token_ids, byte_class, trie.max_depth
    )
    return Trie(
        symbol=symbol[:n_nodes].copy(),
        depth=depth[:n_nodes].copy(),
        end=end[:n_nodes].copy(),
        token_ptr=token_ptr[: n_nodes + 1].copy(),
        token_ids=token_ids,
        max_depth=trie.max_depth,
    )


@jit
def _collapse_kernel(symbol, end, token_ptr, token_ids, byte_class, max_depth):  # type: ignore[no-untyped-def]
    """Depth-first merge: a class node is a group of byte nodes; its children are their
    children, grouped by class (stable, so groups stay in byte-string order)."""
    n = symbol.shape[0]
    c_symbol = np.empty(n, np.int32)
    c_depth = np.empty(n, np.int32)
    c_end = np.empty(n, np.int32)
    c_token_ptr = np.empty(n + 1, np.int32)
    c_token_ids = np.empty(token_ids.shape[0], np.int32)
    # Groups of byte nodes live on a stack in ``store``; ``keys`` holds their classes.
    store = np.empty(n + 1, np.int32)
    keys = np.empty(n + 1, np.int32)
    frame_hi = np.empty(max_depth + 2, np.int64)
    frame_cursor = np.empty(max_depth + 2, np.int64)
    frame_node = np.empty(max_depth + 2, np.int64)
    size = 0
    i = 0
    while i < n:
        store[size] = i
        keys[size] = byte_class[symbol[i]]
        size += 1
        i = end[i]
    _stable_sort(store, keys, 0, size)
    top = 0
    frame_hi[0] = size
    frame_cursor[0] = 0
    frame_node[0] = -1
    n_nodes = 0
    n_tokens = 0
    while top >= 0:
        cursor = frame_cursor[top]
        hi = frame_hi[top]
        if cursor == hi:
            if frame_node[top] >= 0:
                c_end[frame_node[top]] = n_nodes
            top -= 1
            continue
        cls = keys[cursor]
        run_end = cursor + 1
        while run_end < hi and keys[run_end] == cls:
            run_end += 1
        frame_cursor[top] = run_end
        node = n_nodes
        n_nodes += 1
        c_symbol[node] = cls
        c_depth[node] = top + 1
        c_token_ptr[node] = n_tokens
        fill = hi
        for g in range(cursor, run_end):
            b = store[g]
            for k in range(token_ptr[b], token_ptr[b + 1]):
                c_token_ids[n_tokens] = token_ids[k]
                n_tokens += 1
            child = b + 1
            while child < end[b]:
                store[fill] = child
                keys[fill] = byte_class[symbol[child]]
                fill += 1
                child = end[child]
        _stable_sort(store, keys, hi, fill)
        top += 1
        frame_hi[top] = fill
        frame_cursor[top] = hi
        frame_node[top] = node
    c_token_ptr[n_nodes] = n_tokens
    return c_symbol, c_depth, c_end, c_token_ptr, c_token_ids, n_nodes


@jit
def _stable_sort(store, keys, lo, hi):  # type: ignore[no-untyped-def]
    """Insertion sort of ``store[lo:hi]`` by ``keys``; groups are short (a node's children)."""
    for a in range(lo + 1, hi):
        key = keys[a]
        value = store[a]
        b = a - 1
        while b >= lo and keys[b] > key:
            keys[b + 1] = keys[b]
            store[b + 1] = store[b]
            b -= 1
        keys[b + 1] = key
        store[b + 1] = value


def collapse_reference(token_bytes: dict[int, bytes], byte_class: npt.NDArray[np.int32]) -> Trie:
    """Pure-Python twin of :func:`collapse`: ``bytes.translate`` each token, then a dict trie.

    ``token_bytes`` maps token id -> bytes (text tokens only).
    """
    classes = [int(c) for c in np.asarray(byte_class)[:256]]
    ranks = sorted(set(classes))
    if len(ranks) <= 256:
        # Class ids may exceed 255: translate through their rank, which keeps their order.
        rank_of = {c: r for r, c in enumerate(ranks)}
        table = bytes(rank_of[c] for c in classes)
        strings = {
            i: tuple(ranks[r] for r in data.translate(table)) for i, data in token_bytes.items()
        }
    else:  # pragma: no cover - a byte partition has at most 256 classes
        strings = {i: tuple(classes[b] for b in data) for i, data in token_bytes.items()}
    ordered = dict(sorted(strings.items(), key=lambda item: (token_bytes[item[0]], item[0])))
    return build_trie_reference(ordered)
