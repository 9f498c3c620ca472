"""The part of a remote backend that does not depend on the API: the Backend protocol's
context budget, stop strings, cancellation, one-at-a-time locking and statistics.

A subclass connects (``_connect``: name, context size, tokenizer), turns one request into
``Chunk``s (``_chunks``) and says how to stop the server early (``_abort``); the three are
abstract, so a subclass that forgets one fails when it is created. Where its API can ask for
several replies in one request (``n``), it says how many (``most_choices``) and sends such a
request (``_many``); replies written ahead then come from one request.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Protocol

import httpx2

from gpt2_adventure.engine.backend import (
    AheadRequest,
    Backend,
    CancelToken,
    GenerationStats,
    ReplyStream,
    Written,
    write_by_streaming,
    write_one_by_streaming,
)
from gpt2_adventure.engine.lifetime import ClosedError
from gpt2_adventure.engine.pump import Pump
from gpt2_adventure.engine.remote.context import GPT2_CONTEXT, context_size, reply_budget
from gpt2_adventure.engine.remote.finish import finish_reason
from gpt2_adventure.engine.remote.http import (
    ChoicesRefused,
    RemoteError,
    make_client,
    request_json,
)
from gpt2_adventure.engine.remote.replies import Chunk, OneOfSeveral
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling, banned_tokens
from gpt2_adventure.engine.textstream import TextAssembler
from gpt2_adventure.paths import AppPaths

GPT2_HELLO = [15496, 995]  # "Hello world" in GPT-2's vocabulary
GPT2_EOS = 50256
BAN = -100.0  # the strongest bias the OpenAI API allows; JSON has no -inf


class Tokenizer(Protocol):
    source: str

    def tokenize(self, text: str) -> list[int]: ...

    def detokenize(self, tokens: Sequence[int]) -> str: ...

    def close(self) -> None: ...


class RemoteBackend(Backend):
    """A model on a server. ``stream`` may be called from any thread, one at a time."""

    api = "a remote"
    info_path = ""  # the cheap GET that names the model (for `backend check`'s latency)
    most_choices = 1  # replies one request can ask for; 1: the API cannot ask for several

    def __init__(self, settings: BackendSettings, paths: AppPaths) -> None:
        self.settings = settings
        self.url = settings.base_url
        self._paths = paths
        self._client: httpx2.Client = make_client(settings)
        self._lock = threading.Lock()
        self._closed = False  # set under the lock; every request checks it under the lock
        self.name = ""
        self.server = self.api.split(" ", 1)[-1]  # what kind of server, as far as we can tell
        self.model_id = ""
        self._n_ctx = GPT2_CONTEXT
        self.n_ctx_source = "default"
        self.tokenizer: Tokenizer | None = None
        self._eos: int | None = None  # known when the vocabulary is GPT-2's
        # Replies one request asks for: lowered for good, for this server, when it refuses
        # several or gives fewer than it was asked for.
        self.choices = self.most_choices
        try:
            self._connect()
        except BaseException:
            self._client.close()
            raise

    # -- for subclasses ---------------------------------------------------------------------

    @abstractmethod
    def _connect(self) -> None:
        """Ask the server what it runs: set name, model_id, the context and the tokenizer."""

    @abstractmethod
    def _chunks(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int
                ) -> Iterator[Chunk]:
        """Send one completion request and yield what comes back."""

    @abstractmethod
    def _abort(self) -> None:
        """Ask the server to stop generating, where its API can (must not block)."""

    def _many(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int, n: int
              ) -> Iterator[Chunk]:
        """Send one request for ``n`` replies and yield what comes back, each chunk marked with
        its reply's ``index``; raise ChoicesRefused when the server turns it down before
        writing. Called only where ``most_choices`` is above 1."""
        raise NotImplementedError(f"{type(self).__name__} asks for one reply at a time")

    def _set_context(self, reported: int | None, source: str, train: int | None = None) -> None:
        """The context size (``context.context_size``) from what the server reported."""
        self._n_ctx, self.n_ctx_source = context_size(self.settings.n_ctx, reported, source,
                                                      train, self.name or self.model_id)

    def _local_tokenizer(self) -> Tokenizer:
        from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer

        return LocalTokenizer(self._paths.cache_dir, self._paths.log_file)

    # -- the Backend interface --------------------------------------------------------------

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def tokenizer_source(self) -> str:
        return self.tokenizer.source if self.tokenizer else "none"

    # The samplers beyond the classic ones, by the names a player knows them by.
    EXTRA_SAMPLERS = ("DRY", "XTC", "top-n-sigma")

    @property
    def samplers_lost(self) -> tuple[str, ...]:
        """Which of DRY, XTC and top-n-sigma this server is known to lack (sent anyway,
        they do nothing there); () where it takes them or it cannot be told."""
        return ()

    @property
    def gpt2_vocab(self) -> bool:
        """True when the tokenizer is GPT-2's (so its end-of-text token is known)."""
        return self.tokenizer is not None and self.tokenize("Hello world") == GPT2_HELLO

    def tokenize(self, text: str) -> list[int]:
        self._check_open()
        assert self.tokenizer is not None
        return self.tokenizer.tokenize(text)

    def detokenize(self, tokens: Sequence[int]) -> str:
        self._check_open()
        assert self.tokenizer is not None
        return self.tokenizer.detokenize(tokens)

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("the connection to the server has been closed")

    def stream(
        self,
        prompt: str | Sequence[int],
        sampling: Sampling,
        stop: Sequence[str] = (),
        cancel: CancelToken | None = None,
    ) -> ReplyStream:
        text, n, max_tokens = self._prepare(prompt, sampling)
        stats = GenerationStats(prompt_tokens=n, evaluated_tokens=n)
        return ReplyStream(self._generate(text, sampling, tuple(stop), max_tokens, cancel, stats),
                           stats)

    def _prepare(self, prompt: str | Sequence[int], sampling: Sampling) -> tuple[str, int, int]:
        """The prompt as text, its length in tokens and the room left to reply."""
        # Servers take text; it is counted again as the server will see it, so the budget
        # holds even where joining separately tokenized parts would count differently.
        text = prompt if isinstance(prompt, str) else self.detokenize(prompt)
        text = text or "\n"
        n = self.count_tokens(text)
        self._check_room(n)
        return text, n, reply_budget(self._n_ctx, n, sampling.max_tokens)

    def _generate(self, text: str, sampling: Sampling, stop: tuple[str, ...], max_tokens: int,
                  cancel: CancelToken | None, stats: GenerationStats) -> Iterator[str]:
        with self._lock:
            self._check_open()
            start = time.perf_counter()
            first = 0.0
            assembler = TextAssembler(stop)
            received: list[str] = []
            server_finish: str | None = None
            usage: int | None = None
            complete = False  # the server's stream ran to its end
            pump = Pump(self._chunks(text, sampling, stop, max_tokens), "remote-stream").start()
            try:
                for chunk in pump.items(cancel):
                    usage = chunk.completion_tokens or usage
                    if chunk.evaluated_tokens is not None:
                        stats.evaluated_tokens = chunk.evaluated_tokens
                    server_finish = chunk.finish or server_finish
                    if chunk.text:
                        if not first:
                            first = time.perf_counter()
                            stats.time_to_first_token = stats.prompt_seconds = first - start
                        received.append(chunk.text)
                        piece = assembler.feed(chunk.text.encode("utf-8"))
                        if piece:
                            yield piece
                        if assembler.stopped:
                            stats.finish_reason = "stop"
                            break
                else:
                    complete = pump.complete
                if cancel is not None and cancel.cancelled:
                    stats.finish_reason = "cancelled"
                else:
                    tail = assembler.finish()
                    if tail:
                        yield tail
                    if assembler.stopped:
                        stats.finish_reason = "stop"
            except RemoteError as error:
                stats.finish_reason = "error"
                error.partial = error.partial or assembler.text
                raise
            finally:
                pump.stop()
                if not complete and stats.finish_reason != "error":
                    self._abort()  # we stopped reading first: stop the server too
                if first:
                    stats.generation_seconds = time.perf_counter() - first
                # After a cancel or an error the server may be stuck: count without it.
                stats.generated_tokens = usage or (
                    self._count_generated(received) if complete or stats.finish_reason == "stop"
                    else len(received))
                if not stats.finish_reason:
                    stats.finish_reason = finish_reason(
                        server_finish, stop, stats.generated_tokens, max_tokens,
                        max_tokens < sampling.max_tokens) if complete else "cancelled"

    # -- replies written ahead -------------------------------------------------------------

    @property
    def supports_write_ahead(self) -> bool:
        return True

    def write_ahead(self, request: AheadRequest, cancel: CancelToken | None = None
                    ) -> Iterator[Written]:
        """Where the API can, one request asks for all the replies (``n``, the samplings being
        equal) and each is yielded when it is whole; the ones ``judge`` refuses are written
        again one at a time through ``stream``, as are the ones a server did not give. A
        server that refuses ``n`` (but writes one reply) or gives fewer replies than asked is
        not asked for more again. Elsewhere: one request after another (Backend's way)."""
        samplings = list(request.samplings)
        n = min(len(samplings), self.choices)
        if n < 2 or any(s != samplings[0] for s in samplings[1:n]):
            yield from write_by_streaming(self, request, cancel)
            return
        text, count, max_tokens = self._prepare(request.prompt, samplings[0])
        stop, judge = tuple(request.stop), request.judge
        again: list[Sampling] = []  # for the replies the judge refused
        got = 0
        try:
            for written in self._write_many(text, count, samplings[0], stop, max_tokens, n,
                                            cancel):
                got += 1
                stronger = judge(written.text, 0) if judge is not None else None
                if stronger is None:
                    yield written
                else:
                    again.append(stronger)
            refused = False
        except ChoicesRefused:
            refused = True
        if cancel is not None and cancel.cancelled:
            return
        if refused:
            # If one reply per request works, it is `n` the server does not take.
            first = write_one_by_streaming(self, text, samplings[0], stop, cancel, judge)
            if first is None:
                return
            self.choices, got = 1, 1
            yield first
        elif got < n:
            self.choices = max(1, got)
        rest = [(s, 1) for s in again] + [(s, 0) for s in samplings[got:]]
        for sampling, rerolls in rest:
            one = write_one_by_streaming(self, text, sampling, stop, cancel, judge, rerolls)
            if one is None:
                return
            yield one

    def _write_many(self, text: str, count: int, sampling: Sampling, stop: tuple[str, ...],
                    max_tokens: int, n: int, cancel: CancelToken | None) -> Iterator[Written]:
        """One request for ``n`` replies, each yielded once it is whole (in the order they end).
        Once ``cancel`` is set it yields nothing more and lets go of the request, as
        ``stream`` does."""
        with self._lock:
            self._check_open()
            start = time.perf_counter()
            replies: dict[int, OneOfSeveral] = {}
            complete = False
            pump = Pump(self._many(text, sampling, stop, max_tokens, n), "remote-stream").start()
            try:
                for chunk in pump.items(cancel):
                    if 0 <= chunk.index < n:
                        reply = replies.setdefault(chunk.index, OneOfSeveral(stop))
                        if reply.feed(chunk):
                            yield self._written(reply, count, start, sampling, stop, max_tokens)
                complete = pump.complete
                if not complete:
                    return  # cancelled
                # The end of the stream ends the replies that did not say they were done.
                for reply in (replies[i] for i in sorted(replies)):
                    if cancel is not None and cancel.cancelled:
                        return
                    if not reply.done:
                        reply.end()
                        yield self._written(reply, count, start, sampling, stop, max_tokens)
            finally:
                pump.stop()
                if not complete:
                    self._abort()

    def _written(self, reply: OneOfSeveral, count: int, start: float, sampling: Sampling,
                 stop: Sequence[str], max_tokens: int) -> Written:
        generated = self._count_generated(reply.received)
        finish = finish_reason(reply.server_finish, stop, generated, max_tokens,
                               max_tokens < sampling.max_tokens)
        return Written(reply.assembler.text, None, reply.stats(count, start, generated, finish))

    def _bias(self, sampling: Sampling) -> dict[int, float]:
        """Token biases within the API's -100..100, bans included (as the local backend's)."""
        bias = {k: max(BAN, min(100.0, v)) for k, v in sampling.logit_bias.items()}
        bias.update(dict.fromkeys(banned_tokens(sampling, self.tokenize, self._eos), BAN))
        return bias

    def _count_generated(self, received: list[str]) -> int:
        if not received:
            return 0
        try:
            return self.count_tokens("".join(received))
        except RemoteError:
            return len(received)  # the server went away: one event is about one token

    def ping(self) -> float:
        """Seconds for one round trip of the model-info request."""
        start = time.perf_counter()
        request_json(self._client, self.settings, "GET", self.info_path, self.api)
        return time.perf_counter() - start

    def close(self) -> None:
        """Once the request being answered (which holds the lock) is over: later calls raise
        ``ClosedError``; the local tokenizer waits for a call inside it (engine/lifetime)."""
        with self._lock:
            self._closed = True
            self._client.close()
            if self.tokenizer is not None:
                self.tokenizer.close()
