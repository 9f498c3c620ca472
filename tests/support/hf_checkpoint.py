"""Build tiny random GPT-2 checkpoints in Hugging Face layout (numpy + safetensors, no torch)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Literal

import numpy as np
from safetensors.numpy import save_file

from gpt2_adventure.resources import gpt2_tokenizer_dir

N_VOCAB = 50257


def _weights(rng: np.random.Generator, *, n_layer: int, n_embd: int, n_positions: int,
             untied_head: bool) -> dict[str, np.ndarray]:
    e, f = n_embd, 4 * n_embd

    def normal(std: float, *shape: int) -> np.ndarray:
        return rng.normal(0.0, std, size=shape)

    def linear(n_in: int, n_out: int) -> np.ndarray:
        # Conv1D layout [in, out]; unit-ish gain so every block really mixes the residual
        # stream (a missing transpose must change the logits, not vanish in the noise).
        return normal(0.6 / np.sqrt(n_in), n_in, n_out)

    def norm(prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.weight": 1.0 + normal(0.1, e), f"{prefix}.bias": normal(0.05, e)}

    w: dict[str, np.ndarray] = {
        # Large token embeddings relative to positions keep top-1 tokens prompt-dependent.
        "wte.weight": normal(1.5 / np.sqrt(e), N_VOCAB, e),
        "wpe.weight": normal(0.3 / np.sqrt(e), n_positions, e),
        **norm("ln_f"),
    }
    for i in range(n_layer):
        h = f"h.{i}"
        w |= norm(f"{h}.ln_1") | norm(f"{h}.ln_2")
        w |= {
            f"{h}.attn.c_attn.weight": linear(e, 3 * e),
            f"{h}.attn.c_attn.bias": normal(0.1, 3 * e),
            f"{h}.attn.c_proj.weight": linear(e, e), f"{h}.attn.c_proj.bias": normal(0.05, e),
            f"{h}.mlp.c_fc.weight": linear(e, f), f"{h}.mlp.c_fc.bias": normal(0.1, f),
            f"{h}.mlp.c_proj.weight": linear(f, e), f"{h}.mlp.c_proj.bias": normal(0.05, e),
        }
    if untied_head:  # like a fine-tune: started from wte, drifted well away from it
        w["lm_head.weight"] = 0.6 * w["wte.weight"] + normal(1.2 / np.sqrt(e), N_VOCAB, e)
    return w


def _config(*, n_layer: int, n_embd: int, n_head: int, n_positions: int, plain: bool) -> dict:
    config = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "activation_function": "gelu_new", "bos_token_id": 50256, "eos_token_id": 50256,
        "layer_norm_epsilon": 1e-05, "n_embd": n_embd, "n_head": n_head, "n_inner": None,
        "n_layer": n_layer, "n_positions": n_positions, "vocab_size": N_VOCAB,
        "scale_attn_weights": True, "initializer_range": 0.02,
    }
    if plain:  # the original OpenAI export also carries the old n_ctx name
        config["n_ctx"] = n_positions
    return config


def _write_tokenizer(folder: Path, kind: str) -> None:
    src = gpt2_tokenizer_dir()
    if kind == "vocab":
        shutil.copy(src / "vocab.json", folder / "vocab.json")
        shutil.copy(src / "merges.txt", folder / "merges.txt")
        return
    vocab = json.loads((src / "vocab.json").read_text(encoding="utf-8"))
    lines = (src / "merges.txt").read_text(encoding="utf-8").splitlines()
    merges = [ln for ln in lines if ln and not ln.startswith("#version")]
    data = {
        "version": "1.0",
        "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "vocab": vocab,
                  "merges": merges},
    }
    (folder / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")


def make_checkpoint(folder: Path, *, n_layer: int, n_embd: int, n_head: int,
                    n_positions: int = 1024,
                    layout: Literal["plain", "transformers"] = "plain",
                    untied_head: bool = False,
                    tokenizer: Literal["vocab", "tokenizer.json"] = "vocab",
                    seed: int = 0, dtype: type = np.float32, shards: int = 1) -> Path:
    """Write a random GPT-2 checkpoint into ``folder`` and return it.

    ``plain``: keys like ``h.0.attn.c_attn.weight`` plus the ``attn.bias``/``masked_bias``
    buffers and a tied head (as in openai-community/gpt2). ``transformers``: keys prefixed
    with ``transformer.`` and an explicit ``lm_head.weight`` (a copy of wte unless
    ``untied_head``). ``shards`` > 1 splits the weights with a safetensors index.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w = _weights(rng, n_layer=n_layer, n_embd=n_embd, n_positions=n_positions,
                 untied_head=untied_head)
    plain = layout == "plain"
    if plain:
        mask = np.tril(np.ones((n_positions, n_positions))).reshape(1, 1, n_positions, n_positions)
        for i in range(n_layer):
            w[f"h.{i}.attn.bias"] = mask
            w[f"h.{i}.attn.masked_bias"] = np.array(-1e4)
    else:
        w = {(k if k == "lm_head.weight" else f"transformer.{k}"): v for k, v in w.items()}
        w.setdefault("lm_head.weight", w["transformer.wte.weight"])
    tensors = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in w.items()}

    if shards == 1:
        save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    else:
        names = list(tensors)
        weight_map = {}
        for s in range(shards):
            shard = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = names[s::shards]
            save_file({k: tensors[k] for k in part}, str(folder / shard), metadata={"format": "pt"})
            weight_map |= dict.fromkeys(part, shard)
        index = {"metadata": {"total_size": sum(t.nbytes for t in tensors.values())},
                 "weight_map": weight_map}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")

    config = _config(n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_positions=n_positions,
                     plain=plain)
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    _write_tokenizer(folder, tokenizer)
    return folder
