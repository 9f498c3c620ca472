"""Read a Hugging Face GPT-2 checkpoint folder without torch.

Accepts ``config.json``; the weights as ``model.safetensors`` or, when there is none,
``pytorch_model.bin`` (read by ``torch_bin`` without PyTorch and without running its
pickle), either one possibly sharded with an index; and the tokenizer as ``vocab.json`` +
``merges.txt`` or ``tokenizer.json``. Every problem becomes a ``ModelFileError`` naming the
file at fault. Tensors are read lazily, one at a time, so converting gpt2-xl does not need
all 6 GB in memory at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gpt2_adventure.engine.models.torch_bin import read_torch_bin
from gpt2_adventure.errors import ModelFileError

EOT = "<|endoftext|>"
# Real GPT-2 vocabulary size; quoted in error messages to help spot a wrong tokenizer.
GPT2_VOCAB_SIZE = 50257
# HF "gelu" is the exact erf form; llama.cpp always uses the tanh approximation. The two
# differ by < 1e-3 per activation, so such checkpoints still convert (slightly inexact).
_ACTIVATIONS = {"gelu_new", "gelu", "gelu_pytorch_tanh", "gelu_fast"}
# GPT2Config defaults: transformers omits default values when it saves a config.
_DEFAULTS: dict[str, Any] = {
    "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024, "vocab_size": 50257,
    "layer_norm_epsilon": 1e-5, "n_inner": None, "activation_function": "gelu_new",
}
_SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16}
_IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers, not weights
# Weights in frameworks other than PyTorch; nothing reads them here.
_OTHER_FRAMEWORKS = {"tf_model.h5": "TensorFlow", "flax_model.msgpack": "Flax"}
# JSON files of a checkpoint (config, vocabulary, tokenizer, index): GPT-2's tokenizer.json
# is 1.4 MB; anything near this is not a GPT-2 checkpoint file.
MAX_JSON_BYTES = 64 << 20


@dataclass(frozen=True)
class GPT2Config:
    n_embd: int
    n_layer: int
    n_head: int
    n_positions: int
    vocab_size: int
    layer_norm_epsilon: float
    n_inner: int
    activation_function: str


@dataclass(frozen=True)
class Tokenizer:
    tokens: list[str]  # byte-level BPE strings, index = token id
    merges: list[str]  # "left right", in rank order
    eot_id: int
    control: frozenset[int]  # special tokens (<|endoftext|> and added special ones)
    user_defined: frozenset[int]  # added, non-special tokens
    source: Path


@dataclass(frozen=True)
class _TensorEntry:
    file: Path
    dtype: str
    shape: tuple[int, ...]
    offset: int  # absolute byte offset of the first element in the file
    nbytes: int  # of the tensor's elements
    strides: tuple[int, ...] | None = None  # in elements (pytorch_model.bin); None: packed


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ModelFileError(f"missing {path.name}", where=path,
                             hint="a Hugging Face GPT-2 checkpoint folder is expected")
    try:
        size = path.stat().st_size
        too_large = size > MAX_JSON_BYTES  # refused before reading it all
        with path.open("rb") as fh:  # read(n) allocates n bytes: size it by the file
            raw = b"" if too_large else fh.read(size + 1)
            if size < len(raw) <= MAX_JSON_BYTES:  # it grew since stat
                raw += fh.read(MAX_JSON_BYTES + 1 - len(raw))
        if too_large or len(raw) > MAX_JSON_BYTES:
            raise ModelFileError(f"{path.name} is too large (over {MAX_JSON_BYTES >> 20} MB)",
                                 where=path)
        return json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path.name} is not valid JSON: {exc}", where=path) from exc
    except (RecursionError, ValueError) as exc:  # nested too deeply; a huge integer
        raise ModelFileError(f"{path.name} is not a usable JSON file "
                             f"({type(exc).__name__})", where=path) from None


def _int(cfg: dict[str, Any], key: str, path: Path) -> int:
    value = cfg.get(key, _DEFAULTS.get(key))
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelFileError(f"config field {key!r} must be a positive integer, got {value!r}",
                             where=path)
    return value


def read_config(folder: Path) -> GPT2Config:
    path = folder / "config.json"
    cfg = _read_json(path)
    if not isinstance(cfg, dict):
        raise ModelFileError("config.json must hold a JSON object", where=path)
    model_type = cfg.get("model_type")
    if model_type != "gpt2":
        raise ModelFileError(f"unsupported architecture: model_type is {model_type!r}, not 'gpt2'",
                             where=path, hint="only GPT-2 checkpoints (GPT2LMHeadModel) convert")
    act = cfg.get("activation_function", _DEFAULTS["activation_function"])
    if not isinstance(act, str) or act not in _ACTIVATIONS:
        raise ModelFileError(f"unsupported activation_function {act!r}", where=path,
                             hint=f"llama.cpp's GPT-2 supports {', '.join(sorted(_ACTIVATIONS))}")
    for flag, wanted in (("scale_attn_by_inverse_layer_idx", False), ("scale_attn_weights", True),
                         ("add_cross_attention", False)):
        if bool(cfg.get(flag, wanted)) != wanted:
            raise ModelFileError(f"unsupported GPT-2 variant: {flag} = {cfg[flag]!r}", where=path)
    if "n_positions" not in cfg and "n_ctx" in cfg:
        cfg = {**cfg, "n_positions": cfg["n_ctx"]}
    n_embd, n_head = _int(cfg, "n_embd", path), _int(cfg, "n_head", path)
    if n_embd % n_head:
        raise ModelFileError(f"n_embd {n_embd} is not divisible by n_head {n_head}", where=path)
    eps = cfg.get("layer_norm_epsilon", _DEFAULTS["layer_norm_epsilon"])
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
        raise ModelFileError(f"layer_norm_epsilon must be a small positive number, got {eps!r}",
                             where=path)
    n_inner = cfg.get("n_inner")
    return GPT2Config(
        n_embd=n_embd, n_layer=_int(cfg, "n_layer", path), n_head=n_head,
        n_positions=_int(cfg, "n_positions", path), vocab_size=_int(cfg, "vocab_size", path),
        layer_norm_epsilon=float(eps),
        n_inner=4 * n_embd if n_inner is None else _int(cfg, "n_inner", path),
        activation_function=act,
    )


# ---- tokenizer ---------------------------------------------------------------------------


def _merge_strings(raw: Any, path: Path) -> list[str]:
    if not isinstance(raw, list):
        raise ModelFileError("merges must be a list", where=path)
    merges = []
    for item in raw:
        if isinstance(item, str) and len(item.split(" ")) == 2:
            merges.append(item)
        elif isinstance(item, list) and len(item) == 2 and all(isinstance(p, str) for p in item):
            merges.append(f"{item[0]} {item[1]}")
        else:
            raise ModelFileError(f"bad merge entry {item!r}", where=path,
                                 hint='merges are "left right" strings or [left, right] pairs')
    return merges


def _build_tokenizer(vocab: Any, merges: list[str], added: list[tuple[str, int, bool]],
                     path: Path) -> Tokenizer:
    if not isinstance(vocab, dict) or not all(isinstance(i, int) for i in vocab.values()):
        raise ModelFileError("the vocabulary must map token strings to integer ids", where=path)
    by_id: dict[int, str] = {i: tok for tok, i in vocab.items()}
    control: set[int] = set()
    user: set[int] = set()
    for content, token_id, special in added:
        if by_id.setdefault(token_id, content) != content:
            raise ModelFileError(f"added token {content!r} reuses id {token_id}", where=path)
        (control if special else user).add(token_id)
    if sorted(by_id) != list(range(len(by_id))):
        raise ModelFileError("token ids are not contiguous from 0", where=path)
    tokens = [by_id[i] for i in range(len(by_id))]
    if EOT not in tokens:
        raise ModelFileError(f"the vocabulary has no {EOT} token", where=path,
                             hint="GPT-2 uses it as both BOS and EOS")
    eot_id = tokens.index(EOT)
    return Tokenizer(tokens, merges, eot_id, frozenset(control | {eot_id}), frozenset(user), path)


def read_tokenizer(folder: Path) -> Tokenizer:
    tj = folder / "tokenizer.json"
    if tj.is_file():
        data = _read_json(tj)
        model = data.get("model") if isinstance(data, dict) else None
        if not isinstance(model, dict) or "vocab" not in model or "merges" not in model:
            raise ModelFileError("tokenizer.json has no model.vocab / model.merges", where=tj)
        if model.get("type", "BPE") != "BPE":
            raise ModelFileError(f"tokenizer.json model type is {model['type']!r}, not BPE",
                                 where=tj)
        raw_added = data.get("added_tokens") or []
        if not isinstance(raw_added, list):
            raise ModelFileError("tokenizer.json's added_tokens is not a list", where=tj)
        entries = [(a.get("content"), a.get("id"), bool(a.get("special", False)))
                   for a in raw_added if isinstance(a, dict)]
        added = [(c, i, s) for c, i, s in entries if isinstance(c, str) and isinstance(i, int)]
        if len(added) != len(entries):
            raise ModelFileError("tokenizer.json has a malformed added_tokens entry", where=tj)
        return _build_tokenizer(model["vocab"], _merge_strings(model["merges"], tj), added, tj)

    vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
    if not vocab_path.is_file() and not merges_path.is_file():
        raise ModelFileError("no tokenizer found", where=folder,
                             hint="expected vocab.json + merges.txt, or tokenizer.json")
    vocab = _read_json(vocab_path)
    if not merges_path.is_file():
        raise ModelFileError("missing merges.txt", where=merges_path)
    if merges_path.stat().st_size > MAX_JSON_BYTES:
        raise ModelFileError(f"merges.txt is too large (over {MAX_JSON_BYTES >> 20} MB)",
                             where=merges_path)
    try:
        lines = merges_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"cannot read merges.txt: {exc}", where=merges_path) from exc
    merges = _merge_strings([ln for ln in lines if ln and not ln.startswith("#version")],
                            merges_path)
    added_path = folder / "added_tokens.json"
    added_raw = _read_json(added_path) if added_path.is_file() else {}
    added = ([(tok, i, True) for tok, i in added_raw.items()] if isinstance(added_raw, dict)
             else [])  # checked as tokenizer.json's are, in _build_tokenizer
    return _build_tokenizer(vocab, merges, added, vocab_path)


# ---- tensors -----------------------------------------------------------------------------


def _safetensors_entries(path: Path) -> dict[str, _TensorEntry]:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if size < 8 or n > size - 8:
                raise ValueError("header length is larger than the file")
            if n > MAX_JSON_BYTES:  # the safetensors format itself caps it at 100 MB
                raise ValueError(f"header of {n} bytes is implausibly large")
            header = json.loads(f.read(n))
    except (OSError, ValueError, RecursionError) as exc:  # JSON and UTF-8 errors included
        raise ModelFileError(f"not a readable safetensors file: {exc}", where=path,
                             hint="the download may be truncated; fetch it again") from exc
    if not isinstance(header, dict):
        raise ModelFileError("safetensors header is not a JSON object", where=path)
    entries = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"bad safetensors entry for {name}", where=path) from exc
        if not all(type(v) is int and v >= 0 for v in (begin, end, *shape)) or begin > end:
            raise ModelFileError(f"bad safetensors entry for {name} (shape or offsets are not "
                                 "whole numbers in order)", where=path)
        if 8 + n + end > size:
            raise ModelFileError(f"tensor {name} lies past the end of the file (truncated?)",
                                 where=path)
        entries[name] = _TensorEntry(path, dtype, shape, 8 + n + begin, end - begin)
    return entries


def _torch_entries(path: Path) -> dict[str, _TensorEntry]:
    return {name: _TensorEntry(path, t.dtype, t.shape, t.offset, t.nbytes, t.strides)
            for name, t in read_torch_bin(path).items()}


def _sharded_entries(index: Path,
                     read: Callable[[Path], dict[str, _TensorEntry]]) -> dict[str, _TensorEntry]:
    doc = _read_json(index)
    weight_map = doc.get("weight_map") if isinstance(doc, dict) else None
    if not isinstance(weight_map, dict):
        raise ModelFileError("index has no weight_map", where=index)
    shards = set(weight_map.values())
    for shard in shards:  # plain file names beside the index, never a path elsewhere
        if not isinstance(shard, str) or Path(shard).name != shard or shard in ("", ".", ".."):
            raise ModelFileError(f"the index names a shard that is not a file in this "
                                 f"folder: {str(shard)[:80]!r}", where=index)
    entries: dict[str, _TensorEntry] = {}
    for shard in sorted(shards):
        if not (index.parent / shard).is_file():
            raise ModelFileError(f"missing shard {shard}", where=index.parent / shard)
        entries.update(read(index.parent / shard))
    return entries


def _tensor_entries(folder: Path) -> tuple[dict[str, _TensorEntry], Path]:
    """All tensors by checkpoint key, plus the file to name when one is missing."""
    for single, read in (("model.safetensors", _safetensors_entries),
                         ("pytorch_model.bin", _torch_entries)):
        path, index = folder / single, folder / f"{single}.index.json"
        if path.is_file():
            return read(path), path
        if index.is_file():
            return _sharded_entries(index, read), index
    for name, framework in _OTHER_FRAMEWORKS.items():
        if (folder / name).is_file():
            raise ModelFileError(
                f"{name} holds {framework} weights, which this game does not read",
                where=folder / name,
                hint="use a checkpoint with model.safetensors or pytorch_model.bin")
    raise ModelFileError("no model.safetensors or pytorch_model.bin found", where=folder,
                         hint="expected model.safetensors, pytorch_model.bin, or the "
                         ".index.json of either's shards")


def _packed_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The element strides of a C-contiguous array of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _expected_shapes(c: GPT2Config, vocab: int) -> dict[str, tuple[int, ...]]:
    e, f = c.n_embd, c.n_inner
    shapes: dict[str, tuple[int, ...]] = {
        "wte.weight": (vocab, e), "wpe.weight": (c.n_positions, e),
        "ln_f.weight": (e,), "ln_f.bias": (e,),
    }
    for i in range(c.n_layer):
        # HF Conv1D stores weights as [in, out].
        shapes |= {
            f"h.{i}.ln_1.weight": (e,), f"h.{i}.ln_1.bias": (e,),
            f"h.{i}.attn.c_attn.weight": (e, 3 * e), f"h.{i}.attn.c_attn.bias": (3 * e,),
            f"h.{i}.attn.c_proj.weight": (e, e), f"h.{i}.attn.c_proj.bias": (e,),
            f"h.{i}.ln_2.weight": (e,), f"h.{i}.ln_2.bias": (e,),
            f"h.{i}.mlp.c_fc.weight": (e, f), f"h.{i}.mlp.c_fc.bias": (f,),
            f"h.{i}.mlp.c_proj.weight": (f, e), f"h.{i}.mlp.c_proj.bias": (e,),
        }
    return shapes


class Checkpoint:
    """A validated GPT-2 checkpoint; ``tensor`` reads one weight as float32 on demand."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.name = folder.resolve().name
        self.config = read_config(folder)
        self.tokenizer = read_tokenizer(folder)
        raw, self._tensor_source = _tensor_entries(folder)
        # "transformer.h.0..." (transformers) and "h.0..." (original export) name the same thing.
        self._entries = {k.removeprefix("transformer."): v for k, v in raw.items()
                         if not k.endswith(_IGNORED_SUFFIXES)}
        self._check()

    @property
    def files(self) -> set[Path]:
        return {e.file for e in self._entries.values()} | {self._tensor_source}

    @property
    def has_lm_head(self) -> bool:
        return "lm_head.weight" in self._entries

    def _check(self) -> None:
        n_vocab = len(self.tokenizer.tokens)
        wte = self._entry("wte.weight")
        if len(wte.shape) == 2 and wte.shape[0] != n_vocab:
            raise ModelFileError(
                f"the tokenizer has {n_vocab} tokens but wte.weight has {wte.shape[0]} rows",
                where=self.tokenizer.source,
                hint=f"GPT-2's own tokenizer has {GPT2_VOCAB_SIZE}; use the checkpoint's tokenizer")
        if self.config.vocab_size != n_vocab:
            raise ModelFileError(f"config vocab_size is {self.config.vocab_size} but the "
                                 f"tokenizer has {n_vocab} tokens",
                                 where=self.folder / "config.json")
        shapes = _expected_shapes(self.config, n_vocab)
        if self.has_lm_head:
            shapes["lm_head.weight"] = (n_vocab, self.config.n_embd)
        for name, shape in shapes.items():
            entry = self._entry(name)
            if entry.shape != shape:
                raise ModelFileError(
                    f"tensor {name} has shape {list(entry.shape)}, expected {list(shape)} "
                    "from config.json", where=entry.file)
            if entry.dtype not in _SAFETENSORS_DTYPES:
                raise ModelFileError(f"tensor {name} has unsupported dtype {entry.dtype}",
                                     where=entry.file, hint="F32, F16 and BF16 are supported")
            itemsize = np.dtype(_SAFETENSORS_DTYPES[entry.dtype]).itemsize
            if entry.nbytes != math.prod(shape) * itemsize:
                raise ModelFileError(f"tensor {name} has {entry.nbytes} bytes of data, "
                                     f"expected {math.prod(shape) * itemsize}", where=entry.file)

    def _entry(self, name: str) -> _TensorEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise ModelFileError(f"tensor {name} is missing", where=self._tensor_source,
                                 hint="is this a GPT-2 language-model checkpoint?") from None

    def tensor(self, name: str) -> np.ndarray:
        """Checkpoint tensor ``name`` (without any ``transformer.`` prefix) as float32."""
        entry = self._entry(name)
        dtype = np.dtype(_SAFETENSORS_DTYPES[entry.dtype])
        strided = entry.strides is not None and entry.strides != _packed_strides(entry.shape)
        count = math.prod(entry.shape)
        if strided and count:  # read the span it covers in its storage, then pick it out
            count = 1 + sum((n - 1) * s for n, s in zip(entry.shape, entry.strides or ()))
        try:
            data = np.fromfile(entry.file, dtype=dtype, count=count, offset=entry.offset)
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"cannot read tensor {name}: {exc}", where=entry.file) from exc
        if data.size != count:
            raise ModelFileError(f"tensor {name} is truncated", where=entry.file)
        if strided:
            strides = tuple(s * dtype.itemsize for s in entry.strides or ())
            data = np.lib.stride_tricks.as_strided(data, entry.shape, strides).copy().ravel()
        if entry.dtype == "BF16":  # bfloat16 is the top half of a float32
            wide = data.astype(np.uint32)  # one f32-sized array, shifted in place
            data = np.left_shift(wide, 16, out=wide).view(np.float32)
        return data.astype(np.float32, copy=False).reshape(entry.shape)

    def output_head(self) -> np.ndarray:
        """The output projection [vocab, n_embd]: ``lm_head`` if stored (fine-tunes), else wte."""
        return self.tensor("lm_head.weight" if self.has_lm_head else "wte.weight")


def load_checkpoint(folder: Path) -> Checkpoint:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError("not a checkpoint folder", where=folder,
                             hint="point at the folder holding config.json and model.safetensors")
    return Checkpoint(folder)
