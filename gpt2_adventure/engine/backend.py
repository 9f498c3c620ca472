"""The interface every model backend offers to the story engine and the UI."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gpt2_adventure.engine.sampling import Sampling


class CancelToken:
    """Set from any thread; the generating thread checks it before every token."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class GenerationStats:
    """What the last ``stream`` call did, for status bars and benchmarks."""

    prompt_tokens: int = 0
    evaluated_tokens: int = 0  # prompt tokens actually run (the rest came from the cache)
    generated_tokens: int = 0
    time_to_first_token: float = 0.0  # seconds from the call to the first sampled token
    prompt_seconds: float = 0.0
    generation_seconds: float = 0.0
    finish_reason: str = ""  # "stop", "eos", "length", "context" or "cancelled"

    @property
    def tokens_per_second(self) -> float:
        if self.generated_tokens <= 1 or self.generation_seconds <= 0:
            return 0.0
        # The first token's time belongs to the prompt; count the ones after it.
        return (self.generated_tokens - 1) / self.generation_seconds


@runtime_checkable
class Backend(Protocol):
    """A loaded model. One generation at a time; safe to call from a worker thread."""

    name: str

    @property
    def n_ctx(self) -> int:
        """Tokens the model can see at once (prompt + reply), never above its training context."""
        ...

    @property
    def last_stats(self) -> GenerationStats | None: ...

    def tokenize(self, text: str) -> list[int]: ...

    def detokenize(self, tokens: Sequence[int]) -> str: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self,
        prompt: str | Sequence[int],
        sampling: Sampling,
        stop: Sequence[str] = (),
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces of whole characters, ending early at a stop string
        (which is not yielded), end-of-text, ``max_tokens``, the end of the context, or
        cancellation. Raises ContextOverflowError when the prompt leaves no room to reply."""
        ...

    def close(self) -> None: ...
