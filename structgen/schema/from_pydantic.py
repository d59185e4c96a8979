"""Pydantic v2 models and type adapters to JSON Schema (then to the IR like any schema)."""

from __future__ import annotations

from typing import Any

from structgen.errors import SchemaError

__all__ = ["pydantic_schema"]


def pydantic_schema(model: Any) -> dict[str, Any]:
    """The JSON Schema pydantic generates for validation of ``model``.

    Accepts a ``BaseModel`` subclass, a ``TypeAdapter``, or any type pydantic can adapt
    (``list[Item]``, ``Literal[...]``, an ``Enum``, ``int``).
    """
    import pydantic

    try:
        if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
            return model.model_json_schema()
        adapter = model if isinstance(model, pydantic.TypeAdapter) else pydantic.TypeAdapter(model)
        return adapter.json_schema()
    except pydantic.PydanticUserError as exc:
        raise SchemaError(f"pydantic cannot describe {model!r}: {exc}") from None
    except pydantic.errors.PydanticSchemaGenerationError as exc:
        raise SchemaError(f"pydantic cannot describe {model!r}: {exc}") from None
