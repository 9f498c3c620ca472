"""Reading Hugging Face GPT-2 checkpoints: layouts, tokenizers, shards, and every bad input."""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from gpt2_adventure.engine.models.checkpoint import load_checkpoint
from gpt2_adventure.errors import ModelFileError
from gpt2_adventure.resources import gpt2_tokenizer_dir
from tests.support.hf_checkpoint import make_checkpoint
from tests.support.torch_bin import make_torch_checkpoint

SMALL = {"n_layer": 1, "n_embd": 16, "n_head": 2, "n_positions": 32}


@pytest.fixture
def ckpt_dir(tmp_path: Path) -> Path:
    return make_checkpoint(tmp_path / "ckpt", **SMALL)


def _edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def _edit_tensors(folder: Path, edit: Callable[[dict[str, np.ndarray]], object]) -> None:
    path = folder / "model.safetensors"
    tensors = load_file(str(path))
    edit(tensors)
    save_file(tensors, str(path))


def _expect_error(folder: Path, where: Path, *words: str) -> ModelFileError:
    """Loading ``folder`` must fail with a ModelFileError naming ``where`` and saying ``words``."""
    return expect_refusal(load_checkpoint, folder, where, *words)


def expect_refusal(load: Callable[[Path], object], source: Path, where: Path,
                   *words: str) -> ModelFileError:
    """``load(source)`` must fail with a ModelFileError naming ``where`` and saying ``words``."""
    with pytest.raises(ModelFileError) as info:
        load(source)
    err = info.value
    assert err.where is not None and Path(err.where) == where, f"{err!r} names {err.where}"
    for word in words:
        assert word in err.message, f"{word!r} not in {err.message!r}"
    return err


# ---- what must load ----------------------------------------------------------------------


def test_plain_layout_ignores_mask_buffers_and_ties_the_head(ckpt_dir: Path) -> None:
    raw = load_file(str(ckpt_dir / "model.safetensors"))
    assert "h.0.attn.bias" in raw and "h.0.attn.masked_bias" in raw
    ckpt = load_checkpoint(ckpt_dir)
    assert ckpt.config.n_embd == 16 and ckpt.config.n_inner == 64
    assert ckpt.config.n_positions == 32
    assert not ckpt.has_lm_head
    np.testing.assert_array_equal(ckpt.tensor("h.0.attn.c_attn.weight"),
                                  raw["h.0.attn.c_attn.weight"])
    np.testing.assert_array_equal(ckpt.output_head(), raw["wte.weight"])
    with pytest.raises(ModelFileError, match="h.0.attn.bias"):
        ckpt.tensor("h.0.attn.bias")  # buffers are not weights


def test_transformers_layout_reads_the_same_weights(tmp_path: Path) -> None:
    plain = load_checkpoint(make_checkpoint(tmp_path / "a", **SMALL, seed=3))
    prefixed = load_checkpoint(make_checkpoint(tmp_path / "b", **SMALL, seed=3,
                                               layout="transformers"))
    assert prefixed.has_lm_head
    for name in ("wte.weight", "wpe.weight", "h.0.mlp.c_proj.weight", "ln_f.bias"):
        np.testing.assert_array_equal(plain.tensor(name), prefixed.tensor(name))
    np.testing.assert_array_equal(prefixed.output_head(), plain.tensor("wte.weight"))


def test_untied_head_is_used(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "c", **SMALL, layout="transformers", untied_head=True)
    raw = load_file(str(folder / "model.safetensors"))
    head = load_checkpoint(folder).output_head()
    np.testing.assert_array_equal(head, raw["lm_head.weight"])
    assert not np.array_equal(head, raw["transformer.wte.weight"])


@pytest.mark.parametrize("pairs", [False, True], ids=["merge-strings", "merge-pairs"])
def test_tokenizer_json_matches_vocab_and_merges(tmp_path: Path, pairs: bool) -> None:
    folder = make_checkpoint(tmp_path / "t", **SMALL, tokenizer="tokenizer.json")
    assert not (folder / "vocab.json").exists()
    if pairs:  # tokenizers >= 0.20 writes merges as [left, right]
        data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        data["model"]["merges"] = [m.split(" ") for m in data["model"]["merges"]]
        (folder / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
    via_json = load_checkpoint(folder).tokenizer
    via_vocab = load_checkpoint(make_checkpoint(tmp_path / "v", **SMALL)).tokenizer
    assert via_json.tokens == via_vocab.tokens
    assert via_json.merges == via_vocab.merges
    assert len(via_json.tokens) == 50257 and len(via_json.merges) == 50000
    assert via_json.merges[0] == "Ġ t"
    assert via_json.eot_id == 50256 and via_json.control == {50256}


def test_sharded_safetensors(tmp_path: Path) -> None:
    one = load_checkpoint(make_checkpoint(tmp_path / "one", **SMALL, seed=5))
    folder = make_checkpoint(tmp_path / "three", **SMALL, seed=5, shards=3)
    assert len(list(folder.glob("model-*-of-00003.safetensors"))) == 3
    three = load_checkpoint(folder)
    for name in ("wte.weight", "h.0.attn.c_attn.bias", "ln_f.weight"):
        np.testing.assert_array_equal(one.tensor(name), three.tensor(name))


def test_float16_checkpoint_reads_as_float32(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "h", **SMALL, dtype=np.float16)
    value = load_checkpoint(folder).tensor("h.0.mlp.c_fc.weight")
    assert value.dtype == np.float32
    raw = load_file(str(folder / "model.safetensors"))["h.0.mlp.c_fc.weight"]
    np.testing.assert_array_equal(value, raw.astype(np.float32))


def _rewrite_as_bf16(path: Path) -> dict[str, np.ndarray]:
    """Rewrite a safetensors file in bfloat16 (numpy has no bf16 dtype) and return the
    float32 values the bf16 data stands for."""
    tensors = load_file(str(path))
    header, blobs, expected, offset = {}, [], {}, 0
    for name, value in tensors.items():
        bits = (value.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        expected[name] = (bits.astype(np.uint32) << 16).view(np.float32)
        blob = bits.tobytes()
        header[name] = {"dtype": "BF16", "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    return expected


def test_bfloat16_checkpoint(ckpt_dir: Path) -> None:
    expected = _rewrite_as_bf16(ckpt_dir / "model.safetensors")
    ckpt = load_checkpoint(ckpt_dir)
    np.testing.assert_array_equal(ckpt.tensor("wte.weight"), expected["wte.weight"])
    assert np.abs(ckpt.tensor("ln_f.weight") - 1).max() < 0.6  # sane values, not garbage


def test_config_defaults_and_n_ctx(ckpt_dir: Path) -> None:
    cfg_path = ckpt_dir / "config.json"
    data = json.loads(cfg_path.read_text(encoding="utf-8"))
    del data["layer_norm_epsilon"], data["n_positions"], data["activation_function"]
    cfg_path.write_text(json.dumps(data), encoding="utf-8")  # n_ctx (32) remains
    cfg = load_checkpoint(ckpt_dir).config
    assert (cfg.n_positions, cfg.layer_norm_epsilon, cfg.activation_function) == (
        32, 1e-5, "gelu_new")


# ---- what must be refused, naming the file -----------------------------------------------


def test_not_a_folder(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope", tmp_path / "nope", "not a checkpoint folder")


def test_missing_config(ckpt_dir: Path) -> None:
    (ckpt_dir / "config.json").unlink()
    _expect_error(ckpt_dir, ckpt_dir / "config.json", "missing config.json")


def test_bad_json(ckpt_dir: Path) -> None:
    (ckpt_dir / "config.json").write_text('{"n_embd": 16,', encoding="utf-8")
    _expect_error(ckpt_dir, ckpt_dir / "config.json", "not valid JSON")


@pytest.mark.parametrize(("change", "words"), [
    ({"model_type": "gpt_neox"}, ("unsupported architecture", "gpt_neox")),
    ({"model_type": None}, ("unsupported architecture",)),
    ({"activation_function": "relu"}, ("activation_function", "relu")),
    ({"scale_attn_by_inverse_layer_idx": True}, ("scale_attn_by_inverse_layer_idx",)),
    ({"n_head": 3}, ("not divisible",)),
    ({"n_layer": "2"}, ("n_layer", "positive integer")),
    ({"layer_norm_epsilon": -1}, ("layer_norm_epsilon",)),
])
def test_bad_config(ckpt_dir: Path, change: dict, words: tuple[str, ...]) -> None:
    _edit_json(ckpt_dir / "config.json", **change)
    _expect_error(ckpt_dir, ckpt_dir / "config.json", *words)


def test_a_pytorch_bin_that_is_not_one(ckpt_dir: Path) -> None:
    (ckpt_dir / "model.safetensors").rename(ckpt_dir / "pytorch_model.bin")
    _expect_error(ckpt_dir, ckpt_dir / "pytorch_model.bin", "not a PyTorch checkpoint")


@pytest.mark.parametrize(("name", "framework"), [("tf_model.h5", "TensorFlow"),
                                                 ("flax_model.msgpack", "Flax")])
def test_other_frameworks_are_refused_with_a_hint(ckpt_dir: Path, name: str,
                                                  framework: str) -> None:
    (ckpt_dir / "model.safetensors").rename(ckpt_dir / name)
    err = _expect_error(ckpt_dir, ckpt_dir / name, framework, "does not read")
    assert "pytorch_model.bin" in (err.hint or "") and "safetensors" in (err.hint or "")


def test_no_weights_at_all(ckpt_dir: Path) -> None:
    (ckpt_dir / "model.safetensors").unlink()
    _expect_error(ckpt_dir, ckpt_dir, "no model.safetensors or pytorch_model.bin")


def test_missing_tensor(ckpt_dir: Path) -> None:
    _edit_tensors(ckpt_dir, lambda t: t.pop("h.0.mlp.c_fc.bias"))
    _expect_error(ckpt_dir, ckpt_dir / "model.safetensors", "h.0.mlp.c_fc.bias", "missing")


def test_wrong_shape_names_tensor_expected_and_got(ckpt_dir: Path) -> None:
    def transpose(t: dict[str, np.ndarray]) -> None:
        t["h.0.attn.c_attn.weight"] = np.ascontiguousarray(t["h.0.attn.c_attn.weight"].T)

    _edit_tensors(ckpt_dir, transpose)
    _expect_error(ckpt_dir, ckpt_dir / "model.safetensors",
                  "h.0.attn.c_attn.weight", "[48, 16]", "expected [16, 48]")


def test_truncated_safetensors(ckpt_dir: Path) -> None:
    path = ckpt_dir / "model.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect_error(ckpt_dir, path, "truncated")


def test_garbage_safetensors(ckpt_dir: Path) -> None:
    path = ckpt_dir / "model.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    _expect_error(ckpt_dir, path, "safetensors")


def test_missing_shard(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "s", **SMALL, shards=2)
    (folder / "model-00002-of-00002.safetensors").unlink()
    _expect_error(folder, folder / "model-00002-of-00002.safetensors", "missing shard")


def test_shard_index_without_a_tensor(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "s", **SMALL, shards=2)
    shard = folder / "model-00001-of-00002.safetensors"
    tensors = load_file(str(shard))
    victim = next(k for k in tensors if k.endswith("weight"))
    del tensors[victim]
    save_file(tensors, str(shard))
    _expect_error(folder, folder / "model.safetensors.index.json", victim)


def test_vocab_size_mismatch(ckpt_dir: Path) -> None:
    (ckpt_dir / "added_tokens.json").write_text('{"<|pad|>": 50257}', encoding="utf-8")
    _expect_error(ckpt_dir, ckpt_dir / "vocab.json", "50258 tokens", "50257 rows")


def test_config_vocab_size_mismatch(ckpt_dir: Path) -> None:
    _edit_json(ckpt_dir / "config.json", vocab_size=50304)
    _expect_error(ckpt_dir, ckpt_dir / "config.json", "vocab_size", "50304")


def test_missing_merges(ckpt_dir: Path) -> None:
    (ckpt_dir / "merges.txt").unlink()
    _expect_error(ckpt_dir, ckpt_dir / "merges.txt", "merges.txt")


def test_bad_merge_line(ckpt_dir: Path) -> None:
    path = ckpt_dir / "merges.txt"
    path.write_text(path.read_text(encoding="utf-8") + "a b c\n", encoding="utf-8")
    _expect_error(ckpt_dir, path, "bad merge entry")


def test_no_tokenizer(ckpt_dir: Path) -> None:
    (ckpt_dir / "merges.txt").unlink()
    (ckpt_dir / "vocab.json").unlink()
    _expect_error(ckpt_dir, ckpt_dir, "no tokenizer")


def test_vocab_without_endoftext(ckpt_dir: Path) -> None:
    vocab = json.loads((gpt2_tokenizer_dir() / "vocab.json").read_text(encoding="utf-8"))
    vocab["<|end|>"] = vocab.pop("<|endoftext|>")
    (ckpt_dir / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    _expect_error(ckpt_dir, ckpt_dir / "vocab.json", "<|endoftext|>")


def test_tokenizer_json_without_model(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "t", **SMALL, tokenizer="tokenizer.json")
    (folder / "tokenizer.json").write_text('{"version": "1.0"}', encoding="utf-8")
    _expect_error(folder, folder / "tokenizer.json", "model.vocab")


def test_unsupported_dtype(ckpt_dir: Path) -> None:
    _edit_tensors(ckpt_dir, lambda t: t.update({"ln_f.bias": t["ln_f.bias"].astype(np.int32)}))
    _expect_error(ckpt_dir, ckpt_dir / "model.safetensors", "ln_f.bias", "I32")


def test_config_only_folder_reports_missing_weights(tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    shutil.copy(gpt2_tokenizer_dir() / "vocab.json", folder)
    shutil.copy(gpt2_tokenizer_dir() / "merges.txt", folder)
    (folder / "config.json").write_text('{"model_type": "gpt2"}', encoding="utf-8")
    _expect_error(folder, folder, "no model.safetensors")


# ---- pytorch_model.bin (the formats themselves: test_torch_pickle.py) ---------------------


def test_safetensors_are_preferred_and_the_bin_never_opened(ckpt_dir: Path) -> None:
    (ckpt_dir / "pytorch_model.bin").write_bytes(b"\x80\x02cos\nsystem\n.")  # never read
    assert load_checkpoint(ckpt_dir).files == {ckpt_dir / "model.safetensors"}
    (ckpt_dir / "model.safetensors").unlink()
    _expect_error(ckpt_dir, ckpt_dir / "pytorch_model.bin", "not a PyTorch checkpoint")


@pytest.mark.parametrize("shard", ["../pytorch_model.bin", "/etc/passwd", "sub/x.bin", "..", ""])
def test_bin_index_naming_a_file_elsewhere(tmp_path: Path, shard: str) -> None:
    folder = make_torch_checkpoint(tmp_path / "s", **SMALL, shards=2)
    index = folder / "pytorch_model.bin.index.json"
    weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    _edit_json(index, weight_map={**weight_map, "wte.weight": shard})
    _expect_error(folder, index, "not a file in this folder")


def test_missing_bin_shard(tmp_path: Path) -> None:
    folder = make_torch_checkpoint(tmp_path / "s", **SMALL, shards=2, fmt="legacy")
    (folder / "pytorch_model-00001-of-00002.bin").unlink()
    _expect_error(folder, folder / "pytorch_model-00001-of-00002.bin", "missing shard")


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_bin_with_an_integer_weight(tmp_path: Path, fmt: str) -> None:
    folder = make_torch_checkpoint(tmp_path / "i", **SMALL, fmt=fmt,
                                   cast={"h.0.ln_1.bias": np.int64})
    _expect_error(folder, folder / "pytorch_model.bin", "h.0.ln_1.bias", "I64")


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_truncated_bin(tmp_path: Path, fmt: str) -> None:
    folder = make_torch_checkpoint(tmp_path / "t", **SMALL, fmt=fmt)
    path = folder / "pytorch_model.bin"
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    err = _expect_error(folder, path)
    assert "truncated" in f"{err.message} {err.hint}"


def test_bin_with_a_transposed_weight_of_the_wrong_shape(tmp_path: Path) -> None:
    """A strided view is read as what it claims to be; a wrong shape is still refused."""
    folder = make_torch_checkpoint(tmp_path / "w", **SMALL, transposed=["h.0.mlp.c_fc.weight"])
    assert load_checkpoint(folder).tensor("h.0.mlp.c_fc.weight").shape == (16, 64)
    _edit_json(folder / "config.json", n_inner=32)
    _expect_error(folder, folder / "pytorch_model.bin", "h.0.mlp.c_fc.weight", "expected")
