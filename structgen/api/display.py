"""HTML views for notebooks: sizes, unenforced keywords, the automaton, the allowed tokens.

The lower layers cannot import this one, so :func:`install` attaches ``_repr_html_`` to
their classes (``Grammar``, ``TokenIndex``, ``Guide``, ``Generation``); ``import
structgen`` calls it. Everything is plain HTML and inline SVG/PNG: no plotting library.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from structgen.automata.compact import CompactDFA, CompactTable

if TYPE_CHECKING:
    from structgen.api.extract import ExtractResult
    from structgen.api.generate import Generation
    from structgen.automata.dfa import ByteDFA
    from structgen.grammar import Grammar
    from structgen.guide import Guide
    from structgen.index import StackIndex, TokenIndex

__all__ = [
    "automaton_svg",
    "generation_html",
    "grammar_html",
    "guide_html",
    "index_html",
    "install",
    "mask_png",
    "results_html",
]

# Larger automata draw as a tangle; the table of sizes is shown instead.
MAX_DRAWN_STATES = 40

_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_PRE = "margin:0;white-space:pre-wrap"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:left"


def _table(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th style='{_CELL}'>{html.escape(k)}</th><td style='{_CELL}'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table style='{_STYLE}'><caption><b>{html.escape(title)}</b></caption>{body}</table>"


def _bytes_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def grammar_html(grammar: Grammar) -> str:
    """Sizes, build time, options, unenforced keywords, and the automaton when small."""
    stats = grammar.stats
    unenforced = (
        "<br>".join(html.escape(str(u)) for u in grammar.unenforced) or "none (all enforced)"
    )
    rows = [
        ("states", stats.states),
        ("byte classes", stats.classes),
        ("build", f"{stats.build_s * 1000:.1f} ms (schema {stats.normalize_s * 1000:.1f} ms, "
                  f"automaton {stats.automaton_s * 1000:.1f} ms)"),
        ("transition table", f"{_bytes_size(int(grammar.dfa.transitions.nbytes))} "
                             f"({grammar.dfa.transitions.rows.shape[0]:,} rows of offsets)"),
        ("separators", html.escape(repr(grammar.separators))),
        ("unenforced", unenforced),
    ]
    picture = ""
    if grammar.uses_stack:
        modules = grammar.dfa.n_modules
        rows.insert(2, ("modules", f"{modules} (the document and {modules - 1} called "
                                   "$ref targets, on a stack)"))
        picture = "<p><i>a grammar with calls: its modules are not drawn</i></p>"
    elif stats.states <= MAX_DRAWN_STATES:
        picture = automaton_svg(grammar.dfa)
    else:
        picture = (
            f"<p><i>{stats.states} states: too many to draw (at most {MAX_DRAWN_STATES}); "
            "see automaton_svg(grammar.dfa, max_states=...)</i></p>"
        )
    return f"<div>{_table('Grammar', rows)}{picture}</div>"


def index_html(index: TokenIndex | StackIndex) -> str:
    """The vocabulary, the cached masks and the tokens allowed at the start."""
    start = index.allowed_token_ids(index.start)
    vocab = index.vocab
    rows = [
        ("DFA states", index.n_states),
        ("vocabulary", f"{vocab.vocab_size:,} tokens ({vocab.embedding_rows:,} logits rows)"),
        ("EOS ids", ", ".join(map(str, sorted(vocab.eos_token_ids))) or "none"),
        ("memory", _bytes_size(index.nbytes) + " (shared vocabulary trie not counted)"),
        ("allowed at start", f"{len(start):,} tokens: {_token_chips(vocab, start)}"),
    ]
    return _table(repr(index), rows)


def guide_html(guide: Guide) -> str:
    """The current state and a picture of its allowed-token set (one pixel per token)."""
    vocab = guide.index.vocab
    allowed = guide.allowed_token_ids()
    rows = [
        ("state", guide.state),
        ("finished", guide.is_finished()),
        ("remaining budget", guide.remaining_budget),
        ("allowed", f"{len(allowed):,} of {vocab.vocab_size:,} tokens "
                    f"({100 * len(allowed) / max(vocab.vocab_size, 1):.2f}%)"),
        ("examples", _token_chips(vocab, allowed)),
        ("mask", mask_png(allowed, vocab.embedding_rows)),
    ]
    return _table("Guide", rows)


def generation_html(generation: Generation) -> str:
    """The output, whether it validates, and what it cost."""
    verdict = "valid" if generation.valid else "invalid: " + "; ".join(generation.errors)
    rows = [
        ("text", f"<pre style='{_PRE}'>{html.escape(generation.text)}</pre>"),
        ("result", html.escape(verdict)),
        ("tokens", f"{generation.prompt_tokens} prompt, {generation.completion_tokens} "
                   f"completion ({generation.completion.forced_tokens} forced), "
                   f"{generation.completion.forward_passes} forward passes"),
        ("time", f"{generation.seconds:.2f} s, {generation.tokens_per_s:.1f} tokens/s decoding"),
    ]
    return _table("Generation", rows)


def results_html(results: Sequence[ExtractResult], *, max_rows: int = 50) -> str:
    """Extraction results as a table, with counts of each error kind."""
    kinds = Counter(r.error.kind for r in results if r.error is not None)
    ok = sum(r.ok for r in results)
    summary = f"{ok} of {len(results)} records extracted"
    if kinds:
        summary += "; errors: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
    head = "".join(
        f"<th style='{_CELL}'>{h}</th>" for h in ("#", "ok", "value or error", "tokens", "s")
    )
    body = []
    for r in list(results)[:max_rows]:
        shown = _short(repr(r.value)) if r.ok else _short(str(r.error))
        body.append(
            f"<tr><td style='{_CELL}'>{r.index}</td><td style='{_CELL}'>"
            f"{'✓' if r.ok else '✗'}{' (resumed)' if r.resumed else ''}</td>"
            f"<td style='{_CELL}'>{html.escape(shown)}</td>"
            f"<td style='{_CELL}'>{r.completion_tokens}</td>"
            f"<td style='{_CELL}'>{r.seconds:.2f}</td></tr>"
        )
    more = f"<p>… {len(results) - max_rows} more</p>" if len(results) > max_rows else ""
    return (
        f"<div><p><b>{html.escape(summary)}</b></p><table style='{_STYLE}'>"
        f"<tr>{head}</tr>{''.join(body)}</table>{more}</div>"
    )


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _token_chips(vocab: Any, token_ids: Any, limit: int = 12) -> str:
    shown = []
    for token_id in list(token_ids[:limit]):
        data = vocab.token_bytes[token_id] if token_id < vocab.vocab_size else None
        label = "EOS" if token_id in vocab.eos_token_ids else (
            data.decode("utf-8", "backslashreplace") if data is not None
            else vocab.special_tokens.get(int(token_id), "?")
        )
        shown.append(
            f"<code style='background:#eef;margin:1px;padding:0 3px'>{html.escape(repr(label))}"
            "</code>"
        )
    if len(token_ids) > limit:
        shown.append("…")
    return " ".join(shown)


def mask_png(token_ids: Any, n_tokens: int, *, width: int = 256) -> str:
    """An ``<img>`` with one pixel per token id (dark = allowed), rows of ``width`` ids."""
    height = max(1, -(-n_tokens // width))
    pixels = np.full(height * width, 255, dtype=np.uint8)
    pixels[n_tokens:] = 200
    pixels[np.asarray(token_ids, dtype=np.int64)] = 20
    rows = pixels.reshape(height, width)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
    data = base64.b64encode(png).decode("ascii")
    return (
        f"<img alt='allowed-token mask' src='data:image/png;base64,{data}' "
        f"style='image-rendering:pixelated;width:{2 * width}px;border:1px solid #999'>"
    )


def _symbol_label(symbols: list[int]) -> str:
    """Byte sets as ranges (``a-z``, ``0-9``); special-token symbols as ``<sN>``."""
    parts: list[str] = []
    runs: list[list[int]] = []
    for s in sorted(symbols):
        if runs and s == runs[-1][1] + 1 and s < 256:
            runs[-1][1] = s
        else:
            runs.append([s, s])

    def show(b: int) -> str:
        if b >= 256:
            return f"<s{b - 256}>"
        char = chr(b)
        return char if 33 <= b < 127 else ("␠" if b == 32 else f"\\x{b:02x}")

    for lo, hi in runs:
        parts.append(show(lo) if lo == hi else f"{show(lo)}-{show(hi)}")
    label = "".join(parts) if all(len(p) == 1 for p in parts) else " ".join(parts)
    return label if len(label) <= 14 else label[:13] + "…"


def automaton_svg(dfa: ByteDFA | CompactDFA, *, max_states: int = MAX_DRAWN_STATES) -> str:
    """The DFA as an inline SVG: states in columns by distance from the start, edges
    labelled with the bytes they read, accepting states ringed twice."""
    n = dfa.n_states
    if n > max_states:
        return f"<p><i>{n} states: too many to draw (max_states={max_states})</i></p>"
    members: dict[int, list[int]] = defaultdict(list)
    for symbol, cls in enumerate(dfa.class_of.tolist()):
        members[cls].append(symbol)
    edges: dict[tuple[int, int], list[int]] = defaultdict(list)
    table = dfa.transitions
    dense = table.dense() if isinstance(table, CompactTable) else table
    for src, row in enumerate(dense.tolist()):
        for cls, dst in enumerate(row):
            if dst >= 0:
                edges[(src, dst)].extend(members[cls])
    depth = {0: 0}
    frontier = [0]
    while frontier:
        nxt = []
        for s in frontier:
            for (a, b) in edges:
                if a == s and b not in depth:
                    depth[b] = depth[s] + 1
                    nxt.append(b)
        frontier = nxt
    for s in range(n):
        depth.setdefault(s, max(depth.values()) + 1)
    columns: dict[int, list[int]] = defaultdict(list)
    for s in sorted(range(n), key=lambda s: (depth[s], s)):
        columns[depth[s]].append(s)
    dx, dy, r = 110, 70, 16
    pos = {s: (50 + depth[s] * dx, 50 + i * dy) for d, col in columns.items()
           for i, s in enumerate(col)}
    width = 100 + max(depth.values()) * dx
    height = 60 + max(len(c) for c in columns.values()) * dy
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "font-family='monospace' font-size='10'>",
        "<defs><marker id='sg-arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='6' "
        "markerHeight='6' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker></defs>",
    ]
    for (a, b), symbols in sorted(edges.items()):
        label = html.escape(_symbol_label(symbols))
        (x1, y1), (x2, y2) = pos[a], pos[b]
        if a == b:
            out.append(
                f"<path d='M{x1 - 6},{y1 - r} C{x1 - 20},{y1 - 45} {x1 + 20},{y1 - 45} "
                f"{x1 + 6},{y1 - r}' fill='none' stroke='#555' marker-end='url(#sg-arrow)'/>"
                f"<text x='{x1}' y='{y1 - 40}' text-anchor='middle'>{label}</text>"
            )
            continue
        vx, vy = x2 - x1, y2 - y1
        length = max((vx * vx + vy * vy) ** 0.5, 1.0)
        bend = 0.0 if (b, a) not in edges and depth[b] == depth[a] + 1 else 25.0
        mx, my = (x1 + x2) / 2 - vy / length * bend, (y1 + y2) / 2 + vx / length * bend
        sx, sy = x1 + vx / length * r, y1 + vy / length * r
        ex, ey = x2 - vx / length * r, y2 - vy / length * r
        out.append(
            f"<path d='M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {ex:.1f},{ey:.1f}' fill='none' "
            f"stroke='#555' marker-end='url(#sg-arrow)'/>"
            f"<text x='{mx:.1f}' y='{my - 3:.1f}' text-anchor='middle' fill='#036'>{label}</text>"
        )
    for s, (x, y) in pos.items():
        fill = "#dfd" if s == 0 else "#fff"
        out.append(f"<circle cx='{x}' cy='{y}' r='{r}' fill='{fill}' stroke='#222'/>")
        if dfa.accepting[s]:
            out.append(f"<circle cx='{x}' cy='{y}' r='{r - 4}' fill='none' stroke='#222'/>")
        out.append(f"<text x='{x}' y='{y + 4}' text-anchor='middle'>{s}</text>")
    out.append("</svg>")
    return "".join(out)


def install() -> None:
    """Attach ``_repr_html_`` to the classes of the lower layers (idempotent)."""
    from structgen.api.generate import Generation
    from structgen.grammar import Grammar
    from structgen.guide import Guide
    from structgen.index import StackIndex, TokenIndex

    Grammar._repr_html_ = grammar_html  # type: ignore[attr-defined]
    TokenIndex._repr_html_ = index_html  # type: ignore[attr-defined]
    StackIndex._repr_html_ = index_html  # type: ignore[attr-defined]
    Guide._repr_html_ = guide_html  # type: ignore[attr-defined]
    Generation._repr_html_ = generation_html  # type: ignore[attr-defined]
