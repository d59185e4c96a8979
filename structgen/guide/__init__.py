"""The runtime: guides that track a generation and write its token masks."""

from __future__ import annotations

from structgen.guide.batch import BatchGuide
from structgen.guide.guide import Guide

__all__ = ["BatchGuide", "Guide"]
