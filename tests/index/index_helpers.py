"""Random automata and vocabularies for the index tests (fast kernels versus references)."""

from __future__ import annotations

import numpy as np

from structgen.automata.dfa import ByteDFA
from structgen.automata.distance import bytes_to_accept
from structgen.index import Vocabulary

ALPHABET = b'ab{}":, \\\xc3\xa9\xe2\x82\xac'


def random_dfa(
    seed: int,
    *,
    n_states: int = 12,
    n_classes: int = 5,
    n_specials: int = 0,
    density: float = 0.6,
) -> ByteDFA:
    """A DFA where every state is reachable from 0 and can reach acceptance (a chain
    0 -> 1 -> ... -> last, the last state accepting), plus random edges."""
    rng = np.random.default_rng(seed)
    n_symbols = 256 + n_specials
    class_of = rng.integers(0, n_classes, n_symbols)
    class_of[rng.permutation(n_symbols)[:n_classes]] = np.arange(n_classes)
    table = np.where(
        rng.random((n_states, n_classes)) < density,
        rng.integers(0, n_states, (n_states, n_classes)),
        -1,
    )
    for s in range(n_states - 1):
        table[s, rng.integers(n_classes)] = s + 1
    accepting = rng.random(n_states) < 0.25
    accepting[-1] = True
    table = table.astype(np.int32)
    return ByteDFA(
        transitions=table,
        accepting=accepting,
        class_of=class_of.astype(np.int32),
        bytes_to_accept=bytes_to_accept(table, accepting),
    )


def random_vocab(
    seed: int,
    *,
    n_tokens: int = 80,
    alphabet: bytes = ALPHABET,
    all_single_bytes: bool = True,
    special_texts: tuple[str, ...] = ("<a>", "<b>"),
    extra_rows: int = 7,
) -> Vocabulary:
    """Random byte tokens over ``alphabet`` (duplicates included), ids that write nothing,
    special tokens, an EOS id and embedding rows beyond the vocabulary."""
    rng = np.random.default_rng(seed)
    tokens: list[bytes | None] = []
    if all_single_bytes:
        tokens += [bytes((b,)) for b in alphabet]
    while len(tokens) < n_tokens:
        length = int(rng.integers(1, 7))
        tokens.append(bytes(alphabet[int(i)] for i in rng.integers(0, len(alphabet), length)))
    order = rng.permutation(len(tokens))
    tokens = [tokens[int(i)] for i in order]
    tokens.append(tokens[3])  # a duplicate
    tokens.append(None)  # an id that writes nothing
    specials = {len(tokens) + i: text for i, text in enumerate(special_texts)}
    tokens += [None] * len(special_texts)
    eos = len(tokens)
    tokens.append(None)
    specials[eos] = "<eos>"
    return Vocabulary.from_token_bytes(
        tokens,
        special_tokens=specials,
        eos_token_ids=[eos],
        embedding_rows=len(tokens) + extra_rows,
    )


def bits(words: np.ndarray) -> set[int]:
    """The set bits of a packed bitset."""
    out = set()
    for w, word in enumerate(np.asarray(words, dtype=np.uint32).tolist()):
        for b in range(32):
            if word >> b & 1:
                out.add(32 * w + b)
    return out
