"""Write an instance in a grammar's canonical style: declared key order, its separators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from structgen.schema import ir

__all__ = ["candidates"]

_MAX_CANDIDATES = 64


def candidates(
    node: ir.Node, value: Any, separators: tuple[str, str], *, ensure_ascii: bool = True
) -> Iterator[str]:
    """Texts of ``value`` in canonical style, one per way the IR's unions may order keys.

    Unions can declare different key orders, so the caller keeps the first candidate its
    automaton accepts; at most 64 are tried.
    """
    called: tuple[ir.Node, ...] = ()
    if isinstance(node, ir.Modules):
        node, called = node.main, node.called
    style = (separators[0], separators[1], ensure_ascii, called)
    for count, text in enumerate(_texts(node, value, style), start=1):
        yield text
        if count >= _MAX_CANDIDATES:
            return


# item separator, key separator, ensure_ascii, the modules ir.Call nodes refer to
Style = tuple[str, str, bool, tuple[ir.Node, ...]]


def _dump(value: Any, style: Style) -> str:
    """``json.dumps`` in the given style, but floats never in exponent form."""
    if isinstance(value, float) and "e" in repr(value):
        return _plain_decimal(value)
    if isinstance(value, list):
        return "[" + style[0].join(_dump(v, style) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + style[0].join(
            f"{_dump(str(k), style)}{style[1]}{_dump(v, style)}" for k, v in value.items()
        ) + "}"
    return json.dumps(value, ensure_ascii=style[2])


def _texts(node: ir.Node, value: Any, seps: Style) -> Iterator[str]:
    if isinstance(node, ir.Call):
        node = seps[3][node.module]
    if isinstance(node, ir.Union):
        seen: set[str] = set()
        for option in _ranked(node.options, value):
            for text in _texts(option, value, seps):
                if text not in seen:
                    seen.add(text)
                    yield text
        return
    if isinstance(node, ir.ObjectNode) and isinstance(value, dict):
        yield from _object(node, value, seps)
        return
    if isinstance(node, ir.ArrayNode) and isinstance(value, list):
        parts = []
        for i, item in enumerate(value):
            sub = node.prefix[i] if i < len(node.prefix) else node.items
            parts.append(next(iter(_texts(sub, item, seps)), _dump(item, seps)))
        yield "[" + seps[0].join(parts) + "]"
        return
    if isinstance(node, ir.Literal) and isinstance(value, (dict, list)):
        for literal in node.values:
            if literal == value:
                yield _dump(_reorder_like(value, literal), seps)
                return
    if isinstance(node, ir.AnyValue) and isinstance(value, (dict, list)):
        yield _dump(value, seps)
        return
    if isinstance(value, float) and "e" in repr(value):
        # Bounded number grammars are exact for plain decimals, so offer one first.
        yield _plain_decimal(value)
        yield json.dumps(value)
        return
    yield _dump(value, seps)


def _plain_decimal(value: float) -> str:
    """``value`` without an exponent: ``1e-05`` as ``0.00001``, ``1e16`` as ``1e16`` digits."""
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def _object(node: ir.ObjectNode, value: dict[str, Any], seps: Style) -> Iterator[str]:
    declared = {p.name: p for p in node.properties}
    members = []
    for prop in node.properties:
        if prop.name in value:
            item = value[prop.name]
            members.append((prop.name, next(iter(_texts(prop.value, item, seps)),
                                             _dump(item, seps))))
    for key, item in value.items():
        if key in declared:
            continue
        sub: ir.Node = ir.AnyValue(64)
        for extra in node.extras:
            sub = extra.value
            break
        members.append((key, next(iter(_texts(sub, item, seps)), _dump(item, seps))))
    yield "{" + seps[0].join(f"{_dump(k, seps)}{seps[1]}{v}" for k, v in members) + "}"


def _reorder_like(value: Any, template: Any) -> Any:
    if isinstance(value, dict) and isinstance(template, dict):
        return {k: _reorder_like(value[k], template[k]) for k in template}
    if isinstance(value, list) and isinstance(template, list):
        return [_reorder_like(v, t) for v, t in zip(value, template, strict=True)]
    return value


def _ranked(options: tuple[ir.Node, ...], value: Any) -> list[ir.Node]:
    """Options whose shape fits the value first, the best-fitting object first."""

    def score(option: ir.Node) -> int:
        if isinstance(value, dict) and isinstance(option, ir.ObjectNode):
            names = {p.name for p in option.properties}
            required = {p.name for p in option.properties if p.required}
            if not required <= value.keys():
                return 1
            # A constant property that disagrees (a discriminator) rules the option out.
            for prop in option.properties:
                if (prop.name in value and isinstance(prop.value, ir.Literal)
                        and value[prop.name] not in prop.value.values):
                    return 1
            return 3 + len(names & value.keys())
        if isinstance(value, list) and isinstance(option, ir.ArrayNode):
            return 2
        return 0

    return sorted(options, key=score, reverse=True)
