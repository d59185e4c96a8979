"""BatchGuide: one bitmask per batch, masking on the logits' device, rows finishing apart."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest
import torch
from guide_helpers import grammar, schema

from structgen.guide import BatchGuide, Guide
from structgen.guide.kernels import numpy as numpy_kernels
from structgen.guide.kernels import torch as torch_kernels
from structgen.index import Vocabulary, build_index


def _random_bitmask(rng: np.random.Generator, batch: int, words: int) -> np.ndarray:
    return rng.integers(-(2**31), 2**31, (batch, words), dtype=np.int64).astype(np.int32)


@pytest.mark.parametrize("width", [1, 64, 95, 96, 130])
def test_numpy_and_torch_kernels_agree_with_the_bit_definition(width: int) -> None:
    rng = np.random.default_rng(width)
    bitmask = _random_bitmask(rng, 3, 3)  # 96 bits
    logits = rng.standard_normal((3, width)).astype(np.float32)
    expected = logits.copy()
    for i in range(3):
        for t in range(width):
            allowed = t < 96 and (int(bitmask[i, t // 32]) >> (t % 32)) & 1
            if not allowed:
                expected[i, t] = -np.inf
    out = numpy_kernels.apply_bitmask(logits.copy(), bitmask)
    assert np.array_equal(out, expected)
    tensor = torch.from_numpy(logits.copy())
    result = torch_kernels.apply_bitmask(tensor, torch.from_numpy(bitmask))
    assert result is tensor and np.array_equal(tensor.numpy(), expected)
    one = torch.from_numpy(logits[1].copy())
    torch_kernels.apply_bitmask(one, torch.from_numpy(bitmask[1]))
    assert np.array_equal(one.numpy(), expected[1])
    with pytest.raises(TypeError, match="int32"):
        torch_kernels.apply_bitmask(tensor, torch.zeros((3, 3), dtype=torch.int64))


@pytest.fixture(scope="module")
def llama3() -> Vocabulary:
    return Vocabulary.llama3()


def test_batched_decoding_with_torch(llama3: Vocabulary) -> None:
    names = ["enum_and_const", "bounded_array", "unicode_pattern", "top_level_string"]
    guides = []
    for name in names:
        index = build_index(grammar(name), llama3)
        shortest = int(index.tokens_to_accept()[0])
        guides.append(Guide(index, max_tokens=shortest + 8))
    pad = 128_004
    batch = BatchGuide(guides, pad_token_id=pad)
    bitmask = torch_kernels.allocate_bitmask(len(batch), batch.n_words)
    generator = torch.Generator().manual_seed(0)
    outputs: list[list[int]] = [[] for _ in names]
    finished_at: list[int | None] = [None] * len(names)
    for step in range(64):
        if batch.is_finished():
            break
        batch.fill_bitmask(bitmask)
        logits = torch.randn((len(names), llama3.embedding_rows), generator=generator)
        batch.apply(logits, bitmask)
        sampled = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
        for row, token in enumerate(sampled[:, 0].tolist()):
            assert bool(torch.isfinite(logits[row, token]))
            if finished_at[row] is None:
                outputs[row].append(token)
        finished_before = batch.finished()
        batch.advance(sampled)
        for row, done in enumerate(batch.finished()):
            if done and finished_at[row] is None:
                finished_at[row] = step
        # Rows that were already finished allowed only EOS and the pad token.
        for row in np.flatnonzero(finished_before):
            allowed = set(np.flatnonzero(np.isfinite(logits[row].numpy())).tolist())
            assert allowed <= {128_001, 128_009, pad}
    assert batch.is_finished()
    assert len(set(finished_at)) > 1  # the rows finished at different steps
    for name, tokens in zip(names, outputs, strict=True):
        text = b"".join(llama3.token_bytes[t] or b"" for t in tokens).decode()
        jsonschema.validate(json.loads(text), schema(name))


def test_fill_bitmask_rows_and_advance_errors(llama3: Vocabulary) -> None:
    index = build_index(grammar("bounded_array"), llama3)
    batch = BatchGuide.from_index(index, 3, pad_token_id=0)
    bitmask = batch.allocate_bitmask()
    assert bitmask.shape == (3, index.n_words) and bitmask.dtype == np.int32
    batch.fill_bitmask(bitmask)
    start = Guide(index).mask().view(np.int32)
    assert all(np.array_equal(row, start) for row in bitmask)
    with pytest.raises(ValueError, match="expected 3 token ids"):
        batch.advance([1, 2])
    comma = llama3.token_bytes.index(b",")
    with pytest.raises(ValueError, match=r"row 0: token .* not allowed in state 0"):
        batch.advance([comma, comma, comma])
    with pytest.raises(ValueError, match="at least one guide"):
        BatchGuide([])


def test_import_structgen_imports_no_torch() -> None:
    code = (
        "import sys, structgen, structgen.index, structgen.guide\n"
        "from structgen.guide import BatchGuide, Guide\n"
        "import numpy as np\n"
        "from structgen.guide.kernels import apply_bitmask\n"
        "apply_bitmask(np.zeros((1, 4)), np.zeros((1, 1), dtype=np.int32))\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["False"]


def test_device_tensors_take_the_device_path() -> None:
    # The "meta" device stands in for a GPU: no data, but every op must stay on it.
    vocab = Vocabulary.from_token_bytes(
        [b"a", b"b", None], special_tokens={2: "<e>"}, eos_token_ids=[2], embedding_rows=70
    )
    dfa_index = build_index(grammar("top_level_string").dfa, vocab)
    batch = BatchGuide.from_index(dfa_index, 2)
    bitmask = torch.zeros((2, batch.n_words), dtype=torch.int32, device="meta")
    batch.fill_bitmask(bitmask)
    logits = torch.zeros((2, 70), device="meta")
    out = batch.apply(logits, torch.zeros((2, batch.n_words), dtype=torch.int32))
    assert out is logits and out.device.type == "meta"
