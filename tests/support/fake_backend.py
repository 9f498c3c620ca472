"""A scripted backend for unit tests: a word-level tokenizer and replies from a script.

Not a model: it exists so the story engine's logic can be tested exactly and fast. Every
prompt it receives is recorded.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from gpt2_adventure.engine.backend import (
    AheadRequest,
    Backend,
    CancelToken,
    GenerationStats,
    ReplyStream,
    Written,
    write_by_streaming,
)
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.textstream import TextAssembler
from gpt2_adventure.errors import ContextOverflowError

_PIECES = re.compile(r"\s+|\w+|[^\w\s]")
HOLD_SECONDS = 60


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, replies: Sequence[str] | Callable[[str], str] = (), n_ctx: int = 1024,
                 hold_after: int | None = None) -> None:
        # Mid-stream without racing it: after this many pieces, write nothing more until the
        # stream is cancelled; ``holding`` is set while it waits.
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.release = threading.Event()  # set: a held stream goes on (as if not held)
        self._script = replies if callable(replies) else list(replies)
        self._n_ctx = n_ctx
        self._vocab: dict[str, int] = {}
        self._words: list[str] = []
        self.prompts: list[list[int]] = []
        self.samplings: list[Sampling] = []
        self.streamed: list[GenerationStats] = []  # each reply's statistics, for tests to read
        self.cancel_after: int | None = None  # cancel the token after this many pieces
        # Once cancelled, a stream takes this long to come out of the backend (as llama.cpp
        # finishing a chunk does); ``left`` counts the streams that came out.
        self.stop_seconds = 0.0
        self.left = 0

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    # Prefill is offered only when a test asks for it (``prefilled = []``), which records the
    # length of every prompt evaluated ahead.
    prefilled: list[int] | None = None

    @property
    def supports_prefill(self) -> bool:
        return self.prefilled is not None

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        if self.prefilled is None:
            return 0
        self.prefilled.append(len(tokens))
        return len(tokens)

    # Replies written ahead are offered only when a test asks (``ahead = True``): written one
    # after another through ``stream``, as for a server, so they come from the same script.
    ahead = False

    @property
    def supports_write_ahead(self) -> bool:
        return self.ahead

    def write_ahead(self, request: AheadRequest, cancel: CancelToken | None = None
                    ) -> Iterator[Written]:
        if not self.ahead:
            return iter(())
        return write_by_streaming(self, request, cancel)

    def tokenize(self, text: str) -> list[int]:
        ids = []
        for piece in _PIECES.findall(text):
            if piece not in self._vocab:
                self._vocab[piece] = len(self._words)
                self._words.append(piece)
            ids.append(self._vocab[piece])
        return ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        return "".join(self._words[t] for t in tokens)

    def _next_reply(self, prompt_text: str) -> str:
        if callable(self._script):
            return self._script(prompt_text)
        return self._script.pop(0) if self._script else " And so it goes."

    def stream(self, prompt: str | Sequence[int], sampling: Sampling, stop: Sequence[str] = (),
               cancel: CancelToken | None = None) -> ReplyStream:
        tokens = self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        if len(tokens) >= self._n_ctx:
            raise ContextOverflowError(f"prompt of {len(tokens)} tokens >= {self._n_ctx}")
        self.prompts.append(tokens)
        self.samplings.append(sampling)
        reply = self._next_reply(self.detokenize(tokens))
        stats = GenerationStats(prompt_tokens=len(tokens), evaluated_tokens=len(tokens))
        self.streamed.append(stats)
        return ReplyStream(
            self._leaving(self._play(tokens, reply, sampling, stop, cancel, stats), cancel), stats)

    def _leaving(self, pieces: Iterator[str], cancel: CancelToken | None) -> Iterator[str]:
        yield from pieces
        if cancel is not None and cancel.cancelled:
            time.sleep(self.stop_seconds)
        self.left += 1

    def _play(self, tokens: list[int], reply: str, sampling: Sampling, stop: Sequence[str],
              cancel: CancelToken | None, stats: GenerationStats) -> Iterator[str]:
        text = TextAssembler(stop)
        room = self._n_ctx - len(tokens)
        for i, piece in enumerate(_PIECES.findall(reply)):
            if i == self.hold_after:
                self._hold(cancel)
            if cancel is not None and cancel.cancelled:
                stats.finish_reason = "cancelled"
                return
            if stats.generated_tokens >= min(sampling.max_tokens, room):
                stats.finish_reason = "length"
                break
            stats.generated_tokens += 1
            out = text.feed(piece.encode())
            if out:
                yield out
            if text.stopped:
                stats.finish_reason = "stop"
                return
            if self.cancel_after is not None and cancel is not None and i + 1 >= self.cancel_after:
                cancel.cancel()
        tail = text.finish()
        if tail:
            yield tail
        stats.finish_reason = stats.finish_reason or ("stop" if text.stopped else "eos")

    def _hold(self, cancel: CancelToken | None) -> None:
        """Wait for the cancel or ``release`` (polled: a CancelToken cannot be waited on).
        After a minute it goes on, so a test whose cancel never comes fails on its checks,
        not by hanging."""
        self.holding.set()
        deadline = time.monotonic() + HOLD_SECONDS
        while (cancel is not None and not cancel.cancelled and not self.release.is_set()
               and time.monotonic() < deadline):
            time.sleep(0.005)
        self.holding.clear()

    def close(self) -> None:
        pass
