"""Read a GGUF header and say precisely what is wrong before llama.cpp ever sees the file.

llama.cpp aborts the process on some malformed files; everything it would choke on that
we can see from the header is refused here with a one-line ModelFileError.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.models.gguf_header import HeaderError, TensorInfo, read_header
from gpt2_adventure.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
SUPPORTED_ARCHITECTURES = ("gpt2",)
GPT2_TRAINING_CONTEXT = 1024
# The smallest context the game runs with ([model].n_ctx >= 16): a position table shorter than
# this would be evaluated past its end, which aborts the process inside ggml.
MIN_POSITIONS = 16


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str
    architecture: str
    parameters: int
    quantization: str
    training_context: int  # positions the model can evaluate (its position table)
    vocab_size: int
    n_embd: int
    n_layer: int
    n_head: int
    tokenizer_pre: str | None
    file_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "name": self.name,
            "architecture": self.architecture,
            "parameters": self.parameters,
            "quantization": self.quantization,
            "training_context": self.training_context,
            "vocab_size": self.vocab_size,
            "n_embd": self.n_embd,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "tokenizer_pre": self.tokenizer_pre,
            "file_size": self.file_size,
        }


def _check_file(path: Path) -> int:
    if not path.exists():
        raise ModelFileError("model file not found", path,
                             hint="give a .gguf file or a catalog name "
                                  "(gpt2-adventure models list)")
    if path.is_dir():
        raise ModelFileError("expected a .gguf file, got a directory", path,
                             hint="to use a Hugging Face checkpoint folder, run: "
                                  "gpt2-adventure models convert FOLDER --out FILE.gguf")
    if not os.access(path, os.R_OK):
        raise ModelFileError("model file is not readable (permission denied)", path)
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError("model file is empty (0 bytes)", path)
    with path.open("rb") as fh:
        head = fh.read(8)
    if head[:4] != GGUF_MAGIC:
        hint = None
        if head[:1] == b"{" or head[8:9] == b"{" or path.suffix == ".safetensors":
            hint = "this looks like a Hugging Face checkpoint; convert it with: " \
                   "gpt2-adventure models convert FOLDER --out FILE.gguf"
        raise ModelFileError("not a GGUF file (bad magic bytes)", path, hint=hint)
    if len(head) < 8:
        raise ModelFileError("truncated GGUF file (header cut short)", path)
    return size


def _quantization(file_type: Any, tensors: list[TensorInfo]) -> str:
    import gguf

    if isinstance(file_type, int):
        try:
            name = gguf.LlamaFileType(file_type).name
            return "F32" if name == "ALL_F32" else name.removeprefix("MOSTLY_")
        except ValueError:
            pass
    weights = Counter(t.type_id for t in tensors if len(t.shape) > 1)
    if not weights:
        return "unknown"
    type_id = weights.most_common(1)[0][0]
    try:
        return gguf.GGMLQuantizationType(type_id).name
    except ValueError:
        return f"type {type_id}"


def _count_parameters(by_name: dict[str, TensorInfo]) -> int:
    total = sum(t.n_elements for t in by_name.values())
    head, embd = by_name.get("output.weight"), by_name["token_embd.weight"]
    # GPT-2 ties its output head to the token embedding; files often store a copy.
    if head is not None and head.shape == embd.shape:
        total -= head.n_elements
    return total


def read_model_info(path: str | os.PathLike[str]) -> ModelInfo:
    """Validate ``path`` as a GPT-2 GGUF that llama.cpp can load, and describe it."""
    path = Path(path)
    size = _check_file(path)
    try:
        header = read_header(path)
    except HeaderError as exc:
        kind = "truncated" if "cut short" in str(exc) else "corrupt"
        raise ModelFileError(f"{kind} GGUF file ({exc})", path,
                             hint="download or convert the model again") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read the model file: {exc.strerror or exc}", path) from None
    meta, tensors = header.metadata, header.tensors

    arch = meta.get("general.architecture")
    if not isinstance(arch, str):
        raise ModelFileError("GGUF file has no general.architecture", path)
    if arch not in SUPPORTED_ARCHITECTURES:
        raise ModelFileError(f"unsupported architecture {arch!r}: this game runs GPT-2 models",
                             path, hint="pick a GPT-2 GGUF (gpt2-adventure models list)")
    vocab_size = header.array_lengths.get("tokenizer.ggml.tokens")
    if not vocab_size or "tokenizer.ggml.model" not in meta:
        raise ModelFileError("GGUF file has no tokenizer (tokenizer.ggml.tokens missing)", path)
    if not tensors:
        raise ModelFileError("GGUF file holds only a vocabulary, no model weights", path)

    # A file cut short still parses (its tensor table is in the header): check the data.
    end = max(t.offset + t.n_bytes for t in tensors)
    if end > size:
        raise ModelFileError(f"truncated GGUF file: weights need {end} bytes, file has {size}",
                             path, hint="download or convert the model again")

    by_name = {t.name: t for t in tensors}
    for needed in ("token_embd.weight", "position_embd.weight"):
        if needed not in by_name:
            raise ModelFileError(f"GGUF file lacks the tensor {needed}", path)

    def meta_int(key: str, default: int = 0) -> int:
        value = meta.get(f"{arch}.{key}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ModelFileError(f"corrupt GGUF file ({arch}.{key} is {value})", path)
        return int(value) if isinstance(value, (int, float)) else default

    header_ctx = meta_int("context_length", GPT2_TRAINING_CONTEXT)
    # ggml stores shapes fastest-first: position_embd is [n_embd, n_positions]. llama.cpp
    # needs the two to agree, and evaluating past the table would abort the process.
    for needed in ("token_embd.weight", "position_embd.weight"):
        if len(by_name[needed].shape) != 2:
            raise ModelFileError(f"corrupt GGUF file ({needed} has shape "
                                 f"{list(by_name[needed].shape)}, not 2 dimensions)", path)
    table_rows = int(by_name["position_embd.weight"].shape[-1])
    if table_rows != header_ctx:
        raise ModelFileError(f"the file claims a {header_ctx}-token context but its position "
                             f"table has {table_rows} rows", path)
    if table_rows < MIN_POSITIONS:
        raise ModelFileError(f"the model's position table has only {table_rows} rows; the game "
                             f"needs a context of at least {MIN_POSITIONS} tokens", path)

    name, pre = meta.get("general.name"), meta.get("tokenizer.ggml.pre")
    return ModelInfo(
        path=path,
        name=name if isinstance(name, str) else path.stem,
        architecture=arch,
        parameters=_count_parameters(by_name),
        quantization=_quantization(meta.get("general.file_type"), tensors),
        training_context=table_rows,
        vocab_size=vocab_size,
        n_embd=meta_int("embedding_length"),
        n_layer=meta_int("block_count"),
        n_head=meta_int("attention.head_count"),
        tokenizer_pre=pre if isinstance(pre, str) else None,
        file_size=size,
    )
