"""Incremental tool-call parsing for streamed Hermes 2 Pro output."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TypeAlias

from structgen.hermes.calls import (
    ToolCall,
    ToolCallParse,
    ToolCallParseError,
    ToolCallWarning,
)
from structgen.hermes.parser import CLOSE_TAG, EOS, OPEN_TAG, BlockEnd, decode_block

__all__ = [
    "ContentDelta",
    "StreamEvent",
    "ToolCallDone",
    "ToolCallFailed",
    "ToolCallStarted",
    "ToolCallStreamParser",
]


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """Prose outside tool calls, ready to show."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A ``<tool_call>`` tag was seen; its call (or error) follows once the block is complete."""

    index: int
    position: int


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """A complete call, with the repairs that were needed to accept it."""

    call: ToolCall
    warnings: tuple[ToolCallWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolCallFailed:
    """A block that gave no call."""

    error: ToolCallParseError


StreamEvent: TypeAlias = "ContentDelta | ToolCallStarted | ToolCallDone | ToolCallFailed"


class ToolCallStreamParser:
    """Feed decoded text deltas, get content and calls as soon as they are certain.

    For any way of splitting a text into deltas, the concatenated :class:`ContentDelta` texts
    equal ``parse_tool_calls(text).content`` (``""`` for ``None``) and the calls, errors and
    warnings are equal too. To get there it holds back: a suffix that may be the start of
    ``<tool_call>`` or of ``eos``; whitespace that may turn out to be trailing; and each block
    until its ``</tool_call>`` (outside JSON strings) arrives, or :meth:`close` says there is no
    more. Cost is linear in the text: each character is scanned once.

    Examples
    --------
    >>> parser = ToolCallStreamParser()
    >>> events = parser.feed('Sure.\\n<tool_call>\\n{"name": "f", "arg')
    >>> events += parser.feed('uments": {}}\\n</tool_call><|im_end|>')
    >>> events += parser.close()
    >>> [type(e).__name__ for e in events]
    ['ContentDelta', 'ToolCallStarted', 'ToolCallDone']
    """

    def __init__(self, *, eos: str | None = EOS) -> None:
        self._eos = eos or ""
        self._raw_pending = ""  # raw text that may be the start of eos
        self._removed_at: list[int] = []  # cleaned offsets where an eos was removed
        self._cleaned_len = 0
        self._buf = ""  # cleaned text; _buf[_pos:] is not settled yet
        self._pos = 0
        self._buf_start = 0  # cleaned offset of _buf[_pos], or of the open block's tag
        self._in_block = False
        # The open block as pieces, joined once when it ends (a long block fed a token at a
        # time would cost quadratic time in one growing string); it starts at _block_at of
        # the first piece.
        self._block: list[str] = []
        self._block_at = 0
        self._scan = 0  # block offset up to which the string-aware scan has read
        self._scan_src = ""  # the scan goes on at _scan_src[_scan_at] (block offset _scan)
        self._scan_at = 0
        self._quote: str | None = None
        self._escape = False
        self._index = 0
        self._started = False  # first non-whitespace content emitted
        self._held_space = ""
        self._closed = False
        self._events: list[StreamEvent] = []
        self._content: list[str] = []
        self._calls: list[ToolCall] = []
        self._errors: list[ToolCallParseError] = []
        self._warnings: list[ToolCallWarning] = []

    def feed(self, delta: str) -> list[StreamEvent]:
        """Take the next piece of decoded text; return the events it completes."""
        if self._closed:
            raise ValueError("feed() after close(); start a new ToolCallStreamParser")
        self._push(self._filter_eos(delta, final=False))
        self._advance(final=False)
        return self._take_events()

    def close(self) -> list[StreamEvent]:
        """End of output: settle everything held back and return the last events."""
        if self._closed:
            return []
        self._closed = True
        self._push(self._filter_eos("", final=True))
        self._advance(final=True)
        self._held_space = ""
        return self._take_events()

    def result(self) -> ToolCallParse:
        """Everything seen, as :func:`~structgen.hermes.parser.parse_tool_calls` returns it."""
        if not self._closed:
            raise ValueError("result() before close(); the last block may not be settled yet")
        content = "".join(self._content)
        return ToolCallParse(
            content or None, list(self._calls), list(self._errors), list(self._warnings)
        )

    # -- eos removal ---------------------------------------------------------------------------

    def _filter_eos(self, delta: str, *, final: bool) -> str:
        text = self._raw_pending + delta
        self._raw_pending = ""
        if not self._eos:
            return text
        out: list[str] = []
        while True:
            found = text.find(self._eos)
            if found < 0:
                break
            out.append(text[:found])
            self._cleaned_len += found
            self._removed_at.append(self._cleaned_len)
            text = text[found + len(self._eos):]
        if not final:
            hold = _partial_suffix(text, self._eos)
            self._raw_pending = text[len(text) - hold:]
            text = text[: len(text) - hold]
        out.append(text)
        self._cleaned_len += len(text)
        return "".join(out)

    def _original(self, cleaned: int) -> int:
        return cleaned + len(self._eos) * bisect.bisect_right(self._removed_at, cleaned)

    # -- blocks --------------------------------------------------------------------------------

    def _push(self, text: str) -> None:
        if not self._in_block:
            self._buf = self._buf[self._pos:] + text
            self._pos = 0
            return
        if len(self._block) == 1 and self._block_at:
            # The block outgrows the text it started in: keep only its own part.
            self._block = [self._block[0][self._block_at:]]
            self._block_at = 0
        self._block.append(text)
        self._scan_src = self._scan_src[self._scan_at:] + text  # the held-back tag start
        self._scan_at = 0

    def _advance(self, *, final: bool) -> None:
        """Settle what can be settled. Works on offsets into ``_buf`` and the block's pieces,
        never re-slicing what is left, so one long feed with thousands of blocks and a long
        block fed a token at a time both cost linear time."""
        while True:
            if not self._in_block:
                buf, pos = self._buf, self._pos
                found = buf.find(OPEN_TAG, pos)
                if found < 0:
                    keep = 0 if final else min(_partial_suffix(buf, OPEN_TAG), len(buf) - pos)
                    self._emit_content(buf[pos: len(buf) - keep])
                    self._consume(len(buf) - keep - pos)
                    return
                self._emit_content(buf[pos:found])
                self._consume(found - pos)
                self._in_block = True
                self._block, self._block_at = [buf], found
                self._scan = len(OPEN_TAG)
                self._scan_src, self._scan_at = buf, found + len(OPEN_TAG)
                self._quote = None
                self._escape = False
                self._events.append(ToolCallStarted(self._index, self._original(self._buf_start)))
                continue
            end = self._scan_block(final=final)
            if end is None:
                return
            stop, kind = end
            block, base = self._block_text()
            outcome = decode_block(
                block[base + len(OPEN_TAG): base + stop],
                terminated=kind == "close",
                index=self._index,
                position=self._original(self._buf_start),
            )
            if outcome.call is not None:
                self._calls.append(outcome.call)
                self._warnings.extend(outcome.warnings)
                self._events.append(ToolCallDone(outcome.call, tuple(outcome.warnings)))
            if outcome.error is not None:
                self._errors.append(outcome.error)
                self._events.append(ToolCallFailed(outcome.error))
            self._emit_content(outcome.remainder)
            consumed = stop + len(CLOSE_TAG) if kind == "close" else stop
            self._buf, self._pos = block, base + consumed
            self._buf_start += consumed
            self._block, self._scan_src = [], ""
            self._in_block = False
            self._index += 1

    def _block_text(self) -> tuple[str, int]:
        """A string holding the open block, and the block's offset in it."""
        if len(self._block) == 1:
            return self._block[0], self._block_at
        return "".join(self._block), 0

    def _scan_block(self, *, final: bool) -> tuple[int, BlockEnd] | None:
        """Continue the string-aware scan of the current block; ``None`` until it can end."""
        buf = self._scan_src
        n = len(buf)
        i = start = self._scan_at
        quote, escape = self._quote, self._escape
        while i < n:
            char = buf[i]
            if quote is not None:
                if escape:
                    escape = False
                elif char == "\\":
                    escape = True
                elif char == quote:
                    quote = None
            elif char == '"' or char == "'":
                quote = char
            elif char == "<":
                if buf.startswith(CLOSE_TAG, i):
                    return self._scan + i - start, "close"
                if buf.startswith(OPEN_TAG, i):
                    return self._scan + i - start, "open"
                tail = buf[i:i + len(CLOSE_TAG)]
                if not final and n - i < len(CLOSE_TAG) and (
                    CLOSE_TAG.startswith(tail) or OPEN_TAG.startswith(tail)
                ):
                    break  # a tag may be arriving
            i += 1
        self._scan += i - start
        self._scan_at = i
        self._quote, self._escape = quote, escape
        if not final:
            return None
        if quote is None:
            return self._scan, "eof"
        # The output ended inside a string: the first literal tag ends the block instead.
        block, base = self._block_text()
        close = block.find(CLOSE_TAG, base + len(OPEN_TAG))
        opening = block.find(OPEN_TAG, base + len(OPEN_TAG))
        if close >= 0 and (opening < 0 or close < opening):
            return close - base, "close"
        if opening >= 0:
            return opening - base, "open"
        return len(block) - base, "eof"

    def _consume(self, count: int) -> None:
        self._pos += count
        self._buf_start += count

    # -- content -------------------------------------------------------------------------------

    def _emit_content(self, text: str) -> None:
        if not text:
            return
        if not self._started:
            text = text.lstrip()
            if not text:
                return
            self._started = True
        text = self._held_space + text
        body = text.rstrip()
        self._held_space = text[len(body):]
        if body:
            self._content.append(body)
            self._events.append(ContentDelta(body))

    def _take_events(self) -> list[StreamEvent]:
        events, self._events = self._events, []
        return events


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    if not text or text[-1] not in tag:  # the common case, answered at once
        return 0
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
