"""Notebook views: sizes, unenforced keywords, the automaton and the allowed tokens."""

from __future__ import annotations

import base64
import re

import structgen
from structgen.api.display import automaton_svg, mask_png


def test_grammar_html_shows_sizes_unenforced_and_a_small_automaton() -> None:
    grammar = structgen.compile({"enum": ["yes", "no"]})
    page = grammar._repr_html_()
    assert "states" in page and "byte classes" in page and "none (all enforced)" in page
    assert page.count("<circle") >= grammar.stats.states
    relaxed = structgen.compile({"type": "array", "uniqueItems": True}, strict=False)
    page = relaxed._repr_html_()
    assert "uniqueItems" in page and "too many to draw" in page and "<svg" not in page


def test_automaton_svg_labels_edges_with_bytes() -> None:
    svg = automaton_svg(structgen.compile({"type": "integer", "minimum": 0}).dfa)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "0-9" in svg or "1-9" in svg


def test_index_and_guide_html_show_the_allowed_tokens(fake_model) -> None:
    index = structgen.compile({"enum": ["yes", "no"]}).index(fake_model.vocab)
    assert "allowed at start" in index._repr_html_()
    guide = index.guide(max_tokens=8)
    guide.advance(ord('"'))
    page = guide._repr_html_()
    assert "2 of 257 tokens" in page and "data:image/png;base64," in page


def test_mask_png_is_a_png_with_one_pixel_per_token() -> None:
    tag = mask_png([0, 5, 600], 1000, width=100)
    data = base64.b64decode(re.search(r"base64,([^']+)'", tag).group(1))
    assert data.startswith(b"\x89PNG") and int.from_bytes(data[16:20], "big") == 100
    assert int.from_bytes(data[20:24], "big") == 10  # rows


def test_generation_and_results_html(fake_model) -> None:
    generation = structgen.generate(fake_model, "hi", {"type": "boolean"}, max_tokens=8)
    assert "valid" in generation._repr_html_() and "forward passes" in generation._repr_html_()
    results = list(structgen.extract(["a", ""], {"type": "boolean"}, fake_model, progress=False))
    page = results[1]._repr_html_()
    assert "empty_record" in page
    from structgen.api.display import results_html

    assert "1 of 2 records extracted; errors: empty_record 1" in results_html(results)
