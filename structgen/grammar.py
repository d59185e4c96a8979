"""`compile()` and `Grammar`: a schema bound to its byte automaton, ready to index."""

from __future__ import annotations

import inspect
import json
import time
import typing
from dataclasses import dataclass, replace
from typing import Any, Literal

from structgen.automata.build import BuildOptions, build_dfa, build_modules
from structgen.automata.compact import CompactDFA
from structgen.automata.determinize import limit_error
from structgen.automata.stack import CallConflict, StackDFA, join
from structgen.automata.unique import UniqueConflict, untracked
from structgen.errors import (
    GrammarLimitError,
    SchemaError,
    StructgenError,
    UnsatisfiableSchemaError,
    UnsupportedSchemaError,
)
from structgen.index import StackIndex, TokenIndex, Vocabulary, build_index
from structgen.schema import ir
from structgen.schema.from_jsonschema import (
    NormalizeOptions,
    Unenforced,
    integers_may_have_fraction,
    normalize,
)
from structgen.schema.refs import Registry, unrolled_size
from structgen.schema.serialize import candidates
from structgen.schema.validator import validator_for

__all__ = ["Grammar", "GrammarStats", "compile", "compile_node"]

Whitespace = Literal["default", "compact", "flexible"]


@dataclass(frozen=True)
class GrammarStats:
    """Sizes and build times, for display and benchmarks."""

    states: int
    classes: int
    normalize_s: float
    automaton_s: float

    @property
    def build_s(self) -> float:
        return self.normalize_s + self.automaton_s


class Grammar:
    """A compiled schema: the byte DFA, the IR it came from, and what it leaves unenforced.

    The DFA is held compact (deduplicated rows of relative targets, see
    :class:`~structgen.automata.compact.CompactTable`): the dense table of the largest
    schemas would take 36-51 MiB.

    Build one with :func:`structgen.compile`. Grammars are immutable and safe to share
    between threads.
    """

    def __init__(
        self,
        dfa: CompactDFA | StackDFA,
        node: ir.Node,
        *,
        schema: Any,
        unenforced: tuple[Unenforced, ...],
        options: dict[str, Any],
        separators: tuple[str, str],
        stats: GrammarStats,
        special_tokens: tuple[str, ...] = (),
    ) -> None:
        self.dfa = dfa
        self.node = node
        self.schema = schema
        self.unenforced = unenforced
        self.options = options
        self.separators = separators
        self.stats = stats
        self.special_tokens = special_tokens

    def __repr__(self) -> str:
        return (
            f"Grammar(states={self.stats.states}, classes={self.stats.classes}, "
            f"unenforced={len(self.unenforced)})"
        )

    def index(
        self, vocab: Vocabulary, *, cache_dir: str | None = None, max_cached_masks: int = 4096
    ) -> TokenIndex | StackIndex:
        """Bind this grammar to a vocabulary: token masks, computed lazily per state.

        Per-vocabulary structures are shared between grammars; with ``cache_dir`` the
        index is also kept on disk (written atomically, checked when read).
        ``max_cached_masks`` bounds the lazily computed masks kept in memory (16 KiB each
        over Llama-3). A grammar that calls modules (:attr:`uses_stack`) gets a
        :class:`~structgen.index.StackIndex`, masks per stack configuration (not on disk).
        """
        if isinstance(self.dfa, StackDFA):
            return StackIndex(self.dfa, vocab, special_tokens=self.special_tokens,
                              max_cached_masks=max_cached_masks)
        return build_index(self, vocab, cache_dir=cache_dir, max_cached_masks=max_cached_masks)

    @property
    def uses_stack(self) -> bool:
        """Whether ``$ref`` targets are called on a stack (see ``compile``'s ``recursion``)."""
        return isinstance(self.dfa, StackDFA)

    def accepts(self, text: str | bytes) -> bool:
        """Whether ``text`` is, as a whole, a member of the grammar's language."""
        data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        return self.dfa.accepts(data)

    def serialize(self, instance: Any) -> str:
        """``instance`` as JSON in this grammar's canonical style.

        Declared properties come first in declared order, then undeclared ones in the
        instance's order; separators are the grammar's; non-ASCII is escaped only when
        the grammar accepts ``\\u`` escapes. Where unions declare different
        orders, the first spelling the grammar accepts wins.
        """
        first = None
        ascii_only = self.options.get("unicode_escapes", True) is True
        for text in candidates(self.node, instance, self.separators, ensure_ascii=ascii_only):
            if first is None:
                first = text
            if self.accepts(text):
                return text
        return first if first is not None else json.dumps(instance, ensure_ascii=ascii_only)

    def validate(self, instance: Any) -> list[str]:
        """Errors of ``instance`` against the source schema (empty when valid).

        Needed after generation only when :attr:`unenforced` lists post-validated keywords.
        """
        if self.schema is None:
            return []
        validator = validator_for(self.schema)
        return [
            f"{'/' + '/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(instance)
        ]


def _is_type_like(value: Any) -> bool:
    """A class, a typing construct (``list[int]``, ``Literal[...]``) or a TypeAdapter."""
    if isinstance(value, type):
        return True
    if type(value).__name__ == "TypeAdapter":
        return True
    return typing.get_origin(value) is not None


def _load(schema: Any) -> Any:
    if isinstance(schema, (str, bytes)):
        try:
            return json.loads(schema)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"schema is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        except (ValueError, RecursionError) as exc:  # not UTF-8, huge integers, deep nesting
            raise SchemaError(f"schema is not valid JSON: {exc}") from None
    if isinstance(schema, (dict, bool)):
        return schema
    if inspect.isfunction(schema) or inspect.ismethod(schema):
        from structgen.schema.from_callable import callable_parameters_schema

        return callable_parameters_schema(schema)
    if _is_type_like(schema):
        from structgen.schema.from_pydantic import pydantic_schema

        return pydantic_schema(schema)
    if callable(schema):
        from structgen.schema.from_callable import callable_parameters_schema

        return callable_parameters_schema(schema)
    return schema


def compile(
    schema: Any,
    *,
    strict: bool = True,
    spec_faithful: bool = False,
    whitespace: Whitespace = "default",
    separators: tuple[str, str] | None = None,
    max_whitespace: int = 2,
    max_recursion_depth: int = 3,
    any_value_depth: int = 2,
    unknown_formats: Literal["annotate", "error"] = "annotate",
    unicode_escapes: bool | Literal["controls"] | None = None,
    leap_seconds: Literal["utc", "any_offset"] = "utc",
    state_budget: int = 200_000,
    timeout_s: float = 30.0,
    max_schema_nodes: int = 200_000,
    recursion: Literal["auto", "unroll", "stack"] = "auto",
) -> Grammar:
    """Compile a JSON Schema, Pydantic model or Python function to a :class:`Grammar`.

    Parameters
    ----------
    schema
        A JSON Schema (dict, or JSON text), a Pydantic model class, or a function whose
        parameters (type hints) become an object schema.
    strict
        Raise :class:`~structgen.UnsupportedSchemaError` for keywords the grammar cannot
        enforce. With ``False`` they are listed in ``Grammar.unenforced`` and checked by
        ``Grammar.validate`` after generation.
    spec_faithful
        Follow JSON Schema exactly where the generation defaults are stricter: undeclared
        properties allowed when ``additionalProperties`` is absent, a schema without
        ``type`` admitting every type, and integers written as ``1.0`` (from draft-06 on).
        Conformance runs use ``True``.
    whitespace
        ``"default"``: exactly ``json.dumps``' separators ``", "`` and ``": "``;
        ``"compact"``: ``","`` and ``":"``; ``"flexible"``: up to ``max_whitespace``
        whitespace characters wherever JSON allows them.
    separators
        ``(item_separator, key_separator)`` as in ``json.dumps``; overrides ``whitespace``.
    max_recursion_depth
        How many times a recursive ``$ref`` unrolls before the recursive branch is cut.
    any_value_depth
        Nesting allowed inside values the schema leaves unconstrained (``{}``).
    unicode_escapes
        Accept ``\\uXXXX`` spellings inside strings (what ``json.dumps`` writes for
        non-ASCII by default). Default: as ``spec_faithful``. Without them a model writes
        non-ASCII as raw UTF-8, and string automata are several times smaller; the few
        controls with no short escape (U+0001, ...) then cannot be written at all.
        ``"controls"``: ``\\u00XX`` for those controls only, so every string can be
        written, at half the states of ``True``.
    unknown_formats
        What to do with a format the JSON Schema specification defines but structgen does
        not enforce (``iri``, ``regex``, ``json-pointer``, ...). ``"annotate"`` (the
        specification's default): list it in ``Grammar.unenforced``. ``"error"``: treat
        it as an assertion the grammar cannot enforce (``UnsupportedSchemaError`` when
        strict). Custom format names are annotations either way.
    leap_seconds
        Where ``time`` and ``date-time`` allow second 60. ``"utc"``: at 23:59:60 written
        with ``Z`` or a zero offset. ``"any_offset"``: every RFC 3339 leap second, such as
        ``15:59:60-08:00``; exact, but the automaton must remember the local time until
        the offset, about 11,000 states per field.
    recursion
        How a value that is only a ``$ref`` to objects or arrays is matched. ``"unroll"``:
        the target is copied into the automaton at each use, recursion cut at
        ``max_recursion_depth``. ``"stack"``: the target is one module of the automaton,
        called on a stack at run time, so it is built once and recursion is unbounded
        (masks then cost a walk per distinct stack, and ``TokenIndex.build_all`` is not
        available). ``"auto"``: unroll, unless copying would span more than 25,000
        schema values; and if unrolled the automaton passes ``state_budget`` (or the
        expanded schema ``max_schema_nodes``) within ``timeout_s``, try the stack in the
        time left of twice ``timeout_s`` (a stack grammar that cannot be built falls back
        to unrolling the same way).
    state_budget, timeout_s, max_schema_nodes
        Limits (states of the minimal DFA, with 4x room while building it; wall time of
        normalizing, and again of building the
        automaton; JSON values in the schema document and subschemas it expands to):
        exceeding one raises :class:`~structgen.GrammarLimitError`. ``SECURITY.md``
        lists every limit.

    Raises
    ------
    SchemaError, UnsupportedSchemaError, UnsatisfiableSchemaError, GrammarLimitError
    """
    if unicode_escapes not in (None, True, False, "controls"):
        raise ValueError(
            f"unicode_escapes must be True, False or 'controls', not {unicode_escapes!r}"
        )
    if leap_seconds not in ("utc", "any_offset"):
        raise ValueError(f"leap_seconds must be 'utc' or 'any_offset', not {leap_seconds!r}")
    if recursion not in ("auto", "unroll", "stack"):
        raise ValueError(f"recursion must be 'auto', 'unroll' or 'stack', not {recursion!r}")
    started = time.perf_counter()
    source = _load(schema)
    options = NormalizeOptions(
        strict=strict,
        spec_faithful=spec_faithful,
        max_recursion_depth=max_recursion_depth,
        any_value_depth=any_value_depth,
        unknown_formats=unknown_formats,
        max_nodes=max_schema_nodes,
        timeout_s=timeout_s,
    )
    if separators is None:
        separators = (",", ":") if whitespace == "compact" else (", ", ": ")
    build = BuildOptions(
        item_separator=separators[0],
        key_separator=separators[1],
        whitespace=whitespace,
        max_whitespace=max_whitespace,
        integer_fraction=spec_faithful and integers_may_have_fraction(source),
        unicode_escapes=spec_faithful if unicode_escapes is None else unicode_escapes,
        leap_seconds=leap_seconds,
        state_budget=state_budget,
        timeout_s=timeout_s,
    )
    settings = {
        "strict": strict, "spec_faithful": spec_faithful, "whitespace": whitespace,
        "separators": separators, "max_recursion_depth": max_recursion_depth,
        "any_value_depth": any_value_depth, "max_whitespace": max_whitespace,
        "unknown_formats": unknown_formats, "unicode_escapes": build.unicode_escapes,
        "leap_seconds": leap_seconds, "recursion": recursion,
    }
    if recursion != "auto":
        attempts = [recursion == "stack"]
    elif _copies_widely(source, max_recursion_depth):
        attempts = [True, False]
    else:
        attempts = [False, True]
    failure: StructgenError | None = None
    for calls in attempts:
        if failure is not None:
            # A second try shares the first's time: twice timeout_s in all, as promised.
            left = (2 * timeout_s - (time.perf_counter() - started)) / 2
            if left < timeout_s / 2:
                raise failure  # the first try took its time: no second one on top
            options, build = replace(options, timeout_s=left), replace(build, timeout_s=left)
        try:
            return _compile_once(source, replace(options, calls=calls), build, settings,
                                 started)
        except CallConflict as exc:  # only with calls
            if recursion == "stack":
                raise UnsupportedSchemaError(
                    f"$ref: cannot call its target on a stack: {exc}", keyword="$ref",
                    hint="pass recursion='unroll'") from None
        except UnsupportedSchemaError as exc:  # maybe only with calls: unrolled may do
            if not calls or len(attempts) == 1:
                raise
            failure = failure or exc
        except GrammarLimitError as exc:  # unrolled, the copies may be what is too large
            if calls or len(attempts) == 1 or exc.limit not in _COPY_LIMITS:
                raise
            failure = exc
    assert failure is not None  # every attempt raised or fell through with a reason
    raise failure


def _compile_once(source: Any, options: NormalizeOptions, build: BuildOptions,
                  settings: dict[str, Any], started: float) -> Grammar:
    """Normalize and build once; with ``options.calls`` a stack grammar where some target
    is called (:class:`CallConflict` where the modules cannot be joined)."""
    node, unenforced = normalize(source, options)
    normalized = time.perf_counter()
    return _from_node(node, build, schema=source, unenforced=unenforced, started=started,
                      normalized=normalized, options=settings)


_COPY_LIMITS = ("state_budget", "max_schema_nodes")
"""Limits that copies of ``$ref`` targets may be what exceeds: ``recursion="auto"`` then
tries calling them instead."""

_UNROLL_CAP = 25_000
"""Schema values beyond which ``recursion="auto"`` calls targets instead of copying them."""


def _copies_widely(schema: Any, max_recursion_depth: int) -> bool:
    try:
        registry = Registry(schema)
    except SchemaError:
        return False  # normalize says what is wrong
    return unrolled_size(registry, max_recursion_depth, _UNROLL_CAP) > _UNROLL_CAP


def compile_node(
    node: ir.Node,
    *,
    special_tokens: tuple[str, ...] = (),
    schema: Any = None,
    unenforced: tuple[Unenforced, ...] = (),
    separators: tuple[str, str] = (", ", ": "),
    unicode_escapes: bool = False,
    state_budget: int = 200_000,
    timeout_s: float = 30.0,
) -> Grammar:
    """Compile an IR tree built by hand, e.g. a prompt format around JSON values.

    ``special_tokens`` names the tokens ``ir.Special`` nodes refer to; each becomes one
    symbol of the automaton, matched by the vocabulary token with that text.
    """
    started = time.perf_counter()
    build = BuildOptions(
        item_separator=separators[0],
        key_separator=separators[1],
        unicode_escapes=unicode_escapes,
        special_tokens=special_tokens,
        state_budget=state_budget,
        timeout_s=timeout_s,
    )
    return _from_node(
        node, build, schema=schema, unenforced=unenforced, started=started,
        normalized=started,
        options={"separators": separators, "unicode_escapes": unicode_escapes,
                 "special_tokens": special_tokens},
    )


def _from_node(
    node: ir.Node,
    build: BuildOptions,
    *,
    schema: Any,
    unenforced: tuple[Unenforced, ...],
    started: float,
    normalized: float,
    options: dict[str, Any],
) -> Grammar:
    dfa: CompactDFA | StackDFA | None
    if isinstance(node, ir.Modules):
        dfas = build_modules(node, build)
        if sum(d.n_states for d in dfas if d is not None) > build.state_budget:
            raise limit_error(build.state_budget)
        dfa = join(dfas, 256 + len(build.special_tokens))
    else:
        try:
            dense = build_dfa(node, build)
        except UniqueConflict:
            why = "an array with unique string items starts where another option starts too"
            if options.get("strict", True):
                raise UnsupportedSchemaError(f"uniqueItems: {why}",
                                             keyword="uniqueItems") from None
            node = untracked(node)
            unenforced = (*unenforced, Unenforced("", "uniqueItems", why))
            dense = build_dfa(node, build)
        dfa = None if dense is None else CompactDFA.from_dfa(dense)
        del dense  # the dense table is not kept
    if dfa is None:
        raise UnsatisfiableSchemaError("no JSON value satisfies this schema")
    done = time.perf_counter()
    return Grammar(
        dfa,
        node,
        schema=schema,
        unenforced=unenforced,
        options=options,
        separators=(build.item_separator, build.key_separator),
        stats=GrammarStats(dfa.n_states, dfa.n_classes, normalized - started, done - normalized),
        special_tokens=build.special_tokens,
    )
