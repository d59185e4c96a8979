"""The compact DFA a grammar holds: the same transitions as the dense table it replaces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import structgen
from structgen.automata.compact import DEAD, CompactDFA, CompactTable
from structgen.automata.dfa import ByteDFA

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _compile_keeping_dense(
    monkeypatch: pytest.MonkeyPatch, schema: object, **options: int
) -> tuple[structgen.Grammar, ByteDFA]:
    """Compile, capturing the dense DFA the build hands to :meth:`CompactDFA.from_dfa`."""
    captured: list[ByteDFA] = []
    original = CompactDFA.from_dfa.__func__  # type: ignore[attr-defined]

    def spy(cls: type[CompactDFA], dfa: ByteDFA) -> CompactDFA:
        captured.append(dfa)
        return original(cls, dfa)  # type: ignore[no-any-return]

    monkeypatch.setattr(CompactDFA, "from_dfa", classmethod(spy))
    grammar = structgen.compile(schema, **options)
    monkeypatch.undo()
    (dense,) = captured
    return grammar, dense


def _assert_same_transitions(table: CompactTable, dense: np.ndarray, seed: int) -> None:
    """Every (state, class) through ``dense()``, every state through ``targets``, and a
    random sample through ``[state, class]``."""
    assert table.shape == dense.shape
    assert np.array_equal(table.dense(), dense)
    rng = np.random.default_rng(seed)
    states = rng.integers(0, dense.shape[0], 300)
    for state in states.tolist():
        assert np.array_equal(table.targets(state), dense[state])
        for cls in range(dense.shape[1]):
            assert table[state, cls] == int(dense[state, cls])


@pytest.mark.parametrize(
    ("name", "budget"),
    [("address", 200_000), ("invoice", 200_000), ("tree_node", 200_000),
     ("resume", 200_000), ("org_chart", 400_000)],
)
def test_schema_files_keep_every_transition(
    monkeypatch: pytest.MonkeyPatch, name: str, budget: int
) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    grammar, dense = _compile_keeping_dense(monkeypatch, schema, state_budget=budget)
    table = grammar.dfa.transitions
    assert table.row_of.shape == (dense.n_states,)  # deduplicated: it pays on every file
    _assert_same_transitions(table, dense.transitions, seed=len(name))
    for layout in (True, False):
        forced = CompactTable.from_dense(dense.transitions, dedupe=layout)
        assert np.array_equal(forced.dense(), dense.transitions)
    assert np.array_equal(grammar.dfa.accepting, dense.accepting)
    assert np.array_equal(grammar.dfa.class_of, dense.class_of)
    assert np.array_equal(grammar.dfa.bytes_to_accept, dense.bytes_to_accept)


def test_counted_runs_share_rows_and_memory_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = json.loads((SCHEMAS / "resume.json").read_text())
    grammar, dense = _compile_keeping_dense(monkeypatch, schema)
    table = grammar.dfa.transitions
    assert table.nbytes == table.row_of.nbytes + table.rows.nbytes
    assert table.rows.shape[0] * 50 < dense.n_states
    assert table.nbytes * 20 < dense.transitions.nbytes
    counters = grammar.dfa.counters  # resume's long strings are counted beside the DFA
    assert counters is not None and counters.nbytes < dense.n_states * 2
    assert grammar.dfa.nbytes == (table.nbytes + dense.accepting.nbytes + dense.class_of.nbytes
                                  + dense.bytes_to_accept.nbytes + counters.nbytes)


def test_dense_fallback_when_rows_are_all_different() -> None:
    rng = np.random.default_rng(7)
    table = rng.integers(-1, 40, (40, 6)).astype(np.int32)
    table[0] = np.arange(6)  # distinct rows for sure
    table[1:, 0] = np.arange(1, 40)
    chosen = CompactTable.from_dense(table)
    assert chosen.row_of.size == 0
    assert chosen.nbytes == table.nbytes
    assert np.array_equal(chosen.dense(), table)
    shared = CompactTable.from_dense(table, dedupe=True)
    assert shared.row_of.shape == (40,) and shared.nbytes > table.nbytes


def test_offsets_and_dead_sentinel() -> None:
    table = np.array([[1, -1], [2, -1], [-1, 2]], dtype=np.int32)
    compact = CompactTable.from_dense(table, dedupe=True)
    assert compact.rows[compact.row_of[0]].tolist() == [1, DEAD]
    assert compact.row_of[0] == compact.row_of[1] != compact.row_of[2]  # [+1, dead] shifted
    assert compact.rows.shape == (2, 2)
    assert compact[1, 0] == 2 and compact[1, 1] == -1 and compact[2, 0] == -1
    assert compact[2, 1] == 2
    with pytest.raises(IndexError):
        compact[3, 0]


def test_walk_accepts_and_step_match_the_dense_dfa(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = json.loads((SCHEMAS / "invoice.json").read_text())
    grammar, dense = _compile_keeping_dense(monkeypatch, schema)
    compact = grammar.dfa
    rng = np.random.default_rng(3)
    table = dense.transitions
    for _ in range(40):
        state, text = 0, bytearray()
        for _ in range(int(rng.integers(1, 300))):
            live = np.flatnonzero(table[state] >= 0)
            cls = int(rng.choice(live))
            byte = int(rng.choice(np.flatnonzero(dense.class_of[:256] == cls)))
            assert compact.step(state, byte) == dense.step(state, byte)
            state = int(table[state, cls])
            text.append(byte)
        wrong = bytes(text) + bytes([int(rng.integers(256))])
        for data in (bytes(text), wrong):
            assert compact.walk(data) == dense.walk(data)
            assert compact.accepts(data) == dense.accepts(data)
            assert grammar.accepts(data) == dense.accepts(data)
    assert compact.class_masks() == dense.class_masks()
    assert np.array_equal(compact.to_dfa().transitions, table)
