"""Object bounds, dependencies, presence rules and unique literal items in the byte
automaton, checked against brute force over every subset of members (direct and reference
construction)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random

import pytest

from structgen.automata.build import BuildOptions, build_dfa
from structgen.schema import ir

NAMES = ("a", "b", "c", "d")
EXTRA_KEYS = ("x", "y")


def _random_object(rng: random.Random) -> ir.ObjectNode:
    properties = tuple(
        ir.Property(name, ir.Literal.of([1]), rng.random() < 0.2) for name in NAMES
    )
    extras = (ir.ExtraProperties(ir.StringNode(excluded=NAMES), ir.Literal.of([2])),)
    low = rng.randrange(0, 4)
    high = rng.choice([None, rng.randrange(0, 5)])
    pairs = tuple({(rng.choice(NAMES), rng.choice(NAMES)) for _ in range(rng.randrange(0, 4))})
    return ir.ObjectNode(properties, extras if rng.random() < 0.5 else (), low, high,
                         tuple((a, b) for a, b in pairs if a != b))


def _valid(node: ir.ObjectNode, members: dict[str, int]) -> bool:
    if any(p.required and p.name not in members for p in node.properties):
        return False
    rule = node.presence
    if rule is not None and frozenset(n for n in rule.names if n in members) not in rule.allowed:
        return False
    if any(a in members and b not in members for a, b in node.dependencies):
        return False
    high = node.max_properties
    return node.min_properties <= len(members) and (high is None or len(members) <= high)


def _documents(node: ir.ObjectNode) -> list[dict[str, int]]:
    """Every object the node's members could spell: declared subsets, then 0..2 extras."""
    out = []
    extras = [(), *((k,) for k in EXTRA_KEYS), EXTRA_KEYS] if node.extras else [()]
    for n in range(len(NAMES) + 1):
        for chosen in itertools.combinations(NAMES, n):
            for keys in extras:
                out.append({**dict.fromkeys(chosen, 1), **dict.fromkeys(keys, 2)})
    return out


def _with_presence(rng: random.Random) -> ir.ObjectNode:
    """A random object with a random presence rule over some of its names."""
    node = _random_object(rng)
    names = tuple(rng.sample(NAMES, rng.randrange(1, len(NAMES) + 1)))
    subsets = [frozenset(c) for n in range(len(names) + 1)
               for c in itertools.combinations(names, n)]
    allowed = frozenset(s for s in subsets if rng.random() < 0.4)
    return dataclasses.replace(node, presence=ir.Presence(names, allowed))


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("presence", [False, True])
def test_objects_match_brute_force(seed: int, direct: bool, presence: bool) -> None:
    rng = random.Random(seed)
    node = _with_presence(rng) if presence else _random_object(rng)
    dfa = build_dfa(node, BuildOptions(), direct=direct)
    for members in _documents(node):
        text = json.dumps(members).encode()
        accepted = dfa is not None and dfa.accepts(text)
        assert accepted == _valid(node, members), (node, text)


def _spells(literal: object, text: str) -> bool:
    """Whether ``text`` is a spelling the grammar gives ``literal``: its ``json.dumps``,
    and an integral float's plain integer too (``1.0`` as ``1``)."""
    if isinstance(literal, float) and literal.is_integer() and text == str(int(literal)):
        return True
    return text == json.dumps(literal)


@pytest.mark.parametrize("seed", range(20))
def test_unique_literal_items_match_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    pool = [1, 1.0, 2, "a", None, True, [1], {"k": 1}]
    items = ir.union([ir.Literal.of(rng.sample(pool, rng.randrange(1, 5))),
                      ir.Literal.of(rng.sample(pool, rng.randrange(0, 3)))])
    prefix = tuple(ir.Literal.of(rng.sample(pool, 2)) for _ in range(rng.randrange(0, 2)))
    high = rng.choice([None, 2, 3])
    node = ir.ArrayNode(prefix, items, rng.randrange(0, 3), high, unique=True)
    dfa = build_dfa(node, BuildOptions())

    def allowed(position: int, value: object) -> bool:
        literal = prefix[position] if position < len(prefix) else items
        options = literal.options if isinstance(literal, ir.Union) else (literal,)
        return any(_spells(v, json.dumps(value))
                   for o in options for v in o.values)  # type: ignore[attr-defined]

    for length in range(5):
        for values in itertools.product(pool, repeat=length):
            keys = [ir.value_key(v) for v in values]
            valid = (
                len(set(keys)) == len(keys) and node.min_items <= length
                and (high is None or length <= high)
                and all(allowed(i, v) for i, v in enumerate(values))
            )
            text = json.dumps(list(values)).encode()
            assert (dfa is not None and dfa.accepts(text)) == valid, (node, text)
