"""Local `$ref` resolution: JSON pointers, `$id` resources and `$anchor`s in one document."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from structgen.errors import SchemaError, UnsupportedSchemaError

__all__ = ["Registry", "Resolved", "unrolled_size"]

Resolved = tuple[Any, str, str]  # (subschema, base URI, JSON pointer in the document)

_NOT_SCHEMAS = {"enum", "const", "examples", "default", "example", "required"}
_MAX_WALK = 200_000


class Registry:
    """Index of every `$id` and `$anchor` in a schema document, for local resolution."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.resources: dict[str, tuple[Any, str]] = {}
        self.anchors: dict[tuple[str, str], tuple[Any, str]] = {}
        root_id = root.get("$id", root.get("id", "")) if isinstance(root, dict) else ""
        self.root_base = urldefrag(root_id)[0] if isinstance(root_id, str) else ""
        self.resources[self.root_base] = (root, "")
        self._walk(root, self.root_base, "")

    def _walk(self, node: Any, base: str, pointer: str) -> None:
        stack = [(node, base, pointer)]
        seen = 0
        while stack:
            node, base, pointer = stack.pop()
            seen += 1
            if seen > _MAX_WALK:
                raise SchemaError("schema has too many nodes to index", pointer=pointer)
            if isinstance(node, list):
                stack.extend((v, base, f"{pointer}/{i}") for i, v in enumerate(node))
                continue
            if not isinstance(node, dict):
                continue
            if (rebased := _rebased(node, base, pointer)) != base:
                base = rebased
                self.resources.setdefault(base, (node, pointer))
            for key in ("$anchor", "$dynamicAnchor"):  # a plain $ref may name either
                anchor = node.get(key)
                if isinstance(anchor, str):
                    self.anchors.setdefault((base, anchor), (node, pointer))
            for key, value in node.items():
                if key in _NOT_SCHEMAS:
                    continue
                stack.append((value, base, f"{pointer}/{_escape(key)}"))

    def resolve(self, ref: str, base: str, pointer: str) -> Resolved:
        """Find the subschema a `$ref` names, with its base URI and pointer."""
        target = _join(base, ref)
        uri, fragment = urldefrag(target)
        if uri not in self.resources:
            if not uri and ref.startswith("#"):
                uri = base
            else:
                raise UnsupportedSchemaError(
                    f"$ref {ref!r} points outside this document",
                    pointer=pointer,
                    keyword="$ref",
                    hint="inline the referenced schema; structgen never fetches remote schemas",
                )
        document, doc_pointer = self.resources.get(uri, (self.root, ""))
        fragment = unquote(fragment)
        if not fragment:
            return document, uri, doc_pointer
        if not fragment.startswith("/"):
            found = self.anchors.get((uri, fragment))
            if found is None:
                raise SchemaError(f"$ref {ref!r}: no $anchor {fragment!r}", pointer=pointer)
            return found[0], uri, found[1]
        node = document
        for raw in fragment.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(f"$ref {ref!r} does not resolve", pointer=pointer)
        return node, uri, doc_pointer + fragment


def _rebased(node: dict[str, Any], base: str, pointer: str) -> str:
    """The base URI inside ``node``: its ``$id`` resolved against ``base`` (not at the
    root, whose ``$id`` is the document's own base already)."""
    ident = node.get("$id")
    return urldefrag(_join(base, ident))[0] if isinstance(ident, str) and pointer else base


def _join(base: str, ref: str) -> str:
    """``urljoin`` that also keeps non-hierarchical bases (``urn:``) for fragments."""
    if not base:
        return ref
    if ref.startswith("#"):
        return urldefrag(base)[0] + ref
    return urljoin(base, ref)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def unrolled_size(registry: Registry, max_depth: int, cap: int) -> int:
    """How many JSON values the schema spans once every ``$ref`` is replaced by its target
    (a target inside itself at most ``max_depth`` times): what copying the targets costs.
    Counting stops past ``cap``; references that do not resolve count as nothing."""
    stack: list[Any] = [(registry.root, registry.root_base, "")]
    active: dict[int, int] = {}
    seen = 0
    while stack and seen <= cap:
        item = stack.pop()
        if isinstance(item, int):  # leaving a target
            active[item] -= 1
            continue
        node, base, pointer = item
        seen += 1
        if isinstance(node, list):
            stack.extend((v, base, f"{pointer}/{i}") for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        base = _rebased(node, base, pointer)
        ref = node.get("$ref")
        target = _resolved(registry, ref, base, pointer) if isinstance(ref, str) else None
        if target is not None and active.get(key := id(target[0]), 0) < max_depth:
            active[key] = active.get(key, 0) + 1
            stack += [key, target]
        for key, value in node.items():
            if key not in _NOT_SCHEMAS and key not in ("$defs", "definitions"):
                stack.append((value, base, f"{pointer}/{_escape(key)}"))
    return seen


def _resolved(registry: Registry, ref: str, base: str, pointer: str) -> Resolved | None:
    """What ``ref`` names, or None where it does not resolve (normalizing says why)."""
    try:
        return registry.resolve(ref, base, pointer)
    except SchemaError:
        return None
