"""What a request's events become: ``Chunk``, one event as a backend parsed it, and
``OneOfSeveral``, one of several replies arriving in one request (``n``), told apart by their
index: its text, cut at a stop string, and when it ended."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from gpt2_adventure.engine.backend import GenerationStats
from gpt2_adventure.engine.textstream import TextAssembler


@dataclass
class Chunk:
    """One received event: new text, and what the server said about the end, if anything."""

    text: str = ""
    finish: str | None = None
    completion_tokens: int | None = None  # the server's own count (OpenAI "usage")
    evaluated_tokens: int | None = None  # prompt tokens the server actually ran
    index: int = 0  # which reply, in a request for several


class OneOfSeveral:
    """One of several replies arriving in one request."""

    def __init__(self, stop: Sequence[str]) -> None:
        self.assembler = TextAssembler(stop)
        self.received: list[str] = []  # as the server sent it (past a stop string too)
        self.first = 0.0  # when its first text came
        self.ended = 0.0
        self.evaluated: int | None = None
        self.server_finish: str | None = None
        self.reason = ""  # "stop" when a stop string ended it here
        self.done = False

    def feed(self, chunk: Chunk) -> bool:
        """Take a chunk; True when it made the reply whole."""
        if self.done:
            return False
        if chunk.evaluated_tokens is not None:
            self.evaluated = chunk.evaluated_tokens
        if chunk.text:
            self.first = self.first or time.perf_counter()
            self.received.append(chunk.text)
            self.assembler.feed(chunk.text.encode("utf-8"))
        if self.assembler.stopped or chunk.finish is not None:
            self.server_finish = chunk.finish
            self.end()
            return True
        return False

    def end(self) -> None:
        self.assembler.finish()
        if self.assembler.stopped:
            self.reason = "stop"
        self.ended = time.perf_counter()
        self.done = True

    def stats(self, prompt_tokens: int, started: float, generated: int,
              finish: str) -> GenerationStats:
        """What writing it did: ``started`` is when the request was sent, ``generated`` its
        token count, ``finish`` the reason it ended (when no stop string here ended it)."""
        first = self.first or self.ended
        return GenerationStats(
            prompt_tokens=prompt_tokens,
            evaluated_tokens=prompt_tokens if self.evaluated is None else self.evaluated,
            generated_tokens=generated, time_to_first_token=first - started,
            prompt_seconds=first - started, generation_seconds=self.ended - first,
            finish_reason=self.reason or finish)
