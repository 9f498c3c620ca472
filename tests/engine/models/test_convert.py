"""``convert_checkpoint``: GGUF metadata and tensors, quantization, atomic output."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType as Q
from gguf import GGUFReader, TokenType
from safetensors import safe_open
from safetensors.numpy import load_file

from gpt2_adventure.engine.models import convert as convert_mod
from gpt2_adventure.engine.models.checkpoint import Checkpoint
from gpt2_adventure.engine.models.convert import convert_checkpoint
from gpt2_adventure.errors import ModelFileError, UserError
from gpt2_adventure.resources import gpt2_tokenizer_dir
from tests.support.hf_checkpoint import make_checkpoint
from tests.support.torch_bin import make_torch_checkpoint

SMALL = {"n_layer": 1, "n_embd": 32, "n_head": 2, "n_positions": 64}
MATRICES = ("attn_qkv", "attn_output", "ffn_up", "ffn_down")


@functools.cache
def _read(path: Path) -> GGUFReader:
    return GGUFReader(path)  # parsing 100k vocabulary strings takes seconds: read once


def _field(reader: GGUFReader, key: str) -> object:
    return reader.fields[key].contents()


def _tensors(reader: GGUFReader) -> dict[str, object]:
    return {t.name: t for t in reader.tensors}


@pytest.fixture(scope="module")
def tiny_f16(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_checkpoint(tiny_checkpoint, tmp_path_factory.mktemp("f16") / "m.gguf", "f16")


def test_metadata(tiny_gguf: Path, tiny_checkpoint: Path) -> None:
    r = _read(tiny_gguf)
    expected = {
        "general.architecture": "gpt2", "general.name": tiny_checkpoint.name,
        "gpt2.context_length": 1024, "gpt2.embedding_length": 64,
        "gpt2.feed_forward_length": 256, "gpt2.block_count": 2,
        "gpt2.attention.head_count": 4, "general.file_type": 0,
        "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.bos_token_id": 50256, "tokenizer.ggml.eos_token_id": 50256,
    }
    assert {k: _field(r, k) for k in expected} == expected
    assert _field(r, "gpt2.attention.layer_norm_epsilon") == pytest.approx(1e-5)

    tokens = _field(r, "tokenizer.ggml.tokens")
    assert len(tokens) == 50257
    assert tokens[15496] == "Hello" and tokens[18435] == "ĠHello" and tokens[-1] == "<|endoftext|>"
    types = np.array(_field(r, "tokenizer.ggml.token_type"))
    assert types[50256] == TokenType.CONTROL
    assert (np.delete(types, 50256) == TokenType.NORMAL).all()
    merges = _field(r, "tokenizer.ggml.merges")
    lines = (gpt2_tokenizer_dir() / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert merges == lines[1:] and lines[0].startswith("#version")  # some merges start "#"


def _expected_names(n_layer: int) -> set[str]:
    names = {"token_embd.weight", "position_embd.weight", "output.weight",
             "output_norm.weight", "output_norm.bias"}
    for i in range(n_layer):
        for part in ("attn_norm", "ffn_norm", *MATRICES):
            names |= {f"blk.{i}.{part}.weight", f"blk.{i}.{part}.bias"}
    return names


def test_f32_tensors_are_the_checkpoint_transposed(tiny_gguf: Path, tiny_checkpoint: Path) -> None:
    tensors = _tensors(_read(tiny_gguf))
    assert set(tensors) == _expected_names(2)
    assert {t.tensor_type for t in tensors.values()} == {Q.F32}
    raw = load_file(str(tiny_checkpoint / "model.safetensors"))
    # ggml shapes list the contiguous dimension first: [n_in, n_out] for a matrix.
    assert list(tensors["blk.0.attn_qkv.weight"].shape) == [64, 192]
    assert list(tensors["blk.1.ffn_down.weight"].shape) == [256, 64]
    pairs = {"blk.0.attn_qkv.weight": raw["h.0.attn.c_attn.weight"].T,
             "blk.0.attn_output.weight": raw["h.0.attn.c_proj.weight"].T,
             "blk.1.ffn_up.weight": raw["h.1.mlp.c_fc.weight"].T,
             "blk.1.ffn_down.weight": raw["h.1.mlp.c_proj.weight"].T,
             "blk.1.ffn_up.bias": raw["h.1.mlp.c_fc.bias"],
             "blk.0.attn_norm.weight": raw["h.0.ln_1.weight"],
             "position_embd.weight": raw["wpe.weight"],
             "token_embd.weight": raw["wte.weight"],
             "output.weight": raw["wte.weight"]}  # tied head, written explicitly
    for name, want in pairs.items():
        np.testing.assert_array_equal(tensors[name].data, want, err_msg=name)


def test_f16_keeps_vectors_and_positions_in_f32(tiny_f16: Path, tiny_checkpoint: Path) -> None:
    r = _read(tiny_f16)
    assert _field(r, "general.file_type") == 1
    tensors = _tensors(r)
    for name, t in tensors.items():
        is_matrix = name.endswith(".weight") and name.split(".")[-2] in (
            *MATRICES, "token_embd", "output")
        assert t.tensor_type == (Q.F16 if is_matrix else Q.F32), name
    raw = load_file(str(tiny_checkpoint / "model.safetensors"))
    np.testing.assert_array_equal(tensors["blk.1.attn_qkv.weight"].data,
                                  raw["h.1.attn.c_attn.weight"].T.astype(np.float16))
    np.testing.assert_array_equal(tensors["position_embd.weight"].data, raw["wpe.weight"])


def test_untied_head_becomes_output(tmp_path: Path) -> None:
    src = make_checkpoint(tmp_path / "ft", **SMALL, layout="transformers", untied_head=True)
    tensors = _tensors(GGUFReader(convert_checkpoint(src, tmp_path / "ft.gguf", "f32")))
    raw = load_file(str(src / "model.safetensors"))
    np.testing.assert_array_equal(tensors["output.weight"].data, raw["lm_head.weight"])
    np.testing.assert_array_equal(tensors["token_embd.weight"].data,
                                  raw["transformer.wte.weight"])


def test_tokenizer_json_and_shards_convert_the_same(tmp_path: Path) -> None:
    a = make_checkpoint(tmp_path / "a", **SMALL, seed=1)
    b = make_checkpoint(tmp_path / "b", **SMALL, seed=1, tokenizer="tokenizer.json", shards=2)
    ra = GGUFReader(convert_checkpoint(a, tmp_path / "a.gguf", "f32"))
    rb = GGUFReader(convert_checkpoint(b, tmp_path / "b.gguf", "f32"))
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"):
        assert _field(ra, key) == _field(rb, key), key
    ta, tb = _tensors(ra), _tensors(rb)
    for name in ta:
        np.testing.assert_array_equal(ta[name].data, tb[name].data, err_msg=name)


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_pytorch_bin_converts_like_safetensors(tmp_path: Path, fmt: str) -> None:
    spec = dict(**SMALL, seed=2, layout="transformers")
    a = make_checkpoint(tmp_path / "a", **spec)
    transposed = ["transformer.wte.weight", "transformer.h.0.mlp.c_fc.weight"]
    b = make_torch_checkpoint(tmp_path / "b", **spec, fmt=fmt, tie_head=True,
                              transposed=transposed)
    ta = _tensors(GGUFReader(convert_checkpoint(a, tmp_path / "a.gguf", "f32")))
    tb = _tensors(GGUFReader(convert_checkpoint(b, tmp_path / "b.gguf", "f32")))
    assert ta.keys() == tb.keys()
    for name in ta:
        np.testing.assert_array_equal(ta[name].data, tb[name].data, err_msg=name)


def test_q8_0_quantizes_matrices_only(tiny_gguf_q8: Path) -> None:
    r = _read(tiny_gguf_q8)
    assert _field(r, "general.file_type") == 7
    tensors = _tensors(r)
    assert set(tensors) == _expected_names(2)
    assert tensors["blk.0.attn_qkv.weight"].tensor_type == Q.Q8_0
    assert tensors["token_embd.weight"].tensor_type == Q.Q8_0
    assert tensors["position_embd.weight"].tensor_type == Q.F32
    assert tensors["output_norm.bias"].tensor_type == Q.F32


@pytest.mark.parametrize("n_embd", [64, 320])
def test_q4_k_m_on_rows_that_are_not_multiples_of_256(tmp_path: Path, n_embd: int) -> None:
    from gpt2_adventure.engine.llama.logs import route_llama_logs

    route_llama_logs(None)
    src = make_checkpoint(tmp_path / "c", n_layer=1, n_embd=n_embd, n_head=n_embd // 64,
                          n_positions=64)
    r = GGUFReader(convert_checkpoint(src, tmp_path / "q4.gguf", "q4_k_m"))
    assert _field(r, "general.file_type") == 15
    types = {t.name: t.tensor_type for t in r.tensors}
    assert types["position_embd.weight"] == Q.F32
    # Rows of n_embd values cannot hold 256-wide k-quant blocks: llama.cpp falls back.
    assert types["blk.0.attn_qkv.weight"] not in (Q.F32, Q.F16, Q.Q4_K)
    # ffn_down rows are n_ff = 4 * n_embd wide (256, 1280): multiples of 256, real k-quants.
    assert types["blk.0.ffn_down.weight"] in (Q.Q4_K, Q.Q6_K)


def test_progress_is_reported_and_the_file_has_normal_permissions(
        tiny_checkpoint: Path, tmp_path: Path) -> None:
    seen: list[str] = []
    out = convert_checkpoint(tiny_checkpoint, tmp_path / "p.gguf", "f16", progress=seen.append)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # not a temp file's 0600
    assert seen[0] == (f"read {tiny_checkpoint.name}: 2 layers, n_embd 64, 4 heads, "
                       "context 1024, vocabulary 50257")
    assert seen[-1] == f"wrote {tmp_path / 'p.gguf'}"
    assert any("blk.1.ffn_down.weight" in msg for msg in seen)


# ---- refusals and atomicity --------------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_failure_midway_leaves_nothing_and_keeps_the_old_file(
        tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out" / "model.gguf"
    out.parent.mkdir()
    out.write_bytes(b"previous model")
    real, calls = Checkpoint.tensor, []

    def flaky(self: Checkpoint, name: str) -> np.ndarray:
        calls.append(name)
        if len(calls) == 7:
            raise OSError("disk on fire")
        return real(self, name)

    monkeypatch.setattr(Checkpoint, "tensor", flaky)
    with pytest.raises(OSError, match="disk on fire"):
        convert_checkpoint(tiny_checkpoint, out, "f32")
    assert out.read_bytes() == b"previous model"
    assert _leftovers(out.parent) == []


def test_quantizer_failure_is_an_error_and_cleans_up(
        tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", lambda *args: 1)
    with pytest.raises(ModelFileError, match="could not quantize to q8_0"):
        convert_checkpoint(tiny_checkpoint, tmp_path / "q.gguf", "q8_0")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_cleans_up(tiny_checkpoint: Path, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(convert_mod, "_quantize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        convert_checkpoint(tiny_checkpoint, tmp_path / "q.gguf", "q4_k_m")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", [".", "model.safetensors", "config.json", "vocab.json"])
def test_refuses_to_overwrite_the_source(tmp_path: Path, target: str) -> None:
    src = make_checkpoint(tmp_path / "src", **SMALL)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    with pytest.raises(UserError, match="overwrite"):
        convert_checkpoint(src, src / target, "f32")
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


@pytest.mark.parametrize("target", ["pytorch_model-00002-of-00002.bin",
                                    "pytorch_model.bin.index.json"])
def test_refuses_to_overwrite_a_bin_source(tmp_path: Path, target: str) -> None:
    src = make_torch_checkpoint(tmp_path / "src", **SMALL, shards=2)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    with pytest.raises(UserError, match="overwrite"):
        convert_checkpoint(src, src / target, "f32")
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def test_refuses_a_folder_as_output(tiny_checkpoint: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="folder"):
        convert_checkpoint(tiny_checkpoint, tmp_path, "f32")


def test_unknown_quant(tiny_checkpoint: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="q4_0") as info:
        convert_checkpoint(tiny_checkpoint, tmp_path / "x.gguf", "q4_0")
    assert "q4_k_m" in (info.value.hint or "")
    assert list(tmp_path.iterdir()) == []


def test_bad_checkpoint_is_reported_before_any_file_is_made(tmp_path: Path) -> None:
    src = make_checkpoint(tmp_path / "src", **SMALL)
    (src / "config.json").write_text("{", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        convert_checkpoint(src, tmp_path / "out" / "x.gguf", "f16")
    assert info.value.where == str(src / "config.json")
    assert not (tmp_path / "out").exists()


def test_f16_overflow_is_refused(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    src = make_checkpoint(tmp_path / "src", **SMALL)
    tensors = load_file(str(src / "model.safetensors"))
    tensors["h.0.mlp.c_fc.weight"][0, 0] = 1e6
    save_file(tensors, str(src / "model.safetensors"))
    with pytest.raises(ModelFileError, match="f16"):
        convert_checkpoint(src, tmp_path / "x.gguf", "f16")
    assert _leftovers(tmp_path) == []
    convert_checkpoint(src, tmp_path / "x.gguf", "f32")  # f32 holds it fine


@pytest.mark.parametrize("quant", ["q8_0", "q4_k_m"])
def test_the_quantizer_in_small_pieces_writes_the_same_file(
        tiny_f16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quant: str) -> None:
    """llama.cpp's quantizer holds at most ``_QUANT_BUFFER`` of a tensor at a time; in
    pieces far smaller than the tiny model's 6 MB embeddings it writes what it writes whole."""
    import llama_cpp

    from gpt2_adventure.engine.llama.logs import route_llama_logs
    from gpt2_adventure.engine.models.convert import requantize

    route_llama_logs(None)
    real, seen = llama_cpp.llama_model_quantize, []

    def spy(src: bytes, dst: bytes, params: object) -> int:
        seen.append(params._obj.max_buf_size)  # type: ignore[attr-defined]
        return real(src, dst, params)

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", spy)
    assert convert_mod._QUANT_BUFFER == 64 << 20
    whole = requantize(tiny_f16, tmp_path / "whole.gguf", quant)
    monkeypatch.setattr(convert_mod, "_QUANT_BUFFER", 64 << 10)
    pieces = requantize(tiny_f16, tmp_path / "pieces.gguf", quant)
    assert seen == [64 << 20, 64 << 10]
    assert pieces.read_bytes() == whole.read_bytes()


# ---- requantizing a GGUF -----------------------------------------------------------------


def test_requantize_an_f16_gguf_to_q8_0_and_q6_k(tiny_f16: Path, tmp_path: Path) -> None:
    from gpt2_adventure.engine.llama.logs import route_llama_logs
    from gpt2_adventure.engine.models.convert import requantize

    route_llama_logs(None)
    seen: list[str] = []
    q8 = requantize(tiny_f16, tmp_path / "m.Q8_0.gguf", "Q8_0", progress=seen.append)
    types = {t.name: t.tensor_type for t in GGUFReader(q8).tensors}
    assert types["blk.0.attn_qkv.weight"] == Q.Q8_0
    assert types["position_embd.weight"] == Q.F32  # looked up, never quantized
    assert seen[-1] == f"wrote {q8}"
    q6 = requantize(tiny_f16, tmp_path / "m.Q6_K.gguf", "q6_k")
    assert _field(GGUFReader(q6), "general.file_type") == 18  # MOSTLY_Q6_K
    assert q8.stat().st_size < tiny_f16.stat().st_size
    assert _leftovers(tmp_path) == []


def test_requantize_refuses_what_is_not_a_gpt2_gguf(tiny_f16: Path, tmp_path: Path) -> None:
    from gpt2_adventure.engine.models.convert import requantize

    other = tmp_path / "other.gguf"
    other.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        requantize(other, tmp_path / "out.gguf")
    with pytest.raises(UserError, match="overwrite the file it is made from"):
        requantize(tiny_f16, tiny_f16)
    with pytest.raises(UserError, match="unknown quantization 'q5_k_s'"):
        requantize(tiny_f16, tmp_path / "out.gguf", "q5_k_s")
    assert not (tmp_path / "out.gguf").exists()


# ---- memory: one tensor at a time ----------------------------------------------------------

WIDE = {"n_layer": 4, "n_embd": 512, "n_head": 8, "n_positions": 64}
LARGEST = 512 * 2048 * 4  # bytes of an MLP matrix in float32, the largest tensor of WIDE
# Peak traced memory while converting, in largest tensors: one checkpoint tensor and its
# converted copy (a transposed f32 matrix is copied whole, 2.0; f16 is half of it, 1.5), plus
# a margin for the Python objects of a conversion (0.02 here). An f16 range check that copied
# the tensor (np.abs) measured 2.0 for f16; all tensors at once, 13.
BOUND = {"f32": 2.25, "f16": 1.75}


@pytest.fixture(scope="module")
def wide_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint whose layers outweigh everything else: 4 layers 512 wide (48 MB) under a
    257-token vocabulary, so its largest tensor is a twelfth of it."""
    from tests.support import hf_checkpoint

    folder = tmp_path_factory.mktemp("wide") / "wide-gpt2"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hf_checkpoint, "N_VOCAB", 257)
        make_checkpoint(folder, layout="transformers", **WIDE)
    vocab = json.loads((gpt2_tokenizer_dir() / "vocab.json").read_text(encoding="utf-8"))
    first = {token: i for token, i in vocab.items() if i < 256}  # the 256 byte symbols
    (folder / "vocab.json").write_text(json.dumps(first | {"<|endoftext|>": 256}),
                                       encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\nĠ t\n", encoding="utf-8")
    return folder


def _traced_peak(run: Callable[[], object]) -> int:
    """Peak bytes allocated while ``run`` runs, as tracemalloc sees them (NumPy reports its
    arrays to it)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()


@pytest.mark.parametrize("quant", ["f32", "f16"])
def test_conversion_holds_one_tensor_at_a_time(wide_checkpoint: Path, tmp_path: Path,
                                               quant: str) -> None:
    with safe_open(wide_checkpoint / "model.safetensors", "numpy") as f:
        sizes = [math.prod(f.get_slice(k).get_shape()) * 4 for k in f.keys()]  # noqa: SIM118
    assert max(sizes) == LARGEST and sum(sizes) > 12 * LARGEST
    out = tmp_path / f"{quant}.gguf"
    peak = _traced_peak(lambda: convert_checkpoint(wide_checkpoint, out, quant))
    assert peak < BOUND[quant] * LARGEST, f"{peak / LARGEST:.2f} largest tensors"
    assert out.stat().st_size > 10 * LARGEST / (2 if quant == "f16" else 1)


def test_the_memory_bound_catches_a_conversion_that_loads_everything(
        wide_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound above can fail: the same conversion with every tensor read up front (as
    ``safetensors.numpy.load_file`` would) goes far past it."""
    real_plan = convert_mod._plan

    def preloaded(ckpt: Checkpoint, half: bool) -> list:
        plan = real_plan(ckpt, half)
        arrays = [t.load() for t in plan]
        return [dataclasses.replace(t, load=lambda a=a: a) for t, a in zip(plan, arrays)]

    monkeypatch.setattr(convert_mod, "_plan", preloaded)
    peak = _traced_peak(lambda: convert_checkpoint(wide_checkpoint, tmp_path / "x.gguf", "f16"))
    assert peak > 10 * LARGEST > 4 * BOUND["f16"] * LARGEST
