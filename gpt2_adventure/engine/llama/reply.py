"""One reply being written in one sequence: its sampler chain, its text, when it ends.

The backend's main reply and the replies written ahead (one after another, or batched with
one evaluation per step for all of them) take their tokens through the same ``Reply``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from gpt2_adventure.engine.backend import GenerationStats
from gpt2_adventure.engine.llama.sampler_chain import build_sampler_chain
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.textstream import TextAssembler


class Reply:
    """Feed it each sampled token (``take``); ``reason`` is set once the reply has ended."""

    def __init__(self, seq: int, prompt: Sequence[int], sampling: Sampling, *, stop: Sequence[str],
                 n_vocab: int, seed: int, bias: dict[int, float], eos: int,
                 piece: Callable[[int], bytes], n_ctx: int, vocab: Any,
                 stats: GenerationStats | None = None) -> None:
        self.seq = seq
        self.prompt = list(prompt)
        self.sampling = sampling
        # ``stats``: the object the caller already handed out with the reply's stream.
        self.stats = stats if stats is not None else GenerationStats()
        self.stats.prompt_tokens = len(self.prompt)
        self.chain: Any = build_sampler_chain(sampling, n_vocab=n_vocab, seed=seed, bias=bias,
                                              history=self.prompt, vocab=vocab, n_ctx=n_ctx)
        self.text = TextAssembler(stop)
        self.tokens: list[int] = []
        self.reason = ""
        self._eos = eos
        self._piece = piece
        self._n_ctx = n_ctx
        self.started = time.perf_counter()
        self._first_at = 0.0

    def sample(self, ctx: Any, index: int = -1) -> int:
        import llama_cpp

        token = int(llama_cpp.llama_sampler_sample(self.chain, ctx, index))
        if not self._first_at:
            self._first_at = time.perf_counter()
            self.stats.time_to_first_token = self.stats.prompt_seconds = (
                self._first_at - self.started)
        return token

    def take(self, token: int, held: int) -> str:
        """The text ``token`` adds (possibly ""); ``held`` is how many positions the sequence
        holds before it is evaluated (the context ends at ``n_ctx``)."""
        if token == self._eos and not self.sampling.ignore_eos:
            self.reason = "eos"
            return ""
        self.stats.generated_tokens += 1
        self.tokens.append(token)
        piece = self.text.feed(self._piece(token))
        if self.text.stopped:
            self.reason = "stop"
        elif self.stats.generated_tokens >= self.sampling.max_tokens:
            self.reason = "length"
        elif held >= self._n_ctx:  # the next evaluation would be past the last position
            self.reason = "context"
        return piece

    def finish(self, cancelled: bool = False) -> str:
        """End it: the text still held back (none when cancelled); frees the sampler."""
        import llama_cpp

        if self.chain is None:
            return ""  # finished already
        tail = ""
        if cancelled:
            self.reason = "cancelled"
        else:
            tail = self.text.finish()
            if self.text.stopped:
                self.reason = "stop"
        self.reason = self.reason or "cancelled"  # the consumer closed the stream early
        llama_cpp.llama_sampler_free(self.chain)
        self.chain = None
        if self._first_at:
            self.stats.generation_seconds = time.perf_counter() - self._first_at
        self.stats.finish_reason = self.reason
        return tail
