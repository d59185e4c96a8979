"""llama.cpp through ``llama-cpp-python``: any GGUF model, the embedded default among them.

structgen runs its own decode loop on ``Llama.eval`` and the raw logits, so the mask, the
sampler and jump-forward are the same as with ``transformers``: forced tokens go into the
same ``eval`` call as the sampled token (one forward pass for the whole run). The next
step's mask is computed in a worker thread while ``eval`` runs (ctypes releases the GIL).
Prompts are cached by longest common prefix, so ``n`` samples of one prompt, or records
sharing a system prompt, pay the shared prefill once.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import llama_cpp
import numpy as np
import numpy.typing as npt
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from structgen.guide import Guide
from structgen.guide.kernels.numpy import unpack
from structgen.index import Vocabulary
from structgen.integrations.model import (
    Completion,
    check_guides,
    decode_tokens,
    fit_context,
    jump_tokenizer,
    take_forced,
)
from structgen.integrations.sampling import Sampling, sample_numpy

__all__ = ["LlamaCppModel"]


class LlamaCppModel:
    """A ``llama_cpp.Llama`` that structgen can constrain.

    Parameters
    ----------
    llama
        The loaded model; structgen takes over its evaluation state (its KV cache).
    vocab
        The model's vocabulary; default: read from the GGUF file (a couple of seconds).
    name
        For reports; default: the file name.
    """

    def __init__(
        self, llama: llama_cpp.Llama, *, vocab: Vocabulary | None = None, name: str | None = None
    ) -> None:
        self.llama = llama
        atexit.register(_close, weakref.ref(llama))
        width = int(llama.n_vocab())
        self.vocab = vocab or Vocabulary.from_gguf(llama.model_path, embedding_rows=width)
        if self.vocab.embedding_rows != width:
            raise ValueError(
                f"the vocabulary has {self.vocab.embedding_rows} rows but the model's logits "
                f"have {width}"
            )
        self.name = name or os.path.basename(llama.model_path)
        self.context_length = int(llama.n_ctx())
        self._template = llama.metadata.get("tokenizer.chat_template")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="structgen-mask")
        self._cached: list[int] = []
        self._lock = threading.Lock()
        self._jump_tokenize = jump_tokenizer(self._tokenize_bytes)
        self._batch_threads = int(llama.n_threads_batch)
        self._cached_logits: npt.NDArray[np.float32] | None = None

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        **llama_kwargs: Any,
    ) -> LlamaCppModel:
        """Load a GGUF file.

        ``n_threads`` defaults to half the CPUs, for prompts too (``n_threads_batch``):
        llama.cpp's threads spin while they wait for each other, so more threads than
        free cores costs far more than it gains on a shared machine.

        Raises
        ------
        FileNotFoundError
            If ``path`` is not a file.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no GGUF model file at {path!r}")
        threads = n_threads or max(1, (os.cpu_count() or 2) // 2)
        llama = llama_cpp.Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=llama_kwargs.pop("n_threads_batch", threads),
            verbose=llama_kwargs.pop("verbose", False),
            **llama_kwargs,
        )
        return cls(llama)

    def __repr__(self) -> str:
        return f"LlamaCppModel({self.name!r}, context_length={self.context_length})"

    # -- text -------------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def decode(self, token_ids: Sequence[int]) -> str:
        return decode_tokens(self.vocab, token_ids)

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        if not self._template:
            raise ValueError(
                f"{self.name} has no chat template in its GGUF metadata; pass a prompt string "
                "with chat=False"
            )
        llama = self.llama
        formatter = Jinja2ChatFormatter(
            template=self._template,
            eos_token=llama.detokenize([llama.token_eos()], special=True).decode("utf-8"),
            bos_token=llama.detokenize([llama.token_bos()], special=True).decode("utf-8"),
        )
        return formatter(messages=[dict(m) for m in messages]).prompt

    def _tokenize_bytes(self, data: bytes) -> list[int]:
        return list(self.llama.tokenize(data, add_bos=False, special=False))

    # -- decoding ---------------------------------------------------------------------------

    def _eval_prefix(self, tokens: list[int]) -> npt.NDArray[np.float32]:
        """Evaluate ``tokens`` reusing the cached common prefix; the last position's logits."""
        if tokens == self._cached and self._cached_logits is not None:
            return self._cached_logits.copy()
        shared = 0
        for a, b in zip(self._cached, tokens, strict=False):
            if a != b:
                break
            shared += 1
        shared = min(shared, len(tokens) - 1)
        self.llama.n_tokens = shared
        self._threads(self.llama.n_threads_batch)
        self.llama.eval(tokens[shared:])
        self._cached = list(tokens)
        self._cached_logits = self._logits()
        return self._cached_logits.copy()

    def _logits(self) -> npt.NDArray[np.float32]:
        pointer = self.llama._ctx.get_logits_ith(-1)
        width = self.vocab.embedding_rows
        return np.ctypeslib.as_array(pointer, shape=(width,)).astype(np.float32, copy=True)

    def _threads(self, n_threads_batch: int) -> None:
        """Threads for multi-token ``eval``: the batch count for prompts, the decode count
        for the short chunks of jump-forward, where more threads than the single-token
        decode uses mostly wait on each other (badly so on a busy machine)."""
        if n_threads_batch != self._batch_threads:
            llama_cpp.llama_set_n_threads(self.llama.ctx, self.llama.n_threads, n_threads_batch)
            self._batch_threads = n_threads_batch

    def _eval(self, tokens: list[int]) -> npt.NDArray[np.float32]:
        if len(tokens) > 1:
            self._threads(self.llama.n_threads)
        self.llama.eval(tokens)
        self._cached.extend(tokens)
        self._cached_logits = None
        return self._logits()

    def generate_tokens(
        self,
        prompts: Sequence[Sequence[int]],
        guides: Sequence[Guide] | None,
        *,
        max_tokens: int,
        sampling: Sampling,
        jump_forward: bool = True,
    ) -> list[Completion]:
        """Decode each prompt in turn (llama.cpp holds one sequence here; calls from
        several threads take turns).

        Raises
        ------
        ContextLengthError
            A prompt fills the context.
        VocabularyError
            A guide was built for another vocabulary.
        """
        check_guides(self.vocab, guides, len(prompts))
        with self._lock:
            return self._generate_all(prompts, guides, max_tokens, sampling, jump_forward)

    def _generate_all(
        self,
        prompts: Sequence[Sequence[int]],
        guides: Sequence[Guide] | None,
        max_tokens: int,
        sampling: Sampling,
        jump_forward: bool,
    ) -> list[Completion]:
        return [
            self._generate_one(
                list(prompt),
                None if guides is None else guides[row],
                max_tokens=max_tokens,
                sampling=sampling,
                rng=np.random.default_rng(sampling.row_seed(row)),
                jump_forward=jump_forward,
            )
            for row, prompt in enumerate(prompts)
        ]

    def _generate_one(
        self,
        prompt: list[int],
        guide: Guide | None,
        *,
        max_tokens: int,
        sampling: Sampling,
        rng: np.random.Generator,
        jump_forward: bool,
    ) -> Completion:
        budget = fit_context(len(prompt), max_tokens, self.context_length)
        width = self.vocab.embedding_rows
        eos = set(self.vocab.eos_token_ids)
        mask_s = 0.0
        start = time.perf_counter()
        out: list[int] = []
        if guide is not None and jump_forward:
            out = take_forced(guide, self._jump_tokenize, budget)
        logits = self._eval_prefix(prompt + out)
        n_forced = len(out)
        prefill_s = time.perf_counter() - start
        passes = 1
        seen = np.zeros(width, dtype=np.bool_)
        seen[prompt] = True
        seen[out] = True
        finish = "length"
        pending = self._pool.submit(_mask_of, guide, width) if guide is not None else None
        while len(out) < budget:
            if guide is not None and guide.is_finished():
                finish = "stop"
                break
            tick = time.perf_counter()
            allowed = pending.result() if pending is not None else None
            mask_s += time.perf_counter() - tick
            token = sample_numpy(logits, sampling, rng, seen, allowed)
            if guide is not None:
                guide.advance(token)
            if token in eos:
                finish = "stop"
                break
            out.append(token)
            seen[token] = True
            chunk = [token]
            if guide is not None and jump_forward:
                forced = take_forced(guide, self._jump_tokenize, budget - len(out))
                chunk += forced
                out += forced
                n_forced += len(forced)
                seen[forced] = True
            if len(out) >= budget or (guide is not None and guide.is_finished()):
                finish = "stop" if guide is not None and guide.is_finished() else "length"
                break
            pending = self._pool.submit(_mask_of, guide, width) if guide is not None else None
            logits = self._eval(chunk)
            passes += 1
        return Completion(
            token_ids=tuple(out),
            text=self.decode(out),
            finish_reason=finish,  # type: ignore[arg-type]
            prompt_tokens=len(prompt),
            forward_passes=passes,
            forced_tokens=n_forced,
            prefill_s=prefill_s,
            decode_s=time.perf_counter() - start - prefill_s,
            mask_s=mask_s,
        )


def _close(ref: weakref.ref[llama_cpp.Llama]) -> None:
    """Free the model before interpreter teardown, when llama.cpp's own finalizer fails."""
    llama = ref()
    if llama is not None:
        llama.close()


def _mask_of(guide: Guide, width: int) -> npt.NDArray[np.bool_]:
    return unpack(guide.mask().view(np.int32).reshape(1, -1), width)[0]
