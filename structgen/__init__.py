"""structgen: structured output from language models."""

from __future__ import annotations

from structgen._version import __version__
from structgen.api import models
from structgen.api.decorators import PromptFunction, prompt, structured
from structgen.api.extract import ExtractError, ExtractResult, extract
from structgen.api.generate import Generation, generate
from structgen.errors import (
    ContextLengthError,
    GrammarLimitError,
    OutputValidationError,
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
    "ContextLengthError",
    "ExtractError",
    "ExtractResult",
    "Generation",
    "Grammar",
    "GrammarLimitError",
    "GrammarStats",
    "Guide",
    "OutputValidationError",
    "PromptFunction",
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
    "extract",
    "generate",
    "models",
    "prompt",
    "structured",
]
