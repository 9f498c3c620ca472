"""An independent NumPy GPT-2 forward pass, reading the HF checkpoint (not the GGUF)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def load_weights(folder: Path) -> dict[str, np.ndarray]:
    """All checkpoint tensors as float64, keys without the ``transformer.`` prefix."""
    raw: dict[str, np.ndarray] = {}
    for path in sorted(Path(folder).glob("*.safetensors")):
        raw |= load_file(str(path))
    return {k.removeprefix("transformer."): v.astype(np.float64) for k, v in raw.items()}


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def _gelu_ggml_table(x: np.ndarray) -> np.ndarray:
    """GELU as ggml's CPU backend computes it: a lookup table indexed by the fp16 input,
    holding fp16 outputs (identity above 10, zero below -10). Emulating it lets an f32
    comparison separate converter bugs from this (known, ~1e-3) runtime rounding."""
    y = _gelu_tanh(x.astype(np.float16).astype(np.float64)).astype(np.float16)
    return np.where(x <= -10.0, 0.0, np.where(x >= 10.0, x, y.astype(np.float64)))


def forward(weights: dict[str, np.ndarray], tokens: Sequence[int], *, n_head: int,
            eps: float = 1e-5, ggml_gelu: bool = False) -> np.ndarray:
    """Logits [T, vocab] (float64) for ``tokens`` at every position.

    ``ggml_gelu`` swaps the exact tanh GELU for ggml's fp16 table (see above).
    """
    gelu = _gelu_ggml_table if ggml_gelu else _gelu_tanh
    t = len(tokens)
    x = weights["wte.weight"][list(tokens)] + weights["wpe.weight"][:t]
    n_embd = x.shape[1]
    d = n_embd // n_head
    causal = np.triu(np.full((t, t), -np.inf), k=1)
    i = 0
    while f"h.{i}.ln_1.weight" in weights:
        p = f"h.{i}."
        a = _layer_norm(x, weights[p + "ln_1.weight"], weights[p + "ln_1.bias"], eps)
        qkv = a @ weights[p + "attn.c_attn.weight"] + weights[p + "attn.c_attn.bias"]
        q, k, v = (m.reshape(t, n_head, d).transpose(1, 0, 2) for m in np.split(qkv, 3, axis=1))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(d) + causal
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        att = scores / scores.sum(-1, keepdims=True)
        y = (att @ v).transpose(1, 0, 2).reshape(t, n_embd)
        x = x + y @ weights[p + "attn.c_proj.weight"] + weights[p + "attn.c_proj.bias"]
        m = _layer_norm(x, weights[p + "ln_2.weight"], weights[p + "ln_2.bias"], eps)
        h = gelu(m @ weights[p + "mlp.c_fc.weight"] + weights[p + "mlp.c_fc.bias"])
        x = x + h @ weights[p + "mlp.c_proj.weight"] + weights[p + "mlp.c_proj.bias"]
        i += 1
    x = _layer_norm(x, weights["ln_f.weight"], weights["ln_f.bias"], eps)
    head = weights.get("lm_head.weight", weights["wte.weight"])
    return x @ head.T


def gpt2_logits(folder: Path, tokens: Sequence[int], *, n_head: int,
                ggml_gelu: bool = False) -> np.ndarray:
    return forward(load_weights(folder), tokens, n_head=n_head, ggml_gelu=ggml_gelu)
