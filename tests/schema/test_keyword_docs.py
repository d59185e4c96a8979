"""docs/json_schema.md shows exactly the keyword table the code enforces."""

from __future__ import annotations

from pathlib import Path

from structgen.schema.keywords import KEYWORDS, support_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "json_schema.md"


def test_doc_table_matches_keywords() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("-->\n", text.index("<!-- generated")) + len("-->\n")
    end = text.index("\n<!-- end of generated table -->")
    assert text[start:end] == support_table()


def test_every_keyword_has_a_row() -> None:
    table = support_table()
    for keyword, (_, status, _) in KEYWORDS.items():
        assert f"| `{keyword}` |" in table
        assert status in {"enforced", "partial", "post-validated", "unsupported"}
