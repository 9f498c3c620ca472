"""Replies written ahead: alternatives to the last reply, each in a sequence of its own.

Each one starts from the cells of the sequence that holds most of its prompt (shared, not
evaluated again), so only what differs is evaluated. One after another (``Writer.one``) a
2-core CPU writes each about as fast as the main reply; batched (``Writer.batched``), one
evaluation per step carries a token for every unfinished reply, but none is handed over until
its own end, so it pays only where it is clearly faster (measured here on 2 cores: 3 replies
1.4-1.65x faster batched in quiet runs, 1.1x in a busy one). ``bench --tune`` decides which on
the player's machine (it applies only when two or more replies are written at once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from gpt2_adventure.engine.backend import CancelToken, Handle, Judge, Written
from gpt2_adventure.engine.llama.reply import Reply
from gpt2_adventure.engine.llama.sequences import NoRoom, Sequences
from gpt2_adventure.engine.sampling import Sampling

# (sequence, prompt, sampling, stop strings) -> a Reply with the backend's next seed
ReplyMaker = Callable[[int, Sequence[int], Sampling, Sequence[str]], Reply]
# (sequence, tokens, cancel) -> how many of the tokens it evaluated after what the sequence
# holds, in chunks the cancel aborts (``LlamaBackend._append``)
Append = Callable[[int, list[int], CancelToken | None], int]


class Writer:
    """Writes replies to one prompt for a backend whose lock the caller holds: ``call`` runs
    an evaluation on its model thread, ``append`` evaluates a prompt's part in the
    background's chunks; ``written`` gets each kept reply's tokens."""

    def __init__(self, seqs: Sequences, call: Callable[..., Any], append: Append,
                 make_reply: ReplyMaker, written: dict[int, list[int]], prompt: list[int],
                 stop: Sequence[str], cancel: CancelToken | None, judge: Judge | None) -> None:
        self._seqs = seqs
        self._call = call
        self._append = append
        self._make_reply = make_reply
        self._written = written
        self._prompt = prompt
        self._stop = stop
        self._cancel = cancel
        self._judge = judge

    @property
    def _cancelled(self) -> bool:
        return self._cancel is not None and self._cancel.cancelled

    def _prepare(self, seq: int, last: bool) -> bool:
        """Make ``seq`` hold the prompt (all of it when ``last``, else all but its last
        token), sharing the longest prefix another sequence holds; False when cancelled
        meanwhile. After a trim nearly all of it may be evaluated (the prompt of the reply
        before is the old window, which no sequence holds then): in chunks that a player's
        action aborts, as the spare's, not ones it waits for."""
        seqs, prompt = self._seqs, self._prompt
        others = [s for s in range(seqs.n_seq) if s != seq and seqs.tokens[s]]
        source = max(others, key=lambda s: seqs.common_prefix(s, prompt), default=None)
        shared = 0 if source is None else min(seqs.common_prefix(source, prompt),
                                               len(prompt) - 1)
        if source is None or shared == 0:
            self._call(seqs.clear, seq)
        else:
            self._call(seqs.share, source, seq, shared)
        rest = prompt[shared:] if last else prompt[shared:-1]
        if self._append(seq, rest, self._cancel) < len(rest):
            self._call(seqs.clear, seq)
            return False
        return True

    def _reply(self, seq: int, sampling: Sampling) -> Reply:
        return self._make_reply(seq, self._prompt, sampling, self._stop)

    def _keep(self, reply: Reply, rerolls: int) -> Written:
        self._written[reply.seq] = reply.tokens  # for tokens_for(), and what its handle holds
        return Written(reply.text.text, Handle(reply.seq, reply.tokens), reply.stats, rerolls)

    def _again(self, reply: Reply, rerolls: int) -> Sampling | None:
        return self._judge(reply.text.text, rerolls) if self._judge is not None else None

    def one(self, seq: int, sampling: Sampling) -> Written | None:
        """Write one reply in ``seq`` (again while the judge asks); None when cancelled or
        the cache has no room (``seq`` is then emptied)."""
        rerolls = 0
        while True:
            reply = self._reply(seq, sampling)
            try:
                if not self._prepare(seq, last=True):
                    return None
                while not self._cancelled:
                    reply.take(reply.sample(self._seqs.ctx), len(self._seqs.tokens[seq]))
                    if reply.reason:
                        break
                    self._call(self._seqs.decode, seq, reply.tokens[-1:])
                else:
                    reply.finish(cancelled=True)
                    self._call(self._seqs.clear, seq)
                    return None
                reply.finish()
            except NoRoom:
                self._call(self._seqs.clear, seq)
                return None
            finally:
                reply.finish(cancelled=True)  # frees the sampler if not finished above
            again = self._again(reply, rerolls)
            if again is None:
                return self._keep(reply, rerolls)
            sampling, rerolls = again, rerolls + 1

    def batched(self, jobs: list[tuple[int, Sampling]]) -> Iterator[Written]:
        """Write one reply per ``(seq, sampling)`` together: each step is one evaluation
        carrying the last token of every unfinished reply; each is yielded when done."""
        seqs, prompt = self._seqs, self._prompt
        active: list[tuple[Reply, int]] = []
        try:
            for seq, sampling in jobs:
                active.append((self._reply(seq, sampling), 0))
                if not self._prepare(seq, last=False):
                    for reply, _ in active:
                        self._call(seqs.clear, reply.seq)
                    return
            feed = [(reply.seq, prompt[-1]) for reply, _ in active]
            while active:
                if self._cancelled:
                    for reply, _ in active:
                        self._call(seqs.clear, reply.seq)
                    return
                self._call(seqs.step, feed)
                going: list[tuple[Reply, int]] = []
                feed = []
                for index, (reply, rerolls) in enumerate(active):
                    token = reply.sample(seqs.ctx, index)
                    reply.take(token, len(seqs.tokens[reply.seq]))
                    if not reply.reason:
                        going.append((reply, rerolls))
                        feed.append((reply.seq, token))
                        continue
                    reply.finish()
                    again = self._again(reply, rerolls)
                    if again is None:
                        yield self._keep(reply, rerolls)
                        continue
                    self._call(seqs.trim, reply.seq, len(prompt) - 1)
                    going.append((self._reply(reply.seq, again), rerolls + 1))
                    feed.append((reply.seq, prompt[-1]))
                active = going
        except NoRoom:
            for reply, _ in active:
                self._call(seqs.clear, reply.seq)
        finally:
            for reply, _ in active:
                reply.finish(cancelled=True)
