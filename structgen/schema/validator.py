"""jsonschema validators whose regex keywords follow ECMA-262 and cannot backtrack forever,
and whose ``multipleOf`` is exact."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

import jsonschema
import jsonschema.protocols
import jsonschema.validators
from jsonschema.exceptions import ValidationError

from structgen.schema.patterns import PatternError, search

__all__ = ["ecma_search", "validator_for"]


def ecma_search(pattern: str, text: str) -> bool:
    """:func:`structgen.schema.patterns.search`, falling back to Python's ``re`` only for
    patterns no automaton can express (lookaround, backreferences), which structgen
    post-validates; a pattern that is not a regex at all matches nothing."""
    try:
        return search(pattern, text)
    except PatternError as exc:
        if not exc.unsupported:
            return False
    try:
        return re.search(pattern, text) is not None
    except (re.error, ValueError, OverflowError, RecursionError):
        return False


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if ecma_search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [
        key for key in instance
        if key not in declared and not any(ecma_search(p, key) for p in patterns)
    ]
    if validator.is_type(additional, "object"):
        for key in extras:
            yield from validator.descend(instance[key], additional, path=key)
    elif additional is False and extras:
        yield ValidationError(f"additional properties are not allowed ({extras!r} unexpected)")


def _exact(number: Any) -> Fraction:
    """A JSON number's value: a float as the shortest decimal that reads back to it."""
    if isinstance(number, float):
        if not math.isfinite(number):
            raise ValueError(number)
        return Fraction(Decimal(repr(number)))
    return Fraction(number)


def _multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """``multipleOf`` by exact rational arithmetic, as the grammar enforces it (jsonschema
    divides floats: it finds 0.07 no multiple of 0.01)."""
    if not validator.is_type(instance, "number") or isinstance(divisor, bool):
        return
    try:
        value, step = _exact(instance), _exact(divisor)
    except (TypeError, ValueError):
        yield from _JSONSCHEMA_MULTIPLE_OF(validator, divisor, instance, schema)
        return
    if step > 0 and value % step:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor!r}")


_JSONSCHEMA_MULTIPLE_OF = jsonschema.Draft202012Validator.VALIDATORS["multipleOf"]


@functools.cache
def _ecma_class(cls: type) -> Any:
    return jsonschema.validators.extend(cls, {
        "multipleOf": _multiple_of,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    })


def validator_for(schema: Any, *, formats: bool = True) -> jsonschema.protocols.Validator:
    """A jsonschema validator for ``schema`` (its ``$schema`` dialect, else draft 2020-12),
    with format assertions when ``formats``, and ``pattern``, ``patternProperties`` and
    ``additionalProperties`` matched as ECMA-262 searches in linear time."""
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = _ecma_class(base)
    return cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)  # type: ignore[no-any-return]
