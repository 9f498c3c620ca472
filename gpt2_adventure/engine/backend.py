"""The interface every model backend offers to the story engine and the UI.

``Backend`` is an abstract base class rather than a Protocol: a backend says what it is by
deriving from it, a missing required method fails at construction (not at the first call
mid-game), and the optional parts come with defaults that mean "not offered", so callers ask
(``supports_state``, ``supports_prefill``) instead of probing with getattr/hasattr.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import ContextOverflowError

if TYPE_CHECKING:
    from gpt2_adventure.engine.models.gguf_info import ModelInfo


class CancelToken:
    """Set from any thread; the generating thread checks it before every token.
    ``expected_at`` (``time.perf_counter()``; None: unknown) is when it is likely to be set:
    for work in the background, when the player usually acts, so that chunks a cancel
    throws away can be sized to end before then."""

    def __init__(self, expected_at: float | None = None) -> None:
        self._event = threading.Event()
        self.expected_at = expected_at

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class GenerationStats:
    """What writing one reply did, for status bars and benchmarks."""

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


@dataclass(frozen=True, eq=False)
class Handle:
    """A backend's hold on one reply written ahead whose KV cache it keeps: opaque to the
    story, which only hands it back (``use_written``, ``AheadRequest.keep``). Only the
    backend that made it reads it; it is good while the sequence ``seq`` still holds the very
    reply it was made for (``reply``, compared by identity: a sequence written again since
    makes it stale, and a stale handle is ignored)."""

    seq: int  # the backend's sequence
    reply: object  # what the backend kept for the reply when it was written


class ReplyStream(Iterator[str]):
    """One reply as ``Backend.stream`` writes it: iterating yields its text in pieces;
    ``stats`` is what writing it did, filled in as it goes and whole once the stream has
    ended (run out, raised, or been closed). It travels with the reply, not on the shared
    backend, so a reply written meanwhile on another thread cannot overwrite it."""

    def __init__(self, pieces: Iterator[str], stats: GenerationStats) -> None:
        self._pieces = pieces
        self.stats = stats

    def __iter__(self) -> ReplyStream:
        return self

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        """Stop reading: the backend's clean-up (and its finish reason) runs now."""
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


@dataclass
class Written:
    """One reply written ahead (an alternative the player has not asked for yet)."""

    text: str  # as streamed: not cleaned up
    handle: Handle | None  # the backend's hold on its KV cache; None: none is kept
    stats: GenerationStats = field(default_factory=GenerationStats)
    rerolls: int = 0  # how many times it was written again because ``judge`` refused it


# Given a reply's text and how many times it has been re-rolled: the sampling to write it
# again with (a loop was found), or None to keep it.
Judge = Callable[[str, int], "Sampling | None"]


@dataclass(frozen=True)
class AheadRequest:
    """What ``Backend.write_ahead`` is asked for: one reply to ``prompt`` per sampling."""

    prompt: Sequence[int]
    samplings: Sequence[Sampling]
    stop: Sequence[str] = ()
    # The backend's holds on replies written ahead earlier and still wanted: not disturbed.
    keep: Collection[Handle] = ()
    judge: Judge | None = None  # may ask for a reply to be written again


class Backend(ABC):
    """A loaded model. One generation at a time; safe to call from a worker thread."""

    name: str  # what the player sees in the status bar (set by every backend)
    # The model file, for a backend that loaded one itself (the state cache fingerprints it).
    info: ModelInfo | None = None

    # -- required -------------------------------------------------------------------------

    @property
    @abstractmethod
    def n_ctx(self) -> int:
        """Tokens the model can see at once (prompt + reply), never above its training context."""

    @abstractmethod
    def tokenize(self, text: str) -> list[int]: ...

    @abstractmethod
    def detokenize(self, tokens: Sequence[int]) -> str: ...

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    @abstractmethod
    def stream(
        self,
        prompt: str | Sequence[int],
        sampling: Sampling,
        stop: Sequence[str] = (),
        cancel: CancelToken | None = None,
    ) -> ReplyStream:
        """The reply in pieces of whole characters, ending early at a stop string (which is
        not yielded), end-of-text, ``max_tokens``, the end of the context, or cancellation,
        with its statistics. Raises ContextOverflowError when the prompt leaves no room to
        reply (``_check_room``)."""

    @abstractmethod
    def close(self) -> None: ...

    def _check_room(self, prompt_tokens: int) -> None:
        """Refuse a prompt of ``prompt_tokens`` that leaves no room to reply in ``n_ctx``."""
        if prompt_tokens >= self.n_ctx:
            raise ContextOverflowError(
                f"the prompt is {prompt_tokens} tokens; the model sees at most {self.n_ctx} "
                f"tokens, prompt and reply together", hint="shorten the prompt")

    # -- optional: the defaults say "not offered" ---------------------------------------------

    @property
    def gpu_offload(self) -> bool:
        """True when this machine runs the model's layers on a GPU."""
        return False

    @property
    def tokenizer_source(self) -> str:
        """Where token ids come from: the model's own vocabulary, unless a backend says else."""
        return "model"

    @property
    def supports_prefill(self) -> bool:
        """True when ``prefill`` evaluates ahead of time (worth laying out a prompt for)."""
        return False

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        """Evaluate ``tokens`` ahead of a reply; returns how many were evaluated (none here)."""
        return 0

    @property
    def supports_spare(self) -> bool:
        """True when ``prefill_spare`` evaluates a second prompt beside the main one."""
        return False

    def prefill_spare(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        """Evaluate ``tokens`` in a spare sequence, leaving the main one as it is; a later
        prompt that shares more with them than with the main sequence continues them
        instead (the window after a trim). Returns how many were evaluated (none here)."""
        return 0

    def spare_holds(self, tokens: Sequence[int]) -> int:
        """How many of ``tokens``' first tokens the spare sequence holds (none here)."""
        return 0

    def tokens_for(self, text: str) -> list[int] | None:
        """The token ids the last reply was written in, for ``text`` that begins with it;
        None when the backend does not keep them (the text is then tokenized again)."""
        return None

    @property
    def supports_state(self) -> bool:
        """True when ``export_state``/``import_state`` carry the evaluated context across runs."""
        return False

    def export_state(self) -> tuple[list[int], bytes]:
        """The evaluated tokens and the model's opaque state for them (nothing here)."""
        return [], b""

    def import_state(self, tokens: Sequence[int], data: bytes) -> bool:
        """Restore an exported state; False when it cannot (always, here)."""
        return False

    # -- optional: replies written ahead ----------------------------------------------------

    @property
    def supports_write_ahead(self) -> bool:
        """True when ``write_ahead`` writes alternatives in the background."""
        return False

    def write_ahead(self, request: AheadRequest, cancel: CancelToken | None = None
                    ) -> Iterator[Written]:
        """Write the replies ``request`` asks for, in the background, yielding each when it
        is complete. It never disturbs the main sequence (what the next turn continues) nor
        the replies ``request.keep`` holds. Stops within one token once ``cancel`` is set.
        Not offered here: nothing is written."""
        return iter(())

    def use_written(self, handle: Handle) -> None:
        """The reply written ahead that ``handle`` holds is now the story's: the next prompt
        continues it (nothing to do for a backend that keeps none, or a stale handle)."""
        return None


def write_by_streaming(backend: Backend, request: AheadRequest,
                       cancel: CancelToken | None = None) -> Iterator[Written]:
    """``write_ahead`` for a backend that keeps no sequences: one reply after another through
    ``stream`` (a server keeps its own cache), nothing kept."""
    for sampling in request.samplings:
        if cancel is not None and cancel.cancelled:
            return  # not even a request for the next one
        written = write_one_by_streaming(backend, request.prompt, sampling, request.stop,
                                         cancel, request.judge)
        if written is None:
            return
        yield written


def write_one_by_streaming(
    backend: Backend,
    prompt: str | Sequence[int],
    sampling: Sampling,
    stop: Sequence[str] = (),
    cancel: CancelToken | None = None,
    judge: Judge | None = None,
    rerolls: int = 0,
) -> Written | None:
    """One reply through ``stream``, written again while ``judge`` refuses it (``rerolls``:
    how many times it already was); None once cancelled."""
    while True:
        reply = backend.stream(prompt, sampling, stop, cancel)
        text = "".join(reply)
        if cancel is not None and cancel.cancelled:
            return None
        again = judge(text, rerolls) if judge is not None else None
        if again is None:
            return Written(text, None, reply.stats, rerolls)
        sampling, rerolls = again, rerolls + 1
