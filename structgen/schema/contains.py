"""Whether the automaton can count the items a ``contains`` schema matches exactly.

The builder counts an item as a match when the text written is in the language of the
``contains`` node, and as a miss when it is not, writing misses in canonical spelling only
(numbers plain: no exponent, no trailing fraction zeros but ``.0``, no ``-0``). The count is
exact when that language holds the canonical spelling of every value the schema matches:
true of numbers (canonical spellings are in every number language), strings (every string
lowers its characters the same way) and literals, but not where the grammar fixes an order
or depth that JSON leaves free. :func:`spelling_gap` names such a place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from structgen.schema import ir

__all__ = ["spelling_gap"]

_KINDS = frozenset({"null", "boolean", "number", "string", "array", "object"})
_FAR = 1 << 30  # no free value: any nesting is matched exactly


def spelling_gap(condition: ir.Node, positions: Sequence[ir.Node]) -> str | None:
    """Why counting the items (at ``positions``) that ``condition`` matches could go wrong,
    or None when the count is exact."""
    for position in positions:
        if any(isinstance(n, ir.ArrayNode) and n.tracked for n in ir.walk(position)):
            return "the items hold arrays of unique strings, told apart at run time"
    kinds = set().union(*(_kinds(p) for p in positions))
    options = condition.options if isinstance(condition, ir.Union) else (condition,)
    relevant = ir.union([o for o in options if _kinds(o) & kinds])
    for node in ir.walk(relevant):
        reason = _fixed_spelling(node)
        if reason is not None:
            return reason
    need = max((_depth(p, {}) for p in positions), default=0)
    reach = _reach(relevant, 0, {})
    if need > reach:
        return (f"its free values nest {reach} levels deep and the items up to {need} "
                "(raise any_value_depth)")
    return None


def _fixed_spelling(node: ir.Node) -> str | None:
    """Where ``node`` accepts fewer spellings of a value than the items may write."""
    if isinstance(node, ir.ObjectNode) and node.properties:
        return ("an object with declared properties matches them in declared order only, "
                "so an item writing them in another order would be miscounted")
    if isinstance(node, ir.ArrayNode) and node.tracked:
        return "its unique string items are told apart at run time, beside the automaton"
    if isinstance(node, ir.Literal):
        for value in node.values:
            reason = _fixed_value(value)
            if reason is not None:
                return reason
    return None


def _fixed_value(value: Any) -> str | None:
    if isinstance(value, float) and "e" in json.dumps(value):
        return f"the number {json.dumps(value)} is written in exponent form only"
    if isinstance(value, dict) and len(value) > 1:
        return "an object value matches its keys in one order only"
    for item in _members(value) or ():
        reason = _fixed_value(item)
        if reason is not None:
            return reason
    return None


def _kinds(node: ir.Node) -> set[str]:
    """The JSON types of the values ``node`` writes at its top (free values: every type)."""
    types = ir.json_types(node)
    return set(_KINDS) if types is None else types


def _children(node: ir.Node) -> list[ir.Node]:
    """The value nodes one array or object level below ``node``."""
    if isinstance(node, ir.ArrayNode):
        return [*node.prefix, node.items]
    if isinstance(node, ir.ObjectNode):
        return [p.value for p in node.properties] + [e.value for e in node.extras]
    return []


def _depth(node: ir.Node, memo: dict[int, int]) -> int:
    """How many array/object levels the values of ``node`` nest, at most."""
    known = memo.get(id(node))
    if known is not None:
        return known
    if isinstance(node, ir.AnyValue):
        depth = node.depth
    elif isinstance(node, ir.Union):
        depth = max((_depth(o, memo) for o in node.options), default=0)
    elif isinstance(node, ir.Literal):
        depth = max((ir.value_depth(v) for v in node.values), default=0)
    elif isinstance(node, (ir.ArrayNode, ir.ObjectNode)):
        depth = 1 + max((_depth(c, memo) for c in _children(node)), default=0)
    else:
        depth = 0
    memo[id(node)] = depth
    return depth


def _members(value: Any) -> list[Any] | None:
    """The items or member values of an array or object value (None: a scalar)."""
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else None


def _reach(node: ir.Node, level: int, memo: dict[tuple[int, int], int]) -> int:
    """The nesting up to which ``node`` (at ``level``) matches values exactly: free values
    (``AnyValue``) stop at their depth, so deeper ones fall outside."""
    key = (id(node), level)
    known = memo.get(key)
    if known is not None:
        return known
    if isinstance(node, ir.AnyValue):
        reach = level + node.depth
    elif isinstance(node, ir.Union):
        reach = min((_reach(o, level, memo) for o in node.options), default=_FAR)
    else:
        reach = min((_reach(c, level + 1, memo) for c in _children(node)), default=_FAR)
    memo[key] = reach
    return reach
