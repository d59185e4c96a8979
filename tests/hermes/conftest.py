"""Golden files and a reference Jinja renderer for the Hermes tests."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "hermes"

Renderer = Callable[..., str]


def _read_text(name: str) -> str:
    return (DATA / name).read_bytes().decode("utf-8")


def _read_json(name: str) -> Any:
    return json.loads(_read_text(name))


@pytest.fixture(scope="session")
def golden_text() -> Callable[[str], str]:
    """Read a golden file as text, byte for byte (no newline translation)."""
    return _read_text


@pytest.fixture(scope="session")
def golden_json() -> Callable[[str], Any]:
    """Read a golden JSON file."""
    return _read_json


@pytest.fixture(scope="session")
def jinja_render() -> Renderer:
    """Render a fixture chat template the way transformers' ``apply_chat_template`` does.

    Used as the reference the Python renderer must match on generated conversations.
    """
    jinja2 = importlib.import_module("jinja2")
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def tojson(
        x: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: tuple[str, str] | None = None,
        sort_keys: bool = False,
    ) -> str:
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    templates = {
        name: env.from_string(_read_text(f"chat_template_{name}.jinja"))
        for name in ("default", "tool_use")
    }

    def render(
        template: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        add_generation_prompt: bool = False,
    ) -> str:
        kwargs: dict[str, Any] = {
            "messages": messages,
            "bos_token": "<|begin_of_text|>",
            "eos_token": "<|im_end|>",
            "add_generation_prompt": add_generation_prompt,
        }
        if tools is not None:
            kwargs["tools"] = tools
        return str(templates[template].render(**kwargs))

    return render
