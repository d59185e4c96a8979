"""The CUDA path: masks applied on the GPU and constrained decoding with a model on CUDA.

Marked ``gpu``: ``make test`` deselects them (``-m "not gpu"``); ``benchmarks/gpu.sh``
runs them on a machine with CUDA, where a missing device is a failure, not a skip.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import structgen
from structgen.guide.kernels import numpy as numpy_kernels
from structgen.guide.kernels import torch as torch_kernels
from structgen.integrations.sampling import Sampling
from structgen.testing import llama3_tokenizer, random_llama

pytestmark = pytest.mark.gpu

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 20},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "days"],
}


def test_cuda_is_there() -> None:
    assert torch.cuda.is_available(), "the gpu tests need CUDA"


@pytest.mark.parametrize("batch", [1, 32])
def test_apply_bitmask_on_cuda_matches_numpy(batch: int) -> None:
    rng = np.random.default_rng(batch)
    width = 128256
    n_words = (width + 31) // 32
    bitmask = rng.integers(-(2**31), 2**31, size=(batch, n_words), dtype=np.int64).astype(np.int32)
    logits = rng.standard_normal((batch, width)).astype(np.float32)
    expected = numpy_kernels.apply_bitmask(logits.copy(), bitmask)
    pinned = torch_kernels.allocate_bitmask(batch, n_words, pin_memory=True)
    pinned.copy_(torch.from_numpy(bitmask))
    on_gpu = torch.from_numpy(logits).cuda()
    torch_kernels.apply_bitmask(on_gpu, pinned)
    assert np.array_equal(on_gpu.cpu().numpy(), expected)


def test_constrained_decoding_on_cuda() -> None:
    model = random_llama(
        hidden_size=256, intermediate_size=512, device="cuda", dtype=torch.bfloat16
    )
    tokenizer = llama3_tokenizer()
    engine = structgen.models.transformers(model, tokenizer)
    grammar = structgen.compile(SCHEMA)
    index = grammar.index(engine.vocab)
    prompts = [engine.encode(f"Weather {i}:") for i in range(16)]
    completions = engine.generate_tokens(
        prompts,
        [index.guide(max_tokens=48) for _ in prompts],
        max_tokens=48,
        sampling=Sampling(seed=0),
    )
    for completion in completions:
        assert completion.finish_reason == "stop"
        assert grammar.accepts(completion.text), completion.text
        assert json.loads(completion.text)["days"] in range(1, 8)
