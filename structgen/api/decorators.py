"""`@structured` and `@prompt`: typed generation attached to a model class or a function.

Both compile their schema when decorated, so a type the grammar cannot enforce fails at
import time with the pointer and the reason, not at the first call.
"""

from __future__ import annotations

import functools
import inspect
import string
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel, TypeAdapter

from structgen.api import models
from structgen.api.generate import Generation, generate, grammar_for
from structgen.grammar import Grammar
from structgen.hermes import json_mode_prompt
from structgen.integrations.model import Model

__all__ = ["PromptFunction", "json_mode_system", "prompt", "structured"]

M = TypeVar("M", bound=type[BaseModel])
R = TypeVar("R")

Messages = Sequence[Mapping[str, Any]]

# Names ``generate()`` accepts besides the model, the prompt and the schema.
_OPTIONS = frozenset(
    {"max_tokens", "temperature", "top_p", "repetition_penalty", "seed", "system", "chat",
     "constrain", "jump_forward"}
)


def json_mode_system(schema: Any) -> str:
    """The Hermes JSON-mode system prompt for any schema ``generate`` accepts (a model
    class, ``list[Item]``, ``Literal[...]``, a JSON Schema dict or a ``Grammar``)."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return json_mode_prompt(schema)
    if isinstance(schema, (Mapping, str)):
        return json_mode_prompt(schema)
    grammar = schema if isinstance(schema, Grammar) else None
    if grammar is not None and isinstance(grammar.schema, Mapping):
        return json_mode_prompt(grammar.schema)
    return json_mode_prompt(TypeAdapter(schema).json_schema())


def _check_options(options: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise TypeError(
            f"{where}: unknown option(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(sorted(_OPTIONS))}"
        )


def _generate(
    schema: Any,
    prompt_or_messages: str | Messages,
    model: Model | None,
    defaults: Mapping[str, Any],
    options: Mapping[str, Any],
    n: int = 1,
) -> Any:
    _check_options(options, "generate")
    settings = {**defaults, **options}
    settings.setdefault("system", json_mode_system(schema))
    return generate(model or models.default(), prompt_or_messages, schema, n=n, **settings)


@overload
def structured(cls: M, /) -> M: ...


@overload
def structured(*, model: Model | None = None, **options: Any) -> Callable[[M], M]: ...


def structured(cls: Any = None, /, *, model: Model | None = None, **options: Any) -> Any:
    """Give a Pydantic model class ``generate``, ``generate_many`` and ``grammar``.

    ::

        @structgen.structured
        class City(BaseModel):
            name: str
            population: int

        city = City.generate("The largest city in Norway?", temperature=0.2)

    Parameters
    ----------
    model
        The model to use when a call names none; default: :func:`structgen.models.default`,
        loaded on first use.
    options
        Defaults for :func:`structgen.generate` (``max_tokens``, ``temperature``, ``system``,
        ...). The system prompt defaults to Hermes JSON mode with the class's schema.

    Raises
    ------
    UnsupportedSchemaError, SchemaError, GrammarLimitError
        At decoration time, when the class cannot be compiled.
    TypeError
        Not a Pydantic model class, an unknown option, or a field named like an added method.
    """
    _check_options(options, "structured")

    def decorate(target: M) -> M:
        if not (isinstance(target, type) and issubclass(target, BaseModel)):
            raise TypeError(f"@structured needs a Pydantic model class, got {target!r}")
        clash = {"generate", "generate_many", "grammar"} & set(target.model_fields)
        if clash:
            raise TypeError(
                f"{target.__qualname__} has field(s) {', '.join(sorted(clash))}, which "
                "@structured would shadow; rename them or call structgen.generate directly"
            )
        grammar = grammar_for(target)

        def generate_one(
            cls: type[BaseModel],
            prompt_or_messages: str | Messages,
            model: Model | None = model,
            **call_options: Any,
        ) -> BaseModel:
            return _generate(cls, prompt_or_messages, model, options, call_options).value

        def generate_many(
            cls: type[BaseModel],
            prompts: str | Messages | Sequence[str | Messages],
            model: Model | None = model,
            *,
            n: int = 1,
            **call_options: Any,
        ) -> list[BaseModel]:
            """``n`` instances for one prompt, or ``n`` for each prompt of a list."""
            if isinstance(prompts, str) or _is_messages(prompts):
                batch: Sequence[Any] = [prompts]
            else:
                batch = list(prompts)
            values: list[BaseModel] = []
            for item in batch:
                out = _generate(cls, item, model, options, call_options, n=n)
                values.extend(g.value for g in (out if isinstance(out, list) else [out]))
            return values

        generate_one.__doc__ = f"A validated {target.__name__} generated from a prompt."
        target.generate = classmethod(generate_one)  # type: ignore[attr-defined]
        target.generate_many = classmethod(generate_many)  # type: ignore[attr-defined]
        target.grammar = staticmethod(lambda: grammar)  # type: ignore[attr-defined]
        return target

    return decorate if cls is None else decorate(cls)


def _is_messages(value: Any) -> bool:
    return isinstance(value, Sequence) and bool(value) and isinstance(value[0], Mapping)


class PromptFunction(Generic[R]):
    """A function whose docstring is a prompt template and whose return type is the output.

    Calling it renders the template with the call's arguments and returns a value of the
    return type; :meth:`generation` returns the whole :class:`~structgen.Generation`.
    """

    def __init__(
        self, fn: Callable[..., R], *, model: Model | None, options: Mapping[str, Any]
    ) -> None:
        self.fn = fn
        self.model = model
        self.options = dict(options)
        self.signature = inspect.signature(fn)
        self.template = _template_of(fn, self.signature)
        self.output_type = _return_type(fn)
        self._grammar = grammar_for(self.output_type)
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"<prompt {self.fn.__qualname__} -> {_type_name(self.output_type)}>"

    def render(self, *args: Any, **kwargs: Any) -> str:
        """The user message this call would send."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return self.template.format_map(bound.arguments)

    def grammar(self) -> Grammar:
        return self._grammar

    def using(self, *, model: Model | None = None, **options: Any) -> PromptFunction[R]:
        """The same prompt with another model or other :func:`structgen.generate` options."""
        _check_options(options, "using")
        return PromptFunction(
            self.fn, model=model or self.model, options={**self.options, **options}
        )

    def generation(self, *args: Any, **kwargs: Any) -> Generation:
        """Generate for these arguments; the result keeps text, counts and timings."""
        message = self.render(*args, **kwargs)
        result: Generation = _generate(self.output_type, message, self.model, self.options, {})
        return result

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        value: R = self.generation(*args, **kwargs).value
        return value


@overload
def prompt(fn: Callable[..., R], /) -> PromptFunction[R]: ...


@overload
def prompt(
    *, model: Model | None = None, **options: Any
) -> Callable[[Callable[..., R]], PromptFunction[R]]: ...


def prompt(fn: Any = None, /, *, model: Model | None = None, **options: Any) -> Any:
    """Turn a function into a typed prompt: its docstring is the template, its return
    annotation the output type.

    ::

        @structgen.prompt(temperature=0)
        def sentiment(review: str) -> Literal["positive", "negative", "neutral"]:
            '''Classify the sentiment of this review: {review}'''

        sentiment("Loved it")   # one of the three strings

    The template's ``{fields}`` are the function's parameters (the body is not run).
    The system prompt defaults to Hermes JSON mode with the output's schema.

    Raises
    ------
    TypeError
        No docstring, no return annotation, a template field that is not a parameter,
        or an unknown option.
    UnsupportedSchemaError, SchemaError, GrammarLimitError
        At decoration time, when the return type cannot be compiled.
    """
    _check_options(options, "prompt")

    def decorate(target: Callable[..., R]) -> PromptFunction[R]:
        return PromptFunction(target, model=model, options=options)

    return decorate if fn is None else decorate(fn)


def _template_of(fn: Callable[..., Any], signature: inspect.Signature) -> str:
    doc = inspect.getdoc(fn)
    if not doc:
        raise TypeError(f"@prompt: {fn.__qualname__} needs a docstring: it is the prompt")
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(doc) if name is not None}
    except ValueError as exc:
        raise TypeError(
            f"@prompt: {fn.__qualname__}'s docstring is not a template: {exc}"
        ) from None
    roots = {f.split(".")[0].split("[")[0] for f in fields}
    missing = sorted(r for r in roots if r not in signature.parameters)
    if "" in roots or missing:
        raise TypeError(
            f"@prompt: {fn.__qualname__}'s docstring uses {{{', '.join(missing) or ''}}}, "
            f"which is not a parameter ({', '.join(signature.parameters) or 'none'}); "
            "write literal braces as {{ and }}"
        )
    return doc


def _return_type(fn: Callable[..., Any]) -> Any:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except NameError:
        # A class defined in the calling function, under ``from __future__ import
        # annotations``: look the name up where the decorator was applied.
        hints = _hints_from_callers(fn)
    except TypeError as exc:
        raise TypeError(
            f"@prompt: cannot resolve {fn.__qualname__}'s annotations: {exc}"
        ) from None
    if "return" not in hints or hints["return"] is type(None):
        raise TypeError(
            f"@prompt: {fn.__qualname__} needs a return annotation: it is the output type "
            "(a Pydantic model, list[...], Literal[...], an Enum, int, ...)"
        )
    return hints["return"]


def _hints_from_callers(fn: Callable[..., Any]) -> dict[str, Any]:
    frame = sys._getframe(1)
    error: Exception | None = None
    while frame is not None:
        try:
            return typing.get_type_hints(fn, localns=frame.f_locals, include_extras=True)
        except NameError as exc:
            error = exc
        frame = frame.f_back  # type: ignore[assignment]
    raise TypeError(f"@prompt: cannot resolve {fn.__qualname__}'s annotations: {error}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)
