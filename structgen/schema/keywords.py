"""Every JSON Schema keyword structgen knows, with how far it is enforced.

The table drives which keywords raise ``UnsupportedSchemaError`` (or are post-validated
under ``strict=False``) and the support table in ``docs/json_schema.md`` (a test keeps
them in sync). Keywords not listed are annotations with no effect on validity.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["KEYWORDS", "Status", "support_table"]

Status = Literal["enforced", "partial", "post-validated", "unsupported"]

# keyword -> (group, status, note)
KEYWORDS: dict[str, tuple[str, Status, str]] = {
    "type": ("Core", "enforced", "type arrays become unions"),
    "enum": ("Core", "enforced", "values are checked against sibling keywords; every "
             "partial or post-validated keyword below is enforced exactly next to a finite "
             "`enum`/`const`"),
    "const": ("Core", "enforced", ""),
    "$ref": ("Core", "enforced", "local refs, `$id`/`$anchor` in the document; recursion "
             "unrolled to `max_recursion_depth`, or unbounded where the target (objects or "
             "arrays) is called on a stack (`recursion=\"stack\"`, or `\"auto\"` on large "
             "schemas)"),
    "$defs": ("Core", "enforced", "also draft-07 `definitions`"),
    "allOf": ("Core", "enforced", "merged keyword by keyword"),
    "anyOf": ("Core", "enforced", ""),
    "oneOf": ("Core", "partial", "as a presence rule when the options only ask which "
              "names are present (at most 12 names); as `anyOf` when the options, merged "
              "with the object's own keywords, are provably disjoint (types that two "
              "untyped options leave open are left out); as an `anyOf` of each option with "
              "the others negated when `not` could negate them (at most 4 options; closed "
              "objects are told apart by the names only one declares; an option's own `not` "
              "negates to its schema); otherwise unsupported"),
    "not": ("Core", "partial", "when it only asks for a type (the other types remain), a "
            "`pattern` (strings it does not find), or values, with a `type` or not (null, "
            "booleans and strings left out; any value next to an `enum`); when it asks "
            "which names are present (a presence rule); or over a schema of types, values, "
            "`pattern`, string lengths, `required` and such `properties` (an `anyOf` of the "
            "ways it fails); otherwise unsupported"),
    "if": ("Core", "partial", "with `then`/`else`: when all three only ask which names are "
           "present (a presence rule), or when `if` tells objects apart by the `const`/`enum` "
           "of one property (an `anyOf` of `if` and `then`, or each way `if` fails and "
           "`else`); otherwise unsupported"),
    "nullable": ("Core", "enforced", "OpenAPI 3.0 spelling"),
    "$dynamicRef": ("Core", "unsupported", "remote or dynamic scopes"),
    "$recursiveRef": ("Core", "unsupported", ""),
    "items": ("Array", "enforced", "draft-07 array form as `prefixItems`"),
    "prefixItems": ("Array", "enforced", ""),
    "additionalItems": ("Array", "enforced", "draft-07"),
    "minItems": ("Array", "enforced", "large bounds multiply states"),
    "maxItems": ("Array", "enforced", "large bounds multiply states"),
    "uniqueItems": ("Array", "partial", "when at most one item fits; when every item is one "
                    "of at most 12 literal values (`enum`, `const`, `boolean`, `null`); when "
                    "the items are strings (told apart at run time; `minItems` at most 1, no "
                    "`prefixItems`); otherwise unsupported"),
    "contains": ("Array", "partial", "matching items counted in the automaton, exactly: "
                 "the `contains` schema is read as JSON Schema reads it, and items it does "
                 "not match are written in canonical spelling (numbers plain, without "
                 "exponent or trailing zeros); unsupported where it matches objects with "
                 "declared properties (their order is fixed), objects by `const`/`enum` "
                 "with several keys, free values shallower than the items, unique string "
                 "items, or next to enforced `uniqueItems`; at most 2 distinct per array"),
    "minContains": ("Array", "partial", "as `contains`; counts multiply states"),
    "maxContains": ("Array", "partial", "as `contains`; counts multiply states"),
    "unevaluatedItems": ("Array", "partial", "as `unevaluatedProperties`, for the items "
                         "after the `prefixItems` that apply; unsupported where a "
                         "`contains` applies (it evaluates the items it matches) unless "
                         "`items` does, and in 2019-09 documents"),
    "properties": ("Object", "enforced", "in declared order"),
    "required": ("Object", "enforced", ""),
    "additionalProperties": ("Object", "enforced", "absent means forbidden unless "
                             "`spec_faithful=True`"),
    "patternProperties": ("Object", "enforced", "keys are split by which patterns they match "
                          "(up to 4 patterns per object)"),
    "propertyNames": ("Object", "enforced", "string constraints only"),
    "minProperties": ("Object", "enforced", "extras included; bounds multiply states"),
    "maxProperties": ("Object", "enforced", "extras included; bounds multiply states"),
    "dependentRequired": ("Object", "enforced", "names it lists count as declared, as "
                          "`required` names do"),
    "dependentSchemas": ("Object", "enforced", "`required` (and `properties` that restate "
                         "the object's own) by the object; any other subschema the grammar "
                         "enforces as an `anyOf`: the name present and the subschema, or the "
                         "name absent"),
    "dependencies": ("Object", "partial", "draft-04 to draft-07: as `dependentRequired` and "
                     "`dependentSchemas`; an annotation in 2019-09 and 2020-12"),
    "unevaluatedProperties": ("Object", "partial", "names no `properties`, "
                              "`patternProperties`, `additionalProperties` or nested "
                              "`unevaluatedProperties` of its scope evaluated meet it as "
                              "`additionalProperties`, per `anyOf`/`oneOf`/`if` option; "
                              "`anyOf` options that evaluate more (at most 4) also combine "
                              "in every set that may hold together; unsupported where "
                              "`dependentSchemas`, a bare or unsplit `if`, an "
                              "`anyOf`/`oneOf`/`if` nested in `allOf`, `$ref` or an option, "
                              "or a `$ref` recursing in place evaluates more only where it "
                              "validates"),
    "minLength": ("String", "enforced", "in code points"),
    "maxLength": ("String", "enforced", "in code points; any size (long strings are counted "
                  "beside the automaton)"),
    "pattern": ("String", "enforced", "ECMA-262 subset; anchors at the ends of a branch (a "
                "branch that is one group counts as its inside); lookaheads only at the start "
                "of a single-branch pattern (`^(?!X)R`); other lookaround and backreferences "
                "are unsupported"),
    "format": ("String", "partial", "date, time, date-time, duration, uuid, email, uri, "
               "uri-reference, ipv4, ipv6 exact; hostname without its total length; other "
               "formats are annotations"),
    "minimum": ("Number", "enforced", "exact for decimals written without exponent"),
    "maximum": ("Number", "enforced", "exact for decimals written without exponent"),
    "exclusiveMinimum": ("Number", "enforced", "draft-04 boolean form too"),
    "exclusiveMaximum": ("Number", "enforced", "draft-04 boolean form too"),
    "multipleOf": ("Number", "partial", "exact by value: integer divisors, and decimal "
                   "divisors m·10^-k with m ≤ 10,000 (such numbers are then written "
                   "without exponent; every multiple has that spelling); several combine "
                   "by least common multiple; larger m unsupported"),
}


def support_table() -> str:
    """The keyword table of ``docs/json_schema.md``, grouped Core / Array / Object / ..."""
    lines = ["| Keyword | Group | Status | Notes |", "|---|---|---|---|"]
    for group in ("Core", "Array", "Object", "String", "Number"):
        for keyword, (kw_group, status, note) in KEYWORDS.items():
            if kw_group == group:
                lines.append(f"| `{keyword}` | {group} | {status} | {note} |")
    return "\n".join(lines)
