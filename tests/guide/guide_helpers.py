"""Small automata built by hand and schemas for the guide tests."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import structgen
from structgen.automata.dfa import ByteDFA
from structgen.automata.distance import bytes_to_accept

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def sequence_dfa(parts: Sequence[bytes | int | tuple[bytes, str]]) -> ByteDFA:
    """A DFA for a concatenation of parts: ``b"lit"`` (exact bytes), an int ``k`` (the
    special symbol ``256 + k``), or ``(alphabet, "+")`` (one or more bytes of alphabet).
    Every byte is its own class; the last state accepts."""
    n_specials = 1 + max((p for p in parts if isinstance(p, int)), default=-1)
    n_symbols = 256 + n_specials
    rows: list[list[int]] = []

    def new_state() -> int:
        rows.append([-1] * n_symbols)
        return len(rows) - 1

    state = new_state()
    for part in parts:
        if isinstance(part, bytes):
            for byte in part:
                nxt = new_state()
                rows[state][byte] = nxt
                state = nxt
        elif isinstance(part, int):
            nxt = new_state()
            rows[state][256 + part] = nxt
            state = nxt
        else:
            alphabet, _ = part
            loop = new_state()
            for byte in alphabet:
                rows[state][byte] = loop
                rows[loop][byte] = loop
            state = loop
    table = np.array(rows, dtype=np.int32)
    accepting = np.zeros(len(rows), dtype=np.bool_)
    accepting[state] = True
    return ByteDFA(
        transitions=table,
        accepting=accepting,
        class_of=np.arange(n_symbols, dtype=np.int32),
        bytes_to_accept=bytes_to_accept(table, accepting),
    )


# Schemas for the budget walks: files under schemas/ that compile in about a second, and
# a few written here to cover enums, arrays, numbers, nulls, unicode and patterns.
FILE_SCHEMAS = ("tool_search", "tool_weather", "address", "geo_feature", "access_log")
INLINE_SCHEMAS: dict[str, dict] = {
    "enum_and_const": {
        "type": "object",
        "properties": {
            "level": {"enum": ["low", "medium", "high", None, 3]},
            "kind": {"const": "alert"},
        },
        "required": ["level", "kind"],
        "additionalProperties": False,
    },
    "bounded_array": {
        "type": "array",
        "items": {"type": "integer", "minimum": -5, "maximum": 120},
        "minItems": 2,
        "maxItems": 4,
    },
    "nested_optional": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}},
            "owner": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "active": {"type": "boolean"}},
                "required": ["name"],
                "additionalProperties": False,
            },
            "score": {"type": ["number", "null"]},
        },
        "required": ["id", "owner"],
        "additionalProperties": False,
    },
    "unicode_pattern": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
            "label": {"type": "string", "minLength": 2, "maxLength": 6},
        },
        "required": ["code", "label"],
        "additionalProperties": False,
    },
    "top_level_string": {"type": "string", "minLength": 3, "maxLength": 12},
}


def schema(name: str) -> dict:
    if name in INLINE_SCHEMAS:
        return INLINE_SCHEMAS[name]
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def schema_names() -> list[str]:
    files = [n for n in FILE_SCHEMAS if (SCHEMAS / f"{n}.json").exists()]
    return files + list(INLINE_SCHEMAS)


@functools.cache
def grammar(name: str) -> structgen.Grammar:
    return structgen.compile(schema(name))
