"""How much of each prompt llama.cpp can reuse from the turn before, over a long adventure.

    python benchmarks/prefix_stability.py [--turns 200] [--story knight] [--json]

Replays a scripted adventure (about 20-token actions, 60-token replies) through the real
story engine and the real GPT-2 tokenizer (llama.cpp, a small generated GGUF). For each turn:
the share of the prompt that is a prefix of the previous prompt plus its reply (what
llama.cpp does not evaluate again), and how full the 1024-token context is (prompt + reply).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CACHE, p95, sentence  # noqa: E402
from gpt2_adventure.engine.backend import (  # noqa: E402
    Backend,
    CancelToken,
    GenerationStats,
    ReplyStream,
)
from gpt2_adventure.engine.llama.backend import LlamaBackend  # noqa: E402
from gpt2_adventure.engine.sampling import Sampling  # noqa: E402
from gpt2_adventure.paths import AppPaths  # noqa: E402
from gpt2_adventure.story.events import Done  # noqa: E402
from gpt2_adventure.story.new_game import new_state  # noqa: E402
from gpt2_adventure.story.seeds.library import find_seed  # noqa: E402
from gpt2_adventure.story.session import Session  # noqa: E402
from tests.support.prefix import common_prefix  # noqa: E402


class ScriptedModel(Backend):
    """The real GPT-2 tokenizer with scripted replies: prompts are what we measure."""

    def __init__(self, tokenizer: LlamaBackend, rng: random.Random) -> None:
        self.name = "scripted"
        self._tok = tokenizer
        self._rng = rng
        self.calls: list[tuple[list[int], list[int]]] = []  # (prompt, reply tokens)

    @property
    def n_ctx(self) -> int:
        return self._tok.n_ctx

    def tokenize(self, text: str) -> list[int]:
        return self._tok.tokenize(text)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self._tok.detokenize(tokens)

    def stream(self, prompt: str | Sequence[int], sampling: Sampling, stop: Sequence[str] = (),
               cancel: CancelToken | None = None) -> ReplyStream:
        tokens = self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        reply = " " + " ".join(sentence(self._rng, self._rng.randint(8, 14)) for _ in range(4))
        reply_tokens = self.tokenize(reply)[: sampling.max_tokens]
        text = self.detokenize(reply_tokens)
        self.calls.append((tokens, reply_tokens))
        stats = GenerationStats(prompt_tokens=len(tokens), generated_tokens=len(reply_tokens),
                                finish_reason="length")
        return ReplyStream(iter([text]), stats)

    def close(self) -> None:
        self._tok.close()


def run(turns: int, story: str, seed: int) -> dict[str, float]:
    from tests.support.gguf_files import write_gguf

    CACHE.mkdir(parents=True, exist_ok=True)
    vocab_model = CACHE / "tokenizer-tiny.gguf"
    if not vocab_model.exists():
        write_gguf(vocab_model)
    rng = random.Random(seed)
    model = ScriptedModel(LlamaBackend(vocab_model, threads=1, log_file=CACHE / "llama.log"), rng)
    state = new_state(find_seed(AppPaths.from_env(), story), {"name": "Ser Aldric"}, rng)
    session = Session(state, model, Sampling(max_tokens=60), max_rerolls=0)
    for _ in range(turns):
        action = sentence(rng, rng.randint(8, 14)).rstrip(".")
        for event in session.act(action, "do"):
            if isinstance(event, Done):
                break
    shares, fills, evaluated = [], [], []
    for (prev_prompt, prev_reply), (prompt, reply) in zip(model.calls, model.calls[1:]):
        reused = common_prefix(prev_prompt + prev_reply, prompt)
        shares.append(reused / len(prompt))
        evaluated.append(len(prompt) - reused)
        fills.append((len(prompt) + len(reply)) / model.n_ctx)
    model.close()
    return {
        "turns": turns,
        "mean_prefix_share": statistics.mean(shares),
        "median_prefix_share": statistics.median(shares),
        "mean_context_fill": statistics.mean(fills),
        "mean_evaluated_tokens": statistics.mean(evaluated),
        "p95_evaluated_tokens": p95(evaluated),
        "mean_prompt_tokens": statistics.mean(len(p) for p, _ in model.calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--story", default="knight")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.turns, args.story, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:24} {value:.3f}" if isinstance(value, float) else f"{key:24} {value}")


if __name__ == "__main__":
    main()
