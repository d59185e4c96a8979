"""The typed intermediate representation every input is normalized into."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any


class Node:
    """Base of IR nodes: immutable, hashable, comparable."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Never(Node):
    """The empty language: no value is valid here."""


@dataclass(frozen=True, slots=True)
class AnyValue(Node):
    """Any JSON value nested at most ``depth`` levels of arrays/objects deep."""

    depth: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """One of a fixed set of JSON values (``enum``/``const``), stored as compact JSON text."""

    texts: tuple[str, ...]

    @staticmethod
    def of(values: list[Any]) -> Literal:
        seen: dict[str, None] = {}
        for value in values:
            seen[json.dumps(value, separators=(",", ":"), ensure_ascii=False)] = None
        return Literal(tuple(seen))

    @property
    def values(self) -> list[Any]:
        return [json.loads(text) for text in self.texts]


@dataclass(frozen=True, slots=True)
class IntegerNode(Node):
    """An integer in ``[minimum, maximum]`` (``None``: unbounded), optionally a multiple."""

    minimum: int | None = None
    maximum: int | None = None
    multiple_of: int | None = None


@dataclass(frozen=True, slots=True)
class NumberNode(Node):
    """A JSON number within optional decimal bounds, optionally a multiple of a
    non-integer ``multiple_of`` (then written without exponent)."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StringNode(Node):
    """A JSON string whose decoded characters satisfy every listed constraint.

    ``patterns`` are ECMA-262 regexes searched anywhere in the string (JSON Schema
    semantics); ``formats`` name entries of ``structgen.schema.formats``. ``excluded``
    strings and strings matching ``forbidden_patterns`` are left out (object keys that
    other keywords govern).
    """

    min_length: int = 0
    max_length: int | None = None
    patterns: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    forbidden_patterns: tuple[str, ...] = ()
    pointer: str = field(default="", compare=False)


MAX_SPELLED_UNIQUE = 12
"""Unique items drawn from at most this many literal values are tracked in the automaton,
one state per set of values used (2**n)."""


@dataclass(frozen=True, slots=True)
class Contains(Node):
    """``contains``: between ``minimum`` and ``maximum`` (``None``: no bound) items of the
    array match ``node``. The normalizer only builds it where the count is exact (see
    :mod:`structgen.schema.contains`)."""

    node: Node
    minimum: int = 1
    maximum: int | None = None


@dataclass(frozen=True, slots=True)
class ArrayNode(Node):
    """``prefix`` items in order, then any number of ``items`` (``Never``: no more).

    ``unique`` (``uniqueItems``) is only set when the grammar can keep it: every item node
    is a ``Literal`` (or a union of them), and the automaton tracks which values were
    used; or the array is :attr:`tracked`. Each of ``contains`` counts the items matching
    its node (never together with ``unique``).
    """

    prefix: tuple[Node, ...] = ()
    items: Node = field(default_factory=Never)
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False
    contains: tuple[Contains, ...] = ()

    @property
    def tracked(self) -> bool:
        """Unique string items told apart at run time, beside the automaton
        (:mod:`structgen.automata.unique`): no prefix, items strings, and not a set of at
        most :data:`MAX_SPELLED_UNIQUE` literals (the automaton spells those out)."""
        options = self.items.options if isinstance(self.items, Union) else (self.items,)
        strings = all(
            isinstance(o, (StringNode, Never))
            or (isinstance(o, Literal) and all(isinstance(v, str) for v in o.values))
            for o in options
        )
        if not (self.unique and not self.prefix and strings):
            return False
        values = {v for o in options if isinstance(o, Literal) for v in o.values}
        spelled = all(isinstance(o, (Literal, Never)) for o in options)
        return not (spelled and len(values) <= MAX_SPELLED_UNIQUE)


@dataclass(frozen=True, slots=True)
class Property(Node):
    """A declared object member."""

    name: str
    value: Node
    required: bool


@dataclass(frozen=True, slots=True)
class ExtraProperties(Node):
    """Undeclared members: keys satisfying ``key`` with values satisfying ``value``."""

    key: StringNode
    value: Node


@dataclass(frozen=True, slots=True)
class Presence:
    """Which of ``names`` may be present together: ``allowed`` holds each valid set of
    present names. ``oneOf``/``anyOf``/``not``/``if`` over ``required`` compile to it."""

    names: tuple[str, ...]
    allowed: frozenset[frozenset[str]]


@dataclass(frozen=True, slots=True)
class ObjectNode(Node):
    """Declared members in declared order, then any number of ``extras``.

    ``min_properties``/``max_properties`` bound the number of members written, extras
    included. Each ``(a, b)`` of ``dependencies`` means "if ``a`` is present, so is
    ``b``"; both are names of declared ``properties`` (extras never use them), as are
    the names of ``presence``.
    """

    properties: tuple[Property, ...] = ()
    extras: tuple[ExtraProperties, ...] = ()
    min_properties: int = 0
    max_properties: int | None = None
    dependencies: tuple[tuple[str, str], ...] = ()
    presence: Presence | None = None


@dataclass(frozen=True, slots=True)
class Union(Node):
    """Any of the options (``anyOf``, type arrays, provably disjoint ``oneOf``)."""

    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call(Node):
    """The value of ``Modules.called[module]``, matched by that module's automaton on a
    stack instead of being copied here: how a shared or recursive ``$ref`` stays one
    automaton however often, and however deeply, it is used. The module's values are
    objects or arrays, so they end on their own closing bracket."""

    module: int


@dataclass(frozen=True, slots=True)
class Modules(Node):
    """A document ``main`` whose ``Call`` nodes (there and in the called modules) refer to
    ``called``: only ever the root of an IR tree."""

    main: Node
    called: tuple[Node, ...]


# Grammar-level nodes: used to compose prompts formats such as Hermes tool calls.


@dataclass(frozen=True, slots=True)
class Text(Node):
    """Exact bytes."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Special(Node):
    """One special token (a symbol of its own in the byte automaton)."""

    name: str


@dataclass(frozen=True, slots=True)
class Sequence(Node):
    """The parts one after the other."""

    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Repeat(Node):
    """``node`` between ``min`` and ``max`` times (``None``: unbounded), joined by ``separator``."""

    node: Node
    min: int = 0
    max: int | None = None
    separator: bytes = b""


@dataclass(frozen=True, slots=True)
class FreeText(Node):
    """Any UTF-8 text that does not contain ``stop`` and has at most ``max_bytes`` bytes."""

    stop: tuple[str, ...] = ()
    max_bytes: int | None = None


def union(options: list[Node]) -> Node:
    """Build a union, dropping ``Never`` options and flattening nested unions."""
    flat: dict[Node, None] = {}
    for option in options:
        if isinstance(option, Union):
            for inner in option.options:
                flat[inner] = None
        elif not isinstance(option, Never):
            flat[option] = None
    if not flat:
        return Never()
    if len(flat) == 1:
        return next(iter(flat))
    return Union(tuple(flat))


def json_type(value: Any) -> str:
    """The JSON Schema type of a JSON value (integers are numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def json_types(node: Node) -> set[str] | None:
    """The JSON types a node can produce (integers are numbers; None: unknown, as for
    ``AnyValue`` or a prompt-format node)."""
    if isinstance(node, Literal):
        return {json_type(v) for v in node.values}
    if isinstance(node, (IntegerNode, NumberNode)):
        return {"number"}
    if isinstance(node, StringNode):
        return {"string"}
    if isinstance(node, ArrayNode):
        return {"array"}
    if isinstance(node, ObjectNode):
        return {"object"}
    if isinstance(node, Union):
        out: set[str] = set()
        for option in node.options:
            types = json_types(option)
            if types is None:
                return None
            out |= types
        return out
    if isinstance(node, Never):
        return set()
    if isinstance(node, Call):
        return {"object", "array"}
    return None


def value_depth(value: Any) -> int:
    """Levels of arrays and objects in a JSON value (a scalar: 0)."""
    if isinstance(value, dict):
        return 1 + max(map(value_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(value_depth, value), default=0)
    return 0


def value_key(value: Any) -> Any:
    """A hashable key equal for JSON-equal values (``1 == 1.0``, ``True != 1``)."""
    if isinstance(value, bool) or value is None:
        return ("c", value)
    if isinstance(value, (int, float)):
        return ("n", int(value) if isinstance(value, float) and value.is_integer() else value)
    if isinstance(value, list):
        return ("a", tuple(value_key(v) for v in value))
    if isinstance(value, dict):
        return ("o", frozenset((k, value_key(v)) for k, v in value.items()))
    return ("s", value)


def walk(node: Node) -> Iterator[Node]:
    """Every distinct node in ``node`` (itself first), each once however often shared."""
    seen: set[int] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, Node) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend(reversed([getattr(item, f.name) for f in fields(item)]))
