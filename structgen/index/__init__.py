"""Vocabulary × DFA → token masks."""

from __future__ import annotations

from structgen.index.vocabulary import Vocabulary

__all__ = ["Vocabulary"]
