"""The Hermes 2 Pro system prompts: JSON mode and function calling, byte for byte."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

from structgen.errors import UnsupportedSchemaError
from structgen.hermes.tools import ToolLike, as_tools

__all__ = [
    "FUNCTION_CALL_SCHEMA",
    "ToolPromptStyle",
    "json_mode_prompt",
    "tools_system_prompt",
]

ToolPromptStyle = Literal["card", "repo", "tool_use"]
"""Which function-calling system prompt to write.

``"card"``: the model card's prompt (tools as JSON, one per line; example call arguments-first).
``"repo"``: what Hermes-Function-Calling's ``prompter.py`` sends (longer; tools and schema as
Python reprs; one call at a time; example call name-first). ``"tool_use"``: the text of the
Hugging Face ``tool_use`` chat template's preamble (tools with Python-typed signatures; the
template's stray ``}`` included), without the BOS and the ``<|im_end|>`` that follow it.
"""

FUNCTION_CALL_SCHEMA: dict[str, Any] = {
    "properties": {
        "arguments": {"title": "Arguments", "type": "object"},
        "name": {"title": "Name", "type": "string"},
    },
    "required": ["arguments", "name"],
    "title": "FunctionCall",
    "type": "object",
}
"""``FunctionCall.model_json_schema()`` of Hermes-Function-Calling's ``schema.py`` under pydantic
2.6.2, the bytes the model was prompted with. Newer pydantic adds ``additionalProperties``, so it
is written out here rather than derived."""

_JSON_MODE = (
    "You are a helpful assistant that answers in JSON. "
    "Here's the json schema you must adhere to:\n<schema>\n{schema}\n</schema>"
)

_TOOLS_INTRO = (
    "You are a function calling AI model. You are provided with function signatures within "
    "<tools></tools> XML tags. You may call one or more functions to assist with the user query. "
    "Don't make assumptions about what values to plug into functions. "
    "Here are the available tools: <tools> "
)
_CARD_SUFFIX = (
    " </tools> Use the following pydantic model json schema for each tool call you will make: "
    + json.dumps(FUNCTION_CALL_SCHEMA)
    + " For each function call return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags as follows:\n"
    '<tool_call>\n{"arguments": <args-dict>, "name": <function-name>}\n</tool_call>'
)
_TOOL_USE_SUFFIX = (
    " </tools>Use the following pydantic model json schema for each tool call you will make: "
    '{"properties": {"name": {"title": "Name", "type": "string"}, "arguments": '
    '{"title": "Arguments", "type": "object"}}, "required": ["name", "arguments"], '
    '"title": "FunctionCall", "type": "object"}}\n'
    "For each function call return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags as follows:\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-dict>}\n</tool_call>'
)

# prompt_assets/sys_prompt.yml of Hermes-Function-Calling, field by field, in prompter.py's
# order (the Examples field is only used with few-shot examples, which structgen does not send).
_REPO_FIELDS: tuple[tuple[str, str], ...] = (
    ("Role", (
        "You are a function calling AI agent with self-recursion.\n"
        "You can call only one function at a time and analyse data you get from function "
        "response.\n"
        "You are provided with function signatures within <tools></tools> XML tags.\n"
        "The current date is: {date}.\n"
    )),
    ("Objective", (
        "You may use agentic frameworks for reasoning and planning to help with user query.\n"
        "Please call a function and wait for function results to be provided to you in the next "
        "iteration.\n"
        "Don't make assumptions about what values to plug into function arguments.\n"
        "Once you have called a function, results will be fed back to you within "
        "<tool_response></tool_response> XML tags.\n"
        "Don't make assumptions about tool results if <tool_response> XML tags are not present "
        "since function hasn't been executed yet.\n"
        "Analyze the data once you get the results and call another function.\n"
        "At each iteration please continue adding the your analysis to previous summary.\n"
        "Your final response should directly answer the user query with an anlysis or summary "
        "of the results of function calls.\n"
    )),
    ("Tools", (
        "Here are the available tools:\n"
        "<tools> {tools} </tools>\n"
        "If the provided function signatures doesn't have the function you must call, you may "
        "write executable python code in markdown syntax and call code_interpreter() function as "
        "follows:\n"
        "<tool_call>\n"
        '{{"name": "code_interpreter", "arguments": {{"code_markdown": <python-code>}}}}\n'
        "</tool_call>\n"
        "Make sure that the json object above with code markdown block is parseable with "
        "json.loads() and the XML block with XML ElementTree.\n"
    )),
    ("Schema", (
        "Use the following pydantic model json schema for each tool call you will make:\n"
        "{schema}\n"
    )),
    ("Instructions", (
        "At the very first turn you don't have <tool_results> so you should not make up the "
        "results.\n"
        "Please keep a running summary with analysis of previous function results and summaries "
        "from previous iterations.\n"
        "Do not stop calling functions until the task has been accomplished or you've reached "
        "max iteration of 10.\n"
        "Calling multiple functions at once can overload the system and increase cost so call "
        "one function at a time please.\n"
        "If you plan to continue with analysis, always call another function.\n"
        "For each function call return a valid json object (using double quotes) with function "
        "name and arguments within <tool_call></tool_call> XML tags as follows:\n"
        "<tool_call>\n"
        '{{"name": <function-name>, "arguments": <args-dict>}}\n'
        "</tool_call>\n"
    )),
)

_BASIC_TYPES = {"string": "str", "number": "float", "integer": "int", "boolean": "bool"}


def json_mode_prompt(schema: type[BaseModel] | Mapping[str, Any] | str) -> str:
    """The JSON-mode system prompt, as ``jsonmode.py`` of Hermes-Function-Calling builds it.

    Parameters
    ----------
    schema
        A Pydantic model class (its ``model_json_schema()``), a JSON schema dict, or schema text
        used as given. Dicts are written with ``json.dumps`` defaults: one line, separators
        ``", "`` and ``": "``, key order kept, as ``Model.schema_json()`` did.

    Returns
    -------
    str
        ``"You are a helpful assistant that answers in JSON. Here's the json schema you must
        adhere to:\\n<schema>\\n{schema}\\n</schema>"``, with real newlines (the model card's
        two-character ``\\n`` is a rendering artifact) and no trailing newline.
    """
    if isinstance(schema, str):
        text = schema
    elif isinstance(schema, type) and issubclass(schema, BaseModel):
        text = json.dumps(schema.model_json_schema())
    elif isinstance(schema, Mapping):
        text = json.dumps(dict(schema))
    else:
        raise TypeError(
            f"expected a Pydantic model class, a schema dict or schema text, got {type(schema)!r}"
        )
    return _JSON_MODE.replace("{schema}", text)


def tools_system_prompt(
    tools: Sequence[ToolLike] | None,
    *,
    style: ToolPromptStyle = "card",
    date: _dt.date | str | None = None,
) -> str:
    """The function-calling system prompt for some tools.

    Parameters
    ----------
    tools
        Functions, Pydantic model classes or OpenAI tool dicts (see
        :func:`structgen.hermes.tools.as_tool`). Functions are described the langchain way for
        ``"card"``/``"repo"`` and the ``transformers.utils.get_json_schema`` way for
        ``"tool_use"``; dicts are used as given.
    style
        ``"card"`` (default), ``"repo"`` or ``"tool_use"``; see :data:`ToolPromptStyle`.
    date
        ``"repo"`` only: the date it states; today when ``None``.

    Returns
    -------
    str
        The system message content. ``"card"`` and ``"tool_use"`` end in ``</tool_call>`` with no
        newline (``<|im_end|>`` follows directly); ``"repo"`` ends in ``"</tool_call>\\n"``.

    Raises
    ------
    UnsupportedSchemaError
        ``"tool_use"`` only: a parameter whose JSON type the template cannot print (a
        ``"null"`` type, as in ``["string", "null"]``, sends the template into endless recursion).
    """
    if style == "card":
        specs = as_tools(tools, flavor="langchain")
        return _TOOLS_INTRO + "\n".join(json.dumps(spec) for spec in specs) + _CARD_SUFFIX
    if style == "repo":
        specs = as_tools(tools, flavor="langchain")
        values = {
            "date": _dt.date.today() if date is None else date,
            "tools": specs,
            "schema": FUNCTION_CALL_SCHEMA,
        }
        out = ""
        for field, text in _REPO_FIELDS:
            value = text.format(**values)
            out += value if field == "Instructions" else value.replace("\n", " ")
        return out
    if style == "tool_use":
        specs = as_tools(tools, flavor="transformers")
        return _TOOLS_INTRO + "\n".join(_template_tool(spec) for spec in specs) + _TOOL_USE_SUFFIX
    raise ValueError(f"style must be 'card', 'repo' or 'tool_use', got {style!r}")


def _template_tool(spec: Mapping[str, Any]) -> str:
    """One tool as the ``tool_use`` template prints it: not JSON (the description is unescaped
    and the outer object is never closed), reproduced as is."""
    function = spec.get("function", spec)
    if not isinstance(function, Mapping):
        raise TypeError(f"tool 'function' must be a dict, got {function!r}")
    name = function.get("name")
    description = function.get("description")
    parameters = function.get("parameters")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ValueError(
            f"the tool_use template needs a string 'name' and 'description' in every tool: {spec!r}"
        )
    if not isinstance(parameters, Mapping):
        raise ValueError(f"the tool_use template needs 'parameters' in every tool: {spec!r}")
    properties = parameters.get("properties")
    props: list[tuple[str, Any]] = (
        list(properties.items()) if isinstance(properties, Mapping) else []
    )
    where = f"/tools/{name}"
    signature = ", ".join(
        f"{key}: {_python_type(value, f'{where}/properties/{key}')}" for key, value in props
    )
    out = '{"type": "function", "function": {"name": "' + name + '", '
    out += '"description": "' + name + "(" + signature + ")"
    returns = function.get("return")
    if "return" in function:
        out += " -> " + _python_type(returns, f"{where}/return")
    out += " - " + description + "\n\n"
    for index, (key, value) in enumerate(props):
        if index == 0:
            out += "    Args:\n"
        text = value.get("description", "") if isinstance(value, Mapping) else ""
        out += f"        {key}({_python_type(value, f'{where}/properties/{key}')}): "
        out += str(text).strip()
    if isinstance(returns, Mapping) and "description" in returns:
        out += "\n    Returns:\n        " + str(returns["description"])
    out += '", "parameters": '
    out += "{}" if not props else json.dumps(parameters, ensure_ascii=False)
    return out + "}"


_NO_TYPE = object()


def _python_type(spec: Any, pointer: str) -> str:
    """The template's ``json_to_python_type`` macro, Jinja's undefined-value rules included."""
    kind = spec.get("type", _NO_TYPE) if isinstance(spec, Mapping) else _NO_TYPE
    if isinstance(kind, str) and kind in _BASIC_TYPES:
        return _BASIC_TYPES[kind]
    if kind == "array":
        return "list[Union[]]"  # the template passes `spec|items` (key/value pairs), not items
    if kind == "object":
        if "additionalProperties" in spec:
            return "dict[str, " + _python_type(spec["additionalProperties"], pointer) + "]"
        return "dict"
    if kind is _NO_TYPE:
        return "Union[]"  # an undefined type is iterable and empty in Jinja
    if isinstance(kind, (list, tuple)):
        return "Union[" + ",".join(_python_type({"type": t}, pointer) for t in kind) + "]"
    if isinstance(kind, str):
        raise UnsupportedSchemaError(
            f"the tool_use chat template cannot print JSON type {kind!r} (its "
            "json_to_python_type macro recurses forever on it)",
            pointer=pointer,
            keyword="type",
            hint="write a nullable parameter as anyOf, or use the 'card' prompt style",
        )
    if isinstance(kind, Mapping):
        return "Union[" + ",".join(_python_type({"type": t}, pointer) for t in kind) + "]"
    return "Any"
