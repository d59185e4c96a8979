"""Python functions to parameter schemas and tool dicts."""

from __future__ import annotations

import enum
import importlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import jsonschema
import pytest
from pydantic import BaseModel, Field

from structgen.errors import SchemaError
from structgen.schema.from_callable import (
    callable_parameters_schema,
    callable_to_tool,
    parse_docstring,
    tidy_schema,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "hermes"


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


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


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Place(BaseModel):
    """A place on Earth."""

    city: str
    country: str = "US"


class TreeNode(BaseModel):
    value: int
    children: list[TreeNode] = []


def forecast(
    place: Place,
    days: int = 3,
    unit: Unit = Unit.CELSIUS,
    detail: Literal["brief", "full"] = "brief",
    hours: list[int] | None = None,
    note: Optional[str] = None,  # noqa: UP045 - typing.Optional is supported too
    limits: tuple[float, float] = (0.0, 1.0),
    extras: dict[str, bool] = {},  # noqa: B006 - the default is only read
    scale: Annotated[float, Field(ge=0, description="From the hint")] = 1.0,
    verbose: bool = Field(False, description="From a Field default"),
    nothing: None = None,
) -> list[float]:
    """Forecast the weather.

    Longer explanation on a second paragraph.

    Args:
        place: Where to look.
        days (int): How many days,
            counted from today.
        unit: Temperature unit.
        scale: Overridden by the type hint's own description.

    Returns:
        list[float]: One value per day.
    """
    return []


def test_multiply_matches_get_json_schema_fixture() -> None:
    expected = _json("multiply_input.json")["tool_schema"]
    tool = callable_to_tool(multiply, flavor="transformers")
    assert json.dumps(tool) == json.dumps(expected)  # key order too: templates print it


def test_stock_tool_langchain_form_matches_card_fixture() -> None:
    expected = _json("tool_input.json")["tools"][0]
    assert json.dumps(callable_to_tool(get_stock_fundamentals)) == json.dumps(expected)


def test_stock_tool_transformers_form_matches_hf_tools_fixture() -> None:
    expected = _json("conversation.json")["hf_tools"][0]
    tool = callable_to_tool(get_stock_fundamentals, flavor="transformers")
    assert json.dumps(tool) == json.dumps(expected)


@pytest.mark.parametrize("fn", [multiply, get_stock_fundamentals])
def test_transformers_flavor_equals_get_json_schema(fn: Any) -> None:
    utils = importlib.import_module("transformers.utils")
    assert json.dumps(callable_to_tool(fn, flavor="transformers")) == json.dumps(
        utils.get_json_schema(fn)
    )


def test_parameters_schema_covers_the_supported_types() -> None:
    schema = callable_parameters_schema(forecast)
    props = schema["properties"]
    assert list(schema) == ["type", "properties", "required"]  # no recursion, so no $defs
    assert schema["type"] == "object"
    assert schema["required"] == ["place"]
    assert props["place"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string", "default": "US"}},
        "required": ["city"],
        "description": "Where to look.",
    }
    assert props["days"] == {
        "type": "integer",
        "description": "How many days, counted from today.",
        "default": 3,
    }
    assert props["unit"] == {
        "type": "string",
        "enum": ["celsius", "fahrenheit"],
        "description": "Temperature unit.",
        "default": "celsius",
    }
    assert props["detail"] == {"type": "string", "enum": ["brief", "full"], "default": "brief"}
    assert props["hours"] == {
        "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}],
        "default": None,
    }
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert props["limits"]["prefixItems"] == [{"type": "number"}, {"type": "number"}]
    assert props["limits"]["default"] == [0.0, 1.0]
    assert props["extras"] == {
        "type": "object",
        "additionalProperties": {"type": "boolean"},
        "default": {},
    }
    assert props["scale"] == {
        "type": "number",
        "minimum": 0,
        "description": "From the hint",
        "default": 1.0,
    }
    assert props["verbose"] == {
        "type": "boolean",
        "description": "From a Field default",
        "default": False,
    }
    assert props["nothing"] == {"type": "null", "default": None}
    assert "title" not in _walk_keys(schema)


def _walk_keys(node: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "properties":
                keys.append(key)
            keys.extend(_walk_keys(value))
    elif isinstance(node, list):
        for item in node:
            keys.extend(_walk_keys(item))
    return keys


def tree_tool(root: TreeNode, depth: int = 1) -> int:
    """Count nodes."""
    return depth


def titled(title: str, properties: dict[str, str]) -> str:
    """Parameters may be called like JSON Schema keywords."""
    return title


def test_no_titles_and_recursive_models_keep_defs() -> None:
    schema = callable_parameters_schema(tree_tool)
    assert "title" not in _walk_keys(schema)
    assert schema["properties"]["root"] == {"$ref": "#/$defs/TreeNode"}
    assert schema["$defs"]["TreeNode"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/TreeNode"
    }
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"root": {"value": 1, "children": [{"value": 2}]}})
    assert not validator.is_valid({"root": {"value": 1, "children": [{"value": "x"}]}})


def test_parameters_named_like_keywords_are_kept() -> None:
    schema = callable_parameters_schema(titled)
    assert list(schema["properties"]) == ["title", "properties"]
    assert schema["properties"]["properties"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }


def test_the_schema_validates_what_the_function_accepts() -> None:
    schema = callable_parameters_schema(forecast)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"place": {"city": "Paris"}, "unit": "fahrenheit", "hours": [1]})
    assert not validator.is_valid({"days": 2})  # place is required
    assert not validator.is_valid({"place": {"city": "Paris"}, "unit": "kelvin"})
    assert not validator.is_valid({"place": {"city": "Paris"}, "scale": -1})


def test_descriptions_can_be_left_out() -> None:
    schema = callable_parameters_schema(multiply, descriptions=False)
    assert schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    }


def test_langchain_description_is_signature_and_raw_docstring() -> None:
    tool = callable_to_tool(multiply)
    assert tool["function"]["description"] == (
        "multiply(a: int, b: int) - A function that multiplies two numbers\n\n"
        "    Args:\n        a: The first number to multiply\n"
        "        b: The second number to multiply"
    )
    assert "description" not in tool["function"]["parameters"]["properties"]["a"]


def undocumented(x: int) -> None:
    return None


def test_function_without_docstring() -> None:
    description = callable_to_tool(undocumented)["function"]["description"]
    assert description == "undocumented(x: int) -> None"
    tool = callable_to_tool(undocumented, flavor="transformers")["function"]
    assert tool["description"] == ""
    assert "return" not in tool  # a null return type cannot be printed by the tool_use template


def test_transformers_flavor_has_return_entry() -> None:
    function = callable_to_tool(forecast, flavor="transformers")["function"]
    assert function["description"] == (
        "Forecast the weather.\n\nLonger explanation on a second paragraph."
    )
    assert function["return"] == {
        "type": "array",
        "items": {"type": "number"},
        "description": "list[float]: One value per day.",
    }


class Weather:
    def lookup(self, city: str) -> str:
        """Look a city up.

        Args:
            city: City name.
        """
        return city


def test_methods_skip_self() -> None:
    bound = callable_to_tool(Weather().lookup, flavor="transformers")["function"]
    unbound = callable_parameters_schema(Weather.lookup)
    assert bound["name"] == "lookup"
    assert bound["parameters"]["properties"] == {
        "city": {"type": "string", "description": "City name."}
    }
    assert unbound["properties"] == bound["parameters"]["properties"]
    assert callable_to_tool(Weather.lookup)["function"]["description"].startswith(
        "lookup(city: str) -> str - Look a city up."
    )


def untyped(a: int, b):  # type: ignore[no-untyped-def]
    return a


class Opaque:
    pass


def opaque(thing: Opaque) -> None:
    return None


def star_args(*values: int) -> None:
    return None


def star_kwargs(**options: str) -> None:
    return None


def dangling(x: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
    return None


@pytest.mark.parametrize(
    ("fn", "pointer", "words"),
    [
        (untyped, "/properties/b", "no type hint"),
        (opaque, "/properties/thing", "no JSON Schema form"),
        (star_args, "/properties/values", "*values"),
        (star_kwargs, "/properties/options", "**options"),
    ],
)
def test_unusable_parameters_raise_schema_error(fn: Any, pointer: str, words: str) -> None:
    with pytest.raises(SchemaError) as info:
        callable_parameters_schema(fn)
    assert info.value.pointer == pointer
    assert words in str(info.value)
    assert fn.__name__ in str(info.value)


def test_unresolvable_hint_raises_schema_error() -> None:
    with pytest.raises(SchemaError, match="dangling"):
        callable_to_tool(dangling)


def test_unknown_flavor() -> None:
    with pytest.raises(ValueError, match="flavor"):
        callable_to_tool(multiply, flavor="openai")  # type: ignore[arg-type]


def test_parse_docstring_sections() -> None:
    summary, args, returns = parse_docstring(forecast.__doc__)
    assert summary == "Forecast the weather.\n\nLonger explanation on a second paragraph."
    assert args == {
        "place": "Where to look.",
        "days": "How many days, counted from today.",
        "unit": "Temperature unit.",
        "scale": "Overridden by the type hint's own description.",
    }
    assert returns == "list[float]: One value per day."
    assert parse_docstring(None) == ("", {}, None)
    assert parse_docstring("Just one line.") == ("Just one line.", {}, None)


def test_tidy_schema_inlines_and_orders() -> None:
    schema = {
        "$defs": {"U": {"enum": ["a"], "title": "U", "type": "string"}},
        "properties": {"u": {"$ref": "#/$defs/U", "default": "a"}, "v": {"title": "V"}},
        "title": "M",
        "type": "object",
        "additionalProperties": True,
    }
    assert tidy_schema(schema) == {
        "type": "object",
        "properties": {"u": {"type": "string", "enum": ["a"], "default": "a"}, "v": {}},
    }
    assert list(tidy_schema(schema)) == ["type", "properties"]
