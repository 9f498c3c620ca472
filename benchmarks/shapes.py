"""GPT-2-shaped GGUF files with random weights (speed does not depend on weight values)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (n_layer, n_embd, n_head) of the released models
SHAPES = {
    "distilgpt2": (6, 768, 12),
    "gpt2": (12, 768, 12),
    "gpt2-medium": (24, 1024, 16),
    "gpt2-large": (36, 1280, 20),
    "gpt2-xl": (48, 1600, 25),
}
CACHE = ROOT / "benchmarks" / ".cache"


def shaped_gguf(shape: str = "gpt2", quant: str = "q8_0") -> Path:
    """Build (once, cached under benchmarks/.cache) a random GGUF of a released GPT-2 shape."""
    from gpt2_adventure.engine.llama.logs import route_llama_logs
    from gpt2_adventure.engine.models.convert import convert_checkpoint
    from tests.support.hf_checkpoint import make_checkpoint

    out = CACHE / f"{shape}-random-{quant}.gguf"
    if out.exists():
        return out
    n_layer, n_embd, n_head = SHAPES[shape]
    checkpoint = CACHE / f"{shape}-random-checkpoint"
    if not (checkpoint / "config.json").exists():
        make_checkpoint(checkpoint, n_layer=n_layer, n_embd=n_embd, n_head=n_head)
    route_llama_logs(CACHE / "llama.log")
    return convert_checkpoint(checkpoint, out, quant)
