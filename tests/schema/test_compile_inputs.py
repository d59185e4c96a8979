"""Inputs other than a schema dict: JSON text, Pydantic models, type adapters, functions."""

from __future__ import annotations

import enum
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from structgen import compile
from structgen.testing import assert_language, assert_round_trip


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str = Field(min_length=1, max_length=20)
    zip: str | None = Field(default=None, pattern=r"^[0-9]{5}$")


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    age: int = Field(ge=0, le=150)
    tags: list[str] = Field(default_factory=list, max_length=3)
    address: Address | None = None
    kind: Literal["a", "b"] = "a"
    color: Color = Color.RED
    score: float = 0.0


def test_json_text_schema() -> None:
    assert_language('{"type": "integer", "maximum": 3}', accepts=["3"], rejects=["4"])
    assert_language(b'{"const": "x"}', accepts=['"x"'], rejects=['"y"'])


def test_pydantic_model() -> None:
    assert_language(
        Person,
        accepts=[
            '{"name": "Ann", "age": 30}',
            '{"name": "Ann", "age": 30, "tags": ["x", "y"], "address": {"city": "Oslo"}, '
            '"kind": "b", "color": "green", "score": 1.5}',
            '{"name": "Ann", "age": 30, "address": null}',
            '{"name": "Ann", "age": 30, "address": {"city": "Oslo", "zip": "12345"}}',
        ],
        rejects=[
            '{"age": 30}',
            '{"name": "Ann", "age": 151}',
            '{"name": "Ann", "age": 30, "tags": ["1", "2", "3", "4"]}',
            '{"name": "Ann", "age": 30, "address": {"city": ""}}',
            '{"name": "Ann", "age": 30, "address": {"city": "Oslo", "zip": "1234"}}',
            '{"name": "Ann", "age": 30, "kind": "c"}',
            '{"name": "Ann", "age": 30, "color": "RED"}',
            '{"name": "Ann", "age": 30, "nickname": "A"}',
            '{"age": 30, "name": "Ann"}',
        ],
    )


def test_pydantic_round_trip() -> None:
    people = [
        Person(name="Zoé", age=3),
        Person(name="Å", age=150, tags=["x"], address=Address(city="Zürich", zip="80000"),
               kind="b", color=Color.GREEN, score=-0.25),
    ]
    grammar = assert_round_trip(Person, [p.model_dump(mode="json") for p in people])
    for person in people:
        text = grammar.serialize(person.model_dump(mode="json"))
        assert Person.model_validate_json(text) == person


def test_pydantic_model_dump_json_is_accepted_by_a_compact_grammar() -> None:
    person = Person(name="Ann", age=30, address=Address(city="Oslo"))
    grammar = compile(Person, whitespace="compact")
    assert grammar.accepts(person.model_dump_json())


def test_pydantic_enum_and_literal_types() -> None:
    assert_language(Color, accepts=['"red"', '"green"'], rejects=['"RED"', '"blue"'])


def test_pydantic_type_adapter() -> None:
    assert_language(
        TypeAdapter(list[Address]),
        accepts=["[]", '[{"city": "Oslo"}]'],
        rejects=['[{"town": "Oslo"}]', "{}"],
    )


def test_pydantic_recursive_model() -> None:
    class Node(BaseModel):
        value: int
        next: Node | None = None

    assert_language(
        Node,
        accepts=['{"value": 1}', '{"value": 1, "next": {"value": 2, "next": null}}'],
        rejects=['{"value": 1, "next": 5}'],
    )


def test_python_function_parameters() -> None:
    def get_weather(city: str, unit: Literal["c", "f"] = "c", days: int = 1) -> str:
        """Get the weather forecast.

        Args:
            city: The city name.
            unit: Temperature unit.
            days: How many days ahead.
        """
        return f"{city}{unit}{days}"

    grammar = assert_language(
        get_weather,
        accepts=['{"city": "Paris"}', '{"city": "Paris", "unit": "f", "days": 3}',
                 '{"city": "Paris", "days": 3}'],
        rejects=['{"unit": "f"}', '{"city": "Paris", "unit": "k"}', '{"city": 1}',
                 '{"city": "Paris", "days": "3"}'],
    )
    assert grammar.schema["required"] == ["city"]


def test_python_function_with_model_parameter() -> None:
    def ship(address: Address, express: bool = False) -> None:
        """Ship a parcel.

        Args:
            address: Where to.
            express: Whether to hurry.
        """

    assert_round_trip(ship, [{"address": {"city": "Oslo"}}, {"address": {"city": "X"},
                                                              "express": True}])
    assert_language(ship, rejects=['{"address": {}}', json.dumps({"express": True})])
