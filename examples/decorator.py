"""Typed generation with decorators, on the embedded offline model.

``@structgen.structured`` gives a Pydantic class ``generate``; ``@structgen.prompt`` turns
a function into a prompt whose docstring is the template and whose return annotation is
the output type. Both compile when decorated and return validated values of their type.

    python examples/decorator.py
"""

from __future__ import annotations

import enum
from typing import Literal

from pydantic import BaseModel, Field

import structgen


@structgen.structured(temperature=0.2, max_tokens=48, seed=0)
class Book(BaseModel):
    title: str = Field(max_length=30)
    year: int = Field(ge=1400, le=2030)


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


@structgen.prompt(temperature=0, max_tokens=12)
def sentiment(review: str) -> Literal["positive", "negative", "neutral"]:
    """Classify the sentiment of this review: {review}"""


@structgen.prompt(temperature=0, max_tokens=12)
def triage(ticket: str) -> Priority:
    """How urgent is this support ticket? {ticket}"""


def main() -> None:
    book = Book.generate("Name a classic novel and the year it was published.")
    print(f"Book.generate      -> {book!r}")
    print(f"sentiment          -> {sentiment('The battery died after an hour. Useless.')!r}")
    print(f"triage             -> {triage('Production is down for every customer!')!r}")
    print(f"Book.grammar()     -> {Book.grammar()!r}")


if __name__ == "__main__":
    main()
