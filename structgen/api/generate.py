"""`generate`: a schema and a prompt in, a parsed and validated value out."""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from pydantic import BaseModel, TypeAdapter

from structgen.errors import OutputValidationError
from structgen.grammar import Grammar, compile
from structgen.index import TokenIndex
from structgen.integrations.model import Completion, Model, fit_context
from structgen.integrations.sampling import Sampling

__all__ = [
    "Generation",
    "check_output",
    "generate",
    "grammar_for",
    "index_for",
    "output_type_of",
    "prompt_ids",
]

Messages = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Generation:
    """One output: its text, the parsed value, counts and timings.

    ``value`` is the parsed output (a Pydantic instance when the schema was a model class)
    and raises :class:`~structgen.OutputValidationError` when the text does not validate;
    ``valid`` and ``errors`` say so without raising. Under a grammar every output is
    valid unless the grammar was compiled with ``strict=False`` and left keywords to
    post-validation (or, unconstrained, the model simply got it wrong).
    """

    text: str
    errors: tuple[str, ...]
    completion: Completion
    seconds: float
    constrained: bool
    _value: Any = field(repr=False, default=None)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def value(self) -> Any:
        if self.errors:
            raise OutputValidationError(
                f"the output does not validate: {'; '.join(self.errors)}",
                text=self.text,
                errors=list(self.errors),
            )
        return self._value

    @property
    def prompt_tokens(self) -> int:
        return self.completion.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return self.completion.completion_tokens

    @property
    def finish_reason(self) -> str:
        return self.completion.finish_reason

    @property
    def tokens_per_s(self) -> float:
        decode = self.completion.decode_s
        return self.completion_tokens / decode if decode > 0 else float("inf")


@overload
def generate(
    model: Model,
    prompt_or_messages: str | Messages,
    schema: Any,
    *,
    n: Literal[1] = 1,
    max_tokens: int = ...,
    temperature: float = ...,
    top_p: float = ...,
    repetition_penalty: float = ...,
    seed: int | None = ...,
    system: str | None = ...,
    chat: bool = ...,
    constrain: bool = ...,
    jump_forward: bool = ...,
) -> Generation: ...


@overload
def generate(
    model: Model,
    prompt_or_messages: str | Messages,
    schema: Any,
    *,
    n: int,
    max_tokens: int = ...,
    temperature: float = ...,
    top_p: float = ...,
    repetition_penalty: float = ...,
    seed: int | None = ...,
    system: str | None = ...,
    chat: bool = ...,
    constrain: bool = ...,
    jump_forward: bool = ...,
) -> list[Generation]: ...


def generate(
    model: Model,
    prompt_or_messages: str | Messages,
    schema: Any,
    *,
    n: int = 1,
    max_tokens: int = 512,
    temperature: float = 0.8,
    top_p: float = 1.0,
    repetition_penalty: float = 1.1,
    seed: int | None = None,
    system: str | None = None,
    chat: bool = True,
    constrain: bool = True,
    jump_forward: bool = True,
) -> Generation | list[Generation]:
    """Generate output that parses and validates against ``schema``.

    Parameters
    ----------
    model
        From :mod:`structgen.models` (``default()``, ``llamacpp(...)``,
        ``transformers(...)``).
    prompt_or_messages
        A user message, or chat messages (``{"role": ..., "content": ...}``), rendered with
        the model's chat template; with ``chat=False`` a string is the raw prompt.
    schema
        A Pydantic model class or other type (``list[Item]``, ``Literal[...]``), a JSON
        Schema, a function, or a compiled :class:`~structgen.Grammar`. Compiled grammars and
        token indexes are cached per schema and model.
    n
        Samples of the same prompt; ``n > 1`` returns a list.
    max_tokens
        Every constrained output ends complete within this many tokens (EOS included).
    temperature, top_p, repetition_penalty, seed
        Sampling (see :class:`~structgen.integrations.sampling.Sampling`); defaults follow
        the Hermes 2 Pro card (0.8 and 1.1).
    system
        A system message put first (chat only).
    constrain
        ``False`` generates without the grammar and only validates afterwards (to see what
        the constraint buys).
    jump_forward
        Append the tokens the grammar forces without a forward pass each.

    Raises
    ------
    TokenBudgetError
        ``max_tokens`` is below the shortest valid output.
    ContextLengthError
        The prompt fills the model's context.
    StructgenError
        The schema cannot be compiled (see :func:`structgen.compile`).
    """
    started = time.perf_counter()
    grammar = grammar_for(schema)
    prompt = prompt_ids(model, prompt_or_messages, system=system, chat=chat)
    sampling = Sampling(
        temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty, seed=seed
    )
    budget = fit_context(len(prompt), max_tokens, model.context_length)
    guides = None
    if constrain:
        index = index_for(grammar, model)
        guides = [index.guide(max_tokens=budget) for _ in range(n)]
    completions = model.generate_tokens(
        [prompt] * n, guides, max_tokens=max_tokens, sampling=sampling, jump_forward=jump_forward
    )
    seconds = time.perf_counter() - started
    parse = output_type_of(schema)
    results = [_result(c, grammar, parse, seconds, constrain) for c in completions]
    return results[0] if n == 1 else results


def prompt_ids(
    model: Model, prompt_or_messages: str | Messages, *, system: str | None, chat: bool
) -> list[int]:
    """The prompt's token ids: messages through the chat template, or the raw string."""
    if isinstance(prompt_or_messages, str):
        if not chat:
            if system is not None:
                raise ValueError("system= needs chat=True (it is a chat message)")
            return model.encode(prompt_or_messages)
        messages: list[Mapping[str, Any]] = [{"role": "user", "content": prompt_or_messages}]
    else:
        messages = list(prompt_or_messages)
    if system is not None:
        messages = [{"role": "system", "content": system}, *messages]
    return model.encode(model.chat_prompt(messages))


def _result(
    completion: Completion, grammar: Grammar, parse: Any, seconds: float, constrained: bool
) -> Generation:
    value, _instance, errors = check_output(completion, grammar, parse)
    return Generation(
        text=completion.text,
        errors=tuple(errors),
        completion=completion,
        seconds=seconds,
        constrained=constrained,
        _value=value,
    )


def check_output(
    completion: Completion, grammar: Grammar, parse: Any
) -> tuple[Any, Any, list[str]]:
    """``(value, parsed JSON, errors)`` of a finished completion: cut at ``max_tokens``,
    not JSON, failing the schema (post-validated keywords), or refused by ``parse`` (from
    :func:`output_type_of`) are errors; the value is set only when there are none."""
    if completion.finish_reason == "length":
        return None, None, [f"stopped at max_tokens after {completion.completion_tokens} tokens"]
    try:
        instance = json.loads(completion.text)
    except ValueError as exc:
        return None, None, [f"not JSON: {exc}"]
    errors = grammar.validate(instance)
    if errors:
        return None, instance, errors
    try:
        return parse(completion.text, instance), instance, []
    except ValueError as exc:
        return None, instance, [str(exc)]


def output_type_of(schema: Any) -> Any:
    """How to turn valid output text into the user's value: a Pydantic model or other type
    validates with Pydantic (typed instances); anything else is the parsed JSON."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return lambda text, _instance: schema.model_validate_json(text)
    if isinstance(schema, (Grammar, Mapping, str)) or (callable(schema) and not _is_type(schema)):
        return lambda _text, instance: instance
    adapter = TypeAdapter(schema)
    return lambda text, _instance: adapter.validate_json(text)


def _is_type(schema: Any) -> bool:
    return isinstance(schema, type) or hasattr(schema, "__origin__")


_grammars: dict[Any, Grammar] = {}
_indexes: weakref.WeakKeyDictionary[Grammar, dict[str, TokenIndex]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()
_MAX_GRAMMARS = 256


def grammar_for(schema: Any) -> Grammar:
    """``schema`` compiled with default options, cached (by identity for classes and
    functions, by content for JSON Schemas)."""
    if isinstance(schema, Grammar):
        return schema
    key: Any
    if isinstance(schema, Mapping):
        key = ("json", json.dumps(schema, sort_keys=True, default=str))
    elif isinstance(schema, str):
        key = ("text", schema)
    else:
        try:
            hash(schema)
            key = ("object", schema)
        except TypeError:
            return compile(schema)
    with _cache_lock:
        cached = _grammars.get(key)
    if cached is not None:
        return cached
    grammar = compile(schema)
    with _cache_lock:
        if len(_grammars) >= _MAX_GRAMMARS:
            _grammars.pop(next(iter(_grammars)))
        _grammars[key] = grammar
    return grammar


def index_for(
    grammar: Grammar, model: Model, *, cache_dir: str | os.PathLike[str] | None = None
) -> TokenIndex:
    """The grammar's token index over the model's vocabulary, built once and cached (the
    first call decides ``cache_dir``, the disk cache; see :meth:`Grammar.index`)."""
    fingerprint = model.vocab.fingerprint
    with _cache_lock:
        cached = _indexes.get(grammar, {}).get(fingerprint)
    if cached is not None:
        return cached
    index = grammar.index(model.vocab, cache_dir=None if cache_dir is None else str(cache_dir))
    with _cache_lock:
        _indexes.setdefault(grammar, {})[fingerprint] = index
    return index
