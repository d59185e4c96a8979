"""Per DFA state, how many tokens reach acceptance: what budget-aware decoding plans with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from structgen.automata.compact import CompactTable
from structgen.automata.distance import steps_to_accept
from structgen.index._jit import dfa_step, jit
from structgen.index.trie import Trie

__all__ = ["UNREACHABLE", "tokens_to_accept", "tokens_to_accept_reference"]

UNREACHABLE = int(np.iinfo(np.int32).max)
"""``tokens_to_accept`` of a state from which no token sequence reaches acceptance."""


def tokens_to_accept(
    trie: Trie,
    transitions: CompactTable,
    class_of: npt.NDArray[np.int32],
    accepting: npt.NDArray[np.bool_],
    bytes_to_accept: npt.NDArray[np.int32],
    single_symbols: npt.NDArray[np.int32],
    graph: tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]] | None = None,
    byte_only: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.int32]:
    """Fewest tokens from each state to an accepting state, over a graph of real token moves.

    The result is a shortest-path distance (breadth-first, backwards from the accepting
    states) in a graph whose every edge is one token of the vocabulary, so each value is
    *achievable*: from state ``s`` some token leads to a state with value ``d[s] - 1``.
    That is what lets a guide promise completion within a budget. The edges are:

    * every single-symbol token (a one-byte token, or a special token the grammar uses),
      from every state;
    * every token that spells a prefix of one of the state's *shortest completions in
      bytes* (a trie walk that follows only symbols lowering ``bytes_to_accept``, so it is
      cut short almost everywhere): the fewest tokens over all shortest byte outputs;
    * with ``graph``, every token move out of the states it covers; when it covers every
      state a guide can reach, the result is the exact minimum there;
    * but out of the ``byte_only`` states (inside arrays with unique string items, see
      :mod:`structgen.index.unique_masks`), single-symbol tokens only.

    Without ``graph`` this costs about 6 microseconds per DFA state on Llama-3 (75 ms for
    the 11,901 states of ``schemas/product_listing.json``) and is never below the true
    minimum; it exceeds it only where a longer byte output takes fewer tokens (there: in 33
    of 11,901 states, and not at the start; on ``address`` and ``tool_weather``: nowhere).

    Parameters
    ----------
    trie
        The vocabulary's byte trie.
    transitions, class_of, accepting, bytes_to_accept
        The DFA (``CompactDFA`` fields).
    single_symbols
        Symbols that are a token by themselves: bytes ``b`` with a token ``bytes([b])``, and
        ``256 + i`` for grammar special tokens the vocabulary has.
    graph
        Optional token moves as CSR: the end states of state ``s``'s tokens are
        ``graph[1][graph[0][s]:graph[0][s + 1]]``.

    Returns
    -------
    int32[n_states]
        0 for accepting states, :data:`UNREACHABLE` where no edge path reaches acceptance.
    """
    n_states = transitions.n_states
    class_of = np.ascontiguousarray(class_of, dtype=np.int32)
    usable = np.unique(class_of[np.asarray(single_symbols, dtype=np.int64)]).astype(np.int32)
    path_ptr, path_dst = _shortest_path_edges(
        trie.label,
        trie.end,
        trie.token_ptr,
        trie.max_depth,
        transitions.row_of,
        transitions.rows,
        np.ascontiguousarray(class_of[:256]),
        accepting,
        np.ascontiguousarray(bytes_to_accept, dtype=np.int32),
    )
    if graph is None:
        graph_ptr = np.zeros(n_states + 1, dtype=np.int64)
        graph_dst = np.zeros(0, dtype=np.int32)
    else:
        graph_ptr, graph_dst = graph
    if byte_only is not None and byte_only.any():
        path_ptr, path_dst = _drop_rows(path_ptr, path_dst, byte_only)
        if graph_dst.shape[0]:
            graph_ptr, graph_dst = _drop_rows(graph_ptr, graph_dst, byte_only)
    return _reverse_bfs(  # type: ignore[no-any-return]
        transitions.row_of, transitions.rows, accepting, usable, path_ptr, path_dst,
        graph_ptr, graph_dst,
    )


def _drop_rows(
    ptr: npt.NDArray[np.int64], dst: npt.NDArray[np.int32], rows: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """The CSR edges without those out of ``rows``."""
    lengths = np.diff(ptr)
    keep = np.repeat(~rows, lengths)
    lengths = np.where(rows, 0, lengths)
    new_ptr = np.zeros_like(ptr)
    np.cumsum(lengths, out=new_ptr[1:])
    return new_ptr, np.ascontiguousarray(dst[keep], dtype=np.int32)


@jit
def _shortest_path_edges(  # type: ignore[no-untyped-def]
    label, end, token_ptr, max_depth, row_of, rows, byte_class, accepting, bytes_to_accept
):
    """Per state, the distinct end states of tokens spelling a prefix of a shortest completion.

    A depth-first search over (trie node, DFA state) that follows only bytes lowering
    ``bytes_to_accept``. Most states have one or two such bytes while trie nodes such as
    ``"`` have hundreds of children, so children are looked up by byte (binary search
    over the node's sorted children) unless the state's bytes outnumber them.
    """
    n_states = accepting.shape[0]
    n_classes = rows.shape[1]
    n_nodes = label.shape[0]
    # Children of each node (the root is node n_nodes), sorted by byte, as CSR.
    child_count = np.zeros(n_nodes + 2, np.int64)
    parent_at = np.empty(max_depth + 1, np.int64)
    parent_at[0] = n_nodes
    parent = np.empty(n_nodes, np.int64)
    for i in range(n_nodes):
        d = label[i] >> 16
        parent[i] = parent_at[d - 1]
        parent_at[d] = i
        child_count[parent[i] + 1] += 1
    for i in range(n_nodes + 1):
        child_count[i + 1] += child_count[i]
    child_ptr = child_count[: n_nodes + 2].copy()
    children = np.empty(n_nodes, np.int64)
    fill = child_ptr[: n_nodes + 1].copy()
    for i in range(n_nodes):  # preorder keeps each node's children sorted by byte
        children[fill[parent[i]]] = i
        fill[parent[i]] += 1
    # Per state, the bytes that bring acceptance one byte closer.
    class_bytes_ptr = np.zeros(n_classes + 1, np.int64)
    for b in range(256):
        class_bytes_ptr[byte_class[b] + 1] += 1
    for c in range(n_classes):
        class_bytes_ptr[c + 1] += class_bytes_ptr[c]
    class_bytes = np.empty(256, np.int64)
    cursor = class_bytes_ptr[:-1].copy()
    for b in range(256):
        class_bytes[cursor[byte_class[b]]] = b
        cursor[byte_class[b]] += 1
    step_ptr = np.zeros(n_states + 1, np.int64)
    for q in range(n_states):
        count = 0
        if not accepting[q]:
            for c in range(n_classes):
                t = dfa_step(row_of, rows, q, c)
                if t >= 0 and bytes_to_accept[t] == bytes_to_accept[q] - 1:
                    count += class_bytes_ptr[c + 1] - class_bytes_ptr[c]
        step_ptr[q + 1] = step_ptr[q] + count
    step_bytes = np.empty(step_ptr[n_states], np.int64)
    for q in range(n_states):
        k = step_ptr[q]
        if not accepting[q]:
            for c in range(n_classes):
                t = dfa_step(row_of, rows, q, c)
                if t >= 0 and bytes_to_accept[t] == bytes_to_accept[q] - 1:
                    for j in range(class_bytes_ptr[c], class_bytes_ptr[c + 1]):
                        step_bytes[k] = class_bytes[j]
                        k += 1
        # bytes come class by class; sort them for the merge with sorted children
        step_bytes[step_ptr[q] : k] = np.sort(step_bytes[step_ptr[q] : k])

    ptr = np.zeros(n_states + 1, np.int64)
    capacity = 4 * n_states + 16
    dst = np.empty(capacity, np.int32)
    stamp = np.full(n_states, -1, np.int32)
    stack_node = np.empty(n_nodes + 1, np.int64)
    stack_state = np.empty(n_nodes + 1, np.int32)
    size = 0
    for s in range(n_states):
        ptr[s] = size
        if accepting[s]:
            continue
        top = 0
        stack_node[0] = n_nodes
        stack_state[0] = s
        while top >= 0:
            node = stack_node[top]
            q = stack_state[top]
            top -= 1
            if node < n_nodes and token_ptr[node + 1] > token_ptr[node] and stamp[q] != s:
                stamp[q] = s
                if size == capacity:
                    capacity *= 2
                    grown = np.empty(capacity, np.int32)
                    grown[:size] = dst[:size]
                    dst = grown
                dst[size] = q
                size += 1
            lo = child_ptr[node]
            hi = child_ptr[node + 1]
            b_lo = step_ptr[q]
            b_hi = step_ptr[q + 1]
            if hi == lo or b_hi == b_lo:
                continue
            if b_hi - b_lo >= hi - lo:
                # Fewer children than useful bytes: test each child.
                want = bytes_to_accept[q] - 1
                for j in range(lo, hi):
                    child = children[j]
                    t = dfa_step(row_of, rows, q, byte_class[label[child] & 0xFFFF])
                    if t >= 0 and bytes_to_accept[t] == want:
                        top += 1
                        stack_node[top] = child
                        stack_state[top] = t
                continue
            # Few useful bytes among many children: binary-search each byte.
            j = lo
            for k in range(b_lo, b_hi):
                b = step_bytes[k]
                left = j
                right = hi
                while left < right:
                    mid = (left + right) >> 1
                    if (label[children[mid]] & 0xFFFF) < b:
                        left = mid + 1
                    else:
                        right = mid
                j = left
                if j == hi:
                    break
                child = children[j]
                if (label[child] & 0xFFFF) == b:
                    top += 1
                    stack_node[top] = child
                    stack_state[top] = dfa_step(row_of, rows, q, byte_class[b])
    ptr[n_states] = size
    return ptr, dst[:size].copy()


@jit
def _reverse_bfs(  # type: ignore[no-untyped-def]
    row_of, rows, accepting, usable, path_ptr, path_dst, graph_ptr, graph_dst
):
    n_states = accepting.shape[0]
    has_graph = graph_ptr.shape[0] == n_states + 1 and graph_dst.shape[0] > 0
    counts = np.zeros(n_states + 1, np.int64)
    for s in range(n_states):
        for c in usable:
            t = dfa_step(row_of, rows, s, c)
            if t >= 0:
                counts[t + 1] += 1
        for k in range(path_ptr[s], path_ptr[s + 1]):
            counts[path_dst[k] + 1] += 1
        if has_graph:
            for k in range(graph_ptr[s], graph_ptr[s + 1]):
                counts[graph_dst[k] + 1] += 1
    for t in range(n_states):
        counts[t + 1] += counts[t]
    fill = counts[:-1].copy()
    sources = np.empty(counts[n_states], np.int32)
    for s in range(n_states):
        for c in usable:
            t = dfa_step(row_of, rows, s, c)
            if t >= 0:
                sources[fill[t]] = s
                fill[t] += 1
        for k in range(path_ptr[s], path_ptr[s + 1]):
            t = path_dst[k]
            sources[fill[t]] = s
            fill[t] += 1
        if has_graph:
            for k in range(graph_ptr[s], graph_ptr[s + 1]):
                t = graph_dst[k]
                sources[fill[t]] = s
                fill[t] += 1
    unreachable = np.iinfo(np.int32).max
    dist = np.full(n_states, unreachable, np.int32)
    queue = np.empty(n_states, np.int32)
    head = 0
    tail = 0
    for s in range(n_states):
        if accepting[s]:
            dist[s] = 0
            queue[tail] = s
            tail += 1
    while head < tail:
        t = queue[head]
        head += 1
        for k in range(counts[t], counts[t + 1]):
            s = sources[k]
            if dist[s] == unreachable:
                dist[s] = dist[t] + 1
                queue[tail] = s
                tail += 1
    return dist


def tokens_to_accept_reference(
    token_symbols: Sequence[Sequence[int] | None],
    transitions: npt.NDArray[np.int32],
    class_of: npt.NDArray[np.int32],
    accepting: npt.NDArray[np.bool_],
    bytes_to_accept: npt.NDArray[np.int32] | None = None,
) -> list[int]:
    """Pure-Python twin of :func:`tokens_to_accept`: every token from every state, then
    breadth-first search.

    ``token_symbols[t]`` is the symbol string of token ``t`` (bytes, or ``[256 + i]`` for a
    grammar special token), ``None`` for tokens that never write. Without
    ``bytes_to_accept`` every token move counts (the exact minimum, as with a ``graph``
    covering every state); with it only what the fast default counts: single-symbol tokens,
    and tokens each of whose symbols lowers ``bytes_to_accept`` by one without passing an
    accepting state before the last.
    """
    rows = transitions.tolist()
    classes = [int(c) for c in class_of]
    n_states = len(rows)
    reverse: list[set[int]] = [set() for _ in range(n_states)]
    for s in range(n_states):
        for symbols in token_symbols:
            if not symbols:
                continue
            q = s
            on_path = not accepting[s]
            for k, sym in enumerate(symbols):
                p, q = q, rows[q][classes[sym]]
                if q < 0:
                    break
                if bytes_to_accept is not None and (
                    bytes_to_accept[q] != bytes_to_accept[p] - 1 or (k > 0 and accepting[p])
                ):
                    on_path = False
            if q < 0:
                continue
            if bytes_to_accept is None or len(symbols) == 1 or on_path:
                reverse[q].add(s)
    return steps_to_accept(reverse, accepting, UNREACHABLE)
