"""Guide: masks, advance and its errors, finishing, bitmask buffers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from guide_helpers import sequence_dfa

from structgen.guide import Guide
from structgen.index import Vocabulary, build_index

TOKENS = [b"{", b"}", b"a", b"b", b"ab", b"{a", b"}}", b"\xc3", b"\xa9"]
EOS = len(TOKENS)
SPECIAL = EOS + 1


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary.from_token_bytes(
        [*TOKENS, None, None],
        special_tokens={EOS: "<eos>", SPECIAL: "<tool>"},
        eos_token_ids=[EOS],
        embedding_rows=40,
    )


@pytest.fixture
def guide(vocab: Vocabulary) -> Guide:
    # "{" then one or more of a/b, then "}"
    return build_index(sequence_dfa([b"{", (b"ab", "+"), b"}"]), vocab).guide()


def _ids(words: np.ndarray) -> list[int]:
    return [t for t in range(32 * len(words)) if int(words[t >> 5]) >> (t & 31) & 1]


def test_walk_masks_and_finish(guide: Guide) -> None:
    assert guide.allowed_token_ids().tolist() == [0, 5]  # "{" and "{a"
    assert guide.allowed_token_ids().dtype == np.int32
    guide.advance(5)
    assert set(guide.allowed_token_ids().tolist()) == {1, 2, 3, 4}  # "}}" would overshoot
    assert not guide.is_finished()
    guide.advance(1)
    assert guide.allowed_token_ids().tolist() == [EOS]
    assert guide.is_finished()  # accepting, and only EOS left
    guide.advance(EOS)
    assert guide.is_finished() and guide.allowed_token_ids().tolist() == []
    with pytest.raises(ValueError, match="already consumed EOS"):
        guide.advance(EOS)


def test_advance_errors_name_token_and_state(guide: Guide) -> None:
    with pytest.raises(ValueError, match=r"token 2 \(b'a'\) is not allowed in state 0"):
        guide.advance(2)
    with pytest.raises(ValueError, match=r"token 9 \(<eos>\).*only in accepting states"):
        guide.advance(EOS)
    with pytest.raises(ValueError, match=r"token 10 \(<tool>\) is not allowed"):
        guide.advance(SPECIAL)
    with pytest.raises(ValueError, match=r"outside the vocabulary \[0, 11\)"):
        guide.advance(35)  # an embedding row past the vocabulary
    assert guide.state == 0 and not guide.is_allowed(2) and guide.is_allowed(0)


def test_fill_bitmask_numpy_and_torch(guide: Guide) -> None:
    rows = guide.index.n_words
    assert rows == 2  # ceil(40 / 32)
    buffer = np.full((3, rows), -1, dtype=np.int32)
    guide.fill_bitmask(buffer, row=1)
    assert _ids(buffer[1].view(np.uint32)) == [0, 5]
    assert (buffer[0] == -1).all() and (buffer[2] == -1).all()
    tensor = torch.zeros((2, rows), dtype=torch.int32)
    guide.fill_bitmask(tensor, row=0)
    assert _ids(tensor[0].numpy().view(np.uint32)) == [0, 5]
    with pytest.raises(TypeError, match="int32"):
        guide.fill_bitmask(np.zeros((1, rows), dtype=np.int64))
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        guide.fill_bitmask(np.zeros((1, 3), dtype=np.int32))
    with pytest.raises(TypeError, match="numpy array or a torch tensor"):
        guide.fill_bitmask([[0, 0]])


def test_copy_is_independent(guide: Guide) -> None:
    twin = guide.copy()
    guide.advance(0)
    assert twin.state == 0 and guide.state != 0
    twin.advance(5)
    assert twin.state == guide.index.next_state(0, 5)


def test_budget_counts_down_and_reserves_eos(vocab: Vocabulary) -> None:
    index = build_index(sequence_dfa([b"{", (b"ab", "+"), b"}"]), vocab)
    assert int(index.tokens_to_accept()[0]) == 2  # "{a" + "}"
    guide = index.guide(max_tokens=3)
    assert guide.remaining_budget == 3
    assert guide.allowed_token_ids().tolist() == [5]  # "{" alone leaves no room
    with pytest.raises(ValueError, match="no room to finish within the remaining 3 tokens"):
        guide.advance(0)
    guide.advance(5)
    assert guide.allowed_token_ids().tolist() == [1]
    guide.advance(1)
    guide.advance(EOS)
    assert guide.remaining_budget == 0 and guide.is_finished()
    roomy = index.guide(max_tokens=10)
    assert roomy.allowed_token_ids().tolist() == [0, 5]
    assert "remaining_budget=10" in repr(roomy)


def test_special_tokens_move_the_dfa_as_one_symbol() -> None:
    vocab = Vocabulary.from_token_bytes(
        [b"x", b"<tool>", None, None],
        special_tokens={2: "<tool>", 3: "<eos>"},
        eos_token_ids=[3],
    )
    dfa = sequence_dfa([0, b"x"])  # special symbol 256, then "x"
    guide = build_index(dfa, vocab, special_tokens=("<tool>",)).guide()
    # The special token, not the text token that spells the same characters.
    assert guide.allowed_token_ids().tolist() == [2]
    guide.advance(2)
    guide.advance(0)
    assert guide.is_finished()
