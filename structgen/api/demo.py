"""The demo job: typed extraction and a Hermes tool call with the embedded model, offline."""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, Field

from structgen.api.generate import generate, index_for
from structgen.api.models import default
from structgen.hermes import parse_tool_calls, render, tool_call_grammar
from structgen.integrations.sampling import Sampling

__all__ = ["Person", "get_weather", "run_demo"]

TEXT = (
    "Ada Lovelace was born in London in 1815. She worked with Charles Babbage on the "
    "Analytical Engine and wrote the first published algorithm."
)


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str = Field(max_length=40)
    born: int = Field(ge=1000, le=2100)
    city: str = Field(max_length=30)
    known_for: list[str] = Field(max_length=3)


def get_weather(city: str, days: int = 1, unit: str = "celsius") -> str:
    """Get the weather forecast for a city.

    Args:
        city: The city name, e.g. Oslo.
        days: How many days ahead, 1 to 7.
        unit: celsius or fahrenheit.
    """
    return f"{city}: {days} day(s) of light rain, 7 degrees {unit}"


def run_demo(echo: Callable[[str], None] = print, *, seed: int = 0) -> None:
    """Load the default model, extract a typed object, make a constrained tool call."""
    started = time.perf_counter()
    model = default()
    echo(f"model: {model.name}, loaded in {time.perf_counter() - started:.1f} s (offline)")

    echo("\n1. Typed extraction into a Pydantic model")
    echo(f"   text: {TEXT}")
    result = generate(
        model,
        f"Extract the person from this text as JSON.\n\n{TEXT}",
        Person,
        max_tokens=128,
        temperature=0.2,
        seed=seed,
    )
    echo(f"   -> {result.value!r}")
    echo(
        f"   {result.completion_tokens} tokens in {result.seconds:.2f} s "
        f"(compile and index included; {result.completion.forward_passes} forward passes, "
        f"{result.completion.forced_tokens} tokens jumped forward)"
    )

    echo("\n2. A Hermes-format tool call")
    question = "What will the weather be in Oslo over the next 3 days?"
    echo(f"   user: {question}")
    tick = time.perf_counter()
    prompt = render([{"role": "user", "content": question}], tools=[get_weather])
    grammar = tool_call_grammar([get_weather], tool_choice="required", parallel=False)
    index = index_for(grammar, model)
    [completion] = model.generate_tokens(
        [model.encode(prompt)],
        [index.guide(max_tokens=96)],
        max_tokens=96,
        sampling=Sampling(temperature=0.2, seed=seed),
    )
    parsed = parse_tool_calls(completion.text)
    for call in parsed.calls:
        echo(f"   assistant calls {call.name}({call.arguments})")
        echo(f"   tool returns: {get_weather(**call.arguments)}")
    for error in parsed.errors:
        echo(f"   unparsed call: {error}")
    echo(f"   {completion.completion_tokens} tokens in {time.perf_counter() - tick:.2f} s")
    echo(f"\ndone in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    run_demo()
