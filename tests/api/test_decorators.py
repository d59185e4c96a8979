"""`@structured` and `@prompt`: typed values, options, and errors at decoration time."""

from __future__ import annotations

import enum
import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

import structgen


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


class Item(BaseModel):
    name: str = Field(max_length=12)
    count: int = Field(ge=0, le=99)


def test_structured_generate_returns_an_instance(fake_model) -> None:
    @structgen.structured(model=fake_model, max_tokens=60, seed=3)
    class City(BaseModel):
        name: str = Field(max_length=10)
        population: int = Field(ge=0)

    city = City.generate("A city, please.")
    assert isinstance(city, City)
    assert isinstance(City.grammar(), structgen.Grammar)
    assert City.grammar().accepts('{"name": "Oslo", "population": 709000}')


def test_structured_generate_many_and_per_call_options(fake_model) -> None:
    @structgen.structured
    class Pair(BaseModel):
        a: bool
        b: Literal["x", "y"]

    many = Pair.generate_many(["one", "two", "three"], model=fake_model, seed=1)
    assert len(many) == 3 and all(isinstance(p, Pair) for p in many)
    samples = Pair.generate_many("one prompt", model=fake_model, n=2)
    assert len(samples) == 2 and all(isinstance(p, Pair) for p in samples)
    assert len(fake_model.batches) == 4  # one call per prompt; n samples share a call


def test_structured_sends_the_hermes_json_mode_system_prompt(fake_model) -> None:
    seen: list[str] = []
    encode = fake_model.encode
    fake_model.encode = lambda text: seen.append(text) or encode(text)

    @structgen.structured(model=fake_model)
    class Flag(BaseModel):
        on: bool

    Flag.generate("Is it on?")
    assert "Here's the json schema you must adhere to" in seen[0]
    assert '"on"' in seen[0]
    Flag.generate("Is it on?", system="Answer in JSON.")
    assert seen[1].startswith("<system>Answer in JSON.\n")


def test_a_type_that_cannot_compile_fails_at_decoration_time() -> None:
    with pytest.raises(structgen.UnsupportedSchemaError) as caught:

        @structgen.structured
        class Scores(BaseModel):
            scores: set[float]

    assert caught.value.pointer == "/properties/scores/uniqueItems"
    assert caught.value.keyword == "uniqueItems"
    assert "strict=False" in str(caught.value)

    with pytest.raises(structgen.UnsupportedSchemaError) as caught:

        @structgen.prompt
        def distinct(text: str) -> set[int]:
            """The distinct numbers in {text}"""

    assert caught.value.keyword == "uniqueItems"


def test_structured_refuses_misuse() -> None:
    with pytest.raises(TypeError, match="Pydantic model class"):
        structgen.structured(int)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="shadow"):

        @structgen.structured
        class Odd(BaseModel):
            generate: int

    with pytest.raises(TypeError, match="unknown option"):
        structgen.structured(temprature=0.2)


@pytest.mark.parametrize(
    ("output_type", "check"),
    [
        (Mood, lambda v: isinstance(v, Mood)),
        (Literal["yes", "no"], lambda v: v in ("yes", "no")),
        (int, lambda v: isinstance(v, int) and not isinstance(v, bool)),
        (bool, lambda v: isinstance(v, bool)),
        (list[Item], lambda v: isinstance(v, list) and all(isinstance(i, Item) for i in v)),
        (Item, lambda v: isinstance(v, Item)),
    ],
)
def test_prompt_returns_the_declared_type(fake_model, output_type, check) -> None:
    def ask(text: str, style: str = "short"):  # type: ignore[no-untyped-def]
        """Answer about {text} in a {style} way."""

    ask.__annotations__["return"] = output_type

    typed = structgen.prompt(model=fake_model, max_tokens=80, seed=5)(ask)
    value = typed("the weather")
    assert check(value), value
    assert typed.render("rain") == "Answer about rain in a short way."


def test_prompt_generation_keeps_counts_and_using_overrides(fake_model) -> None:
    @structgen.prompt(model=fake_model)
    def yes_no(question: str) -> bool:
        """{question} Answer true or false."""

    generation = yes_no.generation("Is water wet?")
    assert generation.valid and isinstance(generation.value, bool)
    assert generation.completion_tokens >= 4
    cheap = yes_no.using(max_tokens=8)
    assert cheap.options["max_tokens"] == 8 and cheap.model is fake_model
    assert "bool" in repr(yes_no)


def test_prompt_refuses_what_it_cannot_use() -> None:
    with pytest.raises(TypeError, match="needs a docstring"):

        @structgen.prompt
        def no_doc(text: str) -> int: ...

    with pytest.raises(TypeError, match="return annotation"):

        @structgen.prompt
        def no_return(text: str):  # type: ignore[no-untyped-def]
            """About {text}"""

    with pytest.raises(TypeError, match=r"\{topic\}, which is not a parameter"):

        @structgen.prompt
        def wrong_field(text: str) -> int:
            """About {topic}"""


def test_embedded_model_returns_instances_of_the_declared_types(smollm) -> None:
    @structgen.structured(model=smollm, temperature=0.2, max_tokens=40, seed=0)
    class Country(BaseModel):
        name: str = Field(max_length=16)

    assert isinstance(Country.generate("Name a country in Europe."), Country)

    @structgen.prompt(temperature=0, max_tokens=12)
    def sentiment(review: str) -> Literal["positive", "negative", "neutral"]:
        """Classify the sentiment of this review: {review}"""

    # No model given: structgen.models.default(), the same embedded model.
    assert sentiment("I loved every minute of it!") in ("positive", "negative", "neutral")


def test_embedded_model_writes_sets_of_strings_without_repeats(smollm) -> None:
    """A prompt that invites repeats, sampled hot: the text itself never repeats an item
    (Pydantic would fold repeats into the set, so the text is what is checked)."""

    class Post(BaseModel):
        tags: set[str] = Field(max_length=8)

    outputs = structgen.generate(smollm, "Tag this post with cats, cats, cats, cats.", Post,
                                 n=4, temperature=1.5, max_tokens=60, seed=3)
    for output in outputs:
        tags = json.loads(output.text)["tags"]
        assert len(tags) == len(set(tags)), output.text
        assert isinstance(output.value, Post)
