"""The vLLM adapter's real code driven by a stand-in of what vLLM calls.

vLLM needs CUDA, so ``vllm.v1.sample.logits_processor`` is replaced by a minimal copy of its
interface (``LogitsProcessor``, ``BatchUpdate``, ``MoveDirectionality`` as in vLLM 0.10.2+),
and :class:`FakeEngine` plays the V1 model runner's persistent batch: requests are added into
free slots, removed when finished and the batch is condensed (moves) or reordered (swaps);
``update_state`` runs before each step and ``apply`` on real ``torch`` logits over the
Llama-3 vocabulary (random, so the grammar alone must make outputs valid).
"""

from __future__ import annotations

import abc
import enum
import importlib
import json
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

import structgen
from structgen.hermes import parse_tool_calls
from structgen.integrations.model import decode_tokens

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 12},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "units": {"enum": ["metric", "imperial"]},
    },
    "required": ["city", "days"],
}
FLAGS = {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 4}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "maxLength": 10}},
                "required": ["city"],
            },
        },
    }
]


# -- the stand-in --------------------------------------------------------------------------


class MoveDirectionality(enum.Enum):
    UNIDIRECTIONAL = enum.auto()
    SWAP = enum.auto()


@dataclass(frozen=True)
class BatchUpdate:
    batch_size: int
    removed: Sequence[int]
    added: Sequence[tuple[int, Any, list[int] | None, list[int]]]
    moved: Sequence[tuple[int, int, MoveDirectionality]]


class LogitsProcessor(abc.ABC):
    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        return None

    @abc.abstractmethod
    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None: ...

    @abc.abstractmethod
    def apply(self, logits: torch.Tensor) -> torch.Tensor: ...

    @abc.abstractmethod
    def is_argmax_invariant(self) -> bool: ...

    @abc.abstractmethod
    def update_state(self, batch_update: BatchUpdate | None) -> None: ...


@dataclass
class SamplingParams:
    max_tokens: int = 16
    temperature: float = 0.0
    extra_args: dict[str, Any] | None = None


@dataclass
class Request:
    params: SamplingParams
    prompt: list[int]
    output: list[int] = field(default_factory=list)


class FakeEngine:
    """The calls vLLM's V1 runner makes on a logits processor, with a tiny scheduler."""

    def __init__(self, processor: Any, width: int, eos: set[int], *, max_batch: int = 4) -> None:
        self.processor = processor
        self.width = width
        self.eos = eos
        self.max_batch = max_batch
        self.generator = torch.Generator().manual_seed(0)
        self.untouched_rows_checked = 0

    def run(self, requests: list[Request], *, swap_every: int = 3) -> None:
        """vLLM's order within a step: removals, adds into the freed slots, condense (moves
        from the end into holes), an occasional swap; then one ``BatchUpdate``."""
        waiting = list(requests)
        slots: list[Request | None] = []
        removed: list[int] = []
        step = 0
        while waiting or any(slots):
            added: list[Any] = []
            while waiting and sum(r is not None for r in slots) < self.max_batch:
                request = waiting.pop(0)
                index = slots.index(None) if None in slots else len(slots)
                if index == len(slots):
                    slots.append(None)
                elif index in removed:
                    removed.remove(index)  # a reused slot is reported as added only
                slots[index] = request
                added.append((index, request.params, request.prompt, request.output))
            moved = _condense(slots)
            if step % swap_every == swap_every - 1 and len(slots) >= 2:
                slots[0], slots[-1] = slots[-1], slots[0]
                moved.append((0, len(slots) - 1, MoveDirectionality.SWAP))
            changed = added or removed or moved
            self.processor.update_state(
                BatchUpdate(len(slots), removed, added, moved) if changed else None
            )
            removed = []
            logits = torch.randn(len(slots), self.width, generator=self.generator)
            logits[:, sorted(self.eos)] += 8.0  # EOS wins whenever the grammar allows it
            before = logits.clone()
            logits = self.processor.apply(logits)
            for index, request in enumerate(slots):
                assert request is not None
                if not (request.params.extra_args or {}).get("structgen"):
                    assert torch.equal(logits[index], before[index])
                    self.untouched_rows_checked += 1
                token = self._sample(logits[index], request.params)
                request.output.append(token)
                if token in self.eos or len(request.output) >= request.params.max_tokens:
                    slots[index] = None
                    removed.append(index)
            step += 1
        if removed:  # vLLM reports these with its next step
            self.processor.update_state(BatchUpdate(0, removed, [], []))

    def _sample(self, row: torch.Tensor, params: SamplingParams) -> int:
        if params.temperature == 0:
            return int(row.argmax())
        probs = torch.softmax(row / params.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))


def _condense(slots: list[Request | None]) -> list[Any]:
    """Move the last live rows into the holes, as vLLM's ``condense`` does."""
    moved: list[Any] = []
    while slots and slots[-1] is None:
        slots.pop()
    while None in slots:
        hole = slots.index(None)
        source = len(slots) - 1
        slots[hole], slots[source] = slots[source], None
        moved.append((source, hole, MoveDirectionality.UNIDIRECTIONAL))
        while slots and slots[-1] is None:
            slots.pop()
    return moved


@pytest.fixture
def adapter(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """``structgen.integrations.vllm`` imported against the stand-in."""
    names = ["vllm", "vllm.v1", "vllm.v1.sample", "vllm.v1.sample.logits_processor"]
    for name in names:
        module = types.ModuleType(name)
        monkeypatch.setitem(sys.modules, name, module)
    stand_in = sys.modules["vllm.v1.sample.logits_processor"]
    stand_in.LogitsProcessor = LogitsProcessor  # type: ignore[attr-defined]
    stand_in.BatchUpdate = BatchUpdate  # type: ignore[attr-defined]
    stand_in.MoveDirectionality = MoveDirectionality  # type: ignore[attr-defined]
    sys.modules.pop("structgen.integrations.vllm", None)
    module = importlib.import_module("structgen.integrations.vllm")
    try:
        yield module
    finally:
        sys.modules.pop("structgen.integrations.vllm", None)
        if hasattr(structgen.integrations, "vllm"):
            delattr(structgen.integrations, "vllm")


@pytest.fixture(scope="module")
def vocab() -> structgen.Vocabulary:
    return structgen.Vocabulary.llama3()


def _processor(adapter: types.ModuleType, vocab: structgen.Vocabulary) -> Any:
    cls = adapter.StructgenLogitsProcessor.with_vocabulary(vocab)
    assert issubclass(cls, LogitsProcessor)
    return cls(types.SimpleNamespace(), torch.device("cpu"), False)


# -- the batch-level processor ------------------------------------------------------------


def test_batch_processor_keeps_every_row_valid_through_adds_moves_and_swaps(
    adapter: types.ModuleType, vocab: structgen.Vocabulary
) -> None:
    processor = _processor(adapter, vocab)
    assert processor.is_argmax_invariant() is False
    specs = [{"json_schema": SCHEMA}, {"json_schema": FLAGS}, None]
    requests = []
    for i in range(7):
        spec = specs[i % 3]
        extra = None if spec is None else {"structgen": spec if i % 2 else json.dumps(spec)}
        params = SamplingParams(max_tokens=24 + i, temperature=0.0 if i < 4 else 1.0,
                                extra_args=extra)
        requests.append(Request(params, prompt=[128000, 1000 + i]))
    engine = FakeEngine(processor, vocab.embedding_rows, set(vocab.eos_token_ids))
    engine.run(requests)
    assert engine.untouched_rows_checked > 0
    for request in requests:
        spec = (request.params.extra_args or {}).get("structgen")
        if spec is None:
            continue
        schema = (json.loads(spec) if isinstance(spec, str) else spec)["json_schema"]
        grammar = structgen.compile(schema)
        assert request.output[-1] in vocab.eos_token_ids, request.output
        assert len(request.output) <= request.params.max_tokens
        text = decode_tokens(vocab, request.output)
        assert grammar.accepts(text), text
        assert grammar.validate(json.loads(text)) == []
    assert not processor._rows  # every finished request was forgotten


def test_hermes_tool_grammar_drives_the_batch(
    adapter: types.ModuleType, vocab: structgen.Vocabulary
) -> None:
    processor = _processor(adapter, vocab)
    spec = {"tools": TOOLS, "tool_choice": "required", "parallel": False}
    requests = [
        Request(SamplingParams(max_tokens=60, temperature=0.7, extra_args={"structgen": spec}),
                prompt=[128000, 9 + i])
        for i in range(2)
    ]
    FakeEngine(processor, vocab.embedding_rows, set(vocab.eos_token_ids)).run(requests)
    for request in requests:
        parsed = parse_tool_calls(decode_tokens(vocab, request.output))
        assert not parsed.errors, parsed
        assert [c.name for c in parsed.calls] == ["get_weather"]
        assert isinstance(parsed.calls[0].arguments["city"], str)


def test_a_bad_spec_is_refused_up_front(adapter: types.ModuleType) -> None:
    cls = adapter.StructgenLogitsProcessor
    cls.validate_params(SamplingParams(extra_args=None))
    cls.validate_params(SamplingParams(extra_args={"structgen": {"json_schema": SCHEMA}}))
    with pytest.raises(ValueError, match="exactly one of"):
        cls.validate_params(SamplingParams(extra_args={"structgen": {"schema": SCHEMA}}))
    with pytest.raises(ValueError, match="not JSON"):
        cls.validate_params(SamplingParams(extra_args={"structgen": "{oops"}))
    bad = {"json_schema": {"type": "object", "required": ["a"], "additionalProperties": False}}
    with pytest.raises(ValueError, match="cannot compile"):
        cls.validate_params(SamplingParams(extra_args={"structgen": bad}))


def test_a_refused_token_ends_the_row_with_eos(
    adapter: types.ModuleType, vocab: structgen.Vocabulary
) -> None:
    processor = _processor(adapter, vocab)
    output: list[int] = []
    params = SamplingParams(max_tokens=20, extra_args={"structgen": {"json_schema": SCHEMA}})
    processor.update_state(BatchUpdate(1, [], [(0, params, [1], output)], []))
    output.append(vocab.token_bytes.index(b"hello"))  # not JSON: forced by someone else
    processor.update_state(None)
    logits = processor.apply(torch.zeros(1, vocab.embedding_rows))
    allowed = torch.isfinite(logits[0]).nonzero().flatten().tolist()
    assert set(allowed) == set(vocab.eos_token_ids)


def test_placeholders_from_async_scheduling_wait(
    adapter: types.ModuleType, vocab: structgen.Vocabulary
) -> None:
    processor = _processor(adapter, vocab)
    output: list[int] = []
    params = SamplingParams(max_tokens=20, extra_args={"structgen": {"json_schema": FLAGS}})
    processor.update_state(BatchUpdate(1, [], [(0, params, [1], output)], []))
    output.append(-1)
    processor.update_state(None)
    assert processor._rows[0].matcher.num_processed_tokens == 0
    output[-1] = vocab.token_bytes.index(b"[")
    processor.update_state(None)
    assert processor._rows[0].matcher.num_processed_tokens == 1


def test_vocabulary_from_the_served_tokenizer(adapter: types.ModuleType, tmp_path) -> None:
    from structgen.testing import llama3_tokenizer

    llama3_tokenizer().save_pretrained(tmp_path)
    config = types.SimpleNamespace(
        model_config=types.SimpleNamespace(tokenizer=str(tmp_path), get_vocab_size=lambda: 128256)
    )
    processor = adapter.StructgenLogitsProcessor(config, torch.device("cpu"), False)
    vocab = processor._vocabulary()
    assert vocab.embedding_rows == 128256
    llama3 = structgen.Vocabulary.llama3()
    assert vocab.token_bytes == llama3.token_bytes
    assert 128009 in vocab.eos_token_ids


# -- the request-level pieces --------------------------------------------------------------


def test_request_processor_in_a_v0_style_loop(
    adapter: types.ModuleType, vocab: structgen.Vocabulary
) -> None:
    grammar = structgen.compile(SCHEMA)
    processor = adapter.RequestLogitsProcessor(grammar.index(vocab), max_tokens=30)
    generator = torch.Generator().manual_seed(1)
    for _ in range(2):  # the second run reuses the processor from an empty output
        output: list[int] = []
        while not output or output[-1] not in vocab.eos_token_ids:
            logits = torch.randn(vocab.embedding_rows, generator=generator)
            logits = processor(output, logits)
            output.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)))
        assert len(output) <= 30
        assert grammar.accepts(decode_tokens(vocab, output))


def test_matcher_rollback_validate_and_reset(
    adapter: types.ModuleType, vocab: structgen.Vocabulary
) -> None:
    index = structgen.compile(FLAGS).index(vocab)
    matcher = adapter.GrammarMatcher(index, max_tokens=20, max_rollback_tokens=4)
    ids = [vocab.token_bytes.index(piece) for piece in (b"[", b"true", b",", b" false", b"]")]
    eos = min(vocab.eos_token_ids)
    assert matcher.validate_tokens([*ids, eos, ids[0]]) == [*ids, eos]
    assert matcher.num_processed_tokens == 0
    width = index.n_words

    def mask() -> list[int]:
        bitmask = torch.zeros(2, width, dtype=torch.int32)
        matcher.fill_bitmask(bitmask, 1)
        return bitmask[1].tolist()

    assert matcher.accept_tokens("r", ids[:2])
    after_two = mask()
    assert matcher.accept_tokens("r", ids[2:4])
    matcher.rollback(2)
    assert matcher.num_processed_tokens == 2 and mask() == after_two
    assert matcher.accept_tokens("r", [*ids[2:], eos])
    assert matcher.is_terminated()
    assert not matcher.accept_tokens("r", [eos])
    matcher.rollback(1)
    assert not matcher.is_terminated()
    with pytest.raises(ValueError, match="history holds"):
        matcher.rollback(5)
    assert not matcher.accept_tokens("r", [vocab.token_bytes.index(b"true")])
    matcher.reset()
    assert matcher.num_processed_tokens == 0 and matcher.validate_tokens(ids[:1]) == ids[:1]


def test_importing_structgen_does_not_import_vllm() -> None:
    import subprocess

    code = "import sys, structgen; print('vllm' in sys.modules, 'ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
