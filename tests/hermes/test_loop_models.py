"""The tool grammar and loop on real decoders: a random-init Llama-3 with the Hermes tokenizer
(sampling at the card's settings, so the logits are noise and only the grammar keeps calls
valid). The embedded SmolLM2 runs the loop in ``examples/hermes_tool_loop.py`` (tested in
``tests/api/test_examples.py``)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

import jsonschema
import pytest
import torch
from pydantic import BaseModel, Field

import structgen
from structgen.hermes import (
    as_tools,
    hermes_tokenizer,
    parse_tool_calls,
    render,
    run_tools,
    special_token_ids,
    tool_call_grammar,
)
from structgen.hermes.tokenizer import TOOL_TAGS
from structgen.integrations.sampling import Sampling
from structgen.testing import random_llama


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def get_weather(city: str, days: int = 1, unit: Literal["celsius", "fahrenheit"] = "celsius"
                ) -> str:
    """Forecast for a city.

    Args:
        city: City name.
        days: Days ahead.
        unit: Temperature unit.
    """
    return f"{city}: sunny for {days} day(s), 21 {unit}"


class SearchFlights(BaseModel):
    """Find flights between two airports."""

    origin: str = Field(pattern="^[A-Z]{3}$")
    destination: str = Field(pattern="^[A-Z]{3}$")
    date: dt.date
    passengers: int = Field(ge=1, le=9)


CREATE_EVENT = {"type": "function", "function": {
    "name": "create_event",
    "description": "Put an event in the calendar.",
    "parameters": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 40},
            "attendees": {"type": "array", "items": {"type": "string", "format": "email"},
                          "maxItems": 3},
            "priority": {"enum": ["low", "normal", "high"]},
            "reminder": {"type": "object", "properties": {
                "minutes": {"type": "number", "minimum": 0, "maximum": 120},
                "sms": {"type": "boolean"}}, "required": ["minutes"]},
        },
        "required": ["title", "priority"],
    },
}}

TOOL_SETS: dict[str, list[Any]] = {
    "functions": [add, get_weather],
    "pydantic": [SearchFlights, get_weather],
    "openai_dict": [CREATE_EVENT, add],
}
USER = [{"role": "user", "content": "Plan my trip to Oslo next week."}]


@pytest.fixture(scope="module")
def llama() -> Iterator[Any]:
    """Random-init Llama-3 (2 layers, width 64) with the Hermes tokenizer. One torch thread:
    on shared cores more threads only wait on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = random_llama(max_position_embeddings=2048, eos_token_id=128003)
    yield structgen.models.transformers(model, hermes_tokenizer())
    torch.set_num_threads(threads)


def schemas_of(tools: list[Any]) -> dict[str, dict[str, Any]]:
    return {spec["function"]["name"]: spec["function"]["parameters"] for spec in as_tools(tools)}


@pytest.mark.parametrize("tool_set", sorted(TOOL_SETS))
def test_every_sampled_call_parses_names_a_tool_and_validates(llama: Any, tool_set: str) -> None:
    tools = TOOL_SETS[tool_set]
    schemas = schemas_of(tools)
    prompt = llama.encode(render(USER, tools=tools))
    calls = 0
    for choice, seeds, order in (("required", (0, 1), "name"), ("auto", (2,), "arguments")):
        index = tool_call_grammar(tools, tool_choice=choice, key_order=order).index(llama.vocab)
        for seed in seeds:
            completions = llama.generate_tokens(
                [prompt] * 3, [index.guide(max_tokens=64) for _ in range(3)], max_tokens=64,
                sampling=Sampling(seed=seed),
            )
            for completion in completions:
                assert completion.finish_reason == "stop"
                parsed = parse_tool_calls(completion.text)
                assert not parsed.errors and not parsed.warnings, completion.text
                if choice == "required":
                    assert parsed.calls and parsed.content is None, completion.text
                for call in parsed.calls:
                    jsonschema.validate(call.arguments, schemas[call.name],
                                        format_checker=jsonschema.FormatChecker())
                calls += len(parsed.calls)
    assert calls >= 6


def test_the_loop_only_makes_valid_calls(llama: Any) -> None:
    seen: list[str] = []

    def book(**arguments: Any) -> str:
        seen.append("book")
        return "booked"

    for tool_set, tools in sorted(TOOL_SETS.items()):
        functions = {"SearchFlights": book, "create_event": book}
        functions = {k: v for k, v in functions.items() if k in schemas_of(tools)}
        for seed in (0, 1):
            result = run_tools(llama, USER, tools, functions=functions, tool_choice="required",
                               max_rounds=2, max_tokens=64, seed=seed)
            assert result.parse_errors == []
            assert result.calls, tool_set
            for execution in result.calls:
                assert execution.status == "ok", execution.content
            assert result.rounds == 2
            assert result.messages[:1] == USER
            assert result.messages[2]["role"] == "tool"
    assert seen  # the Pydantic tool ran through its registered implementation


def test_tool_errors_and_timeouts_with_a_real_model(llama: Any) -> None:
    def explode(reason: str) -> str:
        """Always raises.

        Args:
            reason: Why.
        """
        raise ValueError("no such city")

    def stall(seconds: int) -> str:
        """Never returns in time.

        Args:
            seconds: Ignored.
        """
        import time

        time.sleep(3)
        return "late"

    tools = [explode, stall, add]
    raised = run_tools(llama, USER, tools, tool_choice="explode", max_rounds=1, max_tokens=48,
                       seed=3)
    assert [e.status for e in raised.calls] == ["error"] * len(raised.calls) != []
    assert "ValueError: no such city" in raised.messages[2]["content"]
    stalled = run_tools(llama, USER, tools, tool_choice="stall", parallel=False, max_rounds=1,
                        max_tokens=48, seed=3, timeout_s=0.3)
    assert [e.status for e in stalled.calls] == ["timeout"]
    assert stalled.stopped_reason == "max_rounds" and stalled.rounds == 1


def test_a_tool_without_implementation_is_never_called(llama: Any) -> None:
    called: list[int] = []

    def add_spy(a: int, b: int) -> int:
        """Add two integers.

        Args:
            a: First.
            b: Second.
        """
        called.append(a)
        return a + b

    spec = {"name": "wipe_disk", "parameters": {"type": "object", "properties": {
        "confirm": {"type": "boolean"}}, "required": ["confirm"]}}
    result = run_tools(llama, USER, [spec, add_spy], tool_choice="wipe_disk", max_rounds=1,
                       max_tokens=32, seed=0)
    assert [e.status for e in result.calls] == ["unknown_tool"] * len(result.calls) != []
    assert called == []


def test_max_rounds_is_respected(llama: Any) -> None:
    result = run_tools(llama, USER, [add], tool_choice="required", then="required",
                       max_rounds=3, max_tokens=40, seed=1)
    assert result.stopped_reason == "max_rounds"
    assert result.rounds == 3 and len(result.completions) == 3
    assert {e.round for e in result.calls} == {1, 2, 3}
    assert result.content is None


def test_none_never_produces_a_tag_token(llama: Any) -> None:
    tag_ids = set(special_token_ids(llama.tokenizer, TOOL_TAGS).values())
    assert len(tag_ids) == 6
    # A model that loves the tags: scale their output rows, so their logits dwarf the rest.
    hf = copy.deepcopy(llama.model)
    with torch.no_grad():
        hf.lm_head.weight[sorted(tag_ids)] *= 60
    keen = structgen.models.transformers(hf, llama.tokenizer, vocab=llama.vocab)
    prompt = keen.encode(render(USER, tools=[add, get_weather]))
    free = keen.generate_tokens([prompt] * 4, None, max_tokens=12, sampling=Sampling(seed=0))
    assert sum(len(tag_ids.intersection(c.token_ids)) for c in free) >= 4  # unconstrained: tags
    index = tool_call_grammar([add, get_weather], tool_choice="none").index(keen.vocab)
    for seed in (0, 1):
        guides = [index.guide(max_tokens=12) for _ in range(4)]
        guided = keen.generate_tokens([prompt] * 4, guides, max_tokens=12,
                                      sampling=Sampling(seed=seed))
        for completion in guided:
            assert not tag_ids.intersection(completion.token_ids), completion.text
            assert "<tool" not in completion.text and "</tool" not in completion.text
    result = run_tools(keen, USER, [add, get_weather], tool_choice="none", max_tokens=12,
                       seed=2)
    assert result.stopped_reason == "answered" and result.calls == [] and result.rounds == 1
    assert not tag_ids.intersection(result.completions[0].token_ids)
