"""structgen: structured output from language models."""

from __future__ import annotations

from structgen._version import __version__
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
from structgen.guide import BatchGuide, Guide
from structgen.index import TokenIndex, Vocabulary, build_index

__all__ = [
    "BatchGuide",
    "Grammar",
    "GrammarLimitError",
    "GrammarStats",
    "Guide",
    "SchemaError",
    "StructgenError",
    "TokenBudgetError",
    "TokenIndex",
    "ToolCallError",
    "UnsatisfiableSchemaError",
    "UnsupportedSchemaError",
    "Vocabulary",
    "VocabularyError",
    "__version__",
    "build_index",
    "compile",
]
