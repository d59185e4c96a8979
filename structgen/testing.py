"""Helpers for structgen's own tests: prone to change, not for production use.

As xgrammar's ``testing.py``: these exist so that a test can state a language as the
texts it accepts and the texts it rejects (interegular's ``parse_valid`` style), or an
error as its type, pointer and keyword, in one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from structgen.errors import StructgenError
from structgen.grammar import Grammar, compile

__all__ = [
    "assert_compile_error",
    "assert_language",
    "assert_round_trip",
    "grammar_of",
    "json_dumps",
    "texts_of",
]


def grammar_of(schema_or_grammar: Any, **compile_options: Any) -> Grammar:
    """``schema_or_grammar`` itself if it is a :class:`Grammar`, else it compiled."""
    if isinstance(schema_or_grammar, Grammar):
        if compile_options:
            raise TypeError("compile options given together with an already compiled Grammar")
        return schema_or_grammar
    return compile(schema_or_grammar, **compile_options)


def _show(text: str | bytes) -> str:
    return repr(text) if len(text) <= 200 else repr(text[:200]) + "..."


def assert_language(
    schema_or_grammar: Any,
    accepts: Iterable[str | bytes] = (),
    rejects: Iterable[str | bytes] = (),
    **compile_options: Any,
) -> Grammar:
    """Check that the grammar accepts every text in ``accepts`` and none in ``rejects``.

    Texts are whole JSON documents as the grammar would see them (separators included).
    On failure the message lists every wrong answer, not only the first. Returns the
    grammar so a test can go on with it.
    """
    __tracebackhide__ = True
    grammar = grammar_of(schema_or_grammar, **compile_options)
    accepts, rejects = list(accepts), list(rejects)
    wrong = [f"  rejected, should accept: {_show(t)}" for t in accepts if not grammar.accepts(t)]
    wrong += [f"  accepted, should reject: {_show(t)}" for t in rejects if grammar.accepts(t)]
    if wrong:
        source = getattr(grammar, "schema", None)
        shown = json.dumps(source, default=repr)[:300] if source is not None else "?"
        raise AssertionError(
            f"{len(wrong)} of {len(accepts) + len(rejects)} texts answered wrongly by "
            f"{grammar!r} for schema {shown}:\n" + "\n".join(wrong)
        )
    return grammar


def json_dumps(value: Any, grammar: Grammar | None = None, **kwargs: Any) -> str:
    """``json.dumps`` with the grammar's separators (default: structgen's ``", "``/``": "``)."""
    separators = grammar.separators if grammar is not None else (", ", ": ")
    return json.dumps(value, separators=separators, **kwargs)


def assert_round_trip(schema_or_grammar: Any, instances: Iterable[Any],
                      **compile_options: Any) -> Grammar:
    """Every instance, written by ``Grammar.serialize``, is accepted by the grammar."""
    __tracebackhide__ = True
    grammar = grammar_of(schema_or_grammar, **compile_options)
    wrong = []
    for instance in instances:
        text = grammar.serialize(instance)
        if not grammar.accepts(text):
            wrong.append(f"  rejected: {_show(text)}")
    if wrong:
        raise AssertionError(
            f"{len(wrong)} serialized instances rejected by {grammar!r}:\n" + "\n".join(wrong)
        )
    return grammar


def assert_compile_error(
    schema: Any,
    error: type[StructgenError],
    *,
    pointer: str | None = None,
    keyword: str | None = None,
    limit: str | None = None,
    **compile_options: Any,
) -> StructgenError:
    """Compile ``schema`` and check it raises ``error`` with the given attributes.

    ``pointer``, ``keyword`` and ``limit`` are compared exactly when given; the
    exception is returned for further checks.
    """
    __tracebackhide__ = True
    try:
        grammar = compile(schema, **compile_options)
    except error as exc:
        for name, expected in (("pointer", pointer), ("keyword", keyword), ("limit", limit)):
            if expected is not None:
                got = getattr(exc, name, None)
                assert got == expected, (
                    f"{type(exc).__name__}.{name} is {got!r}, expected {expected!r} "
                    f"(message: {exc})"
                )
        return exc
    except StructgenError as exc:
        raise AssertionError(
            f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"expected {error.__name__}, but compiled to {grammar!r}")


def texts_of(values: Iterable[Any], grammar: Grammar | None = None) -> Iterator[str]:
    """Each value written with :func:`json_dumps`."""
    for value in values:
        yield json_dumps(value, grammar)
