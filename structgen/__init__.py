"""structgen: structured output from language models."""

from __future__ import annotations

from structgen.errors import (
    GrammarLimitError,
    SchemaError,
    StructgenError,
    TokenBudgetError,
    ToolCallError,
    UnsatisfiableSchemaError,
    UnsupportedSchemaError,
    VocabularyError,
)

__version__ = "0.1.0"

__all__ = [
    "GrammarLimitError",
    "SchemaError",
    "StructgenError",
    "TokenBudgetError",
    "ToolCallError",
    "UnsatisfiableSchemaError",
    "UnsupportedSchemaError",
    "VocabularyError",
    "__version__",
]
