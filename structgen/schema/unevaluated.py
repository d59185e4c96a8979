"""Which property names and items a schema evaluates, for ``unevaluatedProperties`` and
``unevaluatedItems``.

JSON Schema (2020-12, section 11) lets these keywords judge the names (items) that no
adjacent or in-place-applied keyword evaluated, counting only subschemas that validated. The
normalizer merges in-place applicators and splits ``anyOf``/``oneOf``/``if`` into options,
so in each option the evaluated names are known: those ``properties`` declare, those
``patternProperties`` match, or every name once an ``additionalProperties`` (or a nested
``unevaluatedProperties``) applies; likewise the first ``prefixItems`` items, or every item
once ``items`` (or a nested ``unevaluatedItems``) applies. The rest then meets the keyword
as a merged ``additionalProperties`` (``items``) would (:func:`rest_schema`). The items
``contains`` matches are evaluated too, which only the value tells. :func:`evaluated` works
out what a schema evaluates when it validates, with the parts that depend on which of its
options validate kept apart, so that the normalizer can tell where the set is static.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any
from urllib.parse import urldefrag, urljoin

__all__ = ["Evaluated", "Scope", "evaluated", "rest_schema", "subsets"]

Ref = tuple[Any, str, str]  # (schema, base URI, pointer)
Resolve = Callable[[str, str, str], Ref]
Search = Callable[[str, str], bool]


@dataclass(frozen=True)
class Evaluated:
    """Names a schema evaluates (``names``, those matching ``patterns``), or items (the
    first ``count``, those ``contains`` matched: ``matched``); or ``every`` one."""

    names: frozenset[str] = frozenset()
    patterns: frozenset[str] = frozenset()
    count: int = 0
    matched: bool = False
    every: bool = False

    def __or__(self, other: Evaluated) -> Evaluated:
        if self.every or other.every:
            return Evaluated(every=True)
        return Evaluated(self.names | other.names, self.patterns | other.patterns,
                         max(self.count, other.count), self.matched or other.matched)

    def covers(self, other: Evaluated, search: Search) -> bool:
        """Whether every name (item) ``other`` evaluates is evaluated here too, whatever
        the value (sound, not complete: a pattern is covered only by the same pattern).
        Items ``contains`` matched are never covered but by ``every``."""
        if self.every:
            return True
        if other.every or other.matched or not other.patterns <= self.patterns:
            return False
        return other.count <= self.count and all(
            n in self.names or any(search(p, n) for p in self.patterns) for n in other.names
        )


@dataclass(frozen=True)
class Scope:
    """What a schema evaluates when it validates: at least ``always``; at most ``always``
    and ``maybe`` (from `anyOf`, `oneOf`, `if`, `dependentSchemas`: their options count
    only when they validate)."""

    always: Evaluated
    maybe: Evaluated


def evaluated(ref: Ref, keyword: str, resolve: Resolve, *, own: bool = False,
              seen: frozenset[int] = frozenset()) -> Scope | str:
    """The names (``keyword`` ``unevaluatedProperties``) or items (``unevaluatedItems``)
    the schema at ``ref`` evaluates when it validates, or why that cannot be told
    statically. ``own``: leave out the schema's own ``keyword`` (the one being enforced)
    and its direct `anyOf`/`oneOf`/`if`, which the caller splits into options."""
    schema, base, pointer = ref
    if not isinstance(schema, dict):
        return Scope(Evaluated(), Evaluated())
    if "$dynamicRef" in schema or "$recursiveRef" in schema:
        return f"{pointer}: a dynamic reference decides what is evaluated"
    if isinstance(schema.get("$id"), str) and pointer:
        base = urldefrag(urljoin(base, schema["$id"]))[0]
    always = _adjacent(schema, keyword, own)
    maybe = Evaluated()
    parts = [(s, base, f"{pointer}/allOf/{i}") for i, s in enumerate(schema.get("allOf", ()))]
    if isinstance(schema.get("$ref"), str):
        target = resolve(schema["$ref"], base, f"{pointer}/$ref")
        if id(target[0]) in seen:
            return f"{pointer}/$ref: a recursive $ref applies in place"
        seen = seen | {id(target[0])}
        parts.append(target)
    for part in parts:
        scope = evaluated(part, keyword, resolve, seen=seen)
        if isinstance(scope, str):
            return scope
        always, maybe = always | scope.always, maybe | scope.maybe
    for option in _conditional(schema, base, pointer, own):
        scope = evaluated(option, keyword, resolve, seen=seen)
        if isinstance(scope, str):
            return scope
        maybe = maybe | scope.always | scope.maybe
    return Scope(always, maybe)


def _adjacent(schema: dict, keyword: str, own: bool) -> Evaluated:
    """What the schema's own keywords evaluate (its own ``keyword`` too, unless ``own``)."""
    nested = not own and keyword in schema
    if keyword == "unevaluatedProperties":
        return Evaluated(names=frozenset(schema.get("properties") or ()),
                         patterns=frozenset(schema.get("patternProperties") or ()),
                         every=nested or "additionalProperties" in schema)
    prefix = schema.get("prefixItems")
    return Evaluated(count=len(prefix) if isinstance(prefix, list) else 0,
                     matched="contains" in schema, every=nested or "items" in schema)


def _conditional(schema: dict, base: str, pointer: str, own: bool) -> list[Ref]:
    """The subschemas whose annotations count only when they validate."""
    found: list[Ref] = []
    keywords = ("dependentSchemas",) if own else ("anyOf", "oneOf", "dependentSchemas")
    for keyword in keywords:
        value = schema.get(keyword)
        if isinstance(value, list):
            found += [(s, base, f"{pointer}/{keyword}/{i}") for i, s in enumerate(value)]
        elif isinstance(value, dict):
            found += [(s, base, f"{pointer}/{keyword}/{n}") for n, s in value.items()]
    if not own:
        found += [(schema[k], base, f"{pointer}/{k}") for k in ("if", "then", "else")
                  if k in schema]
    return found


def rest_schema(done: Evaluated, keyword: str, value: Any) -> dict[str, Any] | None:
    """A schema holding the names (items) ``done`` leaves to ``value``, the ``keyword``
    subschema: an `additionalProperties` beside `properties` and `patternProperties` that
    accept anything (an `items` after as many `prefixItems`). None when none is left."""
    if done.every or value is True:
        return None
    if keyword == "unevaluatedItems":
        return {"prefixItems": [True] * done.count, "items": value} if done.count else {
            "items": value}
    return {"properties": dict.fromkeys(sorted(done.names), True),
            "patternProperties": dict.fromkeys(sorted(done.patterns), True),
            "additionalProperties": value}


def subsets(count: int) -> list[tuple[int, ...]]:
    """The sets of two or more of ``count`` options, smallest first: an `anyOf` option for
    each set of options that validate together (see ``_Normalizer._any_of_sets``)."""
    return [c for size in range(2, count + 1) for c in combinations(range(count), size)]
