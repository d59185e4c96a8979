"""One tool dict shape for every way of naming a tool: function, Pydantic model or OpenAI dict."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from pydantic import BaseModel

from structgen.schema.from_callable import ToolFlavor, callable_to_tool, tidy_schema

__all__ = ["ToolLike", "as_tool", "as_tools", "tool_name"]

ToolLike: TypeAlias = "Callable[..., Any] | type[BaseModel] | Mapping[str, Any]"
"""A Python function, a Pydantic model class (its fields are the arguments), or a tool dict:
``{"type": "function", "function": {...}}`` or a bare ``{"name", "description", "parameters"}``.
"""


def as_tool(tool: ToolLike, *, flavor: ToolFlavor = "langchain") -> dict[str, Any]:
    """Normalise one tool to ``{"type": "function", "function": {"name", "description", ...}}``.

    Parameters
    ----------
    tool
        A function (see :func:`structgen.schema.from_callable.callable_to_tool`), a Pydantic model
        class (name = class name, description = its docstring, parameters = its JSON schema
        without titles, non-recursive ``$ref`` inlined), or a tool dict, which is copied as given
        (a bare function dict is wrapped in ``{"type": "function", "function": ...}``).
    flavor
        How a function's description is written; see ``callable_to_tool``.

    Returns
    -------
    dict
        A new dict; key order is kept, since the prompts print it as is.

    Raises
    ------
    SchemaError
        A function or model that cannot be described.
    TypeError
        Anything else.
    """
    if isinstance(tool, Mapping):
        spec = copy.deepcopy(dict(tool))
        if "function" in spec:
            return spec
        if "name" in spec:
            return {"type": "function", "function": spec}
        raise TypeError(
            "a tool dict needs 'name' or 'function' (OpenAI form "
            "{'type': 'function', 'function': {'name': ..., 'parameters': ...}})"
        )
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return _model_tool(tool)
    if callable(tool):
        return callable_to_tool(tool, flavor=flavor)
    raise TypeError(
        f"expected a function, a Pydantic model class or a tool dict, got {type(tool).__name__}"
    )


def as_tools(
    tools: Sequence[ToolLike] | None, *, flavor: ToolFlavor = "langchain"
) -> list[dict[str, Any]]:
    """:func:`as_tool` for each tool, checking that names are unique."""
    specs = [as_tool(tool, flavor=flavor) for tool in tools or ()]
    seen: set[str] = set()
    for spec in specs:
        name = tool_name(spec)
        if name in seen:
            raise ValueError(f"two tools are named {name!r}; tool names must be unique")
        seen.add(name)
    return specs


def tool_name(spec: Mapping[str, Any]) -> str:
    """The function name of a normalised tool dict."""
    function = spec.get("function", spec)
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(name, str):
        raise TypeError(f"tool dict without a string name: {spec!r}")
    return name


def _model_tool(model: type[BaseModel]) -> dict[str, Any]:
    schema = tidy_schema(model.model_json_schema())
    description = schema.pop("description", None)
    if description is None:
        description = inspect.cleandoc(model.__doc__) if model.__doc__ else ""
    parameters = {key: schema[key] for key in ("type", "properties", "required") if key in schema}
    parameters.update((key, value) for key, value in schema.items() if key not in parameters)
    return {
        "type": "function",
        "function": {"name": model.__name__, "description": description, "parameters": parameters},
    }
