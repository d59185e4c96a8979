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

from structgen.grammar import Grammar, GrammarStats, compile

__version__ = "0.1.0"

__all__ = [
    "Grammar",
    "GrammarStats",
    "compile",
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
