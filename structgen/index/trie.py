"""A vocabulary's tokens as a trie laid out in preorder, so a walk is one forward scan."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from structgen._version import __version__
from structgen.index._jit import jit
from structgen.index.cache import DiskCache, Recent, cache_key
from structgen.index.vocabulary import Vocabulary

__all__ = ["Trie", "build_trie", "build_trie_reference", "subtrie", "vocabulary_trie"]


@dataclass(frozen=True, eq=False)
class Trie:
    """Token strings as a trie in preorder, as plain arrays.

    Node ``i`` stands for the string of symbols on the path from the (implicit) root; its
    subtree is the index range ``[i, end[i])``, so a walk that meets a dead state skips the
    whole subtree with ``i = end[i]``. The parent of node ``i`` is the last node before it
    with ``depth == depth[i] - 1``. Children follow their parent in increasing symbol order.

    Symbols are bytes (0..255) in a vocabulary's byte trie and byte classes in a grammar's
    collapsed trie (:func:`structgen.index.collapse.collapse`).

    Attributes
    ----------
    symbol
        ``int32[n_nodes]``: the symbol on the edge into node ``i``.
    depth
        ``int32[n_nodes]``: path length, 1 for the root's children.
    end
        ``int32[n_nodes]``: one past the last node of ``i``'s subtree.
    token_ptr
        ``int32[n_nodes + 1]``: the tokens whose string ends at node ``i`` are
        ``token_ids[token_ptr[i]:token_ptr[i + 1]]``; a subtree's tokens are contiguous too.
    token_ids
        ``int32[n_tokens]``: token ids in preorder of their nodes; within a node, by bytes
        and then id.
    max_depth
        The longest token, in symbols.
    """

    symbol: npt.NDArray[np.int32]
    depth: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    token_ptr: npt.NDArray[np.int32]
    token_ids: npt.NDArray[np.int32]
    max_depth: int

    @property
    def n_nodes(self) -> int:
        return int(self.symbol.shape[0])

    @functools.cached_property
    def label(self) -> npt.NDArray[np.int32]:
        """``symbol | depth << 16`` per node: one load instead of two in the walk's loop."""
        label = (self.symbol | (self.depth << 16)).astype(np.int32)
        label.flags.writeable = False
        return label

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = (self.symbol, self.depth, self.end, self.token_ptr, self.token_ids)
        return sum(int(a.nbytes) for a in arrays)

    def arrays(self) -> dict[str, npt.NDArray[np.int32]]:
        """The arrays by name, for the disk cache."""
        return {
            "symbol": self.symbol,
            "depth": self.depth,
            "end": self.end,
            "token_ptr": self.token_ptr,
            "token_ids": self.token_ids,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.int32]]) -> Trie:
        depth = np.ascontiguousarray(arrays["depth"], dtype=np.int32)
        return cls(
            symbol=np.ascontiguousarray(arrays["symbol"], dtype=np.int32),
            depth=depth,
            end=np.ascontiguousarray(arrays["end"], dtype=np.int32),
            token_ptr=np.ascontiguousarray(arrays["token_ptr"], dtype=np.int32),
            token_ids=np.ascontiguousarray(arrays["token_ids"], dtype=np.int32),
            max_depth=int(depth.max(initial=0)),
        )


def build_trie(vocab: Vocabulary) -> Trie:
    """The byte trie of ``vocab``'s text tokens (specials and EOS ids are not in it).

    Sorting the tokens' bytes takes most of the time (about 0.1 s for Llama-3's 128,000
    tokens, 274,520 nodes); use :func:`vocabulary_trie`, which builds it once per vocabulary.
    """
    token_bytes = vocab.token_bytes
    order = sorted(
        (i for i, data in enumerate(token_bytes) if data is not None),
        key=token_bytes.__getitem__,
    )
    chunks = [token_bytes[i] for i in order]
    lengths = np.fromiter((len(c) for c in chunks), dtype=np.int64, count=len(chunks))  # type: ignore[arg-type]
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.frombuffer(b"".join(chunks), dtype=np.uint8)  # type: ignore[arg-type]
    max_depth = int(lengths.max(initial=0))
    symbol, depth, end, token_ptr, n_nodes = _build_kernel(flat, offsets, max_depth)
    return Trie(
        symbol=symbol[:n_nodes].copy(),
        depth=depth[:n_nodes].copy(),
        end=end[:n_nodes].copy(),
        token_ptr=token_ptr[: n_nodes + 1].copy(),
        token_ids=np.asarray(order, dtype=np.int32),
        max_depth=max_depth,
    )


def subtrie(trie: Trie, keep: npt.NDArray[np.bool_]) -> Trie:
    """The trie of the tokens ``keep`` marks (indexed by token id), cut out of ``trie``:
    the nodes whose subtree holds one of them, in the same preorder."""
    kept_tokens = keep[trie.token_ids]
    before = np.zeros(kept_tokens.shape[0] + 1, dtype=np.int64)  # kept tokens before k
    np.cumsum(kept_tokens, out=before[1:])
    starts = trie.token_ptr[:-1]
    nodes = before[trie.token_ptr[trie.end]] > before[starts]
    ahead = np.zeros(nodes.shape[0] + 1, dtype=np.int64)  # kept nodes before i
    np.cumsum(nodes, out=ahead[1:])
    depth = trie.depth[nodes]
    return Trie(
        symbol=trie.symbol[nodes],
        depth=depth,
        end=ahead[trie.end[nodes]].astype(np.int32),
        token_ptr=np.append(before[starts[nodes]], before[-1]).astype(np.int32),
        token_ids=trie.token_ids[kept_tokens],
        max_depth=int(depth.max(initial=0)),
    )


_ARRAY_NAMES = ("symbol", "depth", "end", "token_ptr", "token_ids")
_TRIES: Recent[Trie] = Recent(kept=4)


def vocabulary_trie(vocab: Vocabulary, *, cache: DiskCache | None = None) -> Trie:
    """:func:`build_trie`, once per vocabulary fingerprint in this process.

    With ``cache``, a trie built by another process is loaded from disk (a few ms) and a
    new one is stored there.
    """
    found = _TRIES.get(vocab.fingerprint)
    if found is not None:
        return found
    trie: Trie | None = None
    key = ""
    if cache is not None:
        key = cache_key("Trie", __version__, vocab.fingerprint)
        arrays = cache.load(key)
        if arrays is not None and set(arrays) == set(_ARRAY_NAMES):
            trie = Trie.from_arrays(arrays)  # type: ignore[arg-type]
    if trie is None:
        trie = build_trie(vocab)
        if cache is not None:
            cache.store(key, trie.arrays())
    return _TRIES.keep(vocab.fingerprint, trie)


@jit
def _build_kernel(flat, offsets, max_depth):  # type: ignore[no-untyped-def]
    """Preorder trie of sorted strings: each string opens the nodes past its common prefix."""
    n_tokens = offsets.shape[0] - 1
    capacity = flat.shape[0]
    symbol = np.empty(capacity, np.int32)
    depth = np.empty(capacity, np.int32)
    end = np.empty(capacity, np.int32)
    token_ptr = np.empty(capacity + 1, np.int32)
    open_nodes = np.empty(max_depth + 1, np.int64)
    n_nodes = 0
    open_depth = 0
    for k in range(n_tokens):
        start = offsets[k]
        length = offsets[k + 1] - start
        common = 0
        if k > 0:
            previous = offsets[k - 1]
            limit = min(length, start - previous)
            while common < limit and flat[previous + common] == flat[start + common]:
                common += 1
        while open_depth > common:
            end[open_nodes[open_depth]] = n_nodes
            open_depth -= 1
        for d in range(common, length):
            symbol[n_nodes] = flat[start + d]
            depth[n_nodes] = d + 1
            token_ptr[n_nodes] = k
            open_depth = d + 1
            open_nodes[open_depth] = n_nodes
            n_nodes += 1
    while open_depth > 0:
        end[open_nodes[open_depth]] = n_nodes
        open_depth -= 1
    token_ptr[n_nodes] = n_tokens
    return symbol, depth, end, token_ptr, n_nodes


def build_trie_reference(strings: dict[int, tuple[int, ...]]) -> Trie:
    """Pure-Python twin of the trie builders: ``strings`` maps token id -> symbol string.

    Tokens that share a node keep the order of ``strings``. Nested dicts, then a recursive
    preorder; slow, for tests that check the fast builders.
    """
    root: dict[int, dict] = {}  # type: ignore[type-arg]
    tokens_at: dict[int, list[int]] = {}
    for token_id, string in strings.items():
        node = root
        for sym in string:
            node = node.setdefault(sym, {})
        tokens_at.setdefault(id(node), []).append(token_id)
    symbol: list[int] = []
    depth: list[int] = []
    end: list[int] = []
    token_ptr: list[int] = []
    token_ids: list[int] = []

    def visit(node: dict, level: int) -> None:  # type: ignore[type-arg]
        for sym in sorted(node):
            child = node[sym]
            here = len(symbol)
            symbol.append(sym)
            depth.append(level)
            end.append(-1)
            token_ptr.append(len(token_ids))
            token_ids.extend(tokens_at.get(id(child), []))
            visit(child, level + 1)
            end[here] = len(symbol)

    visit(root, 1)
    token_ptr.append(len(token_ids))
    return Trie(
        symbol=np.array(symbol, dtype=np.int32),
        depth=np.array(depth, dtype=np.int32),
        end=np.array(end, dtype=np.int32),
        token_ptr=np.array(token_ptr, dtype=np.int32),
        token_ids=np.array(token_ids, dtype=np.int32),
        max_depth=max(depth, default=0),
    )
