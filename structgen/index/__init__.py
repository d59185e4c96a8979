"""Vocabulary × DFA → token masks."""

from __future__ import annotations

from structgen.index.stack_index import StackIndex
from structgen.index.token_index import TokenIndex, build_index
from structgen.index.vocabulary import Vocabulary

__all__ = ["StackIndex", "TokenIndex", "Vocabulary", "build_index"]
