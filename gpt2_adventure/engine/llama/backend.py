"""The llama.cpp backend: a GPT-2 GGUF loaded through llama-cpp-python."""

from __future__ import annotations

import codecs
import contextlib
import io
import random
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.backend import Backend, CancelToken, GenerationStats
from gpt2_adventure.engine.llama import internals
from gpt2_adventure.engine.llama.hardware import physical_cores
from gpt2_adventure.engine.llama.logs import route_llama_logs
from gpt2_adventure.engine.llama.model_thread import ModelThread
from gpt2_adventure.engine.llama.sampler_chain import build_sampler_chain
from gpt2_adventure.engine.models.gguf_info import ModelInfo, read_model_info
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.textstream import TextAssembler
from gpt2_adventure.errors import ContextOverflowError, ModelFileError

NO_BIAS = float("-inf")


class LlamaBackend(Backend):
    """One GPT-2 model in llama.cpp. ``stream`` may be called from any thread, one at a time.

    The context is clamped to the model's training context: GPT-2 has a learned position
    table, and evaluating a position past its end aborts the whole process inside ggml, so
    nothing here ever lets the token count reach ``n_ctx``.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 1024,
        threads: int | None = None,
        n_gpu_layers: int = -1,
        n_batch: int = 512,
        seed: int | None = None,
        log_file: Path | None = None,
        flash_attn: bool = False,
        sequences: int = 1,
        batched: bool = False,
    ) -> None:
        self.info: ModelInfo = read_model_info(model_path)
        self.name = self.info.name
        self._n_ctx = min(max(16, n_ctx), self.info.training_context)
        self.threads = threads or physical_cores()
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self._rng = random.Random(self.seed)  # one draw per reply: fixed seed = same session
        self._lock = threading.Lock()
        self._last_stats: GenerationStats | None = None
        self._pieces: dict[int, bytes] = {}
        self._generated: list[int] = []  # the last reply's token ids, for tokens_for()
        self._closed = False
        # Every llama.cpp evaluation runs on this one thread (see model_thread.py).
        self._model_thread = ModelThread()
        weakref.finalize(self, self._model_thread.stop)  # a backend never closed
        try:
            self._llm = self._model_thread.call(self._load, log_file, n_gpu_layers, n_batch)
        except BaseException:
            self._model_thread.stop()
            raise
        self._eos = int(self._llm.token_eos())
        self._n_vocab = int(self._llm.n_vocab())

    def _load(self, log_file: Path | None, n_gpu_layers: int, n_batch: int) -> Any:
        route_llama_logs(log_file)
        import llama_cpp

        # verbose=True keeps llama-cpp-python from redirecting the process's stdout/stderr
        # file descriptors while loading (that would blank a running TUI); its Python-side
        # prints go to the log instead, and the C logs already do (route_llama_logs).
        sink: Any = io.StringIO()
        if log_file is not None:
            sink = log_file.open("a", encoding="utf-8", errors="replace")
        try:
            with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
                llm = llama_cpp.Llama(
                    model_path=str(self.info.path),
                    n_ctx=self._n_ctx,
                    n_batch=min(n_batch, self._n_ctx),
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_gpu_layers=n_gpu_layers,
                    seed=self.seed,
                    verbose=True,
                )
        except (ValueError, RuntimeError):
            raise ModelFileError("llama.cpp could not load the model", self.info.path,
                                 hint=f"llama.cpp's reason is in {log_file or 'its log'}"
                                 ) from None
        finally:
            sink.close()
        llm.verbose = False  # no per-call prints to stderr from here on
        # One throw-away token: pages the weights in and starts the thread pool now, not
        # during the player's first turn, which otherwise waits for both.
        llm.eval([int(llm.token_eos())])
        internals.trim(llm, 0)
        return llm

    # -- tokens ---------------------------------------------------------------------------

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._last_stats

    @property
    def gpu_offload(self) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())

    @property
    def supports_prefill(self) -> bool:
        return True

    @property
    def supports_state(self) -> bool:
        return True

    def tokenize(self, text: str) -> list[int]:
        self._check_open()
        # special=False: "<|endoftext|>" typed by a player stays plain text, not a control token.
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", errors="replace")

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self._llm.detokenize([token])
        return piece

    # -- generation -----------------------------------------------------------------------

    def stream(
        self,
        prompt: str | Sequence[int],
        sampling: Sampling,
        stop: Sequence[str] = (),
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        tokens = self.tokenize(prompt) if isinstance(prompt, str) else [int(t) for t in prompt]
        if not tokens:
            tokens = [self._eos]  # GPT-2 starts unconditioned text after <|endoftext|>
        if len(tokens) >= self._n_ctx:
            raise ContextOverflowError(
                f"the prompt is {len(tokens)} tokens; the model sees at most {self._n_ctx} "
                f"tokens, prompt and reply together", hint="shorten the prompt")
        return self._generate(tokens, sampling, stop, cancel)

    def _generate(
        self, tokens: list[int], sampling: Sampling, stop: Sequence[str], cancel: CancelToken | None
    ) -> Iterator[str]:
        with self._lock:
            self._check_open()
            stats = GenerationStats(prompt_tokens=len(tokens))
            self._last_stats = stats
            start = time.perf_counter()
            llm = self._llm
            reused = self._reuse_prefix(tokens)
            stats.evaluated_tokens = len(tokens) - reused
            chain = build_sampler_chain(
                sampling, n_vocab=self._n_vocab, seed=self._rng.randrange(2**31),
                bias=self._bias(sampling), history=tokens)
            text = TextAssembler(stop)
            first_token_at = 0.0
            self._generated = []
            try:
                self._eval(tokens[reused:])
                import llama_cpp

                while True:
                    if cancel is not None and cancel.cancelled:
                        stats.finish_reason = "cancelled"
                        break
                    token = llama_cpp.llama_sampler_sample(chain, llm.ctx, -1)
                    if not first_token_at:
                        first_token_at = time.perf_counter()
                        stats.time_to_first_token = stats.prompt_seconds = first_token_at - start
                    if token == self._eos and not sampling.ignore_eos:
                        stats.finish_reason = "eos"
                        break
                    stats.generated_tokens += 1
                    self._generated.append(token)
                    piece = text.feed(self._piece(token))
                    if piece:
                        yield piece
                    if text.stopped:
                        stats.finish_reason = "stop"
                        break
                    if stats.generated_tokens >= sampling.max_tokens:
                        stats.finish_reason = "length"
                        break
                    # The next eval would be past the last position.
                    if internals.evaluated_count(llm) >= self._n_ctx:
                        stats.finish_reason = "context"
                        break
                    self._eval([token])
                if stats.finish_reason != "cancelled":
                    tail = text.finish()
                    if tail:
                        yield tail
                    if text.stopped:
                        stats.finish_reason = "stop"
            finally:
                llama_cpp.llama_sampler_free(chain)
                if first_token_at:
                    stats.generation_seconds = time.perf_counter() - first_token_at
                if not stats.finish_reason:
                    stats.finish_reason = "cancelled"  # the consumer closed the stream early

    def _eval(self, tokens: list[int]) -> None:
        self._model_thread.call(self._llm.eval, tokens)

    def _reuse_prefix(self, tokens: list[int]) -> int:
        """Keep the KV cache for the longest common prefix with the last evaluation."""
        common = 0
        for a, b in zip(internals.evaluated(self._llm), tokens):
            if a != b:
                break
            common += 1
        # At least one token must be evaluated to get fresh logits to sample from.
        return internals.trim(self._llm, min(common, len(tokens) - 1))

    def _bias(self, sampling: Sampling) -> dict[int, float]:
        bias = dict(sampling.logit_bias)
        if sampling.ignore_eos:
            bias[self._eos] = NO_BIAS
        for banned in sampling.banned_strings:
            for variant in (banned, " " + banned):
                ids = self.tokenize(variant)
                if len(ids) == 1:  # multi-token strings cannot be banned by a bias alone
                    bias[ids[0]] = NO_BIAS
        return bias

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None,
                chunk: int = 64) -> int:
        """Evaluate ``tokens`` ahead of time (no reply), so a later prompt that starts with them
        only evaluates what follows. Stops between chunks when cancelled; returns how many
        tokens were evaluated."""
        tokens = [int(t) for t in tokens]
        if not tokens or len(tokens) >= self._n_ctx:
            return 0
        with self._lock:
            self._check_open()
            start = self._reuse_prefix(tokens)
            done = 0
            for at in range(start, len(tokens), chunk):
                if cancel is not None and cancel.cancelled:
                    break
                piece = tokens[at: at + chunk]
                self._eval(piece)
                done += len(piece)
            return done

    # -- stored state (resume a save without re-evaluating it) ------------------------------

    def export_state(self) -> tuple[list[int], bytes]:
        """The evaluated tokens and llama.cpp's KV cache for them."""
        with self._lock:
            self._check_open()
            tokens = internals.evaluated(self._llm)
            if not tokens:
                return [], b""
            return tokens, internals.export_sequence(self._llm)

    def import_state(self, tokens: Sequence[int], data: bytes) -> bool:
        """Restore an exported state; False (and an empty cache) if llama.cpp refuses it."""
        with self._lock:
            self._check_open()
            internals.trim(self._llm, 0)
            if not tokens or len(tokens) >= self._n_ctx or not data:
                return False
            if any(not 0 <= int(t) < self._n_vocab for t in tokens):
                return False
            return internals.import_sequence(self._llm, tokens, data)

    def tokens_for(self, text: str) -> list[int] | None:
        """Token ids that spell ``text``, reusing as many of the last reply's own ids as spell
        its beginning (the rest is tokenized); None when the reply does not begin it.
        Re-tokenizing a reply can split it differently from how the model wrote it, which
        would make the next prompt differ from what llama.cpp holds. The reply's text may be
        cut inside a token (clean-up to whole sentences) or hold U+FFFD where the model
        wrote broken UTF-8; both are matched as the stream decoded them."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        shown = ""
        best = (0, 0)  # (tokens, characters) of the longest whole-character match
        for i, token in enumerate(self._generated, start=1):
            shown += decoder.decode(self._piece(token))
            if not text.startswith(shown):
                break
            if decoder.getstate()[0] == b"":  # no character left half-way
                best = (i, len(shown))
        count, chars = best
        if count == 0:
            return None
        rest = text[chars:]
        return self._generated[:count] + (self.tokenize(rest) if rest else [])

    def reset_cache(self) -> None:
        """Forget the evaluated prefix (benchmarks use it to measure cold prompts)."""
        with self._lock:
            internals.trim(self._llm, 0)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self._model_thread.call(self._llm.close)
                finally:
                    self._model_thread.stop()

    def _check_open(self) -> None:
        if self._closed:  # llama.cpp would touch freed memory
            raise RuntimeError("the model has been closed")
