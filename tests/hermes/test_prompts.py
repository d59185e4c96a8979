"""JSON-mode and function-calling system prompts, byte for byte."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any, Optional

import pytest
from pydantic import BaseModel, Field

from structgen.errors import UnsupportedSchemaError
from structgen.hermes.prompts import FUNCTION_CALL_SCHEMA, json_mode_prompt, tools_system_prompt


class Character(BaseModel):
    # jsonmode.py's model, minus its pydantic-v1 Config (ignored by pydantic 2 anyway).
    name: str
    species: str
    role: str
    personality_traits: Optional[list[str]]  # noqa: UP045 - the repo's spelling
    special_attacks: Optional[list[str]]  # noqa: UP045


def get_stock_fundamentals(symbol: str) -> dict:
    """
    Get fundamental data for a given stock symbol using yfinance API.

    Args:
        symbol (str): The stock symbol.

    Returns:
        dict: A dictionary containing fundamental data.
            Keys:
                - 'symbol': The stock symbol.
                - 'company_name': The long name of the company.
                - 'sector': The sector to which the company belongs.
                - 'industry': The industry to which the company belongs.
                - 'market_cap': The market capitalization of the company.
                - 'pe_ratio': The forward price-to-earnings ratio.
                - 'pb_ratio': The price-to-book ratio.
                - 'dividend_yield': The dividend yield.
                - 'eps': The trailing earnings per share.
                - 'beta': The beta value of the stock.
                - '52_week_high': The 52-week high price of the stock.
                - '52_week_low': The 52-week low price of the stock.
    """
    return {"symbol": symbol}


def multiply(a: int, b: int):  # type: ignore[no-untyped-def]
    """
    A function that multiplies two numbers

    Args:
        a: The first number to multiply
        b: The second number to multiply
    """
    return int(a) * int(b)


class SearchWeb(BaseModel):
    """Search the web."""

    query: str = Field(description="What to look for")
    max_results: int = 5


Text = Callable[[str], str]
Data = Callable[[str], Any]


# -- JSON mode ---------------------------------------------------------------------------------


def test_json_mode_from_model(golden_text: Text) -> None:
    assert json_mode_prompt(Character) == golden_text("jsonmode_system.txt")


def test_json_mode_from_dict_and_text(golden_text: Text, golden_json: Data) -> None:
    schema_json = golden_json("jsonmode_input.json")["schema_json"]
    assert json_mode_prompt(json.loads(schema_json)) == golden_text("jsonmode_system.txt")
    assert json_mode_prompt(schema_json) == golden_text("jsonmode_system.txt")


def test_json_mode_has_real_newlines_and_no_trailing_newline() -> None:
    prompt = json_mode_prompt({"type": "object"})
    assert prompt == (
        "You are a helpful assistant that answers in JSON. Here's the json schema you must "
        'adhere to:\n<schema>\n{"type": "object"}\n</schema>'
    )


def test_json_mode_rejects_other_inputs() -> None:
    with pytest.raises(TypeError, match="Pydantic model class"):
        json_mode_prompt(42)  # type: ignore[arg-type]


# -- card style --------------------------------------------------------------------------------


def test_card_prompt_from_tool_dict(golden_text: Text, golden_json: Data) -> None:
    tools = golden_json("tool_input.json")["tools"]
    assert tools_system_prompt(tools) == golden_text("tool_system.txt")


def test_card_prompt_from_function(golden_text: Text) -> None:
    assert tools_system_prompt([get_stock_fundamentals]) == golden_text("tool_system.txt")
    card = tools_system_prompt([get_stock_fundamentals], style="card")
    assert card == golden_text("tool_system.txt")


def test_card_prompt_parts(golden_json: Data) -> None:
    spec = golden_json("tool_input.json")
    prompt = tools_system_prompt(spec["tools"])
    assert prompt.startswith(spec["system_prefix"])
    assert prompt.endswith(spec["system_suffix"])
    assert json.dumps(FUNCTION_CALL_SCHEMA) in spec["system_suffix"]


def test_card_prompt_several_tools_one_per_line() -> None:
    prompt = tools_system_prompt([multiply, SearchWeb, get_stock_fundamentals])
    block = prompt.split("<tools> ", 1)[1].split(" </tools>", 1)[0]
    lines = block.split("\n")
    assert len(lines) == 3
    tools = [json.loads(line) for line in lines]
    assert [t["function"]["name"] for t in tools] == [
        "multiply",
        "SearchWeb",
        "get_stock_fundamentals",
    ]
    assert tools[1] == {
        "type": "function",
        "function": {
            "name": "SearchWeb",
            "description": "Search the web.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for"},
                    "max_results": {"type": "integer", "default": 5},
                },
                "required": ["query"],
            },
        },
    }


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ValueError, match="multiply"):
        tools_system_prompt([multiply, multiply])


# -- repo style --------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2024-05-01", datetime.date(2024, 5, 1)])
def test_repo_prompt(golden_text: Text, golden_json: Data, date: Any) -> None:
    tools = golden_json("repo_prompt_input.json")["variables"]["tools"]
    expected = golden_text("tool_system_repo.txt")
    assert tools_system_prompt(tools, style="repo", date=date) == expected
    assert tools_system_prompt([get_stock_fundamentals], style="repo", date=date) == expected


def test_repo_prompt_matches_its_recipe(golden_text: Text, golden_json: Data) -> None:
    recipe = golden_json("repo_prompt_input.json")
    variables = recipe["variables"]
    out = ""
    for field in recipe["field_order"]:
        if field == "Examples":
            continue
        value = recipe["sys_prompt_yml_fields"][field].format(**variables)
        out += value if field == "Instructions" else value.replace("\n", " ")
    assert out == golden_text("tool_system_repo.txt")
    assert variables["schema"] == FUNCTION_CALL_SCHEMA


def test_repo_prompt_defaults_to_today() -> None:
    prompt = tools_system_prompt([multiply], style="repo")
    assert f"The current date is: {datetime.date.today()}." in prompt
    assert prompt.endswith("</tool_call>\n")


# -- tool_use template preamble ----------------------------------------------------------------


def _template_preamble(rendered: str) -> str:
    assert rendered.startswith("<|begin_of_text|>")
    return rendered[len("<|begin_of_text|>") :].split("<|im_end|>", 1)[0]


def test_tool_use_preamble_from_dict_and_function(golden_text: Text, golden_json: Data) -> None:
    expected = _template_preamble(golden_text("template_multiply.txt"))
    tool = golden_json("multiply_input.json")["tool_schema"]
    assert tools_system_prompt([tool], style="tool_use") == expected
    assert tools_system_prompt([multiply], style="tool_use") == expected


def test_tool_use_preamble_stock(golden_text: Text, golden_json: Data) -> None:
    expected = _template_preamble(golden_text("conversation_template.txt"))
    tools = golden_json("conversation.json")["hf_tools"]
    assert tools_system_prompt(tools, style="tool_use") == expected
    assert tools_system_prompt([get_stock_fundamentals], style="tool_use") == expected


PARAMETER_TYPES = [
    ({"type": "string"}, "str"),
    ({"type": "number"}, "float"),
    ({"type": "integer"}, "int"),
    ({"type": "boolean"}, "bool"),
    ({"type": "object"}, "dict"),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, "dict[str, int]"),
    ({"type": "object", "additionalProperties": False}, "dict[str, Union[]]"),
    ({"type": "array", "items": {"type": "string"}}, "list[Union[]]"),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "Union[]"),
    ({"type": ["string", "integer"]}, "Union[str,int]"),
    ({"type": ["array", "object", "boolean"]}, "Union[list[Union[]],dict,bool]"),
    ({"enum": ["a", "b"]}, "Union[]"),
    ({"type": None}, "Any"),
]


@pytest.mark.parametrize(("schema", "python"), PARAMETER_TYPES)
def test_tool_use_parameter_types_match_the_template(
    schema: dict[str, Any], python: str, jinja_render: Callable[..., str]
) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "f",
            "description": "Does f.",
            "parameters": {
                "type": "object",
                "properties": {"x": {**schema, "description": "  the x  "}},
                "required": ["x"],
            },
            "return": schema,
        },
    }
    prompt = tools_system_prompt([tool], style="tool_use")
    assert f'"description": "f(x: {python}) -> {python} - Does f.' in prompt
    assert f"        x({python}): the x\"" in prompt
    reference = jinja_render("tool_use", [], [tool])
    assert reference == "<|begin_of_text|>" + prompt + "<|im_end|>"


def test_tool_use_without_tools_or_parameters(jinja_render: Callable[..., str]) -> None:
    empty = tools_system_prompt(None, style="tool_use")
    assert "<tools>  </tools>Use" in empty
    assert jinja_render("tool_use", []) == "<|begin_of_text|>" + empty + "<|im_end|>"
    tool = {"name": "now", "description": "The time.", "parameters": {"type": "object"}}
    prompt = tools_system_prompt([tool], style="tool_use")
    assert '"description": "now() - The time.\n\n", "parameters": {}}' in prompt
    assert jinja_render("tool_use", [], [tool]) == "<|begin_of_text|>" + prompt + "<|im_end|>"


@pytest.mark.parametrize("kind", ["null", ["string", "null"]])
def test_tool_use_null_type_is_unsupported(kind: Any) -> None:
    tool = {
        "name": "f",
        "description": "Does f.",
        "parameters": {"type": "object", "properties": {"x": {"type": kind}}},
    }
    with pytest.raises(UnsupportedSchemaError) as info:
        tools_system_prompt([tool], style="tool_use")
    assert info.value.pointer == "/tools/f/properties/x"
    assert info.value.keyword == "type"


def test_tool_use_needs_description() -> None:
    with pytest.raises(ValueError, match="description"):
        tools_system_prompt([{"name": "f", "parameters": {"type": "object"}}], style="tool_use")


def test_unknown_style() -> None:
    with pytest.raises(ValueError, match="style"):
        tools_system_prompt([multiply], style="yaml")  # type: ignore[arg-type]


def test_tool_dict_forms_and_errors() -> None:
    bare = {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}
    wrapped = {"type": "function", "function": bare}
    assert tools_system_prompt([bare]) == tools_system_prompt([wrapped])
    with pytest.raises(TypeError, match="'name' or 'function'"):
        tools_system_prompt([{"description": "nameless"}])
    with pytest.raises(TypeError, match="expected a function"):
        tools_system_prompt([42])  # type: ignore[list-item]
