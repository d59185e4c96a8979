"""structgen as the logits processor of an outlines model: switch engine in one line.

An outlines user keeps the model wrapper and the generator and passes structgen's
processor instead of an output type::

    model = outlines.from_transformers(hf_model, hf_tokenizer)   # or from_llamacpp(llama)
    generator = outlines.Generator(model, processor=structgen_processor(model, Person))
    text = generator("Extract the person: ...", max_new_tokens=128)

The processor implements outlines' ``OutlinesLogitsProcessor`` (``process_logits`` on 2-D
tensors, ``reset`` between generations), for torch (transformers) and numpy (llama.cpp)
logits alike.
"""

from __future__ import annotations

from typing import Any

from outlines.processors.base_logits_processor import OutlinesLogitsProcessor

from structgen.grammar import Grammar, compile
from structgen.guide import BatchGuide
from structgen.guide import kernels as bitmask_kernels
from structgen.index import TokenIndex, Vocabulary

__all__ = ["StructgenOutlinesProcessor", "structgen_processor", "vocabulary_of"]


class StructgenOutlinesProcessor(OutlinesLogitsProcessor):
    """Mask an outlines model's logits with a structgen token index.

    Parameters
    ----------
    index
        The grammar's index over the model's vocabulary (see :func:`vocabulary_of`).
    tensor_library_name
        ``"torch"`` for outlines' transformers models, ``"numpy"`` for llama.cpp.
    max_tokens
        Guide budget; pass the same limit to the generator (``max_new_tokens`` or
        ``max_tokens``) so every output ends complete.
    """

    def __init__(
        self, index: TokenIndex, tensor_library_name: str, *, max_tokens: int | None = None
    ) -> None:
        super().__init__(tensor_library_name)
        self.index = index
        self.max_tokens = max_tokens
        self.batch: BatchGuide | None = None
        self._bitmask: Any = None
        self._prompt_length = 0

    def reset(self) -> None:
        self.batch = None

    def process_logits(self, input_ids: Any, logits: Any) -> Any:
        rows, length = int(input_ids.shape[0]), int(input_ids.shape[1])
        if self.batch is None or length <= self._prompt_length:
            self.batch = BatchGuide.from_index(self.index, rows, max_tokens=self.max_tokens)
            self._bitmask = _allocate(logits, rows, self.index.n_words)
            self._prompt_length = length
        else:
            self.batch.advance([int(t) for t in input_ids[:, -1].tolist()])
        self.batch.fill_bitmask(self._bitmask)
        return bitmask_kernels.apply_bitmask(logits, self._bitmask)


def _allocate(logits: Any, rows: int, n_words: int) -> Any:
    if type(logits).__module__.split(".")[0] == "torch":
        from structgen.guide.kernels import torch as torch_kernels

        return torch_kernels.allocate_bitmask(rows, n_words)
    return bitmask_kernels.allocate_bitmask(rows, n_words)


def structgen_processor(
    model: Any, schema: Any, *, max_tokens: int | None = None, **compile_options: Any
) -> StructgenOutlinesProcessor:
    """A processor for ``outlines.Generator(model, processor=...)`` enforcing ``schema``
    (a Pydantic model, JSON Schema, function or compiled :class:`~structgen.Grammar`)."""
    grammar = schema if isinstance(schema, Grammar) else compile(schema, **compile_options)
    vocab, library = vocabulary_of(model)
    return StructgenOutlinesProcessor(grammar.index(vocab), library, max_tokens=max_tokens)


def vocabulary_of(model: Any) -> tuple[Vocabulary, str]:
    """The structgen vocabulary of an outlines model and its tensor library.

    Raises
    ------
    TypeError
        For outlines models other than transformers and llama.cpp ones.
    """
    if hasattr(model, "hf_tokenizer"):
        width = int(model.model.get_output_embeddings().weight.shape[0])
        vocab = Vocabulary.from_tokenizer(model.hf_tokenizer, embedding_rows=width)
        return vocab, model.tensor_library_name
    llama = getattr(model, "model", None)
    if llama is not None and hasattr(llama, "model_path") and hasattr(llama, "n_vocab"):
        vocab = Vocabulary.from_gguf(llama.model_path, embedding_rows=int(llama.n_vocab()))
        return vocab, "numpy"
    raise TypeError(
        f"structgen drives outlines' transformers and llama.cpp models, not {type(model).__name__}"
    )
