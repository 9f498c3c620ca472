"""Play sessions on a real GPT-2 GGUF and check that nothing evaluates past the context.

Run as ``python -m tests.support.reliability_context_probe MODEL`` with a JSON list of cases on
stdin; prints one JSON line per case. It runs in its own process because evaluating a position
past GPT-2's table aborts the process inside ggml: the test then sees a negative return code
instead of losing pytest itself.

Every generation goes through ``Watched``, which records after each one: the prompt length,
tokens generated, llama.cpp's evaluated-token count and the context size.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from gpt2_adventure.engine.backend import CancelToken, GenerationStats, ReplyStream
from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling, preset
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session

WORDS = ("dragon", "sword", "castle", "the", "forest", "ancient", "whispered", "gold", "night",
         "river", "é", "漢字", "🐉", "<|endoftext|>", "\n", "...", "Anna:", ">")


class Watched:
    """The backend, with a check after every generation."""

    def __init__(self, inner: LlamaBackend) -> None:
        self.inner = inner
        self.generations = 0
        self.worst = 0  # the most positions ever evaluated (llama.cpp's n_tokens)
        self.problems: list[str] = []
        self.last_stats: GenerationStats | None = None  # of the last reply streamed through

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def n_ctx(self) -> int:
        return self.inner.n_ctx

    def stream(self, prompt: str | Sequence[int], sampling: Sampling, stop: Sequence[str] = (),
               cancel: CancelToken | None = None) -> ReplyStream:
        reply = self.inner.stream(prompt, sampling, stop, cancel)
        self.last_stats = reply.stats

        def run() -> Iterator[str]:
            yield from reply
            self.check(reply.stats)

        return ReplyStream(run(), reply.stats)

    def check(self, stats: GenerationStats) -> None:
        self.generations += 1
        evaluated = len(self.inner.evaluated)
        n_ctx = self.inner.n_ctx
        self.worst = max(self.worst, evaluated)
        if not n_ctx <= self.inner.info.training_context:
            self.problems.append(f"n_ctx {n_ctx} > training context")
        if evaluated > n_ctx:
            self.problems.append(f"{evaluated} positions evaluated with n_ctx {n_ctx}")
        if stats.prompt_tokens >= n_ctx:
            self.problems.append(f"a {stats.prompt_tokens}-token prompt with n_ctx {n_ctx}")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def run_case(model: str, case: dict[str, Any], backends: dict[int, LlamaBackend]) -> dict:
    rng = random.Random(case["seed"])
    n_ctx = case["n_ctx"]
    if n_ctx not in backends:
        backends[n_ctx] = LlamaBackend(model, n_ctx=n_ctx, threads=1, seed=case["seed"])
    backend = Watched(backends[n_ctx])
    backend.inner.reset_cache()
    result: dict[str, Any] = {"case": case, "errors": [], "finish": []}

    # The hard edge first: prompts that fill the context, and a reply that runs into its end.
    for room in (1, 2, 5):
        length = backend.n_ctx - room
        prompt = backend.tokenize(words(rng, length * 2))[:length]
        sampling = Sampling(max_tokens=case["max_tokens"] + 50, ignore_eos=True,
                            temperature=1.0)
        try:
            reply = backend.stream(prompt, sampling)
            for _ in reply:
                pass
            result["finish"].append(reply.stats.finish_reason)
        except UserError as error:
            result["errors"].append(f"edge: {error}")

    story = {"adventure": "knight", "story": "fairy-tale", "chat": "tavern-keeper"}[case["mode"]]
    state = new_state(find_seed(AppPaths.from_env(), story), {"name": "Anna"}, rng)
    state.memory = "\n".join(filter(None, [state.memory, words(rng, case["memory_words"])]))
    state.authors_note = words(rng, case["note_words"])
    for i in range(case["world"]):
        state.world.append(WorldEntry(keys=(rng.choice(WORDS),), content=words(rng, 60),
                                      always=i % 2 == 0))
    sampling = preset(case["preset"]).with_changes(max_tokens=case["max_tokens"],
                                                   ignore_eos=case["ignore_eos"])
    session = Session(state, backend, sampling)  # type: ignore[arg-type]
    for i, length in enumerate(case["actions"]):
        how = ("act", "act", "retry", "continue")[i % 4]
        try:
            if how == "retry" and state.turns[-1].role == "model":
                events = session.retry()
            elif how == "continue":
                events = session.continue_()
            else:
                events = session.act(words(rng, length), rng.choice(["do", "say", "story"]))
            for _ in events:
                pass
            assert backend.last_stats is not None
            result["finish"].append(backend.last_stats.finish_reason)
        except UserError as error:
            result["errors"].append(f"{how}: {error}")
    result.update(generations=backend.generations, worst=backend.worst, n_ctx=backend.n_ctx,
                  problems=backend.problems, turns=len(state.turns))
    return result


def main() -> None:
    model = sys.argv[1]
    cases = json.loads(sys.stdin.read())
    backends: dict[int, LlamaBackend] = {}
    for case in cases:
        print(json.dumps(run_case(model, case, backends)), flush=True)
    for backend in backends.values():
        backend.close()


if __name__ == "__main__":
    main()
