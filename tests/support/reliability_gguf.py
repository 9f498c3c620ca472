"""Write GGUF headers byte by byte, including impossible ones, for the reader fuzzers.

``gguf.GGUFWriter`` only writes honest files; these can lie about counts, use unknown types,
nest arrays and point tensors anywhere.
"""

from __future__ import annotations

import struct
from typing import Any

SCALAR_FORMATS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q",
                  11: "q", 12: "d"}
STRING, ARRAY = 8, 9
ALIGNMENT = 32

# (key, value type, value); an array value is (element type, claimed count, items);
# a value of an unknown type is raw bytes.
KV = tuple[bytes, int, Any]
# (name, dims, ggml type, offset)
TensorSpec = tuple[bytes, list[int], int, int]


def string(raw: bytes) -> bytes:
    return struct.pack("<Q", len(raw)) + raw


def value(vtype: int, item: Any) -> bytes:
    if vtype in SCALAR_FORMATS:
        return struct.pack("<" + SCALAR_FORMATS[vtype], item)
    if vtype == STRING:
        return string(item)
    if vtype == ARRAY:
        etype, count, items = item
        return struct.pack("<IQ", etype, count) + b"".join(value(etype, x) for x in items)
    return bytes(item)


def build(kvs: list[KV], tensors: list[TensorSpec], data: bytes = b"", *, version: int = 3,
          n_tensors: int | None = None, n_kv: int | None = None) -> bytes:
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                       len(kvs) if n_kv is None else n_kv)
    for key, vtype, item in kvs:
        out += string(key) + struct.pack("<I", vtype) + value(vtype, item)
    for name, dims, ttype, offset in tensors:
        out += string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
    out += bytes(-len(out) % ALIGNMENT)
    return bytes(out) + data


def tiny_gpt2(n_vocab: int = 4, n_embd: int = 8, n_ctx: int = 16) -> bytes:
    """A header read_model_info accepts (llama.cpp would not: no blocks), with f32 data."""
    tokens = [b"a", b"b", b"c", b"<|endoftext|>"][:n_vocab]
    kvs: list[KV] = [
        (b"general.architecture", STRING, b"gpt2"),
        (b"general.name", STRING, b"fuzz"),
        (b"gpt2.context_length", 4, n_ctx),
        (b"gpt2.embedding_length", 4, n_embd),
        (b"gpt2.block_count", 4, 1),
        (b"gpt2.attention.head_count", 4, 2),
        (b"general.file_type", 4, 0),
        (b"tokenizer.ggml.model", STRING, b"gpt2"),
        (b"tokenizer.ggml.tokens", ARRAY, (STRING, len(tokens), tokens)),
        (b"tokenizer.ggml.merges", ARRAY, (STRING, 1, [b"a b"])),
    ]
    embd = n_embd * n_vocab * 4
    pos = n_embd * n_ctx * 4
    tensors: list[TensorSpec] = [
        (b"token_embd.weight", [n_embd, n_vocab], 0, 0),
        (b"position_embd.weight", [n_embd, n_ctx], 0, embd + (-embd % ALIGNMENT)),
    ]
    return build(kvs, tensors, bytes(embd + (-embd % ALIGNMENT) + pos))
