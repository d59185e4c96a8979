"""Everything structgen raises on purpose, as one tree.

::

    StructgenError
    ├── SchemaError                  not a valid schema, a dangling $ref      (.pointer)
    │   ├── UnsupportedSchemaError   valid, the grammar cannot enforce it (.keyword .hint)
    │   └── UnsatisfiableSchemaError no instance can exist                    (.pointer)
    ├── GrammarLimitError            a state, size or time budget was exceeded (.limit .reached)
    ├── TokenBudgetError             max_tokens below the shortest valid output
    ├── VocabularyError              a tokenizer we cannot map to bytes, or a mismatch
    ├── ContextLengthError           the prompt leaves no room in the model's context
    ├── OutputValidationError        a generation failed a post-validated keyword (.errors)
    └── ToolCallError                hermes: an unparseable or invalid tool call

"Unsupported" is structgen's coverage gap; "invalid" is a bug in the input. Catch
``StructgenError`` to handle both::

    try:
        grammar = structgen.compile(schema)
    except structgen.UnsupportedSchemaError as exc:
        print(exc.pointer, exc.keyword)   # or retry with strict=False
"""

from __future__ import annotations

__all__ = [
    "ContextLengthError",
    "GrammarLimitError",
    "OutputValidationError",
    "SchemaError",
    "StructgenError",
    "TokenBudgetError",
    "ToolCallError",
    "UnsatisfiableSchemaError",
    "UnsupportedSchemaError",
    "VocabularyError",
]


class StructgenError(Exception):
    """Base of every error structgen raises on purpose."""


class SchemaError(StructgenError):
    """The input is not a valid schema (bad JSON, wrong keyword types, dangling ``$ref``)."""

    def __init__(self, message: str, *, pointer: str = "") -> None:
        self.pointer = pointer
        super().__init__(f"{pointer or '/'}: {message}")


class UnsupportedSchemaError(SchemaError):
    """A valid schema keyword that the grammar cannot enforce."""

    def __init__(
        self, message: str, *, pointer: str = "", keyword: str = "", hint: str = ""
    ) -> None:
        self.keyword = keyword
        self.hint = hint or (
            "pass strict=False to check this keyword with jsonschema after generation"
        )
        super().__init__(f"{message}; {self.hint}", pointer=pointer)


class UnsatisfiableSchemaError(SchemaError):
    """No JSON value can satisfy the schema."""


class GrammarLimitError(StructgenError):
    """A budget (states, schema size, recursion, wall time) was exceeded while compiling."""

    def __init__(self, message: str, *, limit: str, reached: float) -> None:
        self.limit = limit
        self.reached = reached
        super().__init__(message)


class TokenBudgetError(StructgenError):
    """``max_tokens`` is below the shortest output the grammar accepts."""


class VocabularyError(StructgenError):
    """A tokenizer whose tokens cannot be mapped to bytes."""


class ContextLengthError(StructgenError):
    """The prompt alone fills the model's context window."""


class OutputValidationError(StructgenError):
    """A finished generation that fails validation.

    The grammar guarantees everything it enforces, so this only happens for keywords listed
    in ``Grammar.unenforced`` (compiled with ``strict=False``). ``.text`` is the output and
    ``.errors`` the validator's messages.
    """

    def __init__(self, message: str, *, text: str, errors: list[str]) -> None:
        self.text = text
        self.errors = errors
        super().__init__(message)


class ToolCallError(StructgenError):
    """A Hermes tool call that cannot be parsed or does not validate."""
