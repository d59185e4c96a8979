"""Python functions as JSON Schema tool specifications (type hints plus Google-style docstring)."""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from pydantic import TypeAdapter
from pydantic.errors import PydanticUserError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, PydanticUndefined, to_jsonable_python

from structgen.errors import SchemaError

__all__ = [
    "ToolFlavor",
    "callable_parameters_schema",
    "callable_to_tool",
    "parse_docstring",
    "tidy_schema",
]

ToolFlavor = Literal["langchain", "transformers"]
"""How a tool dict describes its function.

``"langchain"``: ``"name(signature) - docstring"`` with the docstring's raw indentation and
parameters without per-argument descriptions (langchain's ``@tool``, as in the Hermes 2 Pro model
card and Hermes-Function-Calling's ``functions.py``). ``"transformers"``: the docstring summary,
per-argument descriptions in the parameters and a ``return`` entry
(``transformers.utils.get_json_schema``, what the ``tool_use`` chat template expects).
"""

# Google-style sections; the same splitting rules as transformers.utils.get_json_schema.
_SUMMARY_RE = re.compile(r"^(.*?)[\n\s]*(Args:|Returns:|Raises:|\Z)", re.DOTALL)
_ARGS_RE = re.compile(r"\n\s*Args:\n(.*?)[\n\s]*(Returns:|Raises:|\Z)", re.DOTALL)
_RETURNS_RE = re.compile(r"\n\s*Returns:\n\s*(.*?)[\n\s]*(Raises:|\Z)", re.DOTALL)
_ARG_SPLIT_RE = re.compile(
    r"""
    (?:^|\n)
    ([ \t]*)(\w+)(?:[ \t]*\([^()\n]*\))?:\s*  # indentation, name, optional "(type)"
    (.*?)\s*                                  # description, possibly several lines
    (?=\n(?!\1[ \t])[ \t]*\w+(?:[ \t]*\([^()\n]*\))?:|\Z)  # next name at the same depth, or end
    """,
    re.DOTALL | re.VERBOSE,
)

# Keywords whose value is one subschema, a list of subschemas, or a name -> subschema map.
_SUBSCHEMA = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
              "propertyNames", "unevaluatedItems", "unevaluatedProperties",
              "additionalItems", "contentSchema")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords whose value is data, never a schema.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str], str | None]:
    """Split a Google-style docstring into summary, per-argument descriptions and returns text.

    Parameters
    ----------
    doc
        The docstring; it is cleaned with ``inspect.cleandoc`` first.

    Returns
    -------
    tuple
        ``(summary, {argument: description}, returns)``: the text before the first
        ``Args:``/``Returns:``/``Raises:`` section; each ``Args:`` entry with its ``(type)`` dropped
        and its lines joined by single spaces; the ``Returns:`` text with inner indentation kept,
        or ``None`` without that section.
    """
    if not doc:
        return "", {}, None
    text = inspect.cleandoc(doc).strip()
    summary_match = _SUMMARY_RE.search(text)
    summary = summary_match.group(1).strip() if summary_match else ""
    args: dict[str, str] = {}
    args_match = _ARGS_RE.search(text)
    if args_match:
        block = "\n".join(line for line in args_match.group(1).split("\n") if line.strip())
        for _indent, name, desc in _ARG_SPLIT_RE.findall(block):
            args[name] = re.sub(r"\s*\n+\s*", " ", desc.strip())
    returns_match = _RETURNS_RE.search(text)
    returns = returns_match.group(1).strip() if returns_match else None
    return summary, args, returns


def callable_parameters_schema(
    fn: Callable[..., Any], *, descriptions: bool = True
) -> dict[str, Any]:
    """Describe a function's parameters as one JSON Schema object.

    Types come from the type hints through pydantic (``str``, ``int``, ``float``, ``bool``,
    ``None``, ``X | None``, ``list``/``dict``/``tuple``, ``Literal``, ``Enum``, Pydantic models,
    ``Annotated[..., Field(...)]`` and whatever else pydantic can describe); parameters without a
    default are ``required``; defaults are written as ``default``. Titles are dropped, and
    ``$ref`` to non-recursive definitions are inlined, so the schema reads well inside a prompt.
    ``self``/``cls`` without a type hint are skipped.

    Parameters
    ----------
    fn
        The function (or bound method, or callable object).
    descriptions
        Add each argument's description from the docstring's ``Args:`` section (unless the type
        hint already carries one, e.g. ``Annotated[int, Field(description=...)]``).

    Returns
    -------
    dict
        ``{"type": "object", "properties": {...}, "required": [...]}``; ``required`` is left out
        when every parameter has a default, ``$defs`` is added only for recursive models.

    Raises
    ------
    SchemaError
        A parameter has no type hint, a hint that cannot be resolved or turned into JSON Schema,
        or the function takes ``*args``/``**kwargs``. ``.pointer`` names the parameter.
    """
    params, hints = _parameters(fn)
    _, arg_docs, _ = parse_docstring(inspect.getdoc(fn)) if descriptions else ("", {}, None)
    adapters: list[tuple[str, Literal["validation"], TypeAdapter[Any]]] = []
    defaults: dict[str, Any] = {}
    required: list[str] = []
    for param in params:
        annotation = hints[param.name]
        default = param.default
        if isinstance(default, FieldInfo):
            annotation = Annotated[annotation, default]
            default = default.get_default(call_default_factory=True)
            if default is PydanticUndefined:
                default = inspect.Parameter.empty
        if default is inspect.Parameter.empty:
            required.append(param.name)
        else:
            defaults[param.name] = default
        adapters.append((param.name, "validation", _adapter(fn, param.name, annotation)))

    try:
        by_key, top = TypeAdapter.json_schemas(adapters)
    except PydanticUserError as exc:  # pragma: no cover - each adapter was checked alone
        raise SchemaError(f"{_name(fn)}(): {exc}") from exc
    definitions: dict[str, Any] = dict(top.get("$defs", {}))
    properties: dict[str, Any] = {}
    for name, _mode, _adapter_obj in adapters:
        prop = dict(by_key[(name, "validation")])
        if descriptions and name in arg_docs and "description" not in prop:
            prop["description"] = arg_docs[name]
        if name in defaults:
            # A default that JSON cannot express is left out, not guessed.
            with contextlib.suppress(PydanticSerializationError):
                prop["default"] = to_jsonable_python(defaults[name])
        properties[name] = prop

    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if definitions:
        schema["$defs"] = definitions
    return tidy_schema(schema)


def callable_to_tool(fn: Callable[..., Any], *, flavor: ToolFlavor = "langchain") -> dict[str, Any]:
    """Turn a function into an OpenAI-style tool dict, as Hermes 2 Pro prompts show them.

    Parameters
    ----------
    fn
        The function. Its name becomes the tool name.
    flavor
        ``"langchain"`` (default): the Hermes model-card form, description
        ``"{name}{signature} - " + docstring.strip()`` keeping the docstring's indentation, and
        parameters without per-argument descriptions (they are in the description already).
        ``"transformers"``: what ``transformers.utils.get_json_schema`` returns: the docstring
        summary as description, per-argument descriptions, and a ``return`` entry when the return
        is annotated (with the ``Returns:`` text as its description). One departure: a ``-> None``
        return is left out, since the ``tool_use`` template cannot render a ``null`` type.

    Returns
    -------
    dict
        ``{"type": "function", "function": {"name", "description", "parameters"}}``.

    Raises
    ------
    SchemaError
        As :func:`callable_parameters_schema`.
    """
    name = _name(fn)
    if flavor == "langchain":
        parameters = callable_parameters_schema(fn, descriptions=False)
        signature = str(_signature(fn))
        doc = fn.__doc__.strip() if fn.__doc__ else ""
        description = f"{name}{signature} - {doc}" if doc else f"{name}{signature}"
        return {
            "type": "function",
            "function": {"name": name, "description": description, "parameters": parameters},
        }
    if flavor != "transformers":
        raise ValueError(f"flavor must be 'langchain' or 'transformers', got {flavor!r}")
    parameters = callable_parameters_schema(fn, descriptions=True)
    summary, _, returns = parse_docstring(inspect.getdoc(fn))
    function: dict[str, Any] = {"name": name, "description": summary, "parameters": parameters}
    return_schema = _return_schema(fn)
    if return_schema is not None:
        if returns is not None:
            return_schema["description"] = returns
        function["return"] = return_schema
    return {"type": "function", "function": function}


def _name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__name__", type(fn).__name__))


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    """The signature with string annotations evaluated and an untyped ``self``/``cls`` dropped."""
    try:
        sig = inspect.signature(fn, eval_str=True)
    except (NameError, SyntaxError, TypeError, ValueError) as exc:
        raise SchemaError(f"{_name(fn)}(): cannot read the signature: {exc}") from exc
    params = list(sig.parameters.values())
    if params and params[0].name in {"self", "cls"} and params[0].annotation is params[0].empty:
        params = params[1:]
    return sig.replace(parameters=params)


def _parameters(fn: Callable[..., Any]) -> tuple[list[inspect.Parameter], dict[str, Any]]:
    sig = _signature(fn)
    hints: dict[str, Any] = {}
    for param in sig.parameters.values():
        pointer = f"/properties/{param.name}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            raise SchemaError(
                f"{_name(fn)}(): {star}{param.name} cannot be a JSON object property; "
                "give the tool named parameters",
                pointer=pointer,
            )
        if param.annotation is param.empty:
            raise SchemaError(
                f"{_name(fn)}(): parameter {param.name!r} has no type hint; annotate it "
                f"(e.g. {param.name}: str) so the tool has a parameter schema",
                pointer=pointer,
            )
        hints[param.name] = param.annotation
    return list(sig.parameters.values()), hints


def _adapter(fn: Callable[..., Any], name: str, annotation: Any) -> TypeAdapter[Any]:
    """A TypeAdapter for one parameter, checked to have a JSON Schema."""
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        adapter.json_schema()
    except (PydanticUserError, TypeError, NameError) as exc:
        shown = getattr(annotation, "__name__", None) or repr(annotation)
        raise SchemaError(
            f"{_name(fn)}(): parameter {name!r} has type hint {shown}, which has no JSON Schema "
            "form; use JSON-like types (str, int, float, bool, None, list, dict, Literal, Enum, "
            "a Pydantic model)",
            pointer=f"/properties/{name}",
        ) from exc
    return adapter


def _return_schema(fn: Callable[..., Any]) -> dict[str, Any] | None:
    annotation = _signature(fn).return_annotation
    if annotation is inspect.Signature.empty or annotation is None or annotation is type(None):
        return None
    try:
        schema = TypeAdapter(annotation).json_schema()
    except (PydanticUserError, TypeError, NameError):
        return None  # the model never writes the return value; leave it out, do not guess
    return tidy_schema(schema)


def tidy_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a pydantic JSON schema for a prompt, without changing what it accepts.

    ``$ref`` to non-recursive ``$defs`` are inlined (recursive ones stay in ``$defs``),
    ``title`` keywords and ``additionalProperties: true`` are dropped, and each subschema lists
    ``type`` first and ``description``/``default`` last. Returns a new dict.
    """
    definitions: dict[str, Any] = dict(schema.get("$defs", {}))
    recursive = _recursive_definitions(definitions)

    def inline(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = ref[len("#/$defs/"):]
            if target in definitions and target not in recursive and target not in seen:
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                merged = {**definitions[target], **siblings}
                return inline(merged, seen | {target})
        return {
            key: value if key in _DATA_KEYWORDS else inline(value, seen)
            for key, value in node.items()
        }

    body = {k: v for k, v in schema.items() if k != "$defs"}
    result: dict[str, Any] = inline(body, frozenset())
    kept = {n: inline(d, frozenset()) for n, d in definitions.items() if n in recursive}
    if kept:
        result["$defs"] = kept
    return _clean(result)


def _recursive_definitions(definitions: dict[str, Any]) -> set[str]:
    """Names of definitions that can reach themselves through ``$ref``."""

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                yield ref[len("#/$defs/"):]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    graph = {name: set(refs(body)) for name, body in definitions.items()}
    recursive: set[str] = set()
    for start in graph:
        stack, seen = list(graph[start]), set()
        while stack:
            name = stack.pop()
            if name == start:
                recursive.add(start)
                break
            if name in seen or name not in graph:
                continue
            seen.add(name)
            stack.extend(graph[name])
    return recursive


def _clean(node: dict[str, Any]) -> dict[str, Any]:
    """Drop ``title`` and ``additionalProperties: true`` in every subschema; ``type`` goes first,
    ``description`` and ``default`` last."""
    out: dict[str, Any] = {}
    if "type" in node:
        out["type"] = node["type"]
    for key, value in node.items():
        if key in ("type", "title", "description", "default"):
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = _clean(value)
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [_clean(v) if isinstance(v, dict) else v for v in value]
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _clean(v) if isinstance(v, dict) else v for k, v in value.items()}
        else:
            out[key] = value
    for key in ("description", "default"):
        if key in node:
            out[key] = node[key]
    return out

