"""Convert a Hugging Face GPT-2 checkpoint into a GGUF file llama.cpp can load, or
requantize a GGUF.

f32/f16 are written here with the ``gguf`` package, one tensor at a time; q8_0, q6_k and
q4_k_m are an f16 GGUF run through llama.cpp's own quantizer, which is also what
``requantize`` runs on a GGUF (an F16 download becomes a Q8_0 half its size that writes ~1.5x
faster on a CPU).
The output appears atomically: everything goes to a temp file next to ``out`` that replaces
it only when complete.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gpt2_adventure.engine.models.checkpoint import Checkpoint, load_checkpoint
from gpt2_adventure.errors import ModelFileError, UserError
from gpt2_adventure.fileio import atomic_path
from gpt2_adventure.units import count

QUANT_TYPES = ("f32", "f16", "q8_0", "q6_k", "q4_k_m")
# What llama.cpp's quantizer can write from a GGUF (f16 too: a f32 file halves).
REQUANT_TYPES = ("f16", "q8_0", "q6_k", "q4_k_m")
_LLAMA_FTYPES = {"f16": "LLAMA_FTYPE_MOSTLY_F16", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
                 "q6_k": "LLAMA_FTYPE_MOSTLY_Q6_K", "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}
# Checkpoint files ``out`` must never replace (the weight files are checked separately).
_SOURCE_NAMES = {"config.json", "vocab.json", "merges.txt", "tokenizer.json",
                 "added_tokens.json", "model.safetensors.index.json",
                 "pytorch_model.bin.index.json"}

_F16_MAX = float(np.finfo(np.float16).max)
# How much of a tensor llama.cpp's quantizer holds at once. Its default, 8 GiB, means whole
# tensors and their f32 copies: 424 MB of anonymous memory for gpt2-xl; 64 MiB makes it 84 MB
# (82 for q8_0), the same bytes out, wall time within this 2-core machine's noise (CPU time
# up to a tenth more; 128 MiB: 127-168 MB). Measured with a script like
# benchmarks/convert_memory.py's on the quantizer alone.
_QUANT_BUFFER = 64 << 20

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _PlannedTensor:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    load: Callable[[], np.ndarray]


def _plan(ckpt: Checkpoint, half: bool) -> list[_PlannedTensor]:
    """GGUF tensors in llama.cpp's GPT-2 layout, each with a loader producing its data."""
    c, n_vocab = ckpt.config, len(ckpt.tokenizer.tokens)
    e, f = c.n_embd, c.n_inner
    f32, matrix = np.dtype(np.float32), np.dtype(np.float16 if half else np.float32)
    plan: list[_PlannedTensor] = []

    def add(name: str, shape: tuple[int, ...], load: Callable[[], np.ndarray],
            dtype: np.dtype = f32) -> None:
        plan.append(_PlannedTensor(name, shape, dtype, load))

    def src(key: str, transpose: bool = False) -> Callable[[], np.ndarray]:
        # HF Conv1D weights are [in, out]; ggml wants [out, in] rows.
        return lambda: ckpt.tensor(key).T if transpose else ckpt.tensor(key)

    add("token_embd.weight", (n_vocab, e), src("wte.weight"), matrix)
    # Position embeddings are looked up, not multiplied: keep them exact (and the
    # quantizer leaves them alone too).
    add("position_embd.weight", (c.n_positions, e), src("wpe.weight"))
    add("output_norm.weight", (e,), src("ln_f.weight"))
    add("output_norm.bias", (e,), src("ln_f.bias"))
    # llama.cpp would fall back to token_embd when "output" is absent, but writing it lets
    # the quantizer give the head its own (higher) precision and carries untied fine-tunes.
    add("output.weight", (n_vocab, e), ckpt.output_head, matrix)
    for i in range(c.n_layer):
        h, b = f"h.{i}", f"blk.{i}"
        for ours, theirs in (("attn_norm", "ln_1"), ("ffn_norm", "ln_2")):
            add(f"{b}.{ours}.weight", (e,), src(f"{h}.{theirs}.weight"))
            add(f"{b}.{ours}.bias", (e,), src(f"{h}.{theirs}.bias"))
        for ours, theirs, n_out, n_in in (("attn_qkv", "attn.c_attn", 3 * e, e),
                                          ("attn_output", "attn.c_proj", e, e),
                                          ("ffn_up", "mlp.c_fc", f, e),
                                          ("ffn_down", "mlp.c_proj", e, f)):
            add(f"{b}.{ours}.weight", (n_out, n_in), src(f"{h}.{theirs}.weight", True), matrix)
            add(f"{b}.{ours}.bias", (n_out,), src(f"{h}.{theirs}.bias"))
    return plan


def _write_gguf(ckpt: Checkpoint, path: Path, half: bool, progress: Progress) -> None:
    import gguf

    c, tok = ckpt.config, ckpt.tokenizer
    writer = gguf.GGUFWriter(path, "gpt2")
    try:
        writer.add_name(ckpt.name)
        writer.add_context_length(c.n_positions)
        writer.add_embedding_length(c.n_embd)
        writer.add_feed_forward_length(c.n_inner)
        writer.add_block_count(c.n_layer)
        writer.add_head_count(c.n_head)
        writer.add_layer_norm_eps(c.layer_norm_epsilon)
        ftype = gguf.LlamaFileType.MOSTLY_F16 if half else gguf.LlamaFileType.ALL_F32
        writer.add_file_type(ftype)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("gpt-2")
        writer.add_token_list(tok.tokens)
        writer.add_token_types([
            gguf.TokenType.CONTROL if i in tok.control
            else gguf.TokenType.USER_DEFINED if i in tok.user_defined
            else gguf.TokenType.NORMAL
            for i in range(len(tok.tokens))
        ])
        writer.add_token_merges(tok.merges)
        writer.add_bos_token_id(tok.eot_id)
        writer.add_eos_token_id(tok.eot_id)

        plan = _plan(ckpt, half)
        for t in plan:
            writer.add_tensor_info(t.name, t.shape, t.dtype, math.prod(t.shape) * t.dtype.itemsize)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for n, t in enumerate(plan, 1):
            progress(f"writing {t.name} ({n}/{len(plan)})")
            # The arrays of one tensor are gone before the next one is read.
            writer.write_tensor_data(_tensor_data(t, ckpt.folder))
    finally:
        writer.close()


def _tensor_data(t: _PlannedTensor, folder: Path) -> np.ndarray:
    """The planned tensor's data, contiguous in its GGUF type.

    At most the checkpoint tensor (float32) and its converted copy are alive at once: the
    f16 range check is two reductions, which allocate nothing (``np.abs`` would copy it).
    """
    data = t.load()
    if data.shape != t.shape:  # the checkpoint was validated; this guards our plan
        raise AssertionError(f"{t.name}: planned {t.shape}, got {data.shape}")
    if t.dtype == np.float16 and (data.max(initial=0) > _F16_MAX
                                  or data.min(initial=0) < -_F16_MAX):
        raise ModelFileError(f"{t.name} has values that do not fit in f16",
                             where=folder, hint="convert with quant f32")
    return np.ascontiguousarray(data, dtype=t.dtype)  # the data itself when already so


def _quantize(src: Path, dst: Path, quant: str) -> None:
    """Run llama.cpp's quantizer. Its log lines go wherever ``route_llama_logs`` sent them."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, _LLAMA_FTYPES[quant])
    params.nthread = os.cpu_count() or 1
    params.max_buf_size = _QUANT_BUFFER
    rc = llama_cpp.llama_model_quantize(os.fsencode(src), os.fsencode(dst), ctypes.byref(params))
    if rc != 0:
        raise ModelFileError(f"llama.cpp could not quantize to {quant} (code {rc})", where=src,
                             hint="the llama.cpp log file has the details")


@contextlib.contextmanager
def _temp_file(folder: Path, stem: str) -> Iterator[Path]:
    """An unused scratch path in ``folder`` (for the f16 file the quantizer reads), removed
    on the way out."""
    path = folder / f".{stem}.{os.getpid()}.{secrets.token_hex(4)}.part"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def convert_checkpoint(src: Path, out: Path, quant: str = "f16",
                       progress: Progress | None = None) -> Path:
    """Convert the checkpoint folder ``src`` to the GGUF file ``out`` and return ``out``.

    ``quant`` is one of ``QUANT_TYPES``. For q8_0/q4_k_m, llama.cpp logs through its log
    callback: call ``route_llama_logs`` first so nothing reaches the terminal.
    """
    report = progress or (lambda _msg: None)
    if quant not in QUANT_TYPES:
        raise UserError(f"unknown quantization {quant!r}",
                        hint=f"choose one of {', '.join(QUANT_TYPES)}")
    src, out = Path(src), Path(out)
    ckpt = load_checkpoint(src)  # validates everything before any output or message
    c = ckpt.config
    report(f"read {ckpt.name}: {count(c.n_layer, 'layer')}, n_embd {c.n_embd}, "
           f"{count(c.n_head, 'head')}, "
           f"context {c.n_positions}, vocabulary {len(ckpt.tokenizer.tokens)}")
    target = out.resolve()
    if target == src.resolve() or target in {p.resolve() for p in ckpt.files} or (
            target.parent == src.resolve() and target.name in _SOURCE_NAMES):
        raise UserError("the output would overwrite the checkpoint it is converted from",
                        where=out, hint="choose another output file name")
    if out.is_dir():
        raise UserError("the output path is a folder", where=out, hint="name a .gguf file")
    out.parent.mkdir(parents=True, exist_ok=True)

    # mode=None: the writers create the file, so the umask sets its mode as for any new file.
    with atomic_path(out, mode=None, temp_prefix=f".{out.name}.") as tmp:
        if quant in ("f32", "f16"):
            _write_gguf(ckpt, tmp, half=quant == "f16", progress=report)
        else:
            with _temp_file(out.parent, out.name + ".f16") as f16:
                _write_gguf(ckpt, f16, half=True, progress=report)
                report(f"quantizing to {quant}")
                _quantize(f16, tmp, quant)
    report(f"wrote {out}")
    return out



def requantize(src: Path, out: Path, quant: str = "q8_0",
               progress: Progress | None = None) -> Path:
    """Write the GPT-2 GGUF ``src`` again as ``quant`` (one of ``REQUANT_TYPES``) to ``out``.

    ``src`` is checked first (a GPT-2 GGUF with its tokenizer); llama.cpp's quantizer keeps
    every tensor it should not touch (position embeddings, norms) as it is. Call
    ``route_llama_logs`` first so the quantizer's log stays off the terminal.
    """
    from gpt2_adventure.engine.models.gguf_info import read_model_info

    report = progress or (lambda _msg: None)
    quant = quant.lower()
    if quant not in REQUANT_TYPES:
        raise UserError(f"unknown quantization {quant!r} for a GGUF",
                        hint=f"choose one of {', '.join(REQUANT_TYPES)}")
    src, out = Path(src), Path(out)
    info = read_model_info(src)
    if out.resolve() == src.resolve():
        raise UserError("the output would overwrite the file it is made from", where=out,
                        hint="choose another output file name")
    if out.is_dir():
        raise UserError("the output path is a folder", where=out, hint="name a .gguf file")
    report(f"read {info.name}: {info.quantization}, {count(info.n_layer, 'layer')}, "
           f"n_embd {info.n_embd}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, mode=None, temp_prefix=f".{out.name}.") as tmp:
        report(f"quantizing to {quant}")
        _quantize(src, tmp, quant)
    report(f"wrote {out}")
    return out
