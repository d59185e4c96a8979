"""vLLM: structgen grammars (JSON Schema, Hermes tool calls) as a vLLM logits processor.

Targets
-------
* **vLLM 0.10.2 and later, V1 engine** — :class:`StructgenLogitsProcessor` implements
  ``vllm.v1.sample.logits_processor.LogitsProcessor`` (``__init__(vllm_config, device,
  is_pin_memory)``, ``validate_params``, ``update_state(batch_update)``, ``apply(logits)``,
  ``is_argmax_invariant``), the batch-level interface custom processors have used since
  0.10.2. Releases whose default model runner is "V2" keep it for the V1 runner
  (``VLLM_USE_V2_MODEL_RUNNER=0``). vLLM refuses custom logits processors together with
  speculative decoding, so this path never rolls back.
* **Request level** — :class:`RequestLogitsProcessor` is the ``fn(output_token_ids, logits)``
  callable of vLLM 0.10.1 and earlier (V0 ``SamplingParams(logits_processors=[...])``) and of
  V1's ``AdapterLogitsProcessor.new_req_logits_processor``.
* **Structured-output matcher** — :class:`GrammarMatcher` has the method set of
  ``vllm.v1.structured_output.backend_types.StructuredOutputGrammar`` (``accept_tokens``,
  ``validate_tokens``, ``rollback``, ``fill_bitmask``, ``is_terminated``, ``reset``), with a
  bounded history for speculative-decoding rollback. vLLM picks its structured-output
  backends from a fixed list, so this class serves a patched or forked backend; the two
  processors above use it for their per-request state.

These were checked against a stand-in of the interfaces (``tests/integrations/
test_vllm_adapter.py``), not yet against a running vLLM (it needs CUDA).

Serving
-------
``vllm serve MODEL --logits-processors structgen.integrations.vllm:StructgenLogitsProcessor``;
a request opts in with ``extra_args={"structgen": SPEC}`` (OpenAI server: ``"vllm_xargs":
{"structgen": "<SPEC as a JSON string>"}``), where ``SPEC`` is ``{"json_schema": {...}}`` or
``{"tools": [...], "tool_choice": "auto", "parallel": true}`` (the Hermes tool-call grammar).
The request's ``max_tokens`` becomes the grammar's budget, so every output ends complete and
valid within it. Compiled grammars and indexes are cached per process, and on disk under
``$STRUCTGEN_CACHE_DIR`` when it is set.
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor, MoveDirectionality

from structgen.grammar import Grammar, compile
from structgen.guide import Guide
from structgen.guide.kernels import torch as torch_kernels
from structgen.hermes.tool_grammar import tool_call_grammar
from structgen.index import TokenIndex, Vocabulary

if TYPE_CHECKING:
    from vllm.config import VllmConfig

__all__ = [
    "EXTRA_ARGS_KEY",
    "GrammarMatcher",
    "RequestLogitsProcessor",
    "StructgenLogitsProcessor",
    "grammar_from_spec",
]

EXTRA_ARGS_KEY = "structgen"
"""The ``SamplingParams.extra_args`` key a request puts its grammar spec under."""

logger = logging.getLogger(__name__)


class GrammarMatcher:
    """One request's position in a grammar, shaped like vLLM's ``StructuredOutputGrammar``.

    Parameters
    ----------
    index
        The grammar's token index over the served model's vocabulary.
    max_tokens
        The request's ``max_tokens``: every accepted path then ends valid within it.
    max_rollback_tokens
        How many accepted tokens :meth:`rollback` can undo (vLLM passes the number of
        speculative tokens); each costs one small guide copy.
    """

    def __init__(
        self, index: TokenIndex, *, max_tokens: int | None = None, max_rollback_tokens: int = 16
    ) -> None:
        self.index = index
        self.max_tokens = max_tokens
        self.max_rollback_tokens = max_rollback_tokens
        self.reset()

    def reset(self) -> None:
        """Back to the start of the grammar."""
        self._guide: Guide = Guide(self.index, max_tokens=self.max_tokens)
        self._history: collections.deque[tuple[Guide, bool]] = collections.deque(
            maxlen=self.max_rollback_tokens
        )
        self._terminated = False
        self.num_processed_tokens = 0

    def accept_tokens(self, request_id: str, tokens: Sequence[int]) -> bool:
        """Advance through ``tokens``; at the first refused one, stop and return False (the
        tokens before it stay accepted, as vLLM's xgrammar backend does)."""
        for token_id in tokens:
            token_id = int(token_id)
            if self._terminated or not self._guide.is_allowed(token_id):
                logger.warning(
                    "structgen: request %s: token %d refused after %d tokens",
                    request_id, token_id, self.num_processed_tokens,
                )
                return False
            if self.max_rollback_tokens:
                self._history.append((self._guide.copy(), self._terminated))
            self._guide.advance(token_id)
            self._terminated = self.index.is_eos(token_id)
            self.num_processed_tokens += 1
        return True

    def validate_tokens(self, tokens: Sequence[int]) -> list[int]:
        """The longest prefix of ``tokens`` the grammar accepts from here; no state change."""
        accepted: list[int] = []
        if self._terminated:
            return accepted
        probe = self._guide.copy()
        for token_id in tokens:
            if not probe.is_allowed(int(token_id)):  # refuses anything after EOS too
                break
            probe.advance(int(token_id))
            accepted.append(int(token_id))
        return accepted

    def rollback(self, num_tokens: int) -> None:
        """Undo the last ``num_tokens`` accepted tokens (rejected speculative tokens).

        Raises
        ------
        ValueError
            More tokens than the history holds (``max_rollback_tokens``).
        """
        if num_tokens <= 0:
            return
        if num_tokens > len(self._history):
            raise ValueError(
                f"cannot roll back {num_tokens} tokens: the history holds "
                f"{len(self._history)} (max_rollback_tokens={self.max_rollback_tokens})"
            )
        for _ in range(num_tokens - 1):
            self._history.pop()
        self._guide, self._terminated = self._history.pop()
        self.num_processed_tokens -= num_tokens

    def fill_bitmask(self, bitmask: torch.Tensor, batch_index: int) -> None:
        """Write the allowed tokens into row ``batch_index`` of an ``int32`` bitmask."""
        self._guide.fill_bitmask(bitmask, batch_index)

    def is_terminated(self) -> bool:
        """Whether EOS has been accepted (a state where only EOS is left is not yet)."""
        return self._terminated

    @property
    def guide(self) -> Guide:
        return self._guide


class RequestLogitsProcessor:
    """A per-request ``fn(output_token_ids, logits) -> logits`` over one 1-D logits row.

    For vLLM ≤ 0.10.1 (``SamplingParams(logits_processors=[...])``, one instance per
    sequence: do not share it between ``n > 1`` samples) and for V1's
    ``AdapterLogitsProcessor``. Each call consumes the tokens appended since the last one.
    """

    def __init__(self, index: TokenIndex, *, max_tokens: int | None = None) -> None:
        self.matcher = GrammarMatcher(index, max_tokens=max_tokens, max_rollback_tokens=0)
        self._bitmask = torch_kernels.allocate_bitmask(1, index.n_words)

    def __call__(self, output_token_ids: Sequence[int], logits: torch.Tensor) -> torch.Tensor:
        done = self.matcher.num_processed_tokens
        if len(output_token_ids) < done:  # a new sequence reuses the processor
            self.matcher.reset()
            done = 0
        _catch_up(self.matcher, output_token_ids, done, "request")
        self.matcher.fill_bitmask(self._bitmask, 0)
        return torch_kernels.apply_bitmask(logits, self._bitmask[0])


@dataclass
class _Row:
    matcher: GrammarMatcher
    output_token_ids: Sequence[int]  # vLLM's live list of the request's output tokens
    failed: bool = False


class StructgenLogitsProcessor(LogitsProcessor):
    """Constrain the requests that carry a structgen spec; leave the others untouched.

    vLLM builds one instance per engine (``LLM(model, logits_processors=[cls])`` or
    ``vllm serve --logits-processors structgen.integrations.vllm:StructgenLogitsProcessor``)
    and calls :meth:`update_state` before each step, then :meth:`apply` on the batch's
    logits. Each constrained row's mask is written on the host into one ``int32`` bitmask
    (pinned on CUDA), copied once and applied on the logits' device.

    The vocabulary comes from the served tokenizer (loaded once, on the first constrained
    request, about a second for 128k tokens), sized to the model's logits; set
    :attr:`vocabulary` on a subclass (:meth:`with_vocabulary`) to supply it.

    A token the grammar refuses (another processor or a penalty forced it) cannot be
    undone here: the row is logged and allowed only EOS from then on, so it ends at once.
    """

    vocabulary: ClassVar[Vocabulary | None] = None

    def __init__(self, vllm_config: VllmConfig, device: torch.device, is_pin_memory: bool) -> None:
        self.vllm_config = vllm_config
        self.device = device
        self.pin_memory = is_pin_memory
        self._vocab: Vocabulary | None = type(self).vocabulary
        self._rows: dict[int, _Row] = {}
        self._indexes: dict[str, TokenIndex] = {}
        self._bitmask: torch.Tensor | None = None

    @classmethod
    def with_vocabulary(cls, vocab: Vocabulary) -> type[StructgenLogitsProcessor]:
        """A subclass bound to ``vocab`` (skips loading the tokenizer)."""
        return type(cls.__name__, (cls,), {"vocabulary": vocab, "__module__": cls.__module__})

    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        """Reject a request whose spec does not compile (``ValueError``, as vLLM expects)."""
        key = _spec_key(sampling_params)
        if key is not None:
            _grammar(key)

    def is_argmax_invariant(self) -> bool:
        """A grammar mask changes the argmax, so greedy requests need it too."""
        return False

    # -- state -----------------------------------------------------------------------------

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is not None:
            for index, params, _prompt, output_token_ids in batch_update.added:
                row = self._new_row(params, output_token_ids)
                if row is None:
                    self._rows.pop(index, None)
                else:
                    self._rows[index] = row
            for index in batch_update.removed:
                self._rows.pop(index, None)
            for a, b, direction in batch_update.moved:
                row_a = self._rows.pop(a, None)
                row_b = self._rows.pop(b, None)
                if row_a is not None:
                    self._rows[b] = row_a
                if row_b is not None and direction == MoveDirectionality.SWAP:
                    self._rows[a] = row_b
        for index, row in self._rows.items():
            if row.failed:
                continue
            done = row.matcher.num_processed_tokens
            if not _catch_up(row.matcher, row.output_token_ids, done, f"batch row {index}"):
                row.failed = True

    def _new_row(self, params: Any, output_token_ids: Sequence[int]) -> _Row | None:
        key = _spec_key(params)
        if key is None:
            return None
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = _grammar(key).index(
                self._vocabulary(), cache_dir=os.environ.get("STRUCTGEN_CACHE_DIR")
            )
        max_tokens = getattr(params, "max_tokens", None)
        matcher = GrammarMatcher(index, max_tokens=max_tokens, max_rollback_tokens=0)
        return _Row(matcher, output_token_ids)

    def _vocabulary(self) -> Vocabulary:
        if self._vocab is None:
            self._vocab = _served_vocabulary(self.vllm_config)
        return self._vocab

    # -- masking ---------------------------------------------------------------------------

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        if not self._rows:
            return logits
        rows = sorted(i for i in self._rows if i < logits.shape[0])
        if not rows:
            return logits
        n_words = self._rows[rows[0]].matcher.index.n_words
        bitmask = self._bitmask_for(len(rows), n_words)
        for slot, index in enumerate(rows):
            row = self._rows[index]
            if row.failed:
                bitmask[slot] = torch.from_numpy(_eos_words(row.matcher.index).view(np.int32))
            else:
                row.matcher.fill_bitmask(bitmask, slot)
        picked = torch.as_tensor(rows, dtype=torch.long, device=logits.device)
        masked = torch_kernels.apply_bitmask(logits.index_select(0, picked), bitmask)
        logits.index_copy_(0, picked, masked)
        return logits

    def _bitmask_for(self, n_rows: int, n_words: int) -> torch.Tensor:
        bitmask = self._bitmask
        if bitmask is None or bitmask.shape[0] < n_rows or bitmask.shape[1] != n_words:
            pin = self.pin_memory and self.device.type == "cuda"
            bitmask = self._bitmask = torch_kernels.allocate_bitmask(
                max(n_rows, 8), n_words, pin_memory=pin
            )
        return bitmask[:n_rows]


def _catch_up(matcher: GrammarMatcher, output: Sequence[int], done: int, where: str) -> bool:
    """Feed the tokens appended since ``done``; stop at a placeholder (< 0, async
    scheduling writes them before the real token is known). False if a token was refused."""
    fresh = []
    for token_id in output[done:]:
        if token_id < 0:
            break
        fresh.append(token_id)
    return matcher.accept_tokens(where, fresh) if fresh else True


def _eos_words(index: TokenIndex) -> npt.NDArray[np.uint32]:
    """Only EOS: the mask of a row whose grammar refused a token, so it ends at once."""
    words = np.zeros(index.n_words, dtype=np.uint32)
    for token_id in index.vocab.eos_token_ids:
        words[token_id >> 5] |= np.uint32(1 << (token_id & 31))
    return words


def grammar_from_spec(spec: Mapping[str, Any] | str) -> Grammar:
    """Compile a request spec: ``{"json_schema": ...}`` or ``{"tools": [...],
    "tool_choice": ..., "parallel": ...}`` (a dict or its JSON text); cached per process.

    Raises
    ------
    ValueError
        Not JSON, not one of the two forms, or a schema structgen cannot compile (the
        message is the compiler's, with its JSON pointer).
    """
    key = spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True)
    return _grammar(key)


@functools.lru_cache(maxsize=256)
def _grammar(key: str) -> Grammar:
    try:
        spec = json.loads(key)
    except ValueError as exc:
        raise ValueError(f"extra_args[{EXTRA_ARGS_KEY!r}] is not JSON: {exc}") from None
    if not isinstance(spec, dict) or ("json_schema" in spec) == ("tools" in spec):
        raise ValueError(
            f"extra_args[{EXTRA_ARGS_KEY!r}] must be an object with exactly one of "
            f"'json_schema' or 'tools', got {key[:200]}"
        )
    try:
        if "json_schema" in spec:
            return compile(spec["json_schema"])
        return tool_call_grammar(
            spec["tools"],
            tool_choice=spec.get("tool_choice", "auto"),
            parallel=bool(spec.get("parallel", True)),
        )
    except Exception as exc:  # vLLM turns ValueError into a 400 for the one request
        raise ValueError(f"structgen cannot compile this spec: {exc}") from exc


def _spec_key(params: Any) -> str | None:
    extra = getattr(params, "extra_args", None) or {}
    spec = extra.get(EXTRA_ARGS_KEY)
    if spec is None:
        return None
    return spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True)


def _served_vocabulary(vllm_config: Any) -> Vocabulary:
    """The served model's vocabulary from its tokenizer, as wide as its logits."""
    from transformers import AutoTokenizer

    model_config = vllm_config.model_config
    tokenizer = AutoTokenizer.from_pretrained(
        model_config.tokenizer,
        revision=getattr(model_config, "tokenizer_revision", None),
        trust_remote_code=bool(getattr(model_config, "trust_remote_code", False)),
    )
    return Vocabulary.from_tokenizer(tokenizer, embedding_rows=model_config.get_vocab_size())
