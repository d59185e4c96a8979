"""A multi-turn Hermes tool loop with the embedded model: question, constrained tool call, tool
run, tool response, final answer.

SmolLM2-135M was not trained on the Hermes format and often writes broken calls on its own;
under the tool-call grammar its first turn is a call that parses and validates, and the loop
runs it and hands the result back for the answer.

    python examples/hermes_tool_loop.py
"""

from __future__ import annotations

import json
from typing import Literal

import structgen
from structgen import hermes

FORECASTS = {"oslo": (4, "light snow"), "paris": (14, "cloudy"), "lisbon": (21, "sunny")}


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, object]:
    """Current weather for a city.

    Args:
        city: City name, e.g. Oslo.
        unit: Temperature unit.
    """
    celsius, sky = FORECASTS.get(city.strip().lower(), (18, "clear"))
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "sky": sky}


def get_time(timezone: str) -> str:
    """Current local time in an IANA time zone.

    Args:
        timezone: For example Europe/Oslo.
    """
    return "14:05"


def main() -> None:
    model = structgen.models.default()
    messages = [{"role": "user", "content": "What is the weather like in Oslo right now?"}]
    result = hermes.run_tools(
        model, messages, [get_weather, get_time],
        tool_choice="required",  # first turn: a call; later turns: "auto" (answer or call)
        parallel=False, max_rounds=3, max_tokens=96, temperature=0.0, timeout_s=5.0,
    )
    for message in result.messages:
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                function = call["function"]
                print(f"[assistant -> tool call] {function['name']}({function['arguments']})")
        elif role == "tool":
            print(f"[tool {message['name']}] {json.loads(message['content'])['content']}")
        else:
            print(f"[{role}] {message['content']}")
    print(f"-> stopped: {result.stopped_reason} after {result.rounds} round(s); "
          f"{sum(c.ok for c in result.calls)} of {len(result.calls)} call(s) ran")


if __name__ == "__main__":
    main()
