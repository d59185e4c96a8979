"""The numba wrapper falls back to per-process compiling where no cache can be written."""

from __future__ import annotations

import numba
import pytest

from structgen.index import _jit


def _double(x):  # type: ignore[no-untyped-def]
    return 2 * x


def test_falls_back_when_numba_refuses_to_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    real = numba.njit
    calls: list[dict] = []

    def njit(**options):  # type: ignore[no-untyped-def]
        calls.append(options)
        if options.get("cache"):
            raise RuntimeError("cannot cache function '_double': no locator available")
        return real(**options)

    monkeypatch.setattr(_jit.numba, "njit", njit)
    compiled = _jit.jit(_double)
    assert compiled(21) == 42
    assert calls == [{"nogil": True, "cache": True}, {"nogil": True}]


def test_caches_where_it_can() -> None:
    compiled = _jit.jit(_double)
    assert compiled(4) == 8
    assert compiled._cache.__class__.__name__ == "FunctionCache"
