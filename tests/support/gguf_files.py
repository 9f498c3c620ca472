"""Write small GPT-2-shaped GGUF files directly, including deliberately odd ones.

The converter makes honest files; these exist to hand the loader what the wild might:
another architecture, a vocabulary without weights, a context claim larger than the
position table.
"""

from __future__ import annotations

import json
from pathlib import Path

import gguf
import numpy as np

from gpt2_adventure.resources import gpt2_tokenizer_dir


def gpt2_vocab() -> tuple[list[str], list[str]]:
    folder = gpt2_tokenizer_dir()
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    merges = (folder / "merges.txt").read_text(encoding="utf-8").splitlines()[1:]
    return tokens, [m for m in merges if m]


def write_gguf(
    path: Path,
    *,
    architecture: str = "gpt2",
    n_embd: int = 32,
    n_layer: int = 1,
    n_head: int = 2,
    context_length: int = 1024,
    n_positions: int = 1024,
    tokenizer: bool = True,
    weights: bool = True,
    seed: int = 0,
) -> Path:
    tokens, merges = gpt2_vocab()
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_name("test-model")
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_feed_forward_length(4 * n_embd)
    writer.add_block_count(n_layer)
    writer.add_head_count(n_head)
    writer.add_layer_norm_eps(1e-5)
    writer.add_file_type(0)
    if tokenizer:
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("gpt-2")
        writer.add_token_list(tokens)
        writer.add_token_types([3 if t == "<|endoftext|>" else 1 for t in tokens])
        writer.add_token_merges(merges)
        writer.add_bos_token_id(len(tokens) - 1)
        writer.add_eos_token_id(len(tokens) - 1)
    if weights:
        rng = np.random.default_rng(seed)

        def rand(*shape: int) -> np.ndarray:
            return (rng.standard_normal(shape) * 0.05).astype(np.float32)

        ones, zeros = np.ones(n_embd, np.float32), np.zeros(n_embd, np.float32)
        writer.add_tensor("token_embd.weight", rand(len(tokens), n_embd))
        writer.add_tensor("position_embd.weight", rand(n_positions, n_embd))
        writer.add_tensor("output_norm.weight", ones)
        writer.add_tensor("output_norm.bias", zeros)
        writer.add_tensor("output.weight", rand(len(tokens), n_embd))
        for i in range(n_layer):
            blk = f"blk.{i}."
            for norm in ("attn_norm", "ffn_norm"):
                writer.add_tensor(blk + norm + ".weight", ones)
                writer.add_tensor(blk + norm + ".bias", zeros)
            for name, rows, cols in (("attn_qkv", 3 * n_embd, n_embd),
                                     ("attn_output", n_embd, n_embd),
                                     ("ffn_up", 4 * n_embd, n_embd),
                                     ("ffn_down", n_embd, 4 * n_embd)):
                writer.add_tensor(blk + name + ".weight", rand(rows, cols))
                writer.add_tensor(blk + name + ".bias", rand(rows))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
