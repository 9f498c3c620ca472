"""The llama.cpp backend: a GPT-2 GGUF loaded through llama-cpp-python."""

from __future__ import annotations

import codecs
import io
import random
import threading
import time
import weakref
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.backend import (
    AheadRequest,
    Backend,
    CancelToken,
    GenerationStats,
    Handle,
    ReplyStream,
    Written,
)
from gpt2_adventure.engine.lifetime import ClosedError, Lifetime
from gpt2_adventure.engine.llama import internals
from gpt2_adventure.engine.llama.ahead import Writer
from gpt2_adventure.engine.llama.hardware import physical_cores
from gpt2_adventure.engine.llama.logs import prints_to, route_llama_logs
from gpt2_adventure.engine.llama.model_thread import ModelThread
from gpt2_adventure.engine.llama.reply import Reply
from gpt2_adventure.engine.llama.sequences import NoRoom, Sequences
from gpt2_adventure.engine.models.gguf_info import ModelInfo, read_model_info
from gpt2_adventure.engine.sampling import Sampling, banned_tokens
from gpt2_adventure.errors import ModelFileError

NO_BIAS = float("-inf")
FIRST_CHUNK = 16  # tokens: the first chunk of work in the background (``_fill``)
CHUNK_SECONDS = 0.1  # the longest a chunk in the background makes a player's reply wait
# The biggest chunk that can be aborted (all its work is lost then): measured on 2 cores,
# tokens/s stop rising there on the 124M and the 1.5B shapes (1.5B: 37 at 16 tokens, 54 at
# 64, 54 at 128, 48 at 256; 124M: 500, 676, 608, 666).
ABORTED_CHUNK_MAX = 64


def _paced(chunk: int, per_token: float, expected_at: float | None) -> int:
    """The next chunk a cancel may abort: ``chunk``, or halved (down to ``FIRST_CHUNK``)
    until it should end before ``expected_at`` (when the player usually acts) at
    ``per_token`` seconds a token. The chunk a player's action aborts is lost: one cut to
    fit keeps its work (on the 1.5B shape a chunk of 64 takes ~1.4 s, and with chunks
    doubling from 16 a player who acts after 3 s kept 48 tokens, not 112, whenever that
    chunk ended a few hundredths too late). Without ``expected_at``, ``chunk``; when even the
    smallest would end after it, the biggest (the player is late: work fast)."""
    if expected_at is None:
        return chunk
    left = expected_at - time.perf_counter()
    fits = chunk
    while fits > FIRST_CHUNK and fits * per_token > left:
        fits //= 2
    return fits if fits * per_token <= left else ABORTED_CHUNK_MAX


class LlamaBackend(Backend):
    """One GPT-2 model in llama.cpp. ``stream`` may be called from any thread, one at a time.

    The context is clamped to the model's training context: GPT-2 has a learned position
    table, and evaluating a position past its end aborts the whole process inside ggml, so
    nothing here ever lets a sequence's token count reach ``n_ctx``.

    With ``sequences`` above 1, replies written ahead (``write_ahead``) live in sequences of
    their own beside the main one, in a cache with room for a second context's worth of
    cells (a reply written ahead shares the prompt's cells; after a trim it may need a whole
    prompt of its own). ``batched`` writes them in one evaluation per step.
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
        self.n_batch = max(1, min(n_batch, self._n_ctx))
        self.flash_attn = flash_attn
        self.batched = batched
        self._n_seq = max(1, sequences)
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self._rng = random.Random(self.seed)  # one draw per reply: fixed seed = same session
        self._lock = threading.Lock()
        self._pieces: dict[int, bytes] = {}
        self._main = 0  # the sequence the next prompt continues
        # The sequence holding the window after the next trim (prefill_spare), if any.
        self._spare: int | None = self._n_seq - 1 if self._n_seq > 2 else None
        self._written: dict[int, list[int]] = {}  # each sequence's last reply, for tokens_for()
        # True: a reply aborts the chunk of work in the background at once, inside
        # llama.cpp (chunks doubling from 16 tokens up to ABORTED_CHUNK_MAX). False: a reply
        # waits for it, so chunks last about ``chunk_seconds``: on the 1.5B shape that is 4
        # tokens a chunk, ~19 tokens/s against ~54 in chunks of 64, too slow for the spare
        # to keep up with the story (benchmarks/trim.py --variants spare,wait).
        self.abort_background = True
        self.chunk_seconds = CHUNK_SECONDS
        self._lifetime = Lifetime("model")
        # Every llama.cpp evaluation runs on this one thread (see model_thread.py).
        self._model_thread = ModelThread()
        weakref.finalize(self, self._model_thread.stop)  # a backend never closed
        try:
            self._llm, self._seqs = self._model_thread.call(self._load, log_file, n_gpu_layers)
        except BaseException:
            self._model_thread.stop()
            raise
        self._eos = int(self._llm.token_eos())
        self._n_vocab = int(self._llm.n_vocab())
        import llama_cpp

        # DRY tokenizes its sequence breakers with the model's vocabulary.
        self._vocab = llama_cpp.llama_model_get_vocab(self._llm.model)

    def _load(self, log_file: Path | None, n_gpu_layers: int) -> tuple[Any, Sequences]:
        route_llama_logs(log_file)
        import llama_cpp

        # verbose=True keeps llama-cpp-python from redirecting the process's stdout/stderr
        # file descriptors while loading (that would blank a running TUI); its Python-side
        # prints go to the log instead (prints_to), and the C logs already do.
        sink: Any = io.StringIO()
        if log_file is not None:
            sink = log_file.open("a", encoding="utf-8", errors="replace")
        try:
            with prints_to(sink):
                # Its own context is dropped at once: ours (sequences.py) holds the cache.
                llm = llama_cpp.Llama(
                    model_path=str(self.info.path),
                    n_ctx=16,
                    n_batch=16,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_gpu_layers=n_gpu_layers,
                    seed=self.seed,
                    verbose=True,
                )
                internals.drop_context(llm)
                cells = self._n_ctx * (2 if self._n_seq > 1 else 1)
                seqs = Sequences(llm.model, cells=cells, n_seq=self._n_seq,
                                 n_batch=self.n_batch, threads=self.threads,
                                 flash_attn=self.flash_attn)
        except (ValueError, RuntimeError):
            raise ModelFileError("llama.cpp could not load the model", self.info.path,
                                 hint=f"llama.cpp's reason is in {log_file or 'its log'}"
                                 ) from None
        finally:
            sink.close()
        llm.verbose = False  # no per-call prints to stderr from here on
        # One throw-away token: pages the weights in and starts the thread pool now, not
        # during the player's first turn, which otherwise waits for both.
        seqs.decode(0, [int(llm.token_eos())])
        seqs.clear(0)
        return llm, seqs

    # -- tokens ---------------------------------------------------------------------------

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

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

    @property
    def supports_write_ahead(self) -> bool:
        return self._n_seq > 1

    @property
    def supports_spare(self) -> bool:
        return self._spare is not None

    def tokenize(self, text: str) -> list[int]:
        with self._lifetime.call():  # any thread may tokenize: close waits for it
            # special=False: "<|endoftext|>" typed by a player stays plain text, not a control
            # token.
            return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", errors="replace")

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            with self._lifetime.call():
                piece = self._pieces[token] = self._llm.detokenize([token])
        return piece

    @property
    def evaluated(self) -> list[int]:
        """The tokens the main sequence holds (what the next prompt may reuse)."""
        return list(self._seqs.tokens[self._main])

    # -- generation -----------------------------------------------------------------------

    def _prompt(self, prompt: str | Sequence[int]) -> list[int]:
        tokens = self.tokenize(prompt) if isinstance(prompt, str) else [int(t) for t in prompt]
        if not tokens:
            tokens = [self._eos]  # GPT-2 starts unconditioned text after <|endoftext|>
        self._check_room(len(tokens))
        return tokens

    def stream(
        self,
        prompt: str | Sequence[int],
        sampling: Sampling,
        stop: Sequence[str] = (),
        cancel: CancelToken | None = None,
    ) -> ReplyStream:
        tokens = self._prompt(prompt)
        stats = GenerationStats(prompt_tokens=len(tokens))
        return ReplyStream(self._generate(tokens, sampling, stop, cancel, stats), stats)

    def _reply(self, seq: int, prompt: Sequence[int], sampling: Sampling,
               stop: Sequence[str], stats: GenerationStats | None = None) -> Reply:
        return Reply(seq, prompt, sampling, stop=stop, n_vocab=self._n_vocab,
                     seed=self._rng.randrange(2**31), bias=self._bias(sampling), eos=self._eos,
                     piece=self._piece, n_ctx=self._n_ctx, vocab=self._vocab, stats=stats)

    def _generate(self, tokens: list[int], sampling: Sampling, stop: Sequence[str],
                  cancel: CancelToken | None, stats: GenerationStats) -> Iterator[str]:
        with self._lock:
            self._check_open()
            self._drop_others()  # a new main reply: what was written ahead is not wanted
            self._continue_best(tokens)
            main = self._main
            reused = self._reuse_prefix(main, tokens)
            reply = self._reply(main, tokens, sampling, stop, stats)
            reply.stats.evaluated_tokens = len(tokens) - reused
            self._written[main] = reply.tokens
            cancelled = False
            try:
                self._eval(main, tokens[reused:])
                while True:
                    if cancel is not None and cancel.cancelled:
                        cancelled = True
                        break
                    piece = reply.take(reply.sample(self._seqs.ctx),
                                       len(self._seqs.tokens[main]))
                    if piece:
                        yield piece
                    if reply.reason:
                        break
                    self._eval(main, reply.tokens[-1:])
                tail = reply.finish(cancelled)
                if tail:
                    yield tail
            finally:
                reply.finish(cancelled=True)  # a no-op when finished above

    def _eval(self, seq: int, tokens: Sequence[int]) -> None:
        if tokens:
            self._model_thread.call(self._seqs.decode, seq, tokens)

    def _reuse_prefix(self, seq: int, tokens: Sequence[int]) -> int:
        """Keep ``seq``'s cache for its longest common prefix with ``tokens``."""
        common = self._seqs.common_prefix(seq, tokens)
        # At least one token must be evaluated to get fresh logits to sample from.
        return self._model_thread.call(self._seqs.trim, seq, min(common, len(tokens) - 1))

    def _continue_best(self, tokens: Sequence[int]) -> None:
        """When the spare sequence holds more of ``tokens`` than the main one (the window
        moved to where it was laid out ahead), it becomes the main one."""
        spare, main = self._spare, self._main
        if spare is None:
            return
        seqs = self._seqs
        if seqs.common_prefix(spare, tokens) > seqs.common_prefix(main, tokens):
            self._main, self._spare = spare, main
            self._model_thread.call(seqs.clear, main)
            self._written.pop(main, None)

    def _clear_all(self) -> None:
        for seq in range(self._n_seq):
            self._model_thread.call(self._seqs.clear, seq)
        self._written.clear()

    def _drop_others(self, keep: Collection[int] = ()) -> None:
        for seq in range(self._n_seq):
            if seq in (self._main, self._spare) or seq in keep:
                continue
            if self._seqs.tokens[seq]:
                self._model_thread.call(self._seqs.clear, seq)
                self._written.pop(seq, None)

    def _bias(self, sampling: Sampling) -> dict[int, float]:
        bias = dict(sampling.logit_bias)
        bias.update(dict.fromkeys(banned_tokens(sampling, self.tokenize, self._eos), NO_BIAS))
        return bias

    # -- replies written ahead ------------------------------------------------------------

    def write_ahead(self, request: AheadRequest, cancel: CancelToken | None = None
                    ) -> Iterator[Written]:
        """Write one reply per sampling in free sequences of their own (none free: fewer),
        each sharing the prompt's cells with the sequence that holds most of it; one after
        another, or in one evaluation per step when this backend is ``batched``. Each
        reply draws its seed when it starts, as a retry would."""
        tokens = self._prompt(request.prompt)
        samplings = request.samplings
        with self._lock:
            self._check_open()
            kept = {h.seq for h in request.keep if self._holds(h)}
            free = [s for s in range(self._n_seq)
                    if s not in (self._main, self._spare) and s not in kept]
            writer = Writer(self._seqs, self._model_thread.call, self._append, self._reply,
                            self._written, tokens, request.stop, cancel, request.judge)
            if self.batched and len(samplings) > 1:
                yield from writer.batched(list(zip(free, samplings, strict=False)))
            else:
                for seq, sampling in zip(free, samplings, strict=False):
                    written = writer.one(seq, sampling)
                    if written is None:
                        return
                    yield written

    def use_written(self, handle: Handle) -> None:
        """The reply written ahead that ``handle`` holds is now the story's: its sequence
        becomes the main one (the next prompt continues it, and ``tokens_for`` spells it)."""
        with self._lock:
            if self._holds(handle) and handle.seq != self._spare:
                self._main = handle.seq

    def _holds(self, handle: Handle) -> bool:
        """``handle``'s sequence still holds the reply it was made for (``Writer._keep``)."""
        return self._written.get(handle.seq) is handle.reply

    # -- warm-up --------------------------------------------------------------------------

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None,
                chunk: int | None = None) -> int:
        """Evaluate ``tokens`` ahead of time (no reply), so a later prompt that starts with them
        only evaluates what follows. Stops between chunks when cancelled; returns how many
        tokens were evaluated."""
        tokens = [int(t) for t in tokens]
        if not tokens or len(tokens) >= self._n_ctx:
            return 0
        with self._lock:
            self._check_open()
            self._continue_best(tokens)
            return self._fill(self._main, tokens, cancel, chunk)

    def prefill_spare(self, tokens: Sequence[int], cancel: CancelToken | None = None,
                      chunk: int | None = None) -> int:
        """Evaluate ``tokens`` in the spare sequence (the window after the next trim); the
        main sequence is not touched. What it holds of their beginning (the same tokens at
        the same positions: the top of the prompt) is shared, not evaluated again. A full
        cache gives the spare up."""
        tokens = [int(t) for t in tokens]
        if self._spare is None or not tokens or len(tokens) >= self._n_ctx:
            return 0
        with self._lock:
            self._check_open()
            seqs, spare = self._seqs, self._spare
            held = seqs.common_prefix(spare, tokens)
            if held == len(tokens):
                # All there (no logits are wanted from it); what follows goes, so that an
                # old window's cells do not fill the cache.
                self._model_thread.call(seqs.trim, spare, len(tokens))
                return 0
            shared = seqs.common_prefix(self._main, tokens)
            if shared > held:
                self._model_thread.call(seqs.share, self._main, spare, shared)
            try:
                return self._fill(spare, tokens, cancel, chunk)
            except NoRoom:
                self._model_thread.call(self._seqs.clear, self._spare)
                return 0

    def spare_holds(self, tokens: Sequence[int]) -> int:
        with self._lock:
            self._check_open()
            return 0 if self._spare is None else self._seqs.common_prefix(self._spare, tokens)

    def _fill(self, seq: int, tokens: list[int], cancel: CancelToken | None,
              chunk: int | None) -> int:
        """Evaluate ``tokens`` into ``seq``, keeping what it holds of their beginning; the
        rest as ``_append`` does. Returns how many tokens were evaluated."""
        at = self._reuse_prefix(seq, tokens)
        return self._append(seq, tokens[at:], cancel, chunk)

    def _append(self, seq: int, tokens: list[int], cancel: CancelToken | None,
                chunk: int | None = None) -> int:
        """Evaluate ``tokens`` after what ``seq`` holds, in chunks that ``cancel`` aborts at
        once (inside llama.cpp, between the steps of the evaluation): a player who acts does
        not wait for the chunk, on a big model or a small one, and what it had done is lost.
        So the first chunk is small (``chunk`` overrides it) and each next one twice as big,
        up to ``ABORTED_CHUNK_MAX`` tokens: a big batch evaluates several times more tokens a
        second than a small one (each reads all the weights: on the 1.5B shape ~0.2 s even
        for four tokens), and the chunk lost is at most as big as what the ones before it
        kept. Without aborting (``abort_background`` off), chunks take about
        ``chunk_seconds`` each, and without ``cancel`` (nothing waits) they double up to
        256. Returns how many were evaluated (fewer when cancelled)."""
        chunk = chunk or FIRST_CHUNK
        at = done = 0
        abort = None if cancel is None or not self.abort_background else (
            lambda: cancel.cancelled)
        per_token = 0.0  # the slowest seconds a token this fill has seen (small chunks)
        while at < len(tokens):
            if cancel is not None and cancel.cancelled:
                break
            piece = tokens[at: at + chunk]
            started = time.perf_counter()
            evaluated = self._model_thread.call(self._seqs.decode, seq, piece, abort)
            took = time.perf_counter() - started
            at += evaluated
            done += evaluated
            if evaluated < len(piece):
                break  # aborted
            per_token = max(per_token, took / len(piece))
            if cancel is None:
                chunk = min(256, chunk * 2)
            elif self.abort_background:
                chunk = _paced(min(max(chunk, ABORTED_CHUNK_MAX), chunk * 2), per_token,
                               cancel.expected_at)
            elif took > 0:  # a reply would wait for the next one
                chunk = max(4, min(256, int(len(piece) * self.chunk_seconds / took)))
        return done

    # -- stored state (resume a save without re-evaluating it) ------------------------------

    def export_state(self) -> tuple[list[int], bytes]:
        """The main sequence's tokens and llama.cpp's KV cache for them."""
        with self._lock:
            self._check_open()
            tokens = self.evaluated
            if not tokens:
                return [], b""
            return tokens, self._model_thread.call(self._seqs.export, self._main)

    def import_state(self, tokens: Sequence[int], data: bytes) -> bool:
        """Restore an exported state; False (and an empty cache) if llama.cpp refuses it."""
        with self._lock:
            self._check_open()
            self._clear_all()
            if not tokens or len(tokens) >= self._n_ctx or not data:
                return False
            if any(not 0 <= int(t) < self._n_vocab for t in tokens):
                return False
            return bool(self._model_thread.call(self._seqs.load, self._main, tokens, data))

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
        generated = self._written.get(self._main, [])
        for i, token in enumerate(generated, start=1):
            shown += decoder.decode(self._piece(token))
            if not text.startswith(shown):
                break
            if decoder.getstate()[0] == b"":  # no character left half-way
                best = (i, len(shown))
        count, chars = best
        if count == 0:
            return None
        rest = text[chars:]
        return generated[:count] + (self.tokenize(rest) if rest else [])

    def reset_cache(self) -> None:
        """Forget everything evaluated (benchmarks use it to measure cold prompts)."""
        with self._lock:
            self._clear_all()

    def close(self) -> None:
        """Free the model once the reply being written (which holds the lock) and any
        tokenizing on other threads are done; later calls raise ``ClosedError``."""
        with self._lock:
            self._lifetime.end(self._free)

    def _free(self) -> None:
        try:
            self._model_thread.call(self._seqs.close)  # before the model it uses
            self._model_thread.call(self._llm.close)
        finally:
            self._model_thread.stop()

    def _check_open(self) -> None:
        if self._lifetime.ended:  # llama.cpp would touch freed memory
            raise ClosedError("the model has been closed")
