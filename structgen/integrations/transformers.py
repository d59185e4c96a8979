"""``transformers`` models: a batched `LogitsProcessor` for ``model.generate``, and structgen's
own decode loop with a KV cache, ragged batches and jump-forward.

The decode loop keeps one KV cache for the batch. Each step, every live row appends a
chunk: the sampled token, then (with jump-forward) the tokens the grammar forces after it.
Chunks differ in length, so they are right-padded and the padding is masked out of
attention; position ids come from the attention mask, so a row's positions stay
contiguous whatever padding sits between its tokens. One forward pass serves the whole
chunk, which is where jump-forward saves passes. While a GPU computes a step, a worker
thread fills the next step's bitmask (the trie walks release the GIL); the bitmask is then
copied once to the logits' device and applied there. On CPU the bitmask is filled inline:
torch's threads already use every core.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from transformers import LogitsProcessor, PreTrainedModel

from structgen.guide import BatchGuide, Guide
from structgen.guide.kernels import torch as torch_kernels
from structgen.index import TokenIndex, Vocabulary
from structgen.integrations.model import (
    Completion,
    check_guides,
    decode_tokens,
    fit_context,
    jump_tokenizer,
    take_forced,
)
from structgen.integrations.sampling import Sampling, sample_torch

__all__ = ["StructgenLogitsProcessor", "TransformersModel"]


class StructgenLogitsProcessor(LogitsProcessor):
    """Constrain ``model.generate`` to a grammar, for every row of the batch.

    Parameters
    ----------
    index
        The grammar's token index over the tokenizer's vocabulary
        (``grammar.index(Vocabulary.from_tokenizer(tokenizer))``).
    max_tokens
        The guide budget; pass the same ``max_new_tokens`` to ``generate`` so that every
        row ends complete within it.

    Rows are created on the first call from the batch size (``num_return_sequences`` and
    beams included); each later call consumes the token each row appended. Finished rows
    allow only EOS and the pad token, which ``generate`` writes after a row is done.

    Examples
    --------
    >>> processor = StructgenLogitsProcessor(grammar.index(vocab), max_tokens=128)  # doctest: +SKIP
    >>> model.generate(**inputs, logits_processor=[processor], max_new_tokens=128)  # doctest: +SKIP
    """

    def __init__(
        self, index: TokenIndex, *, max_tokens: int | None = None, pad_token_id: int | None = None
    ) -> None:
        self.index = index
        self.max_tokens = max_tokens
        self.pad_token_id = pad_token_id
        self.batch: BatchGuide | None = None
        self._bitmask: torch.Tensor | None = None
        self._prompt_length = 0

    def reset(self) -> None:
        """Forget the rows, to reuse the processor for another ``generate`` call."""
        self.batch = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.batch is None or input_ids.shape[1] <= self._prompt_length:
            self.batch = BatchGuide.from_index(
                self.index,
                input_ids.shape[0],
                max_tokens=self.max_tokens,
                pad_token_id=self.pad_token_id,
            )
            self._bitmask = torch_kernels.allocate_bitmask(input_ids.shape[0], self.index.n_words)
            self._prompt_length = input_ids.shape[1]
        else:
            self.batch.advance(input_ids[:, -1].tolist())
        assert self._bitmask is not None
        self.batch.fill_bitmask(self._bitmask)
        return self.batch.apply(scores, self._bitmask)


class TransformersModel:
    """A ``transformers`` causal LM and its tokenizer, constrained by structgen.

    Parameters
    ----------
    model
        Any ``AutoModelForCausalLM`` on CPU or CUDA (GGUF files load with ``gguf_file=``).
    tokenizer
        Its tokenizer.
    vocab
        Default: :meth:`Vocabulary.from_tokenizer`, sized to the model's logits.
    chat_template
        A Jinja chat template for tokenizers that have none.
    name
        For reports; default: the model's ``name_or_path``.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: Any,
        *,
        vocab: Vocabulary | None = None,
        chat_template: str | None = None,
        name: str | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        width = int(model.get_output_embeddings().weight.shape[0])
        self.vocab = vocab or Vocabulary.from_tokenizer(tokenizer, embedding_rows=width)
        if self.vocab.embedding_rows != width:
            raise ValueError(
                f"the vocabulary has {self.vocab.embedding_rows} rows but the model's logits "
                f"have {width}"
            )
        self.name = name or str(getattr(model.config, "name_or_path", "") or type(model).__name__)
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048))
        self.chat_template = chat_template
        eos = sorted(self.vocab.eos_token_ids)
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_token_id = int(pad if pad is not None else eos[0])
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="structgen-mask")
        self._names: tuple[str, str | None] | None = None
        self._jump_tokenize = jump_tokenizer(self._tokenize_bytes)

    def __repr__(self) -> str:
        return f"TransformersModel({self.name!r}, device={self.device})"

    @property
    def device(self) -> torch.device:
        return self.model.device

    # -- text -------------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        bos = getattr(self.tokenizer, "bos_token", None)
        add_special = not (bos and text.startswith(bos))
        return list(self.tokenizer.encode(text, add_special_tokens=add_special))

    def decode(self, token_ids: Sequence[int]) -> str:
        return decode_tokens(self.vocab, token_ids)

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        template = self.chat_template or getattr(self.tokenizer, "chat_template", None)
        if not template:
            raise ValueError(
                f"{self.name}'s tokenizer has no chat template; pass chat_template= to "
                "structgen.models.transformers(...) or a prompt string with chat=False"
            )
        return str(
            self.tokenizer.apply_chat_template(
                [dict(m) for m in messages],
                chat_template=template,
                tokenize=False,
                add_generation_prompt=True,
            )
        )

    def _tokenize_bytes(self, data: bytes) -> list[int]:
        return list(self.tokenizer.encode(data.decode("utf-8"), add_special_tokens=False))

    def _forward(
        self,
        ids: torch.Tensor,
        attention: torch.Tensor,
        positions: torch.Tensor,
        cache: Any,
        *,
        keep: int,
    ) -> tuple[torch.Tensor, Any]:
        """One forward pass; the logits of the last ``keep`` positions and the KV cache.

        transformers renamed ``past_key_values`` to ``cache`` (5.x) and
        ``num_logits_to_keep`` to ``logits_to_keep`` (4.50); the names are looked up once.
        """
        if self._names is None:
            params = inspect.signature(self.model.forward).parameters
            cache_name = "cache" if "cache" in params else "past_key_values"
            keep_name = next(
                (k for k in ("logits_to_keep", "num_logits_to_keep") if k in params), None
            )
            self._names = (cache_name, keep_name)
        cache_name, keep_name = self._names
        kwargs: dict[str, Any] = {cache_name: cache} if cache is not None else {}
        if keep_name is not None:
            kwargs[keep_name] = keep
        output = self.model(
            input_ids=ids,
            attention_mask=attention,
            position_ids=positions,
            use_cache=True,
            **kwargs,
        )
        new_cache = getattr(output, "cache", None) or output.past_key_values
        return output.logits[:, -keep:, :], new_cache

    # -- decoding ---------------------------------------------------------------------------

    @torch.inference_mode()
    def generate_tokens(
        self,
        prompts: Sequence[Sequence[int]],
        guides: Sequence[Guide] | None,
        *,
        max_tokens: int,
        sampling: Sampling,
        jump_forward: bool = True,
    ) -> list[Completion]:
        """Decode all prompts as one batch (left-padded prefill, ragged chunks after).

        Raises
        ------
        ContextLengthError
            A prompt fills the context.
        VocabularyError
            A guide was built for another vocabulary.
        """
        check_guides(self.vocab, guides, len(prompts))
        return _BatchDecode(self, prompts, guides, max_tokens, sampling, jump_forward).run()


class _BatchDecode:
    """One batched generation: the state the decode loop carries between steps."""

    def __init__(
        self,
        owner: TransformersModel,
        prompts: Sequence[Sequence[int]],
        guides: Sequence[Guide] | None,
        max_tokens: int,
        sampling: Sampling,
        jump_forward: bool,
    ) -> None:
        self.owner = owner
        self.prompts = [list(p) for p in prompts]
        self.budgets = [fit_context(len(p), max_tokens, owner.context_length) for p in prompts]
        self.guides = None if guides is None else list(guides)
        self.sampling = sampling
        self.jump_forward = jump_forward and guides is not None
        self.device = owner.device
        self.width = owner.vocab.embedding_rows
        self.eos = set(owner.vocab.eos_token_ids)
        n = len(self.prompts)
        self.out: list[list[int]] = [[] for _ in range(n)]
        self.done = [False] * n
        self.finish = ["length"] * n
        self.passes = [0] * n
        self.forced = [0] * n
        self.batch = (
            None
            if self.guides is None
            else BatchGuide(self.guides, pad_token_id=owner.pad_token_id)
        )
        self.bitmask = (
            None
            if self.batch is None
            else torch_kernels.allocate_bitmask(
                n, self.batch.n_words, pin_memory=self.device.type == "cuda"
            )
        )
        self.generators = [self._generator(sampling.row_seed(row)) for row in range(n)]
        self.mask_s = 0.0

    def _generator(self, seed: int | None) -> torch.Generator:
        generator = torch.Generator(device=self.device)
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        return generator

    def _jump(self, row: int) -> list[int]:
        """Forced tokens for ``row`` from its guide's position, consumed by the guide."""
        assert self.guides is not None
        room = self.budgets[row] - len(self.out[row])
        return take_forced(self.guides[row], self.owner._jump_tokenize, room)

    def _fill_bitmask(self) -> None:
        assert self.batch is not None and self.bitmask is not None
        self.batch.fill_bitmask(self.bitmask)

    def run(self) -> list[Completion]:
        start = time.perf_counter()
        n = len(self.prompts)
        first = [self._jump(row) if self.jump_forward else [] for row in range(n)]
        for row in range(n):
            self.out[row].extend(first[row])
            self.forced[row] += len(first[row])
        logits, cache, attention = self._prefill(
            [p + f for p, f in zip(self.prompts, first, strict=False)]
        )
        prefill_s = time.perf_counter() - start
        seen = torch.zeros((n, self.width), dtype=torch.bool, device=self.device)
        for row in range(n):
            seen[row, self.prompts[row] + self.out[row]] = True
        self._mark_finished()
        pending = self._pool_fill()
        while not all(self.done):
            tick = time.perf_counter()
            if pending is not None:
                pending.result()
            self.mask_s += time.perf_counter() - tick
            if self.bitmask is not None:
                logits = torch_kernels.apply_bitmask(logits, self.bitmask)
            tokens = sample_torch(logits, self.sampling, self.generators, seen).tolist()
            chunks = self._consume(tokens)
            for row, chunk in enumerate(chunks):
                if chunk:
                    seen[row, chunk] = True
            self._mark_finished()
            if all(self.done):
                break
            pending = self._pool_fill()
            logits, cache, attention = self._step(chunks, cache, attention)
        decode_s = time.perf_counter() - start - prefill_s
        return [
            Completion(
                token_ids=tuple(self.out[row]),
                text=self.owner.decode(self.out[row]),
                finish_reason=self.finish[row],  # type: ignore[arg-type]
                prompt_tokens=len(self.prompts[row]),
                forward_passes=self.passes[row],
                forced_tokens=self.forced[row],
                prefill_s=prefill_s,
                decode_s=decode_s,
                mask_s=self.mask_s,
            )
            for row in range(n)
        ]

    def _pool_fill(self) -> Any:
        """Start the next bitmask: in a worker thread while a GPU computes the step, inline
        on CPU, where torch's threads already use every core and a concurrent walk only
        makes them wait on each other."""
        if self.batch is None:
            return None
        if self.device.type == "cpu":
            tick = time.perf_counter()
            self._fill_bitmask()
            self.mask_s += time.perf_counter() - tick
            return None
        return self.owner._pool.submit(self._fill_bitmask)

    def _mark_finished(self) -> None:
        for row in range(len(self.prompts)):
            if self.done[row]:
                continue
            if self.guides is not None and self.guides[row].is_finished():
                self.done[row], self.finish[row] = True, "stop"
            elif len(self.out[row]) >= self.budgets[row]:
                self.done[row] = True

    def _consume(self, tokens: list[int]) -> list[list[int]]:
        """Append each live row's sampled token (and its forced run); the chunks to feed."""
        chunks: list[list[int]] = []
        for row, token in enumerate(tokens):
            if self.done[row]:
                chunks.append([])
                continue
            if self.guides is not None:
                self.guides[row].advance(token)
            if token in self.eos:
                self.done[row], self.finish[row] = True, "stop"
                chunks.append([])
                continue
            chunk = [token]
            self.out[row].append(token)
            if self.jump_forward:
                forced = self._jump(row)
                chunk += forced
                self.out[row].extend(forced)
                self.forced[row] += len(forced)
            chunks.append(chunk)
        return chunks

    def _prefill(self, inputs: list[list[int]]) -> tuple[torch.Tensor, Any, torch.Tensor]:
        width = max(len(x) for x in inputs)
        pad = self.owner.pad_token_id
        ids = torch.tensor([[pad] * (width - len(x)) + x for x in inputs], device=self.device)
        attention = torch.tensor(
            [[0] * (width - len(x)) + [1] * len(x) for x in inputs], device=self.device
        )
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        logits, cache = self.owner._forward(ids, attention, positions, None, keep=1)
        for row in range(len(inputs)):
            self.passes[row] += 1
        return logits[:, -1, :].float(), cache, attention

    def _step(
        self, chunks: list[list[int]], cache: Any, attention: torch.Tensor
    ) -> tuple[torch.Tensor, Any, torch.Tensor]:
        width = max(1, max(len(c) for c in chunks))
        pad = self.owner.pad_token_id
        ids = torch.tensor([c + [pad] * (width - len(c)) for c in chunks], device=self.device)
        new = torch.tensor(
            [[1] * len(c) + [0] * (width - len(c)) for c in chunks], device=self.device
        )
        attention = torch.cat([attention, new], dim=1)
        positions = (attention.cumsum(-1)[:, -width:] - 1).clamp(min=0)
        logits, cache = self.owner._forward(ids, attention, positions, cache, keep=width)
        last = torch.tensor([max(len(c), 1) - 1 for c in chunks], device=self.device)
        rows = torch.arange(len(chunks), device=self.device)
        for row, chunk in enumerate(chunks):
            if chunk:
                self.passes[row] += 1
        return logits[rows, last, :].float(), cache, attention
