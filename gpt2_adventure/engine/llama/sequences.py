"""llama.cpp's context for one model: the KV cache of several sequences of one story.

One sequence, the main one, holds the story as the next prompt continues it; the others hold
replies written ahead (alternatives to the last reply). The cache is unified, so a sequence
that starts with another's prefix shares those cells (``share``) instead of evaluating the
prefix again. GPT-2 has a learned position table: the caller keeps every position below the
training context (llama.cpp aborts the process past it); the cache itself may hold more cells
than that, since several sequences live in it at once.

Everything here runs on the backend's model thread (see ``model_thread.py``) and uses
llama.cpp's public C API through llama-cpp-python's bindings; the ``Llama`` object is kept
only for the model and its tokenizer (``internals.py``).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from typing import Any


class NoRoom(RuntimeError):
    """llama.cpp found no free cells for a batch (the cache is full)."""


class Aborted(RuntimeError):
    """An evaluation's ``abort`` stopped it (``Sequences.decode``)."""


class Sequences:
    """A llama.cpp context with ``n_seq`` sequences in one unified cache of ``cells`` cells;
    ``tokens[seq]`` is what each sequence holds, in order (the next token goes at position
    ``len(tokens[seq])``)."""

    def __init__(self, model: Any, *, cells: int, n_seq: int, n_batch: int, threads: int,
                 flash_attn: bool, kv_type: int | None = None) -> None:
        import llama_cpp as lc

        params = lc.llama_context_default_params()
        params.n_ctx = cells
        params.n_batch = params.n_ubatch = max(n_seq, min(n_batch, cells))
        params.n_seq_max = n_seq
        params.kv_unified = True
        params.n_threads = params.n_threads_batch = threads
        params.flash_attn_type = (lc.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn
                                  else lc.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        params.no_perf = True
        if kv_type is not None:  # tests use f32 cells to compare logits exactly
            params.type_k = params.type_v = kv_type
        ctx = lc.llama_init_from_model(model, params)
        if not ctx:
            raise RuntimeError("llama.cpp could not create a context")
        self.ctx = ctx
        self.n_seq = n_seq
        self.n_batch = int(params.n_batch)
        self.flash_attn = flash_attn
        self._memory = lc.llama_get_memory(ctx)
        self._batch = lc.llama_batch_init(self.n_batch, 0, 1)
        self.tokens: list[list[int]] = [[] for _ in range(n_seq)]
        # llama.cpp asks this between the steps of an evaluation while ``decode`` was given
        # ``abort`` (ggml's first compute thread calls it: only then is one set, so replies
        # pay no Python call per step). Kept here: the C side holds only a pointer to it.
        self._abort: Callable[[], bool] | None = None
        self._abort_callback = lc.ggml_abort_callback(lambda _data: self._aborting())

    # -- evaluating -----------------------------------------------------------------------

    def decode(self, seq: int, tokens: Sequence[int],
               abort: Callable[[], bool] | None = None) -> int:
        """Evaluate ``tokens`` after what ``seq`` holds; the last one's logits are kept (for
        ``llama_sampler_sample(chain, ctx, -1)``). ``abort``, asked between the steps of the
        evaluation, stops it at once when it answers True: the batch being evaluated is
        dropped (llama.cpp removes its cells), so work in the background never makes a reply
        wait. Returns how many of ``tokens`` ``seq`` now holds."""
        done = 0
        for at in range(0, len(tokens), self.n_batch):
            chunk = [int(t) for t in tokens[at: at + self.n_batch]]
            last = at + len(chunk) == len(tokens)
            start = len(self.tokens[seq])
            rows = [(seq, t, start + i, last and i == len(chunk) - 1)
                    for i, t in enumerate(chunk)]
            if abort is None:
                self._run(rows)
            elif not self._run_abortable(rows, abort):
                return done
            self.tokens[seq].extend(chunk)
            done += len(chunk)
        return done

    def _aborting(self) -> bool:
        abort = self._abort
        return abort is not None and abort()

    def _run_abortable(self, rows: list[tuple[int, int, int, bool]],
                       abort: Callable[[], bool]) -> bool:
        """``_run`` that ``abort`` may stop; False when it did (nothing of it is kept)."""
        import llama_cpp as lc

        if abort():
            return False
        self._abort = abort
        lc.llama_set_abort_callback(self.ctx, self._abort_callback, None)
        try:
            self._run(rows)
            return True
        except Aborted:
            seq, start = rows[0][0], rows[0][2]
            # llama.cpp drops the aborted batch's cells; make sure, whatever its version.
            lc.llama_memory_seq_rm(self._memory, seq, start, -1)
            return False
        finally:
            lc.llama_set_abort_callback(self.ctx, lc.ggml_abort_callback(), None)
            self._abort = None

    def step(self, items: Sequence[tuple[int, int]]) -> None:
        """One evaluation carrying one token for each ``(seq, token)``; item ``i``'s logits
        are output ``i`` (for ``llama_sampler_sample(chain, ctx, i)``)."""
        self._run([(seq, int(token), len(self.tokens[seq]), True) for seq, token in items])
        for seq, token in items:
            self.tokens[seq].append(int(token))

    def _run(self, rows: list[tuple[int, int, int, bool]]) -> None:
        import llama_cpp as lc

        batch = self._batch
        for i, (seq, token, pos, logits) in enumerate(rows):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = logits
        batch.n_tokens = len(rows)
        result = lc.llama_decode(self.ctx, batch)
        if result == 1:
            raise NoRoom("the model's cache is full")
        if result == 2:
            raise Aborted("the evaluation was aborted")
        if result != 0:
            raise RuntimeError(f"llama_decode failed ({result})")

    # -- the cache ------------------------------------------------------------------------

    def trim(self, seq: int, keep: int) -> int:
        """Drop ``seq``'s cells from position ``keep`` on; returns how many are kept."""
        import llama_cpp as lc

        keep = max(0, min(keep, len(self.tokens[seq])))
        if not lc.llama_memory_seq_rm(self._memory, seq, keep, -1):
            # Only recurrent models refuse a partial cut; GPT-2 never does. Start over instead.
            lc.llama_memory_seq_rm(self._memory, seq, 0, -1)
            keep = 0
        del self.tokens[seq][keep:]
        return keep

    def clear(self, seq: int) -> None:
        self.trim(seq, 0)

    def share(self, source: int, target: int, count: int) -> None:
        """Make ``target`` hold ``source``'s first ``count`` tokens (their cells are shared,
        not copied or evaluated again)."""
        import llama_cpp as lc

        self.clear(target)
        count = max(0, min(count, len(self.tokens[source])))
        if count:
            lc.llama_memory_seq_cp(self._memory, source, target, 0, count)
            self.tokens[target] = self.tokens[source][:count]

    def common_prefix(self, seq: int, tokens: Sequence[int]) -> int:
        common = 0
        for a, b in zip(self.tokens[seq], tokens):
            if a != b:
                break
            common += 1
        return common

    # -- stored state (one sequence) ------------------------------------------------------

    def export(self, seq: int) -> bytes:
        """llama.cpp's state (KV cells) for what ``seq`` holds, as opaque bytes."""
        import llama_cpp as lc

        size = lc.llama_state_seq_get_size(self.ctx, seq)
        buffer = (ctypes.c_uint8 * size)()
        written = lc.llama_state_seq_get_data(self.ctx, buffer, size, seq)
        return ctypes.string_at(buffer, written)

    def load(self, seq: int, tokens: Sequence[int], data: bytes) -> bool:
        """Replace ``seq`` with ``data`` exported for ``tokens``; False (and ``seq`` empty)
        when llama.cpp refuses it. The caller checks the tokens belong to this model."""
        import llama_cpp as lc

        self.clear(seq)
        # llama.cpp reads the bytes where they are: a 100 MB copy would hold the GIL (and
        # stall the TUI) while a game opens. ``data`` outlives the call.
        buffer = ctypes.cast(ctypes.c_char_p(bytes(data)), ctypes.POINTER(ctypes.c_uint8))
        if lc.llama_state_seq_set_data(self.ctx, buffer, len(data), seq) != len(data):
            self.clear(seq)
            return False
        self.tokens[seq] = [int(t) for t in tokens]
        return True

    def close(self) -> None:
        import llama_cpp as lc

        if self.ctx is not None:
            lc.llama_batch_free(self._batch)
            lc.llama_free(self.ctx)
            self.ctx = None
