"""JSON Schema (draft 2020-12, and draft-04..07 spellings) to the IR."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import product
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin

import jsonschema
import jsonschema.exceptions
import jsonschema.validators

from structgen.errors import (
    GrammarLimitError,
    SchemaError,
    UnsatisfiableSchemaError,
    UnsupportedSchemaError,
)
from structgen.schema import ir
from structgen.schema.contains import spelling_gap
from structgen.schema.formats import FORMATS, PARTIAL_FORMATS, STANDARD_FORMATS
from structgen.schema.keywords import KEYWORDS
from structgen.schema.patterns import PatternError, leading_lookaheads, parse_ecma
from structgen.schema.refs import Registry
from structgen.schema.unevaluated import Evaluated, evaluated, rest_schema, subsets
from structgen.schema.validator import ecma_search, validator_for

__all__ = ["NormalizeOptions", "Unenforced", "integers_may_have_fraction", "normalize"]

_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
_OBJECT_KEYS = {"properties", "required", "additionalProperties", "patternProperties",
                "propertyNames", "minProperties", "maxProperties", "dependentRequired",
                "dependentSchemas", "dependencies", "unevaluatedProperties"}
_ARRAY_KEYS = {"items", "prefixItems", "additionalItems", "minItems", "maxItems",
               "uniqueItems", "contains", "minContains", "maxContains", "unevaluatedItems"}
_STRING_KEYS = {"minLength", "maxLength", "pattern", "format"}
_NUMBER_KEYS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
# `not` and `if` too: those that are no presence rule are checked after generation.
_POST_VALIDATED = {k for k, (_, status, _) in KEYWORDS.items()
                   if status == "post-validated"} | {"not", "if"}
_MAX_UNION = 256
_MAX_DEPTH = 64  # nested subschemas; well inside Python's recursion limit
# Nested JSON values anywhere in the document (enum values included): jsonschema's
# metaschema check recurses about five frames per level, and Python stops at 1000.
_MAX_JSON_DEPTH = 128
_MAX_INT_BITS = 13_000  # Python refuses to print integers past 4300 digits (14,284 bits)
# min/maxProperties multiply an object's states by the bound: (members + 1) * (bound + 1)
# copies of member fragments at most.
_MAX_COUNTED_STATES = 4096
# Distinct `contains` schemas one array counts at once (items split 2**n ways).
_MAX_CONTAINS = 2
# Names whose presence dependencies track at once (subsets of them are states).
_MAX_DEPENDENCY_NAMES = 12
_MAX_FRACTIONAL_MULTIPLE = 10_000  # remainders a non-integer multipleOf may track
# Presence rules (anyOf/oneOf/not/if over `required`) are tabulated over 2**n name sets.
_MAX_PRESENCE_NAMES = 12
# Keywords of a schema `oneOf` and `not` can negate (see _negation).
_NEGATABLE = {"type", "enum", "const", "pattern", "minLength", "maxLength", "required",
              "properties", "additionalProperties", "not"}
# Keywords of a presence schema that carry no constraint there.
_PRESENCE_IGNORED = {"$defs", "definitions", "then", "else"}
_DEPENDENCY_KEYWORDS = ("dependentRequired", "dependentSchemas", "dependencies")
# Keywords a dependent schema may hold (besides annotations) and still be enforced.
_DEPENDENT_SCHEMA_KEYS = {"required", "properties", "type"}
# anyOf options beside unevaluatedProperties/Items that evaluate more: each set of them
# that may validate together becomes an option (2**n - 1).
_MAX_EVALUATING_OPTIONS = 4
_UNEVALUATED = ("unevaluatedProperties", "unevaluatedItems")
# What makes the evaluated names (items) known only at run time.
_RUN_TIME = {"unevaluatedProperties": "dependentSchemas, or an anyOf/oneOf/if inside allOf or "
                                      "$ref, evaluates names only where it validates",
             "unevaluatedItems": "`contains` (it evaluates the items it matches), or an "
                                 "anyOf/oneOf/if inside allOf or $ref, evaluates items only "
                                 "where it matches"}


@dataclass(frozen=True)
class NormalizeOptions:
    """What the normalizer may assume; see ``structgen.compile`` for each option."""

    strict: bool = True
    spec_faithful: bool = False
    max_recursion_depth: int = 3
    any_value_depth: int = 2
    unknown_formats: Literal["annotate", "error"] = "annotate"
    max_nodes: int = 200_000
    timeout_s: float | None = None
    calls: bool = False
    """A value that is only a ``$ref`` to objects or arrays becomes an ``ir.Call`` of one
    shared module (recursion then has no depth limit) instead of a copy of the target."""


@dataclass(frozen=True)
class Unenforced:
    """A keyword the grammar does not enforce, and what happens instead."""

    pointer: str
    keyword: str
    reason: str
    post_validated: bool = True

    def __str__(self) -> str:
        how = "checked after generation" if self.post_validated else "annotation only"
        return f"{self.pointer or '/'}: {self.keyword} ({self.reason}; {how})"


Ref = tuple[Any, str, str]  # (schema, base URI, pointer)


@dataclass(frozen=True)
class _Plan:
    """How one ``unevaluatedProperties`` (``unevaluatedItems``) is enforced: its subschema
    (``value``: schema, base, pointer), the names (items) its schema always evaluates, and
    for each of the schema's own `anyOf`/`oneOf`/`if` that adds some, what each option
    adds (by the option's pointer). Every built option picks one option of each such group,
    so what is evaluated is static there."""

    keyword: str
    value: Ref
    always: Evaluated
    groups: tuple[dict[str, Evaluated], ...]
    split: frozenset[str]  # pointers of the anyOf/oneOf groups: never presence rules
    any_of: tuple[int, ...]  # the anyOf options that evaluate more


@dataclass
class _Flat:
    """One schema with `$ref` and `allOf` merged away, keyword by keyword."""

    pointer: str
    sources: list[Ref] = field(default_factory=list)
    types: set[str] | None = None
    enum: list[Any] | None = None
    props: dict[str, list[Ref]] = field(default_factory=dict)
    required: dict[str, None] = field(default_factory=dict)
    object_sources: list[tuple[frozenset[str], dict[str, Ref], Ref | None]] = field(
        default_factory=list
    )
    property_names: list[Ref] = field(default_factory=list)
    prefix: list[list[Ref]] = field(default_factory=list)
    items: list[Ref] | None = None
    min_items: int = 0
    max_items: int | None = None
    unique_items: bool = False
    # (contains schema, minContains, maxContains) of each source that has one
    contains: list[tuple[Ref, int, int | None]] = field(default_factory=list)
    min_properties: int = 0
    max_properties: int | None = None
    # (name, names required when it is present); (name, keyword, schema applying then)
    dependent_required: list[tuple[str, list[str]]] = field(default_factory=list)
    dependent_schemas: list[tuple[str, str, Ref]] = field(default_factory=list)
    # (keyword, schema holding it) for `not` and `if`: enforced as presence rules when
    # they only ask which names are present.
    conditions: list[tuple[str, Ref]] = field(default_factory=list)
    # (pointer, keyword, formula) of the presence rules, once worked out.
    presence: list[tuple[str, str, Any]] | None = None
    min_length: int = 0
    max_length: int | None = None
    patterns: list[str] = field(default_factory=list)
    forbidden_patterns: list[str] = field(default_factory=list)  # from `not: {pattern}`
    formats: list[str] = field(default_factory=list)
    minimum: tuple[Decimal, bool] | None = None
    maximum: tuple[Decimal, bool] | None = None
    multiple_of: list[Decimal] = field(default_factory=list)
    any_of: list[list[Ref]] = field(default_factory=list)
    one_of: list[list[Ref]] = field(default_factory=list)
    ref_keys: list[int] = field(default_factory=list)
    never: bool = False
    # Keywords only a validator can check: enforced by filtering when `enum` makes the
    # language finite, otherwise reported as unsupported when the node is built.
    deferred: list[tuple[str, str]] = field(default_factory=list)
    # Dependent schemas (name, schema text) this object enforces as anyOf groups.
    converted: set[tuple[str, str]] = field(default_factory=set)
    # Values `not` over `enum`/`const` rules out: (value, pointer of that `not`).
    not_values: list[tuple[Any, str]] = field(default_factory=list)
    # unevaluatedProperties/Items of the sources, enforced once the options are chosen.
    uneval: list[_Plan] = field(default_factory=list)


def normalize(schema: Any, options: NormalizeOptions) -> tuple[ir.Node, tuple[Unenforced, ...]]:
    """Normalize a JSON Schema into the IR, listing what the grammar does not enforce.

    Raises
    ------
    SchemaError
        Not a valid schema, or a dangling ``$ref``.
    UnsupportedSchemaError
        With ``options.strict``, for keywords the grammar cannot enforce.
    UnsatisfiableSchemaError
        When no value can match (including recursion with no base case).
    """
    if not isinstance(schema, (dict, bool)):
        raise SchemaError(
            f"a schema must be a JSON object or boolean, not {type(schema).__name__}"
        )
    _check_size(schema, options.max_nodes)
    _check_dialect(schema)
    _check_metaschema(schema)
    deadline = None if options.timeout_s is None else time.monotonic() + options.timeout_s
    normalizer = _Normalizer(schema, options, deadline)
    node = normalizer.node((schema, normalizer.registry.root_base, ""))
    if normalizer.called:
        node = ir.Modules(node, normalizer.modules())
    if isinstance(node, ir.Never):
        if normalizer.cut_recursion:
            raise UnsatisfiableSchemaError(
                "recursive $ref with no base case: every value would be infinitely deep",
                pointer=normalizer.cut_recursion[0],
            )
        raise UnsatisfiableSchemaError("no JSON value satisfies this schema")
    return node, tuple(normalizer.unenforced)


def integers_may_have_fraction(schema: Any) -> bool:
    """Whether ``1.0`` counts as an integer: from draft-06 on, not in draft-03/04."""
    dialect = schema.get("$schema", "") if isinstance(schema, dict) else ""
    return not (isinstance(dialect, str) and ("draft-03" in dialect or "draft-04" in dialect))


def _check_size(schema: Any, max_nodes: int) -> None:
    """Refuse documents too large or too deeply nested before anything recurses into them."""
    stack = [(schema, 1, "")]
    seen = 0
    while stack:
        value, depth, pointer = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise GrammarLimitError(
                f"the schema document holds more than {max_nodes} JSON values; raise "
                "max_schema_nodes or simplify it", limit="max_schema_nodes", reached=seen,
            )
        if depth > _MAX_JSON_DEPTH:
            raise GrammarLimitError(
                f"{pointer}: the schema document nests more than {_MAX_JSON_DEPTH} levels deep",
                limit="nesting", reached=depth,
            )
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise SchemaError("integer too large to write in JSON (over 4000 digits)",
                              pointer=pointer)
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{pointer}/{_escape(str(k))}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{pointer}/{i}") for i, v in enumerate(value))


def _check_metaschema(schema: Any, root: Any = None, prefix: str = "") -> None:
    """jsonschema's metaschema check (in ``root``'s dialect). Not under ``timeout_s``
    (jsonschema offers no hook): it is linear in the schema's size, about 0.4 ms per
    subschema, and bounded by ``max_schema_nodes``."""
    dialect = schema if root is None else root
    cls = jsonschema.validators.validator_for(dialect, default=jsonschema.Draft202012Validator)
    # No format checker: it would judge `pattern` by Python's `re`, not ECMA-262;
    # patterns get their own check when parsed.
    meta = cls(cls.META_SCHEMA)
    try:
        error = jsonschema.exceptions.best_match(meta.iter_errors(schema))
    except (RecursionError, ValueError) as exc:
        raise SchemaError(f"not a valid schema: {exc}") from None
    if error is not None:
        pointer = prefix + "".join(f"/{p}" for p in error.path)
        raise SchemaError(f"not a valid schema: {error.message}", pointer=pointer)


_OBJECTS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
            "dependentRequired")
_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "enum", "required")
_STRINGS = ("format", "pattern", "$anchor")
_COUNTS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
           "minContains", "maxContains")
_SCHEMAS = ("additionalProperties", "propertyNames", "additionalItems", "not", "contains",
            "if", "then", "else", "unevaluatedItems", "unevaluatedProperties")


def _check_types(schema: dict, pointer: str) -> None:
    """The types of the keywords the normalizer reads. The metaschema check covers them,
    except where it never looks: a `$ref` into an unknown keyword, or 2020-12 keywords
    (`$defs`, `prefixItems`) in a draft-04 document, whose metaschema does not know them."""

    def fail(keyword: str, expected: str) -> None:
        raise SchemaError(f"{keyword} must be {expected}, not {type(schema[keyword]).__name__}",
                          pointer=f"{pointer}/{_escape(keyword)}")

    for keyword in _OBJECTS:
        if keyword in schema and not isinstance(schema[keyword], dict):
            fail(keyword, "an object")
    for keyword in _LISTS:
        if keyword in schema and not isinstance(schema[keyword], list):
            fail(keyword, "an array")
    for keyword in _STRINGS:
        if keyword in schema and not isinstance(schema[keyword], str):
            fail(keyword, "a string")
    for keyword in _COUNTS:
        value = schema.get(keyword)
        if keyword in schema and not (
            (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer())
        ):
            fail(keyword, "a whole number")
    for keyword in (*_SCHEMAS, "items"):
        value = schema.get(keyword)
        if keyword in schema and not isinstance(value, (dict, bool)) and not (
            keyword == "items" and isinstance(value, list)
        ):
            fail(keyword, "a schema")
    if any(not isinstance(name, str) for name in schema.get("required", ())):
        fail("required", "an array of property names")
    types = schema.get("type")
    if types is not None and not isinstance(types, str) and not (
        isinstance(types, list) and all(isinstance(t, str) for t in types)
    ):
        fail("type", "a type name or an array of them")


_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
                "dependencies"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems", "items"}
_SCHEMA_VALUES = {"items", "additionalItems", "additionalProperties", "propertyNames",
                  "contains", "not", "if", "then", "else", "unevaluatedItems",
                  "unevaluatedProperties", "contentSchema", "dependencies"}


def _checked_by_metaschema(pointer: str) -> bool:
    """Whether the metaschema check of the root reached the subschema at ``pointer``: not
    when a `$ref` points into an unknown keyword's value (``#/x-extra/thing``)."""
    state = "schema"  # or "container" (a name or index comes next), or "either" (items)
    for part in pointer.split("/")[1:]:
        keyword = part in _SCHEMA_MAPS or part in _SCHEMA_LISTS or part in _SCHEMA_VALUES
        if state == "container" or (state == "either" and not keyword):
            state = "schema"
        elif part in _SCHEMA_MAPS or part in _SCHEMA_LISTS:
            state = "either" if part in _SCHEMA_VALUES else "container"
        elif part in _SCHEMA_VALUES:
            state = "schema"
        else:
            return False
    return state != "container"


_DIALECT = re.compile(
    r"^https?://json-schema\.org/(draft-0[3467]/schema|draft/20(19-09|20-12)/schema)#?$"
)


def _check_dialect(schema: Any) -> None:
    if not isinstance(schema, dict) or "$schema" not in schema:
        return
    dialect = schema["$schema"]
    if not isinstance(dialect, str):
        raise SchemaError("$schema must be a URI string", pointer="/$schema")
    if not _DIALECT.match(dialect):
        raise UnsupportedSchemaError(
            f"custom metaschema {dialect!r}: its vocabularies may change what keywords mean",
            pointer="/$schema", keyword="$schema",
            hint="use a standard draft's $schema URI",
        )


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _decimal(value: Any, pointer: str) -> Decimal:
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise SchemaError(f"expected a number, got {value!r}", pointer=pointer) from None
    if result.is_nan():
        raise SchemaError("NaN is not a valid bound", pointer=pointer)
    return result


class _Normalizer:
    def __init__(self, root: Any, options: NormalizeOptions, deadline: float | None) -> None:
        self.root = root
        self.options = options
        self.registry = Registry(root)
        self.unenforced: list[Unenforced] = []
        self.active: dict[int, int] = {}
        self.cut_recursion: list[str] = []
        self.nodes = 0
        self.depth = 0
        self.deadline = deadline
        dialect = root.get("$schema", "") if isinstance(root, dict) else ""
        dialect = dialect if isinstance(dialect, str) else ""
        self.legacy = any(d in dialect for d in ("draft-03", "draft-04", "draft-06", "draft-07"))
        self.validator = validator_for(root)
        # anyOf options standing for several options at once: id -> (schema, the options)
        self.together: dict[int, tuple[Any, tuple[Ref, ...]]] = {}
        # With options.calls: the $ref targets called as modules (id -> module, and each
        # module's target), and whether a target's values are objects or arrays only.
        self.called: dict[int, int] = {}
        self.call_targets: list[Ref] = []
        self.callable: dict[int, bool] = {}

    # -- bookkeeping ----------------------------------------------------------------
    def unsupported(self, pointer: str, keyword: str, reason: str) -> None:
        if self.options.strict:
            raise UnsupportedSchemaError(
                f"{keyword}: {reason}", pointer=pointer, keyword=keyword
            )
        self._note(Unenforced(pointer, keyword, reason))

    def _note(self, note: Unenforced) -> None:
        """Record ``note`` once: anyOf/oneOf options merge and build a source again."""
        if note not in self.unenforced:
            self.unenforced.append(note)

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise GrammarLimitError(
                f"compiling took longer than timeout_s={self.options.timeout_s}",
                limit="timeout_s", reached=float(self.options.timeout_s or 0),
            )

    def count(self, pointer: str) -> None:
        self.nodes += 1
        self.check_time()
        if self.nodes > self.options.max_nodes:
            raise GrammarLimitError(
                f"{pointer or '/'}: the schema expands to more than {self.options.max_nodes} "
                "nodes (deeply shared $refs multiply); raise max_schema_nodes or simplify",
                limit="max_schema_nodes",
                reached=self.nodes,
            )

    # -- flattening -----------------------------------------------------------------
    def flatten(self, ref: Ref) -> _Flat:
        flat = _Flat(pointer=ref[2])
        self._merge(flat, ref, depth=0)
        return flat

    def _merge(
        self, flat: _Flat, ref: Ref, depth: int, chain: frozenset[int] = frozenset()
    ) -> None:
        schema, base, pointer = ref
        if depth > 64:
            raise SchemaError("allOf/$ref chain nests more than 64 levels", pointer=pointer)
        if schema is True:
            return
        if schema is False:
            flat.never = True
            return
        if not isinstance(schema, dict):
            raise SchemaError("expected a schema (object or boolean)", pointer=pointer)
        base = self._base_in(schema, base, pointer)
        if "$ref" in schema:
            if not isinstance(schema["$ref"], str):  # draft-04's metaschema lets any type by
                raise SchemaError("$ref must be a string", pointer=f"{pointer}/$ref")
            target = self._target(schema["$ref"], base, pointer)
            key = id(target[0])
            if key in chain:
                raise SchemaError(
                    "$ref cycle that never reaches a schema: the schema refers to itself "
                    "with no keyword in between", pointer=f"{pointer}/$ref",
                )
            if self.active.get(key, 0) >= self.options.max_recursion_depth:
                self.cut_recursion.append(pointer)
                flat.never = True
                return
            flat.ref_keys.append(key)
            self._merge(flat, target, depth + 1, chain | {key})
            if self.legacy:
                return
        _check_types(schema, pointer)
        flat.sources.append((schema, base, pointer))
        for keyword in ("$dynamicRef", "$recursiveRef"):
            if keyword in schema:
                raise UnsupportedSchemaError(
                    f"{keyword} needs dynamic scopes", pointer=pointer, keyword=keyword
                )
        plans = self._plans(schema, base, pointer)
        flat.uneval += plans
        active = tuple(sorted({i for plan in plans for i in plan.any_of}))
        for i, sub in enumerate(schema.get("allOf", ())):
            self._merge(flat, (sub, base, f"{pointer}/allOf/{i}"), depth + 1, chain)
        for keyword, target in (("anyOf", flat.any_of), ("oneOf", flat.one_of)):
            if keyword in schema:
                group = [(s, base, f"{pointer}/{keyword}/{i}")
                         for i, s in enumerate(schema[keyword])]
                if keyword == "anyOf" and active:
                    group += self._any_of_sets(group, active)
                target.append(group)
        for keyword in schema:
            if keyword in _POST_VALIDATED:
                self._post_validated(flat, schema, keyword, (schema, base, pointer))
        self._merge_type(flat, schema, pointer)
        self._merge_numbers(flat, schema, pointer)
        self._merge_strings(flat, schema, pointer)
        self._merge_arrays(flat, schema, base, pointer)
        self._merge_objects(flat, schema, base, pointer)

    def _post_validated(self, flat: _Flat, schema: dict, keyword: str, owner: Ref) -> None:
        if keyword == "if" and "then" not in schema and "else" not in schema:
            return
        if keyword == "not" and schema["not"] is False:
            return
        if keyword == "not" and (allowed := _types_outside(schema["not"])) is not None:
            flat.types = allowed if flat.types is None else flat.types & allowed
            return
        if keyword == "not" and (pattern := _pattern_of(schema["not"])) is not None:
            flat.types = {"string"} if flat.types is None else flat.types & {"string"}
            flat.forbidden_patterns.append(pattern)
            return
        if keyword == "not" and (values := _values_of(schema["not"])) is not None:
            flat.not_values += [(v, f"{owner[2]}/not") for v in values]
            return
        if keyword == "if" and (group := self._if_as_union(schema, owner)) is not None:
            flat.any_of.append(group)
            return
        if keyword == "not" and (parts := _not_as_union(schema["not"])) is not None:
            flat.any_of.append([(part, owner[1], f"{owner[2]}/not") for part in parts])
            return
        if keyword in ("not", "if"):
            flat.conditions.append((keyword, owner))
        flat.deferred.append((f"{owner[2]}/{keyword}", keyword))

    def _merge_type(self, flat: _Flat, schema: dict, pointer: str) -> None:
        types = schema.get("type")
        if types is not None:
            new = {types} if isinstance(types, str) else set(types)
            if "number" in new:
                new.add("integer")
            if schema.get("nullable") is True:
                new.add("null")
            flat.types = new if flat.types is None else flat.types & new
        for keyword in ("enum", "const"):
            if keyword in schema:
                # OpenAPI 3.0.3: `nullable` does not add null to an `enum` that lacks it.
                values = list(schema[keyword]) if keyword == "enum" else [schema[keyword]]
                if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                    raise UnsupportedSchemaError(
                        f"{keyword} holds a non-finite number (NaN, or past the float range)",
                        pointer=f"{pointer}/{keyword}", keyword=keyword,
                        hint="write the value as a string or drop it",
                    )
                flat.enum = values if flat.enum is None else _intersect(flat.enum, values)

    def _merge_numbers(self, flat: _Flat, schema: dict, pointer: str) -> None:
        for keyword in ("minimum", "exclusiveMinimum"):
            value = schema.get(keyword)
            if value is None or isinstance(value, bool):
                continue
            bound = (_decimal(value, f"{pointer}/{keyword}"), keyword == "exclusiveMinimum")
            if keyword == "minimum" and schema.get("exclusiveMinimum") is True:
                bound = (bound[0], True)
            flat.minimum = _tighter(flat.minimum, bound, lower=True)
        for keyword in ("maximum", "exclusiveMaximum"):
            value = schema.get(keyword)
            if value is None or isinstance(value, bool):
                continue
            bound = (_decimal(value, f"{pointer}/{keyword}"), keyword == "exclusiveMaximum")
            if keyword == "maximum" and schema.get("exclusiveMaximum") is True:
                bound = (bound[0], True)
            flat.maximum = _tighter(flat.maximum, bound, lower=False)
        if "multipleOf" in schema:
            divisor = _decimal(schema["multipleOf"], f"{pointer}/multipleOf")
            if divisor.is_infinite():
                raise UnsupportedSchemaError(
                    "multipleOf past the float range", pointer=f"{pointer}/multipleOf",
                    keyword="multipleOf", hint="use a finite divisor",
                )
            flat.multiple_of.append(divisor)

    def _merge_strings(self, flat: _Flat, schema: dict, pointer: str) -> None:
        if "minLength" in schema:
            flat.min_length = max(flat.min_length, int(schema["minLength"]))
        if "maxLength" in schema:
            high = int(schema["maxLength"])
            flat.max_length = high if flat.max_length is None else min(flat.max_length, high)
        if "pattern" in schema:
            pattern = schema["pattern"]
            try:
                parse_ecma(pattern)
            except PatternError as exc:
                if not exc.unsupported:
                    raise SchemaError(f"pattern {pattern!r}: {exc}",
                                      pointer=f"{pointer}/pattern") from None
                if not self._lookaheads(flat, pattern):
                    self.unsupported(f"{pointer}/pattern", "pattern", f"{pattern!r}: {exc}")
            else:
                flat.patterns.append(pattern)
        if "format" in schema:
            name = schema["format"]
            if name in PARTIAL_FORMATS and self.options.unknown_formats == "error":
                self.unsupported(f"{pointer}/format", "format",
                                 f"{name!r} is enforced except {PARTIAL_FORMATS[name]}")
                flat.formats.append(name)
            elif name in FORMATS:
                if name in PARTIAL_FORMATS:
                    self.unenforced.append(Unenforced(
                        f"{pointer}/format", "format", f"{PARTIAL_FORMATS[name]} of {name!r}"
                    ))
                flat.formats.append(name)
            elif self.options.unknown_formats == "error" and name in STANDARD_FORMATS:
                self.unsupported(f"{pointer}/format", "format", f"format {name!r} is not enforced")
            else:
                self.unenforced.append(Unenforced(
                    f"{pointer}/format", "format", f"unknown format {name!r}",
                    post_validated=False,
                ))

    def _merge_arrays(self, flat: _Flat, schema: dict, base: str, pointer: str,
                      items_key: str = "items") -> None:
        """``items_key``: where the `items` subschema is (for pointers)."""
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        rest_key = "items"
        if isinstance(items, list):
            prefix, items, rest_key = items, schema.get("additionalItems"), "additionalItems"
        new_prefix = [
            (s, base, f"{pointer}/{'prefixItems' if rest_key == 'items' else 'items'}/{i}")
            for i, s in enumerate(prefix or ())
        ]
        if rest_key == "items":
            rest_key = items_key
        new_rest = None if items is None else (items, base, f"{pointer}/{rest_key}")
        if new_prefix or new_rest is not None:
            # Position i of the merged array must satisfy both sources at i.
            old_prefix, old_rest = flat.prefix, flat.items
            length = max(len(old_prefix), len(new_prefix))
            merged: list[list[Ref]] = []
            for i in range(length):
                at: list[Ref] = []
                if i < len(old_prefix):
                    at += old_prefix[i]
                elif old_rest is not None:
                    at += old_rest
                if i < len(new_prefix):
                    at.append(new_prefix[i])
                elif new_rest is not None:
                    at.append(new_rest)
                merged.append(at)
            flat.prefix = merged
            if new_rest is not None:
                flat.items = (old_rest or []) + [new_rest]
        if "minItems" in schema:
            flat.min_items = max(flat.min_items, int(schema["minItems"]))
        if "maxItems" in schema:
            high = int(schema["maxItems"])
            flat.max_items = high if flat.max_items is None else min(flat.max_items, high)
        if schema.get("uniqueItems") is True:
            flat.unique_items = True
        if "contains" in schema:
            self._merge_contains(flat, schema, base, pointer)

    def _merge_contains(self, flat: _Flat, schema: dict, base: str, pointer: str) -> None:
        """`contains` with the bounds beside it in the same schema (minContains 1 by default;
        before 2019-09 there are no bounds, and before draft-06 no `contains`)."""
        known = "contains" in type(self.validator).VALIDATORS
        bounded = known and not self.legacy  # (jsonschema checks the bounds in `contains`)
        for keyword, exists in (("contains", known), ("minContains", bounded),
                                ("maxContains", bounded)):
            if keyword in schema and not exists:
                self._note(Unenforced(f"{pointer}/{keyword}", keyword,
                                      "not a keyword of this document's draft",
                                      post_validated=False))
        if not known:
            return
        low = int(schema.get("minContains", 1)) if bounded else 1
        high = schema.get("maxContains") if bounded else None
        flat.contains.append(((schema["contains"], base, f"{pointer}/contains"), low,
                              None if high is None else int(high)))

    def _merge_objects(self, flat: _Flat, schema: dict, base: str, pointer: str,
                       extra_key: str = "additionalProperties") -> None:
        """``extra_key``: where the `additionalProperties` subschema is (for pointers)."""
        props = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        extra = schema.get("additionalProperties")
        extra_ref = None if extra is None else (extra, base, f"{pointer}/{extra_key}")
        pattern_refs = {
            p: (s, base, f"{pointer}/patternProperties/{_escape(p)}") for p, s in patterns.items()
        }
        for p in patterns:
            try:
                parse_ecma(p)
            except PatternError as exc:
                if not exc.unsupported:
                    raise SchemaError(f"pattern {p!r}: {exc}",
                                      pointer=f"{pointer}/patternProperties") from None
                raise UnsupportedSchemaError(
                    f"patternProperties {p!r}: {exc}", pointer=f"{pointer}/patternProperties",
                    keyword="patternProperties",
                ) from None
        names = frozenset(props)
        if props or patterns or extra_ref is not None:
            # Known names not declared here fall under this source's patterns/additional.
            for name, refs in flat.props.items():
                if name not in names:
                    refs.extend(_applicable(name, pattern_refs, extra_ref))
            for name, sub in props.items():
                if name not in flat.props:
                    flat.props[name] = [
                        r for source_names, source_patterns, source_extra in flat.object_sources
                        if name not in source_names
                        for r in _applicable(name, source_patterns, source_extra)
                    ]
                flat.props[name].append((sub, base, f"{pointer}/properties/{_escape(name)}"))
                flat.props[name].extend(
                    r for p, r in pattern_refs.items() if _search(p, name)
                )
            flat.object_sources.append((names, pattern_refs, extra_ref))
        for name in schema.get("required", ()):
            flat.required[name] = None
        if "propertyNames" in schema:
            flat.property_names.append((schema["propertyNames"], base, f"{pointer}/propertyNames"))
        if "minProperties" in schema:
            flat.min_properties = max(flat.min_properties, int(schema["minProperties"]))
        if "maxProperties" in schema:
            high = int(schema["maxProperties"])
            flat.max_properties = high if flat.max_properties is None else min(
                flat.max_properties, high
            )
        for keyword in _DEPENDENCY_KEYWORDS:
            if keyword in schema:
                self._merge_dependencies(flat, keyword, schema[keyword], base, pointer)

    def _merge_dependencies(
        self, flat: _Flat, keyword: str, value: Any, base: str, pointer: str
    ) -> None:
        """Dependencies as the document's dialect defines them: `dependencies` before
        2019-09, `dependentRequired`/`dependentSchemas` from then on."""
        if keyword not in type(self.validator).VALIDATORS:
            self._note(Unenforced(f"{pointer}/{keyword}", keyword,
                                  "not a keyword of this document's draft", post_validated=False))
            return
        if not isinstance(value, dict):
            raise SchemaError(f"{keyword} must be an object", pointer=f"{pointer}/{keyword}")
        for name, needs in value.items():
            at = f"{pointer}/{keyword}/{_escape(name)}"
            if keyword != "dependentSchemas" and isinstance(needs, (list, str)):
                names = [needs] if isinstance(needs, str) else needs
                if not all(isinstance(n, str) for n in names):
                    raise SchemaError(f"{keyword} must list property names", pointer=at)
                flat.dependent_required.append((name, list(names)))
            elif keyword != "dependentRequired":
                flat.dependent_schemas.append((name, keyword, (needs, base, at)))
            else:
                raise SchemaError(f"{keyword} must list property names", pointer=at)

    # -- unevaluatedProperties, unevaluatedItems -------------------------------------
    def _plans(self, schema: dict, base: str, pointer: str) -> list[_Plan]:
        """The plans of the schema's unevaluatedProperties/Items (see :meth:`_unevaluated`);
        none, reported, when their anyOf options to combine are too many together."""
        plans = [plan for keyword in _UNEVALUATED if keyword in schema
                 and (plan := self._unevaluated(schema, keyword, base, pointer)) is not None]
        active = {i for plan in plans for i in plan.any_of}
        if len(active) <= _MAX_EVALUATING_OPTIONS:
            return plans
        for plan in plans:
            self.unsupported(plan.value[2], plan.keyword, f"{len(active)} anyOf options "
                             f"evaluate more (at most {_MAX_EVALUATING_OPTIONS})")
        return []

    def _unevaluated(self, schema: dict, keyword: str, base: str, pointer: str
                     ) -> _Plan | None:
        """How the schema's ``keyword`` is enforced; None where it always holds or,
        reported, where what it judges is not known once options are chosen."""
        at = f"{pointer}/{keyword}"
        known = type(self.validator).VALIDATORS
        if self.legacy or keyword not in known:
            self._note(Unenforced(at, keyword, "not a keyword of this document's draft",
                                  post_validated=False))
            return None
        if schema[keyword] is True:
            return None
        plan: _Plan | str = "2019-09 arrays (`items` lists, `additionalItems`) are not read"
        if keyword == "unevaluatedProperties" or "prefixItems" in known:
            plan = self._plan(schema, keyword, (schema[keyword], base, at), pointer)
        if isinstance(plan, str):
            self.unsupported(at, keyword, plan)
            return None
        return plan

    def _plan(self, schema: dict, keyword: str, value: Ref, pointer: str) -> _Plan | str:
        """What ``schema`` always evaluates, and what each option of its own
        `anyOf`/`oneOf`/`if` adds; or why what it evaluates is not static per option."""
        base = value[1]
        scope = evaluated((schema, base, pointer), keyword, self._resolve, own=True)
        if isinstance(scope, str):
            return scope
        always = scope.always
        if not always.covers(always | scope.maybe, _search):
            return _RUN_TIME[keyword]
        groups: list[dict[str, Evaluated]] = []
        split: set[str] = set()
        any_of: tuple[int, ...] = ()
        for group in ("anyOf", "oneOf"):
            options: dict[str, Evaluated] = {}
            for i, sub in enumerate(schema.get(group, ())):
                added = self._adds(always, keyword, (sub, base, f"{pointer}/{group}/{i}"))
                if isinstance(added, str):
                    return added
                options[f"{pointer}/{group}/{i}"] = added
            active = tuple(i for i, e in enumerate(options.values())
                           if not always.covers(e, _search))
            if not active:
                continue
            if group == "anyOf":  # (how many: see _plans)
                any_of = active
            groups.append(options)
            split.add(f"{pointer}/{group}")
        if "if" in schema:
            branch = self._if_branches(schema, keyword, always, base, pointer)
            if isinstance(branch, str):
                return branch
            if branch is not None:
                groups.append(branch)
        return _Plan(keyword, value, always, tuple(groups), frozenset(split), any_of)

    def _if_branches(self, schema: dict, keyword: str, always: Evaluated, base: str,
                     pointer: str) -> dict[str, Evaluated] | str | None:
        """What `if` with `then` adds, and what `else` adds (None: nothing new). When `if`
        validates its own names count, so the two must be options apart."""
        added: dict[str, Evaluated] = {}
        for k in ("if", "then", "else"):
            found = self._adds(always, keyword, (schema.get(k, True), base, f"{pointer}/{k}"))
            if isinstance(found, str):
                return found
            added[k] = found
        then, otherwise = added["if"] | added["then"], added["else"]
        if always.covers(then, _search) and always.covers(otherwise, _search):
            return None
        if ("then" not in schema and "else" not in schema) or self._if_as_union(
            schema, (schema, base, pointer)
        ) is None:
            return ("`if` evaluates more when it validates, and is not split into "
                    "options here (only an `if` on one property's `const`/`enum` is)")
        return {f"{pointer}/then": then, f"{pointer}/else": otherwise}

    def _adds(self, always: Evaluated, keyword: str, ref: Ref) -> Evaluated | str:
        """What an option evaluates when it validates, or why that is not static."""
        scope = evaluated(ref, keyword, self._resolve)
        if isinstance(scope, str):
            return scope
        whole = always | scope.always
        if not whole.covers(whole | scope.maybe, _search):
            return f"{ref[2]}: {_RUN_TIME[keyword]}"
        return scope.always

    def _resolve(self, ref: str, base: str, pointer: str) -> Ref:
        return self.registry.resolve(ref, base, pointer)

    def _any_of_sets(self, group: list[Ref], active: tuple[int, ...]) -> list[Ref]:
        """An option for each set of two or more ``active`` options (those evaluating more)
        validating together: there what each evaluates counts. Exact, though a value may
        match several such options: one with fewer options leaves more to the keyword, so
        it never allows more."""
        extra = []
        for chosen in subsets(len(active)):
            parts = tuple(group[active[i]] for i in chosen)
            schema = {"allOf": [part[0] for part in parts]}
            self.together[id(schema)] = (schema, parts)
            extra.append((schema, parts[0][1], parts[0][2]))
        return extra

    def _parts(self, ref: Ref) -> tuple[Ref, ...]:
        """The options ``ref`` stands for (see :meth:`_any_of_sets`), with their pointers."""
        entry = self.together.get(id(ref[0]))
        return entry[1] if entry is not None and entry[0] is ref[0] else (ref,)

    def _settle(self, flat: _Flat, plans: list[_Plan], choice: tuple[Ref, ...]) -> None:
        """Merge into ``flat`` the rule each plan's keyword sets for the names (items)
        left: those its schema, with the options in ``choice``, did not evaluate."""
        chosen = {part[2] for ref in choice for part in self._parts(ref)}
        for plan in plans:
            done = plan.always
            for options in plan.groups:
                picked = [added for at, added in options.items() if at in chosen]
                if not picked:
                    self.unsupported(plan.value[2], plan.keyword,
                                     "its anyOf/oneOf/if is enforced here as a presence rule, "
                                     "not option by option")
                    break
                for added in picked:
                    done = done | added
            else:
                rest = rest_schema(done, plan.keyword, plan.value[0])
                if rest is not None:
                    holder = plan.value[2].rsplit("/", 1)[0]
                    flat.sources.append((rest, plan.value[1], holder))
                    if plan.keyword == "unevaluatedItems":
                        self._merge_arrays(flat, rest, plan.value[1], holder,
                                           items_key=plan.keyword)
                    else:
                        self._merge_objects(flat, rest, plan.value[1], holder,
                                            extra_key=plan.keyword)

    # -- IR construction ------------------------------------------------------------
    def node(self, ref: Ref) -> ir.Node:
        self.count(ref[2])
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                raise GrammarLimitError(
                    f"{ref[2] or '/'}: schemas nest more than {_MAX_DEPTH} levels deep",
                    limit="nesting", reached=self.depth,
                )
            return self._node(ref)
        finally:
            self.depth -= 1

    def _node(self, ref: Ref) -> ir.Node:
        flat = self.flatten(ref)
        if flat.never:
            return ir.Never()
        # Keep every $ref this schema went through active while its children are built,
        # so recursion unrolls to max_recursion_depth and then stops.
        for key in flat.ref_keys:
            self.active[key] = self.active.get(key, 0) + 1
        try:
            return self._combined(flat)
        finally:
            for key in flat.ref_keys:
                self.active[key] -= 1

    def _combined(self, flat: _Flat) -> ir.Node:
        # allOf often repeats a group (traits merged many times): A and A is A.
        flat.any_of, flat.one_of = _distinct(flat.any_of), _distinct(flat.one_of)
        if flat.enum is None:
            self._dependencies_as_unions(flat)
        return self._combine_groups(flat)

    def _combine_groups(self, flat: _Flat) -> ir.Node:
        kept = set() if flat.enum is not None else {p for p, _, _ in self._presence(flat)}
        groups = [(g, False) for g in flat.any_of if _group_pointer(g) not in kept]
        groups += [(g, True) for g in flat.one_of if _group_pointer(g) not in kept]
        if not groups or flat.enum is not None:
            # A finite enum is filtered by validating each value against every source,
            # anyOf/oneOf and unevaluated* included: exact, whatever the options.
            if flat.enum is None:
                self._settle(flat, flat.uneval, ())
            return self._typed(flat)
        shared: set[str] = set()
        for group, exclusive in groups:
            if exclusive:
                shared |= self._shared_types(flat, group)
        if shared:  # exactly-one fails on every value of these types: leave them out
            left = sorted((set(_TYPES) if flat.types is None else flat.types) - shared)
            if not left:
                return ir.Never()
            flat.sources.append(({"type": left}, "", flat.pointer))
            flat.types = set(left)
        combos = 1
        for group, _ in groups:
            combos *= max(len(group), 1)
        if combos > _MAX_UNION:
            raise GrammarLimitError(
                f"{flat.pointer or '/'}: anyOf/oneOf combinations exceed {_MAX_UNION}",
                limit="union_size", reached=combos,
            )
        built: list[tuple[tuple[int, ...], ir.Node]] = []
        for indices in product(*(range(len(g)) for g, _ in groups)):
            choice = tuple(g[i] for (g, _), i in zip(groups, indices, strict=True))
            option = self._option(flat, choice, kept)
            if option.never:
                continue
            nested = any(_group_pointer(g) not in kept for g in option.any_of + option.one_of)
            # Nested options rebuild the chosen schemas, their unevaluated* too.
            self._settle(option, flat.uneval + ([] if nested else option.uneval), choice)
            fresh = [k for k in option.ref_keys if k not in flat.ref_keys]
            for key in fresh:
                self.active[key] = self.active.get(key, 0) + 1
            try:
                if nested:
                    built.append((indices, self.node((
                        {"allOf": [s[0] for s in option.sources]}, choice[0][1], flat.pointer
                    ))))
                else:
                    built.append((indices, self._typed(option)))
            finally:
                for key in fresh:
                    self.active[key] -= 1
        for position, (group, exclusive) in enumerate(groups):
            if not exclusive or len(group) < 2:
                continue
            overlap = self._overlap(flat, group, position, built)
            if overlap is None:
                continue
            rewritten = _exactly_one(group)
            if rewritten is not None:  # each option with the others negated: an anyOf
                flat.one_of = [g for g in flat.one_of if g is not group]
                flat.any_of = [*flat.any_of, rewritten]
                return self._combine_groups(flat)
            self.unsupported(
                f"{flat.pointer}/oneOf", "oneOf",
                f"options {overlap[0]} and {overlap[1]} may overlap, so exactly-one cannot "
                "be enforced",
            )
        return ir.union([node for _, node in built])

    def _option(self, flat: _Flat, choice: tuple[Ref, ...], kept: set[str]) -> _Flat:
        """``flat``'s own keywords with one option of each group merged in. allOf members'
        anyOf/oneOf were collected in ``flat``; its sources carry their other keywords,
        and the groups in ``kept`` (presence rules, which each option enforces)."""
        option = _Flat(pointer=flat.pointer)
        for source in flat.sources:
            stripped = {k: _without(v, flat.converted) if k in _DEPENDENCY_KEYWORDS else v
                        for k, v in source[0].items()
                        if (k not in ("anyOf", "oneOf", "allOf", "$ref", *_UNEVALUATED)
                            or f"{source[2]}/{k}" in kept)
                        and not (k == "if" and self._if_as_union(source[0], source) is not None)
                        and not (k == "not" and _not_as_union(source[0]["not"]) is not None)}
            self._merge(option, (stripped, source[1], source[2]), depth=0)
        for sub in choice:
            for part in self._parts(sub):
                self._merge(option, part, depth=0)
        return option

    def _if_as_union(self, schema: dict, owner: Ref) -> list[Ref] | None:
        """:func:`_if_as_union`, with an ``if`` that is only a local ``$ref`` followed."""
        cond = schema["if"]
        if isinstance(cond, dict) and set(cond) == {"$ref"} and isinstance(cond["$ref"], str):
            try:
                target = self.registry.resolve(cond["$ref"], owner[1], f"{owner[2]}/if/$ref")
            except UnsupportedSchemaError:
                return None
            if target[1] != owner[1]:  # another resource: its own refs would break here
                return None
            schema = {**schema, "if": target[0]}
        return _if_as_union(schema, owner)

    def _dependencies_as_unions(self, flat: _Flat) -> None:
        """Dependent schemas that ask more than which names are present, as ``anyOf``
        groups: the name present and the schema, or the name absent, or no object. The
        options then leave them out (see :meth:`_option`)."""
        for name, _, (schema, base, pointer) in flat.dependent_schemas:
            key = _dependency_key(name, schema)
            # allOf may repeat one dependency: one group enforces it.
            if key in flat.converted or not isinstance(schema, dict):
                continue
            if self._dependency_is_presence(flat, schema, base, pointer):
                continue
            flat.converted.add(key)
            present = (_with_all_of(schema, {"required": [name]}), base, pointer)
            flat.any_of.append([present, ({"properties": {name: False}}, base, pointer),
                                ({"not": {"type": "object"}}, base, pointer)])

    def _dependency_is_presence(self, flat: _Flat, schema: dict, base: str, pointer: str
                                ) -> bool:
        """Whether the object enforces the dependent schema itself (see
        :meth:`_dependent_schema`): `required`, and `properties` that restate."""
        if any(k in KEYWORDS and k not in _DEPENDENT_SCHEMA_KEYS for k in schema):
            return False
        for name, sub in schema.get("properties", {}).items():
            at = f"{pointer}/properties/{_escape(name)}"
            refs = flat.props.get(name) or self._undeclared(flat, name)
            if self._subnode(refs, at) != self._subnode([*refs, (sub, base, at)], at):
                return False
        return True

    def _shared_types(self, flat: _Flat, group: list[Ref]) -> set[str]:
        """Types of which two options of a ``oneOf`` accept every value ``flat`` allows
        (options without ``type`` that constrain other types): no such value passes.
        Worked out as JSON Schema reads the options (`spec_faithful`), and only where at
        least two options name no type (else nothing is shared)."""
        untyped = [ref for ref in group if isinstance(ref[0], dict) and not (
            {"type", "enum", "const", "$ref"} & ref[0].keys())]
        if len(untyped) < 2:
            return set()
        saved = self.options
        self.options = replace(saved, spec_faithful=True, strict=True)
        shared: set[str] = set()
        try:
            for kind in ("null", "boolean", "number", "string", "array", "object"):
                universe = self._within(flat, ({"type": kind}, "", flat.pointer))
                if isinstance(universe, ir.Never):
                    continue
                full = 0
                for ref in group:
                    try:
                        node = self._within(flat, ({"allOf": [ref[0], {"type": kind}]},
                                                   ref[1], ref[2]))
                    except UnsupportedSchemaError:
                        continue
                    full += node == universe
                if full >= 2:
                    shared |= {kind, "integer"} if kind == "number" else {kind}
        except UnsupportedSchemaError:
            return set()
        finally:
            self.options = saved
        return shared

    def _within(self, flat: _Flat, ref: Ref) -> ir.Node:
        """Option ``ref`` with the object's own keywords (its other groups left out: they
        only narrow it)."""
        option = self._option(flat, (ref,), set())
        if option.never:
            return ir.Never()
        fresh = [k for k in option.ref_keys if k not in flat.ref_keys]
        for key in fresh:
            self.active[key] = self.active.get(key, 0) + 1
        try:
            if option.any_of or option.one_of:
                return self.node(({"allOf": [s[0] for s in option.sources]}, ref[1],
                                  flat.pointer))
            self._settle(option, option.uneval, ())
            return self._typed(option)
        finally:
            for key in fresh:
                self.active[key] -= 1

    def _overlap(
        self, flat: _Flat, group: list[Ref], position: int,
        built: list[tuple[tuple[int, ...], ir.Node]],
    ) -> tuple[int, int] | None:
        """Two options that may overlap; None when exactly-one holds because nothing a
        built option writes meets another option of the group. The other side is built as
        JSON Schema reads it (`spec_faithful`: undeclared names allowed, no inferred
        types), so that values the default grammar leaves out (an option alone would leave
        out the object's other names) hide no overlap."""
        saved = self.options
        self.options = replace(saved, spec_faithful=True)
        try:
            wide = [self._within(flat, ref) for ref in group]
        finally:
            self.options = saved
        for indices, node in built:
            i = indices[position]
            for j, other in enumerate(wide):
                if j != i and not _disjoint(node, other):
                    return min(i, j), max(i, j)
        return None

    def _typed(self, flat: _Flat) -> ir.Node:
        types = set(_TYPES) if flat.types is None else set(flat.types)
        if flat.types is None and not self.options.spec_faithful:
            inferred = _infer_types(flat)
            if inferred:
                types = inferred
        if flat.enum is not None:
            return self._enum(flat, types)
        presence = self._presence(flat)
        handled = {pointer for pointer, _, _ in presence}
        for pointer, keyword in flat.deferred:
            if pointer not in handled:
                self.unsupported(pointer, keyword, "not expressible in the grammar")
        for group, keyword in [(g, "anyOf") for g in flat.any_of] + [(g, "oneOf") for g in
                                                                     flat.one_of]:
            if _group_pointer(group) not in handled:  # a presence rule in the parent only
                self.unsupported(_group_pointer(group), keyword,
                                 "options are not presence rules here")
        if presence and not _holds(("all", tuple(f for _, _, f in presence)), None):
            types &= {"object"}
        options: list[ir.Node] = []
        ruled_out = self._ruled_out(flat, types)
        if "null" in types and None not in ruled_out:
            options.append(ir.Literal.of([None]))
        if "boolean" in types and (left := [b for b in (True, False) if b not in ruled_out]):
            options.append(ir.Literal.of(left))
        if "number" in types:
            options.append(self._number(flat))
        elif "integer" in types:
            options.append(self._integer(flat))
        if "string" in types:
            options.append(self._string(flat, tuple(v for v in ruled_out if isinstance(v, str))))
        if "array" in types:
            options.append(self._array(flat))
        if "object" in types:
            options.append(self._object(flat, presence))
        return ir.union(options)

    def _enum(self, flat: _Flat, types: set[str]) -> ir.Node:
        assert flat.enum is not None
        keep = []
        # The enums were intersected when merged: checking each value against them again
        # would cost len(enum) squared.
        sources = [
            ({k: v for k, v in s.items() if k not in ("enum", "const")}, base, pointer)
            if isinstance(s, dict) else (s, base, pointer)
            for s, base, pointer in flat.sources
        ]
        for i, value in enumerate(flat.enum):
            if i % 256 == 255:
                self.check_time()
            if not _has_type(value, types):
                continue
            if all(self._valid(value, source) for source in sources):
                keep.append(value)
        return ir.Literal.of(keep) if keep else ir.Never()

    def _valid(self, value: Any, source: Ref) -> bool:
        try:
            return self.validator.evolve(schema=source[0]).is_valid(value)
        except Exception as exc:  # e.g. a $ref the validator cannot resolve
            self.unsupported(source[2], "enum", f"cannot check {value!r} here: {exc}")
            return True

    def _integer(self, flat: _Flat) -> ir.Node:
        low = high = None
        if flat.minimum is not None:
            value, exclusive = flat.minimum
            if value.is_infinite():
                if value > 0:
                    return ir.Never()
            else:
                low = math.floor(value) + 1 if exclusive else math.ceil(value)
        if flat.maximum is not None:
            value, exclusive = flat.maximum
            if value.is_infinite():
                if value < 0:
                    return ir.Never()
            else:
                high = math.ceil(value) - 1 if exclusive else math.floor(value)
        if low is not None and high is not None and low > high:
            return ir.Never()
        divisor = self._divisor(flat)
        # An integer n is a multiple of p/q (lowest terms) iff p divides n.
        multiple = None if divisor is None else divisor.numerator
        if divisor is not None and divisor.denominator > 1 and (
            divisor.numerator > _MAX_FRACTIONAL_MULTIPLE
        ):
            self.unsupported(f"{flat.pointer}/multipleOf", "multipleOf",
                             f"fractional divisor of integers needs {divisor.numerator} "
                             f"remainders (at most {_MAX_FRACTIONAL_MULTIPLE})")
            multiple = None
        if multiple == 1:
            multiple = None
        return ir.IntegerNode(low, high, multiple)

    def _divisor(self, flat: _Flat) -> Fraction | None:
        """The least common multiple of every ``multipleOf`` (exact rationals), or None."""
        lcm: Fraction | None = None
        for divisor in flat.multiple_of:
            if divisor <= 0:
                raise SchemaError("multipleOf must be positive", pointer=flat.pointer)
            d = Fraction(divisor)
            if lcm is None:
                lcm = d
            else:
                lcm = Fraction(math.lcm(lcm.numerator, d.numerator),
                               math.gcd(lcm.denominator, d.denominator))
        return lcm

    def _number(self, flat: _Flat) -> ir.Node:
        divisor = self._divisor(flat)
        multiple = None
        if divisor is not None:
            # divisor = m * 10**-k: denominators of decimals divide a power of ten.
            k = 0
            while (10**k) % divisor.denominator:
                k += 1
            m = divisor.numerator * 10**k // divisor.denominator
            if k and m > _MAX_FRACTIONAL_MULTIPLE:
                self.unsupported(f"{flat.pointer}/multipleOf", "multipleOf",
                                 f"divisor {Decimal(m).scaleb(-k)} needs {m} remainders "
                                 f"(at most {_MAX_FRACTIONAL_MULTIPLE})")
            else:
                multiple = Decimal(m).scaleb(-k) if k else Decimal(m)
        low = flat.minimum
        high = flat.maximum
        if low is not None and low[0].is_infinite():
            if low[0] > 0:
                return ir.Never()
            low = None
        if high is not None and high[0].is_infinite():
            if high[0] < 0:
                return ir.Never()
            high = None
        if (
            low is not None and high is not None
            and (low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1])))
        ):
            return ir.Never()
        return ir.NumberNode(
            minimum=low[0] if low else None,
            maximum=high[0] if high else None,
            exclusive_minimum=bool(low and low[1]),
            exclusive_maximum=bool(high and high[1]),
            multiple_of=multiple,
        )

    def _string(self, flat: _Flat, excluded: tuple[str, ...] = ()) -> ir.Node:
        if flat.max_length is not None and flat.max_length < flat.min_length:
            return ir.Never()
        return ir.StringNode(
            min_length=flat.min_length,
            max_length=flat.max_length,
            patterns=tuple(dict.fromkeys(flat.patterns)),
            formats=tuple(dict.fromkeys(flat.formats)),
            excluded=tuple(sorted(set(excluded))),
            forbidden_patterns=tuple(dict.fromkeys(flat.forbidden_patterns)),
            pointer=flat.pointer,
        )

    def _ruled_out(self, flat: _Flat, types: set[str]) -> list[Any]:
        """The values `not` rules out where the grammar can leave them out: null, booleans
        and strings; a number, array or object of an allowed type is unsupported."""
        found = []
        for value, pointer in flat.not_values:
            if isinstance(value, (str, bool)) or value is None:
                found.append(value)
            elif _has_type(value, types):
                self.unsupported(pointer, "not", f"cannot leave out the value {value!r}")
        return found

    def _subnode(self, refs: list[Ref], pointer: str) -> ir.Node:
        if not refs:
            return ir.AnyValue(self.options.any_value_depth)
        if len(refs) == 1:
            call = self._call(refs[0]) if self.options.calls else None
            return call if call is not None else self.node(refs[0])
        return self.node(({"allOf": [r[0] for r in refs]}, refs[0][1], pointer))

    # -- modules --------------------------------------------------------------------
    def _call(self, ref: Ref) -> ir.Call | None:
        """``ref`` as a call of its target's module, if it is only a ``$ref`` (annotations
        aside) to a schema whose values are objects or arrays."""
        schema, base, pointer = ref
        if not isinstance(schema, dict) or not isinstance(schema.get("$ref"), str):
            return None
        if not self.legacy and any(k != "$ref" and k not in _ANNOTATIONS for k in schema):
            return None
        target = self._target(schema["$ref"], self._base_in(schema, base, pointer), pointer)
        key = id(target[0])
        if key not in self.callable:
            self.callable[key] = self._self_delimiting(target)
        if not self.callable[key]:
            return None
        if key not in self.called:
            self.called[key] = len(self.call_targets)
            self.call_targets.append(target)
        return ir.Call(self.called[key])

    def _base_in(self, schema: dict, base: str, pointer: str) -> str:
        """The base URI inside ``schema``: its own ``$id`` (not at the root, and not in
        legacy drafts, where ``$id`` beside ``$ref`` is ignored) against ``base``."""
        ident = schema.get("$id")
        if isinstance(ident, str) and pointer and not self.legacy:
            return urldefrag(urljoin(base, ident))[0]
        return base

    def _target(self, ref: str, base: str, pointer: str) -> Ref:
        """What the ``$ref`` at ``pointer`` names, checked against the metaschema once."""
        target = self.registry.resolve(ref, base, f"{pointer}/$ref")
        if isinstance(target[0], dict) and not _checked_by_metaschema(target[2]):
            _check_metaschema(target[0], self.root, target[2])
        return target

    def _self_delimiting(self, target: Ref) -> bool:
        """Whether ``target`` only admits objects and arrays (by its ``type``)."""
        if not isinstance(target[0], dict):
            return False
        active, self.active = self.active, {}
        cut = len(self.cut_recursion)
        try:
            flat = self.flatten(target)
        finally:
            self.active = active
            del self.cut_recursion[cut:]
        return not flat.never and flat.types is not None and flat.types <= {"object", "array"}

    def modules(self) -> tuple[ir.Node, ...]:
        """Normalize every called target once (calls found meanwhile join the queue)."""
        nodes: list[ir.Node] = []
        while len(nodes) < len(self.call_targets):
            nodes.append(self.node(self.call_targets[len(nodes)]))
        return tuple(nodes)

    @staticmethod
    def _lookaheads(flat: _Flat, pattern: str) -> bool:
        """Whether ``pattern`` opens with lookaheads that plain patterns can stand for
        (and are recorded so): ``^(?!X)R`` is ``^R`` but no string starting with ``X``."""
        parts = leading_lookaheads(pattern)
        if parts is None:
            return False
        try:
            for part in (parts.rest, *parts.required, *parts.forbidden):
                parse_ecma(part)
        except PatternError:
            return False
        flat.patterns += [parts.rest, *parts.required]
        flat.forbidden_patterns += parts.forbidden
        return True

    def _array(self, flat: _Flat) -> ir.Node:
        prefix = tuple(
            self._subnode(refs, f"{flat.pointer}/prefixItems/{i}")
            for i, refs in enumerate(flat.prefix)
        )
        items: ir.Node
        if flat.items is None:
            items = ir.AnyValue(self.options.any_value_depth)
        else:
            items = self._subnode(flat.items, f"{flat.pointer}/items")
        node = ir.ArrayNode(prefix, items, flat.min_items, flat.max_items)
        if flat.contains:
            counted = self._contains(flat, node)
            if counted is None:
                return ir.Never()
            node = counted
        if node.max_items is not None and node.min_items > node.max_items:
            return ir.Never()
        if flat.unique_items and self._unique_enforceable(node, flat.pointer):
            if node.contains:
                self.unsupported(f"{flat.pointer}/contains", "contains",
                                 "not counted in an array that also keeps uniqueItems")
            return replace(node, unique=True, contains=())
        return node

    def _contains(self, flat: _Flat, node: ir.ArrayNode) -> ir.ArrayNode | None:
        """``node`` counting the items each `contains` matches (None: no array is valid).
        A schema every item matches bounds the number of items instead; one no item
        matches leaves arrays valid only where minContains is 0."""
        counts: dict[ir.Node, tuple[int, int | None]] = {}
        min_items, max_items = node.min_items, node.max_items
        positions = _positions(node)
        for ref, low, high in flat.contains:
            if high is not None and low > high:
                return None
            if low == 0 and high is None:
                continue  # always holds
            matched = self._contains_node(ref)
            if matched is None:
                continue
            if isinstance(matched, ir.Never):
                if low > 0:
                    return None
                continue
            if matched == self._everything(ref):
                min_items, max_items = max(min_items, low), _least(max_items, high)
                continue
            gap = spelling_gap(matched, positions)
            if gap is not None:
                self.unsupported(ref[2], "contains", f"cannot count matching items: {gap}")
                continue
            before = counts.get(matched)
            if before is not None:  # the same schema twice (allOf): both bounds hold
                low, high = max(low, before[0]), _least(high, before[1])
                if high is not None and low > high:
                    return None
            elif len(counts) == _MAX_CONTAINS:
                self.unsupported(ref[2], "contains",
                                 f"an array counts at most {_MAX_CONTAINS} distinct `contains`")
                continue
            counts[matched] = (low, high)
        return replace(node, min_items=min_items, max_items=max_items, contains=tuple(
            ir.Contains(matched, low, high) for matched, (low, high) in counts.items()
        ))

    def _contains_node(self, ref: Ref) -> ir.Node | None:
        """The `contains` schema as JSON Schema reads it (`spec_faithful`): what it matches
        must not be narrowed. None (reported) where the grammar cannot enforce it exactly."""
        saved, cut = self.options, len(self.cut_recursion)
        self.options = replace(saved, spec_faithful=True, strict=True)
        try:
            node: ir.Node | None = self.node(ref)
        except UnsupportedSchemaError as exc:
            if saved.strict:
                raise
            node, why = None, f"its schema is not enforced exactly ({exc})"
        finally:
            self.options = saved
        if node is not None and len(self.cut_recursion) > cut:
            node, why = None, ("a recursive $ref in it is cut at max_recursion_depth, so "
                               "deeper items it matches would be miscounted")
        if node is None:
            self.unsupported(ref[2], "contains", why)
        return node

    def _everything(self, ref: Ref) -> ir.Node:
        """The node of the schema `true`, read as :meth:`_contains_node` reads schemas."""
        saved = self.options
        self.options = replace(saved, spec_faithful=True, strict=True)
        try:
            return self.node((True, ref[1], ref[2]))
        finally:
            self.options = saved

    def _unique_enforceable(self, node: ir.ArrayNode, pointer: str) -> bool:
        """Whether uniqueItems needs tracking and can be tracked: items drawn from a few
        literal values. Reports it unsupported otherwise."""
        limit = node.max_items
        if isinstance(node.items, ir.Never):
            limit = len(node.prefix) if limit is None else min(limit, len(node.prefix))
        if limit is not None and limit <= 1:
            return False  # at most one item: always unique
        positions = list(node.prefix[:limit])
        if limit is None or limit > len(node.prefix):
            positions.append(node.items)
        if replace(node, unique=True).tracked:
            if node.min_items <= 1:
                return True  # told apart at run time (automata.unique)
            self.unsupported(f"{pointer}/uniqueItems", "uniqueItems",
                             "string items told apart at run time need minItems of at most 1")
            return False
        values: set[Any] = set()
        for position in positions:
            options = position.options if isinstance(position, ir.Union) else (position,)
            for option in options:
                if not isinstance(option, (ir.Literal, ir.Never)):
                    self.unsupported(f"{pointer}/uniqueItems", "uniqueItems",
                                     "items are neither strings nor drawn from a finite "
                                     "set of values")
                    return False
                if isinstance(option, ir.Literal):
                    values |= {ir.value_key(v) for v in option.values}
        if len(values) > ir.MAX_SPELLED_UNIQUE:
            self.unsupported(f"{pointer}/uniqueItems", "uniqueItems",
                             f"{len(values)} possible item values (at most "
                             f"{ir.MAX_SPELLED_UNIQUE} are tracked)")
            return False
        return True

    def _object(self, flat: _Flat, presence: list[tuple[str, str, Any]]) -> ir.Node:
        names_filter = self._property_names(flat)
        properties: list[ir.Property] = []
        declared = dict(flat.props)
        pairs, forbidden = self._dependency_pairs(flat, declared)
        required = _required_closure(flat.required, pairs)
        pairs = [(a, b) for a, b in pairs if b not in required]
        asked = [n for _, _, formula in presence for n in _asked(formula)]
        for name in [*required, *(n for pair in pairs for n in pair), *forbidden, *asked]:
            if name not in declared:
                declared[name] = self._undeclared(flat, name)
        for name, refs in declared.items():
            if name in forbidden or (names_filter is not None and not names_filter(name)):
                value: ir.Node = ir.Never()
            else:
                value = self._subnode(refs, f"{flat.pointer}/properties/{_escape(name)}")
            if isinstance(value, ir.Never) and name in required:
                return ir.Never()
            properties.append(ir.Property(name, value, name in required))
        extras = self._extras(flat, tuple(declared))
        rule = self._presence_rule(presence, properties)
        if rule is not None and not rule.allowed:
            return ir.Never()
        node = ir.ObjectNode(tuple(properties), extras,
                             dependencies=self._tracked(flat.pointer, pairs), presence=rule)
        return self._counted(flat, node)

    def _presence(self, flat: _Flat) -> list[tuple[str, str, Any]]:
        """The flat's presence rules, as (pointer, keyword, formula): `oneOf` groups, `not`
        and `if` whose schemas only ask which names are present, and such `anyOf` groups
        when another rule is tracked anyway (alone, the union of objects is exact)."""
        if flat.presence is not None:
            return flat.presence
        found: list[tuple[str, str, Any]] = []
        for keyword, (schema, base, pointer) in flat.conditions:
            keys = ("not",) if keyword == "not" else ("if", "then", "else")
            if not _presence_shaped({k: schema[k] for k in keys if k in schema}):
                continue
            if keyword == "not":
                formula = self._formula(flat, (schema["not"], base, f"{pointer}/not"))
                if formula is not None:
                    found.append((f"{pointer}/not", keyword, ("not", formula)))
            else:
                parts = [self._formula(flat, (schema.get(k, True), base, f"{pointer}/{k}"))
                         for k in ("if", "then", "else")]
                if None not in parts:
                    found.append((f"{pointer}/if", keyword, ("if", *parts)))
        split = {g for plan in flat.uneval for g in plan.split}  # built option by option
        for keyword, groups in (("oneOf", flat.one_of), ("anyOf", flat.any_of)):
            if keyword == "anyOf" and not found:
                break
            for group in groups:
                if _group_pointer(group) in split or not all(
                    _presence_shaped(ref[0]) for ref in group
                ):
                    continue
                options = [self._formula(flat, ref) for ref in group]
                if None not in options:
                    kind = "one" if keyword == "oneOf" else "any"
                    found.append((_group_pointer(group), keyword, (kind, tuple(options))))
        flat.presence = found
        return found

    def _formula(self, flat: _Flat, ref: Ref) -> Any:
        """``ref`` as a formula over present names (None: it asks about more than that).
        Nodes: ("req", names), ("obj",), ("not", f), ("all"|"any"|"one", fs), ("if", c, t,
        e); `properties` count only when they restate what ``flat`` already says."""
        schema, base, pointer = ref
        if isinstance(schema, bool):
            return ("all", ()) if schema else ("any", ())
        if not isinstance(schema, dict) or "$ref" in schema:
            return None
        parts: list[Any] = []
        for key, value in schema.items():
            at = f"{pointer}/{key}"
            if key not in KEYWORDS or key in _PRESENCE_IGNORED:
                continue
            if key == "required":
                parts.append(("req", tuple(value)))
            elif key == "type":
                if value not in ("object", ["object"]):
                    return None
                parts.append(("obj",))
            elif key == "properties":
                for name, sub in value.items():
                    narrowed = self._narrowed(flat, name, (sub, base, f"{at}/{_escape(name)}"))
                    if narrowed is None:
                        return None
                    if narrowed:  # `false`: an object must lack the name
                        parts.append(("not", ("all", (("obj",), ("req", (name,))))))
            elif key in ("not", "if"):
                subs = [self._formula(flat, (schema.get(k, True), base, f"{pointer}/{k}"))
                        for k in (("not",) if key == "not" else ("if", "then", "else"))]
                if None in subs:
                    return None
                parts.append((key, *subs))
            elif key in ("allOf", "anyOf", "oneOf"):
                subs = [self._formula(flat, (v, base, f"{at}/{i}")) for i, v in enumerate(value)]
                if None in subs:
                    return None
                parts.append((key[:3].lower(), tuple(subs)))
            else:
                return None
        return ("all", tuple(parts))

    def _narrowed(self, flat: _Flat, name: str, sub: Ref) -> bool | None:
        """False: ``sub`` holds of every value the object allows ``name`` (it restates);
        True: it is ``false``; None: otherwise, which asks more than presence. (A node
        for ``sub`` merged in that is empty would not do: by default the merge may
        infer a narrower type than ``sub`` has.)"""
        if sub[0] is False:
            return True
        refs = flat.props.get(name) or self._undeclared(flat, name)
        same = self._subnode(refs, sub[2]) == self._subnode([*refs, sub], sub[2])
        return False if same else None

    def _presence_rule(
        self, presence: list[tuple[str, str, Any]], properties: list[ir.Property]
    ) -> ir.Presence | None:
        """The presence rules tabulated over the optional names they ask about (required
        names are present, names with no possible value absent); None when they always
        hold or, reported unsupported, ask about too many names."""
        if not presence:
            return None
        formula = ("all", tuple(f for _, _, f in presence))
        asked = _asked(formula)
        always = frozenset(p.name for p in properties if p.required)
        free = [p.name for p in properties if p.name in asked and not p.required
                and not isinstance(p.value, ir.Never)]
        if len(free) > _MAX_PRESENCE_NAMES:
            pointer, keyword, _ = presence[0]
            self.unsupported(pointer, keyword, f"a presence rule over {len(free)} properties "
                             f"(at most {_MAX_PRESENCE_NAMES} are tracked)")
            return None
        subsets = [frozenset(n for i, n in enumerate(free) if mask >> i & 1)
                   for mask in range(1 << len(free))]
        allowed = frozenset(s for s in subsets if _holds(formula, always | s))
        if len(allowed) == len(subsets):
            return None
        return ir.Presence(tuple(free), allowed)

    def _undeclared(self, flat: _Flat, name: str) -> list[Ref]:
        """The schemas an undeclared name's value meets (its patterns, else additional)."""
        return [
            r for _, source_patterns, source_extra in flat.object_sources
            for r in _applicable(name, source_patterns, source_extra)
        ]

    def _dependency_pairs(
        self, flat: _Flat, declared: dict[str, list[Ref]]
    ) -> tuple[list[tuple[str, str]], set[str]]:
        """``(a, b)``: if ``a`` is present so is ``b``; and the names that may never be
        present (their dependent schema is ``false``)."""
        pairs = [(a, b) for a, names in flat.dependent_required for b in names if a != b]
        forbidden: set[str] = set()
        for name, keyword, ref in flat.dependent_schemas:
            needs = self._dependent_schema(flat, keyword, ref, declared)
            if needs is None:
                forbidden.add(name)
            else:
                pairs += [(name, b) for b in needs if b != name]
        return list(dict.fromkeys(pairs)), forbidden

    def _dependent_schema(
        self, flat: _Flat, keyword: str, ref: Ref, declared: dict[str, list[Ref]]
    ) -> list[str] | None:
        """The names a dependent schema requires (None: the schema is unsatisfiable by an
        object). Exact when it holds only `required` and `properties` that restate what
        the object already says of those properties; otherwise reported unsupported."""
        schema, base, pointer = ref
        if schema is True:
            return []
        if schema is False:
            return None
        others = sorted(k for k in schema if k in KEYWORDS and k not in _DEPENDENT_SCHEMA_KEYS)
        if others:
            self.unsupported(pointer, keyword, f"{', '.join(others)} in a dependent schema: "
                             "only `required` and restated `properties` are enforced")
            return []
        types = schema.get("type", "object")
        if "object" not in ([types] if isinstance(types, str) else types):
            return None
        for prop, sub in schema.get("properties", {}).items():
            at = f"{pointer}/properties/{_escape(prop)}"
            refs = declared.get(prop) or self._undeclared(flat, prop)
            if self._subnode(refs, at) != self._subnode([*refs, (sub, base, at)], at):
                self.unsupported(at, keyword, "a dependent schema constrains a property "
                                 "further: only `required` is enforced")
        return [n for n in schema.get("required", ()) if isinstance(n, str)]

    def _tracked(self, pointer: str, pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """The dependencies the automaton tracks: all, unless too many names take part."""
        names = {n for pair in pairs for n in pair}
        if len(names) > _MAX_DEPENDENCY_NAMES:
            self.unsupported(pointer, "dependentRequired", f"dependencies among {len(names)} "
                             f"properties (at most {_MAX_DEPENDENCY_NAMES} are tracked)")
            return ()
        return tuple(pairs)

    def _counted(self, flat: _Flat, node: ir.ObjectNode) -> ir.Node:
        """``node`` with min/maxProperties, dropped where they cannot bind."""
        present = [p for p in node.properties if not isinstance(p.value, ir.Never)]
        required = sum(p.required for p in present)
        possible = None if node.extras else len(present)
        low, high = flat.min_properties, flat.max_properties
        if (high is not None and high < required) or (possible is not None and low > possible):
            return ir.Never()
        if low <= required:
            low = 0
        if high is not None and possible is not None and high >= possible:
            high = None
        top = max(low, high or 0)
        if (len(node.properties) + 1) * (top + 1) > _MAX_COUNTED_STATES:
            keyword = "maxProperties" if high == top else "minProperties"
            self.unsupported(f"{flat.pointer}/{keyword}", keyword,
                             f"counting to {top} over {len(node.properties)} declared "
                             "properties needs too many states")
            return node
        return replace(node, min_properties=low, max_properties=high)

    def _property_names(self, flat: _Flat) -> Any:
        if not flat.property_names:
            return None
        schemas = [r[0] for r in flat.property_names]

        def accept(name: str) -> bool:
            return all(self._valid(name, (s, "", "")) for s in schemas)

        return accept

    def _names_node(self, flat: _Flat) -> ir.StringNode | None:
        """propertyNames as string constraints for undeclared keys."""
        if not flat.property_names:
            return ir.StringNode()
        node = self._subnode(flat.property_names, f"{flat.pointer}/propertyNames")
        if isinstance(node, ir.Union):  # the options that may be keys: strings
            keys = [o for o in node.options if isinstance(o, ir.StringNode) or (
                isinstance(o, ir.Literal) and any(isinstance(v, str) for v in o.values))]
            node = keys[0] if len(keys) == 1 else node
        if isinstance(node, ir.StringNode):
            return node
        if isinstance(node, ir.Never):
            return None
        if isinstance(node, ir.AnyValue):
            return ir.StringNode()
        if isinstance(node, ir.Literal):
            names = [v for v in node.values if isinstance(v, str)]
            if not names:
                return None
            alternatives = "|".join(re.escape(n) for n in names)
            return ir.StringNode(patterns=(f"^(?:{alternatives})$",), pointer=flat.pointer)
        self.unsupported(f"{flat.pointer}/propertyNames", "propertyNames",
                         "only string constraints can restrict keys")
        return ir.StringNode()

    def _extras(self, flat: _Flat, declared: tuple[str, ...]) -> tuple[ir.ExtraProperties, ...]:
        sources_with_rules = [
            (patterns, extra) for _, patterns, extra in flat.object_sources
            if patterns or extra is not None
        ]
        if not sources_with_rules and not self.options.spec_faithful:
            return ()
        key = self._names_node(flat)
        if key is None:
            return ()
        key = replace(key, excluded=tuple(dict.fromkeys((*declared, *key.excluded))),
                      pointer=flat.pointer)
        # Every source (allOf member) judges an undeclared key on its own: by its patterns
        # the key matches, else by its additionalProperties.
        all_patterns: dict[str, list[Ref]] = {}
        for patterns, _ in sources_with_rules:
            for pattern, ref in patterns.items():
                all_patterns.setdefault(pattern, []).append(ref)
        if len(all_patterns) > 4:
            raise UnsupportedSchemaError(
                f"{len(all_patterns)} patternProperties (at most 4 are split exactly)",
                pointer=flat.pointer, keyword="patternProperties",
            )
        pattern_list = list(all_patterns)
        result = []
        for mask in range(1 << len(pattern_list)):
            chosen = [p for i, p in enumerate(pattern_list) if mask >> i & 1]
            others = [p for p in pattern_list if p not in chosen]
            refs: list[Ref] = [ref for p in chosen for ref in all_patterns[p]]
            for patterns, extra in sources_with_rules:
                if any(p in patterns for p in chosen):
                    continue
                if extra is not None:
                    refs.append(extra)
            if not refs and not self.options.spec_faithful and not chosen:
                continue
            value = self._subnode(refs, f"{flat.pointer}/additionalProperties")
            if isinstance(value, ir.Never):
                continue
            result.append(ir.ExtraProperties(
                replace(key, patterns=key.patterns + tuple(chosen),
                        forbidden_patterns=key.forbidden_patterns + tuple(others)),
                value,
            ))
        return tuple(result)


def _least(a: int | None, b: int | None) -> int | None:
    """The tighter of two upper bounds (None: unbounded)."""
    return b if a is None else a if b is None else min(a, b)


def _positions(node: ir.ArrayNode) -> list[ir.Node]:
    """The item nodes an array may write: its reachable prefix, then ``items`` if reached."""
    limit = node.max_items
    positions = list(node.prefix[:limit])
    if (limit is None or limit > len(node.prefix)) and not isinstance(node.items, ir.Never):
        positions.append(node.items)
    return positions


def _required_closure(required: dict[str, None], pairs: list[tuple[str, str]]) -> dict[str, None]:
    """The required names, with every name a required name depends on."""
    closure = dict(required)
    grew = True
    while grew:
        grew = False
        for a, b in pairs:
            if a in closure and b not in closure:
                closure[b] = None
                grew = True
    return closure


def _dependency_key(name: str, schema: Any) -> tuple[str, str]:
    return name, json.dumps(schema, sort_keys=True, default=str)


def _without(dependencies: Any, converted: set[tuple[str, str]]) -> Any:
    """A dependencies keyword without the dependent schemas enforced as groups."""
    if not isinstance(dependencies, dict) or not converted:
        return dependencies
    return {name: schema for name, schema in dependencies.items()
            if _dependency_key(name, schema) not in converted}


def _distinct(groups: list[list[Ref]]) -> list[list[Ref]]:
    """``groups`` without repeats (the same options in the same order and base)."""
    seen: set[str] = set()
    kept = []
    for group in groups:
        key = json.dumps([[schema, base] for schema, base, _ in group], sort_keys=True,
                         default=str)
        if key not in seen:
            seen.add(key)
            kept.append(group)
    return kept


def _group_pointer(group: list[Ref]) -> str:
    """Where an anyOf/oneOf list is, from its first option's pointer."""
    return group[0][2].rsplit("/", 1)[0]


def _types_outside(schema: Any) -> set[str] | None:
    """The types left by ``not`` over a schema that only asks for a type
    (``{"not": {"type": "number"}}``); None when it asks more."""
    if not isinstance(schema, dict) or "type" not in schema:
        return None
    if any(key in KEYWORDS for key in schema if key != "type"):  # annotations aside
        return None
    named = schema["type"]
    types = {named} if isinstance(named, str) else set(named) if isinstance(named, list) else set()
    if not types or not types <= set(_TYPES) or ("integer" in types and "number" not in types):
        return None  # "numbers but not integers" is no type of its own
    return set(_TYPES) - types - ({"integer"} if "number" in types else set())


def _pattern_of(schema: Any) -> str | None:
    """The pattern of ``{"pattern": p}``: `not` over it leaves the strings p does not
    find (every other value meets `pattern`)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("pattern"), str):
        return None
    if any(key in KEYWORDS for key in schema if key != "pattern"):
        return None
    return str(schema["pattern"])


def _values_of(schema: Any) -> list[Any] | None:
    """The values of a schema that only lists values (``{"const": x}``, ``{"enum": [...]}``),
    optionally next to a ``type``, which keeps the values of that type."""
    if not isinstance(schema, dict) or len({"enum", "const"} & schema.keys()) != 1:
        return None
    if any(key in KEYWORDS for key in schema if key not in ("enum", "const", "type")):
        return None
    values = [schema["const"]] if "const" in schema else schema["enum"]
    if not isinstance(values, list):
        return None
    if "type" not in schema:
        return list(values)
    named = schema["type"]
    types = {named} if isinstance(named, str) else set(named) if isinstance(named, list) else set()
    if not types or not types <= set(_TYPES):
        return None
    if "integer" in types and "number" not in types and any(
        isinstance(v, float) for v in values
    ):
        return None  # whether 1.0 is an integer depends on the draft
    return [v for v in values if _has_type(v, types)]


def _if_as_union(schema: dict, owner: Ref) -> list[Ref] | None:
    """``if``/``then``/``else`` where ``if`` tells objects apart by one property's values
    (``{"properties": {"kind": {"const": "a"}}}``, optionally with that name required and
    ``type: object``), as the options of an ``anyOf``: ``if`` and ``then``, or each way
    ``if`` fails and ``else``. None for any other ``if``."""
    cond = schema["if"]
    if not isinstance(cond, dict) or not isinstance(cond.get("properties"), dict):
        return None
    if len(cond["properties"]) != 1 or any(
        key in KEYWORDS for key in cond if key not in ("properties", "required", "type")
    ):
        return None
    (name, sub), = cond["properties"].items()
    values = _values_of(sub)
    required = cond.get("required", [])
    if values is None or required not in ([], [name]) or cond.get("type", "object") not in (
        "object", ["object"]
    ):
        return None
    fails: list[Any] = [{"type": "object", "required": [name],
                         "properties": {name: {"not": {"enum": values}}}}]
    if required:
        fails.append({"type": "object", "properties": {name: False}})
    if "type" in cond:
        fails.append({"not": {"type": "object"}})
    _, base, pointer = owner
    then, otherwise = schema.get("then", True), schema.get("else", True)
    # Each option is `then` or `else` where it stands, with its condition added.
    return [(_with_all_of(then, cond), base, f"{pointer}/then")] + [
        (_with_all_of(otherwise, f), base, f"{pointer}/else") for f in fails
    ]


def _not_as_union(schema: Any) -> list[Any] | None:
    """``not`` over an object schema whose `properties` ask for types or values, as the
    options of an ``anyOf`` (:func:`_negation`); None for others (a `not` that only asks
    which names are present is a presence rule)."""
    if not isinstance(schema, dict) or not any(
        sub is not True and sub != {} for sub in (schema.get("properties") or {}).values()
    ):
        return None
    parts = _negation(schema)
    return parts or None


def _exactly_one(group: list[Ref]) -> list[Ref] | None:
    """A ``oneOf`` as an ``anyOf`` of each option with every other one negated, where
    each option can be negated (see :func:`_negation`); None otherwise."""
    if len(group) > 4:
        return None
    options = []
    for i, (schema, base, pointer) in enumerate(group):
        negations = [_negation(other[0], within=schema)
                     for j, other in enumerate(group) if j != i]
        if any(n is None for n in negations):
            return None
        others = [{"anyOf": n} if n else False for n in negations]
        options.append((_with_all_of(schema, {"allOf": others}), base, pointer))
    return options


def _negation(schema: Any, depth: int = 0, within: Any = None) -> list[Any] | None:
    """Schemas whose union is what ``schema`` rejects, for a schema of `type`, values,
    `pattern`, string lengths, `required` and `properties` that are such schemas in
    turn (three levels deep); None for any other schema.

    ``within``: a schema the result is only used inside (another option of a `oneOf`).
    Properties it declares alike cannot be wrong there, and when both close their objects
    (``additionalProperties: false``), a name only it declares is what rejects ``schema``.
    """
    if isinstance(schema, bool):
        return [] if schema else [True]
    if not isinstance(schema, dict) or depth > 3 or any(
        key in KEYWORDS and key not in _NEGATABLE for key in schema
    ):
        return None
    parts: list[Any] = []
    if "type" in schema:
        if _types_outside({"type": schema["type"]}) is None:
            return None
        parts.append({"not": {"type": schema["type"]}})
    if "enum" in schema or "const" in schema:
        values = _values_of({k: schema[k] for k in ("enum", "const") if k in schema})
        if values is None:
            return None
        parts.append({"not": {"enum": values}})
    if "pattern" in schema:
        parts.append({"not": {"pattern": schema["pattern"]}})
    if "not" in schema:  # what rejects `not X` is X
        parts.append(schema["not"])
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if not isinstance(low, int) or not isinstance(high, (int, type(None))):
        return None
    if low > 0:
        parts.append({"type": "string", "maxLength": low - 1})
    if high is not None:
        parts.append({"type": "string", "minLength": high + 1})
    required = schema.get("required", [])
    properties = schema.get("properties", {})
    if not isinstance(required, list) or not isinstance(properties, dict):
        return None
    parts += [{"type": "object", "properties": {name: False}} for name in required]
    theirs = within.get("properties") if isinstance(within, dict) else None
    closed = _closed(within) and isinstance(theirs, dict)
    if "additionalProperties" in schema:
        if not (_closed(schema) and closed):
            return None
        parts += [{"type": "object", "required": [name]}
                  for name in theirs if name not in properties]
    for name, sub in properties.items():
        if isinstance(theirs, dict) and name in theirs and _bare(theirs[name]) == _bare(sub):
            continue  # alike in both: never the reason
        if closed and name not in theirs:
            continue  # never present there
        wrong = _negation(sub, depth + 1, theirs.get(name) if isinstance(theirs, dict) else None)
        if wrong is None:
            return None
        if wrong:
            value = wrong[0] if len(wrong) == 1 else {"anyOf": wrong}
            parts.append({"type": "object", "required": [name], "properties": {name: value}})
    return parts


_ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "deprecated",
                "readOnly", "writeOnly", "markdownDescription"}
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}


def _bare(schema: Any) -> Any:
    """``schema`` without annotations (in subschemas too), for comparing constraints."""
    if isinstance(schema, list):
        return [_bare(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _bare(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "required"):
            out[key] = value
        else:
            out[key] = _bare(value)
    return out


def _closed(schema: Any) -> bool:
    """Whether ``schema`` allows only the names its `properties` declare."""
    return (isinstance(schema, dict) and schema.get("additionalProperties") is False
            and "patternProperties" not in schema)


def _with_all_of(schema: Any, extra: Any) -> Any:
    """``schema`` and ``extra``, as one schema whose own keywords keep their pointers
    (but for a `$ref`, whose siblings draft-07 and earlier ignore, and for
    unevaluatedProperties/Items, whose scope must not take in what ``extra`` evaluates)."""
    if not isinstance(schema, dict) or "$ref" in schema or any(k in schema for k in _UNEVALUATED):
        return {"allOf": [schema, extra]}
    return {**schema, "allOf": [*schema.get("allOf", []), extra]}


def _presence_shaped(schema: Any) -> bool:
    """Whether ``schema`` uses only keywords a presence formula reads: checked before any
    node is built for its `properties`."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict) or "$ref" in schema:
        return False
    for key, value in schema.items():
        if key not in KEYWORDS or key in _PRESENCE_IGNORED or key in ("required",
                                                                      "properties"):
            continue
        if key == "type":
            if value not in ("object", ["object"]):
                return False
        elif key in ("not", "if"):
            if not _presence_shaped(value):
                return False
        elif key in ("anyOf", "oneOf", "allOf"):
            if not all(map(_presence_shaped, value)):
                return False
        else:
            return False
    return all(_presence_shaped(schema.get(k, True)) for k in ("then", "else"))


def _holds(formula: Any, present: frozenset[str] | None) -> bool:
    """Whether a presence formula holds of an object with ``present`` names (None: of a
    value that is not an object, which every `required` accepts)."""
    kind = formula[0]
    if kind == "req":
        return present is None or set(formula[1]) <= present
    if kind == "obj":
        return present is not None
    if kind == "not":
        return not _holds(formula[1], present)
    if kind == "if":
        return _holds(formula[2] if _holds(formula[1], present) else formula[3], present)
    results = [_holds(f, present) for f in formula[1]]
    if kind == "all":
        return all(results)
    if kind == "any":
        return any(results)
    return sum(results) == 1


def _asked(formula: Any) -> dict[str, None]:
    """The names a presence formula asks about, in first-mention order."""
    if formula[0] == "req":
        return dict.fromkeys(formula[1])
    subs = formula[1] if formula[0] in ("all", "any", "one") else formula[1:]
    return {n: None for f in subs for n in _asked(f)}


def _applicable(name: str, patterns: dict[str, Ref], extra: Ref | None) -> list[Ref]:
    matched = [r for p, r in patterns.items() if _search(p, name)]
    if matched:
        return matched
    return [extra] if extra is not None else []


def _search(pattern: str, text: str) -> bool:
    return ecma_search(pattern, text)


def _intersect(values: list[Any], others: list[Any]) -> list[Any]:
    """The values of ``values`` that JSON-equal one of ``others``, in near-linear time."""
    keys = {ir.value_key(w) for w in others}
    return [v for v in values if ir.value_key(v) in keys]


def _tighter(
    old: tuple[Decimal, bool] | None, new: tuple[Decimal, bool], *, lower: bool
) -> tuple[Decimal, bool]:
    if old is None:
        return new
    if old[0] == new[0]:
        return (old[0], old[1] or new[1])
    if lower:
        return old if old[0] > new[0] else new
    return old if old[0] < new[0] else new


def _has_type(value: Any, types: set[str]) -> bool:
    if value is None:
        return "null" in types
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, list):
        return "array" in types
    return "object" in types


def _infer_types(flat: _Flat) -> set[str]:
    keys: set[str] = set()
    for schema, _, _ in flat.sources:
        keys |= set(schema)
    types: set[str] = set()
    if keys & _OBJECT_KEYS:
        types.add("object")
    if keys & _ARRAY_KEYS:
        types.add("array")
    if keys & _STRING_KEYS:
        types.add("string")
    if keys & _NUMBER_KEYS:
        types |= {"number", "integer"}
    return types


def _discriminators(node: ir.Node) -> dict[str, set[str]] | None:
    """Required properties with literal values, by name (for oneOf disjointness)."""
    if not isinstance(node, ir.ObjectNode):
        return None
    out = {}
    for prop in node.properties:
        if prop.required and isinstance(prop.value, ir.Literal):
            out[prop.name] = set(prop.value.texts)
    return out


def _disjoint(a: ir.Node, b: ir.Node) -> bool:
    """True only when no JSON value can match both (a sound, incomplete test)."""
    ta, tb = ir.json_types(a), ir.json_types(b)
    if ta is not None and tb is not None and not (ta & tb):
        return True
    if isinstance(a, ir.Literal) and isinstance(b, ir.Literal):
        va = {json.dumps(v, sort_keys=True) for v in a.values}
        vb = {json.dumps(v, sort_keys=True) for v in b.values}
        return not (va & vb)
    if isinstance(a, ir.Union):
        return all(_disjoint(o, b) for o in a.options)
    if isinstance(b, ir.Union):
        return all(_disjoint(a, o) for o in b.options)
    da, db = _discriminators(a), _discriminators(b)
    if da and db:
        for name in set(da) & set(db):
            if not (da[name] & db[name]):
                return True
    if isinstance(a, ir.ObjectNode) and isinstance(b, ir.ObjectNode):
        return _required_excluded(a, b) or _required_excluded(b, a)
    if isinstance(a, ir.IntegerNode) and isinstance(b, ir.IntegerNode):
        return (a.maximum is not None and b.minimum is not None and a.maximum < b.minimum) or (
            b.maximum is not None and a.minimum is not None and b.maximum < a.minimum
        )
    return False


def _required_excluded(a: ir.ObjectNode, b: ir.ObjectNode) -> bool:
    """Some key ``a`` requires can never appear in ``b``."""
    b_names = {p.name: p for p in b.properties}
    for prop in a.properties:
        if not prop.required:
            continue
        other = b_names.get(prop.name)
        if other is not None:
            if isinstance(other.value, ir.Never):
                return True
            continue
        if not b.extras:
            return True
    return False
