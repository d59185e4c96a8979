"""Direct composition of minimal DFAs agrees with embedding them and subset construction."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest

from structgen.automata import build
from structgen.automata.build import BuildOptions, build_dfa
from structgen.automata.compose import NotDeterministic, Part, compose
from structgen.automata.dfa import ByteDFA, finish, from_nfa
from structgen.automata.nfa import NFA, byte_mask
from structgen.schema import ir

N_SYMBOLS = 256


def _canonical(dfa: ByteDFA | None) -> object:
    """The per-symbol table renumbered breadth-first: equal iff the minimal DFAs are."""
    if dfa is None:
        return None
    per_symbol = dfa.transitions[:, dfa.class_of].tolist()
    order, ids = [0], {0: 0}
    for s in order:
        for t in per_symbol[s]:
            if t >= 0 and t not in ids:
                ids[t] = len(order)
                order.append(t)
    table = [[ids[t] if t >= 0 else -1 for t in per_symbol[s]] for s in order]
    return table, [bool(dfa.accepting[s]) for s in order]


# -- IR level: build_dfa(direct=True) against build_dfa(direct=False) -----------------------

@pytest.fixture(autouse=True)
def _compose_small_parts_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the direct path at every size, so that the small random cases exercise it."""
    monkeypatch.setattr(build, "_COMPOSE_ABOVE", 0)


def _leaf(rng: random.Random) -> ir.Node:
    kind = rng.randrange(7)
    if kind == 0:
        return ir.IntegerNode(minimum=rng.choice([None, 0, -5]), maximum=rng.choice([None, 30]))
    if kind == 1:
        return ir.NumberNode(minimum=rng.choice([None, Decimal("0.5")]))
    if kind == 2:
        low = rng.randrange(3)
        return ir.StringNode(min_length=low, max_length=rng.choice([None, low, low + 3]))
    if kind == 3:
        return ir.StringNode(patterns=(rng.choice(["^a+$", "b", "^[0-9]{2}$"]),))
    if kind == 4:
        return ir.Literal.of(rng.sample([1, 12, "x", None, True, [1], {"a": 2}], 2))
    if kind == 5:
        return ir.Union((ir.StringNode(max_length=2), ir.Literal.of([None])))
    return ir.StringNode()


def _node(rng: random.Random, depth: int) -> ir.Node:
    if depth == 0 or rng.random() < 0.3:
        return _leaf(rng)
    kind = rng.randrange(4)
    if kind == 0:
        low = rng.choice([0, 0, 1, 2])
        return ir.ArrayNode(
            prefix=tuple(_node(rng, depth - 1) for _ in range(rng.randrange(3))),
            items=rng.choice([ir.Never(), _node(rng, depth - 1)]),
            min_items=low,
            max_items=rng.choice([None, low, low + 2]),
        )
    if kind == 1:
        props = tuple(
            ir.Property(name, _node(rng, depth - 1), rng.random() < 0.5)
            for name in rng.sample(["a", "ab", "b", "c\u00e9"], rng.randrange(4))
        )
        extras = ()
        if rng.random() < 0.3:
            extras = (ir.ExtraProperties(ir.StringNode(max_length=2), _leaf(rng)),)
        return ir.ObjectNode(props, extras)
    if kind == 2:
        return ir.Union((_node(rng, depth - 1), _node(rng, depth - 1)))
    return ir.ArrayNode(items=ir.Never(), prefix=(ir.Never(),), min_items=rng.randrange(2))


OPTIONS = [
    BuildOptions(unicode_escapes=False),
    BuildOptions(item_separator=",", key_separator=":", unicode_escapes=False),
    BuildOptions(item_separator="", key_separator=":", unicode_escapes=False),
    BuildOptions(whitespace="flexible", max_whitespace=1, unicode_escapes=False),
    BuildOptions(),
]


@pytest.mark.parametrize("seed", range(60))
def test_direct_build_matches_subset_construction(seed: int) -> None:
    rng = random.Random(seed)
    node = _node(rng, 3)
    options = OPTIONS[seed % len(OPTIONS)]
    assert _canonical(build_dfa(node, options)) == _canonical(
        build_dfa(node, options, direct=False)
    )


@pytest.mark.parametrize(
    "node",
    [
        ir.ArrayNode(items=ir.StringNode(), min_items=0),  # minItems 0, maxItems None
        ir.ArrayNode(items=ir.IntegerNode(), min_items=3, max_items=5),  # numbers continue
        ir.ArrayNode(items=ir.Never(), min_items=0),  # empty item language
        ir.ArrayNode(items=ir.Never(), min_items=1),  # no array at all
        ir.ArrayNode(items=ir.ArrayNode(items=ir.IntegerNode(), max_items=3), max_items=4),
        ir.ArrayNode(items=ir.ObjectNode((ir.Property("k", ir.IntegerNode(), False),)),
                     min_items=1, max_items=6),
        ir.StringNode(min_length=2, max_length=40),
        ir.StringNode(min_length=5),
        ir.StringNode(min_length=3, max_length=1),  # unsatisfiable
        ir.Union((ir.ObjectNode(), ir.ObjectNode((ir.Property("a", ir.IntegerNode(), True),)))),
    ],
)
@pytest.mark.parametrize("options", [OPTIONS[0], OPTIONS[2], OPTIONS[4]])
def test_direct_edge_cases(node: ir.Node, options: BuildOptions) -> None:
    assert _canonical(build_dfa(node, options)) == _canonical(
        build_dfa(node, options, direct=False)
    )


def test_a_continuing_part_falls_back() -> None:
    """Integers joined by nothing are not entered deterministically: the reference path."""
    options = BuildOptions(item_separator="")
    node = ir.ArrayNode(items=ir.IntegerNode(minimum=0), max_items=3)
    dfa = build_dfa(node, options)
    assert dfa is not None and dfa.accepts(b"[1234]") and not dfa.accepts(b"[12345")
    assert _canonical(dfa) == _canonical(build_dfa(node, options, direct=False))


# -- compose() on random glue and random parts ------------------------------------------------

def _random_dfa(rng: random.Random) -> ByteDFA | None:
    nfa = NFA(max_states=1000, timeout_s=60)
    n = rng.randrange(2, 6)
    nfa.states(n)
    for _ in range(rng.randrange(n, 3 * n)):
        lo = rng.randrange(0x61, 0x66)
        nfa.edge(rng.randrange(n), byte_mask(lo, rng.randrange(lo, 0x67)), rng.randrange(n))
    return from_nfa(nfa, 0, n - 1, n_symbols=N_SYMBOLS, max_states=1000)


def _random_case(seed: int) -> tuple[NFA, list[Part], int]:
    """A glue NFA of ``n`` states (start 0, accept ``n - 1``) and random parts."""
    rng = random.Random(seed)
    glue = NFA(max_states=1000, timeout_s=60)
    n = rng.randrange(2, 7)
    glue.states(n)
    for _ in range(rng.randrange(0, 2 * n)):
        glue.edge(rng.randrange(n), 1 << rng.choice(b",]:abc"), rng.randrange(n))
    for _ in range(rng.randrange(0, n)):
        glue.epsilon(rng.randrange(n), rng.randrange(n))
    parts = []
    for _ in range(rng.randrange(1, 4)):
        dfa = _random_dfa(rng)
        if dfa is not None:
            parts.append(Part(rng.randrange(n), dfa, rng.randrange(n)))
    return glue, parts, n - 1


def _composed(glue: NFA, parts: list[Part], accept: int) -> ByteDFA | str | None:
    try:
        table, accepting, class_of = compose(glue, parts, 0, accept, n_symbols=N_SYMBOLS,
                                             max_states=10_000)
    except NotDeterministic:
        return "fallback"
    return finish(table, accepting, class_of)


@pytest.mark.parametrize("seed", range(120))
def test_compose_matches_embedding(seed: int) -> None:
    glue, parts, accept = _random_case(seed)
    direct = _composed(glue, parts, accept)
    if direct == "fallback":
        return  # the caller embeds the parts instead: the reference itself
    for part in parts:
        part.dfa.embed(glue, part.src, part.dst)
    reference = from_nfa(glue, 0, accept, n_symbols=N_SYMBOLS, max_states=10_000)
    assert _canonical(direct) == _canonical(reference)  # type: ignore[arg-type]


def test_compose_random_cases_exercise_the_direct_path() -> None:
    outcomes = [_composed(*_random_case(seed)) for seed in range(120)]
    assert sum(o != "fallback" for o in outcomes) >= 20
    assert sum(o == "fallback" for o in outcomes) >= 5


def test_compose_leaves_large_results_to_the_budgeted_path() -> None:
    part = _random_dfa(random.Random(3))
    assert part is not None
    glue = NFA(max_states=1000, timeout_s=60)
    a, b = glue.state(), glue.state()
    with pytest.raises(NotDeterministic):
        compose(glue, [Part(a, part, b)], a, b, n_symbols=N_SYMBOLS,
                max_states=part.n_states - 1)
    assert np.all(part.transitions < part.n_states)
