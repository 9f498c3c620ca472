"""Replies written ahead in sequences of their own, on a real tiny GGUF: each equals what a
retry with the same random state writes, the main sequence is left as it was, and a cancel
stops the writing at once."""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gpt2_adventure.engine.backend import AheadRequest, CancelToken, Written
from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from tests.support.logits import greedy_paths_agree

FREE = Sampling(temperature=1.0, top_k=0, top_p=1.0, repeat_penalty=1.0, ignore_eos=True,
                max_tokens=12)
GREEDY = Sampling(temperature=0.0, repeat_penalty=1.0, ignore_eos=True, max_tokens=12)
STORY = "You stand at the gate of a ruined castle. The wind howls. " * 6


def backend_for(path: Path, sequences: int, batched: bool = False) -> LlamaBackend:
    """``sequences`` 4: the main one, two for replies written ahead, the spare."""
    return LlamaBackend(path, seed=7, threads=2, sequences=sequences, batched=batched)


@pytest.fixture
def ahead(tiny_gguf: Path) -> Iterator[LlamaBackend]:
    b = backend_for(tiny_gguf, 4)
    yield b
    b.close()


def test_alternatives_equal_retries_with_the_same_random_state(tiny_gguf: Path,
                                                               ahead: LlamaBackend) -> None:
    prompt = ahead.tokenize(STORY)
    first = "".join(ahead.stream(prompt, FREE))
    written = list(ahead.write_ahead(AheadRequest(prompt, [FREE, FREE])))
    assert [w.handle.seq for w in written if w.handle is not None] == [1, 2]

    plain = backend_for(tiny_gguf, 1)
    try:
        assert "".join(plain.stream(prompt, FREE)) == first
        retries = ["".join(plain.stream(prompt, FREE)) for _ in range(2)]
    finally:
        plain.close()
    assert [w.text for w in written] == retries
    assert len(set(retries + [first])) == 3  # three draws, three replies: the check can fail


def test_the_main_sequence_is_left_as_it_was(ahead: LlamaBackend) -> None:
    prompt = ahead.tokenize(STORY)
    "".join(ahead.stream(prompt, FREE))
    held = ahead.evaluated
    list(ahead.write_ahead(AheadRequest(prompt, [FREE, FREE])))
    assert ahead.evaluated == held
    longer = held + ahead.tokenize(" You open the door.")
    reply = ahead.stream(longer, GREEDY)
    "".join(reply)
    assert reply.stats.evaluated_tokens == len(longer) - len(held)


def test_a_chosen_alternative_is_what_the_next_turn_continues(ahead: LlamaBackend) -> None:
    prompt = ahead.tokenize(STORY)
    "".join(ahead.stream(prompt, FREE))
    chosen = list(ahead.write_ahead(AheadRequest(prompt, [FREE, FREE])))[1]
    assert chosen.handle is not None
    ahead.use_written(chosen.handle)
    spelled = ahead.tokens_for(chosen.text)
    assert spelled is not None and ahead.detokenize(spelled) == chosen.text
    # Held as written: all but the last token, which was sampled and never evaluated.
    assert ahead.evaluated == (prompt + spelled)[:-1]
    nxt = prompt + spelled + ahead.tokenize("\n> You run.\n")
    reply = ahead.stream(nxt, GREEDY)
    "".join(reply)
    assert reply.stats.evaluated_tokens == len(nxt) - len(prompt) - len(spelled) + 1


def test_kept_replies_are_not_touched_and_no_free_sequence_writes_nothing(
        ahead: LlamaBackend, tiny_gguf: Path) -> None:
    prompt = ahead.tokenize(STORY)
    "".join(ahead.stream(prompt, FREE))
    [one] = list(ahead.write_ahead(AheadRequest(prompt, [FREE])))
    assert one.handle is not None and one.handle.seq == 1
    # Sequence 1 is kept, 3 is the spare: only 2 is free.
    [two] = list(ahead.write_ahead(AheadRequest(prompt, [FREE, FREE], keep=[one.handle])))
    assert two.handle is not None and two.handle.seq == 2
    ahead.use_written(one.handle)
    assert ahead.tokens_for(one.text) is not None  # sequence 1 still holds its reply
    single = backend_for(tiny_gguf, 1)
    try:
        "".join(single.stream(prompt, FREE))
        assert list(single.write_ahead(AheadRequest(prompt, [FREE]))) == []
    finally:
        single.close()


def test_the_judge_can_ask_for_a_reply_again(ahead: LlamaBackend) -> None:
    prompt = ahead.tokenize(STORY)
    "".join(ahead.stream(prompt, FREE))
    seen: list[tuple[str, int]] = []

    def judge(text: str, rerolls: int) -> Sampling | None:
        seen.append((text, rerolls))
        return FREE if rerolls == 0 else None

    [written] = list(ahead.write_ahead(AheadRequest(prompt, [FREE], judge=judge)))
    assert written.rerolls == 1
    assert [r for _, r in seen] == [0, 1]
    assert seen[0][0] != seen[1][0] and written.text == seen[1][0]


def test_a_cancel_stops_the_writing_within_a_token(ahead: LlamaBackend) -> None:
    prompt = ahead.tokenize(STORY)
    "".join(ahead.stream(prompt, FREE))
    long = Sampling(temperature=1.0, ignore_eos=True, max_tokens=700)
    cancel = CancelToken()
    out: list[Written] = []
    request = AheadRequest(prompt, [long])
    worker = threading.Thread(target=lambda: out.extend(ahead.write_ahead(request, cancel)))
    worker.start()
    seqs = ahead._seqs  # noqa: SLF001
    deadline = time.monotonic() + 20
    while len(seqs.tokens[1]) < len(prompt) + 5 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(seqs.tokens[1]) >= len(prompt) + 5, "the reply ahead never started"
    cancel.cancel()
    worker.join(timeout=5)
    assert not worker.is_alive() and out == []
    assert seqs.tokens[1] == []  # its cells are given back
    started = time.perf_counter()
    "".join(ahead.stream(prompt + ahead.tokenize(" Go."), GREEDY))  # the lock is free again
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("sampling", [GREEDY, FREE])
def test_batched_writes_each_reply_in_its_own_sequence(tiny_gguf: Path,
                                                       sampling: Sampling) -> None:
    batched = backend_for(tiny_gguf, 4, batched=True)
    sequential = backend_for(tiny_gguf, 4)
    try:
        results, tokens = [], []
        prompt = batched.tokenize(STORY)
        request = AheadRequest(prompt, [sampling, sampling])
        for b in (batched, sequential):
            "".join(b.stream(prompt, sampling))
            results.append(sorted((w.handle.seq if w.handle else -1, w.text)
                                  for w in b.write_ahead(request)))
            tokens.append([b._seqs.tokens[seq][len(prompt):] for seq in (1, 2)])  # noqa: SLF001
        together, apart = results
        assert [seq for seq, _ in together] == [1, 2]
        assert all(text for _, text in together)
        if sampling is GREEDY:  # the same numbers, one evaluation per step or not (up to ties)
            for one, other in zip(*tokens):
                assert len(one) >= GREEDY.max_tokens - 1
                assert greedy_paths_agree(tiny_gguf, prompt, one, other) == ""
        else:
            assert together[0][1] != together[1][1]
    finally:
        batched.close()
        sequential.close()


def test_batched_rerolls_and_cancels(tiny_gguf: Path) -> None:
    b = backend_for(tiny_gguf, 4, batched=True)
    try:
        prompt = b.tokenize(STORY)
        "".join(b.stream(prompt, FREE))
        written = list(b.write_ahead(AheadRequest(
            prompt, [FREE, FREE], judge=lambda text, n: FREE if n == 0 else None)))
        assert sorted(w.rerolls for w in written) == [1, 1]
        cancel = CancelToken()
        cancel.cancel()
        assert list(b.write_ahead(AheadRequest(prompt, [FREE, FREE]), cancel)) == []
        assert b._seqs.tokens[1] == b._seqs.tokens[2] == []  # noqa: SLF001
    finally:
        b.close()


def test_the_spare_sequence_takes_over_when_the_window_moves_to_it(ahead: LlamaBackend) -> None:
    story = ahead.tokenize(STORY * 3)
    assert ahead.supports_spare
    ahead.prefill(story)
    later = story[200:]  # the window after a trim: the same text at other positions
    assert ahead.prefill_spare(later) == len(later)
    assert ahead.evaluated == story  # the main sequence is left as it was
    nxt = later + ahead.tokenize(" You open the door.")
    reply = ahead.stream(nxt, GREEDY)
    "".join(reply)
    assert reply.stats.evaluated_tokens == len(nxt) - len(later)
    assert ahead.evaluated[: len(nxt)] == nxt
    # The old window is gone; a prompt sharing more with the main sequence stays on it.
    assert ahead.prefill_spare(story[:50]) == 50
    reply = ahead.stream(nxt + ahead.tokenize(" Go."), GREEDY)
    "".join(reply)
    assert reply.stats.evaluated_tokens < 30


def test_the_spare_keeps_what_it_holds_when_asked_for_part_of_it(ahead: LlamaBackend) -> None:
    # The warm-up asks for the window a share at a time, and for the next window's top while
    # the spare still holds an older window that begins with it: nothing is evaluated again
    # (a prefill of the main sequence evaluates its last token again for its logits).
    story = ahead.tokenize(STORY * 3)
    window = story[100:300]
    assert ahead.prefill_spare(window) == len(window)
    assert ahead.spare_holds(window) == len(window)
    assert ahead.spare_holds(window[:40] + story[:5]) == 40
    assert ahead.prefill_spare(window) == 0
    assert ahead.spare_holds(window) == len(window)  # still all of it
    assert ahead.prefill_spare(window + story[:20]) == 20
    # Only the top of another window: nothing evaluated, the old window's cells freed.
    assert ahead.prefill_spare(window[:40]) == 0
    assert ahead._seqs.tokens[ahead._spare] == window[:40]  # noqa: SLF001


class ActsMidway(CancelToken):
    """A player who acts while the background evaluation is inside llama.cpp: cancelled from
    the ``after``-th time it is asked on."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.asked, self.after = 0, after

    @property
    def cancelled(self) -> bool:
        self.asked += 1
        return self.asked >= self.after or super().cancelled


def test_a_player_who_acts_aborts_the_spares_chunk_and_it_goes_on_later(
        ahead: LlamaBackend) -> None:
    assert ahead.abort_background  # (on by default)
    window = ahead.tokenize(STORY * 6)[200:]
    assert len(window) > 300
    cancel = ActsMidway(after=4)
    done = ahead.prefill_spare(window, cancel, chunk=len(window))  # one chunk: all or none
    assert done == 0 and cancel.asked == 4  # aborted inside it, not after it
    seqs = ahead._seqs  # noqa: SLF001
    assert seqs.tokens[3] == []
    assert ahead.prefill_spare(window[:100]) == 100
    cancel = ActsMidway(after=4)
    assert ahead.prefill_spare(window, cancel, chunk=50) == 0  # (the first chunk aborted)
    assert seqs.tokens[3] == window[:100]  # what it held stays
    assert ahead.prefill_spare(window) == len(window) - 100  # only the rest
    reply = ahead.stream(window + ahead.tokenize(" Go."), GREEDY)
    "".join(reply)
    assert reply.stats.evaluated_tokens == len(ahead.tokenize(" Go."))


def test_the_spare_shares_the_top_it_has_in_common_with_the_main_sequence(
        ahead: LlamaBackend) -> None:
    story = ahead.tokenize(STORY * 3)
    ahead.prefill(story)
    top = story[:40]  # the next trim's top as the main sequence holds it (memory, world)
    assert ahead.prefill_spare(top) <= 1  # shared (the last token is evaluated again)
    later = top + story[120:200]
    assert ahead.prefill_spare(later) == 80
    reply = ahead.stream(later + ahead.tokenize(" Go."), GREEDY)
    reference = backend_for(ahead.info.path, 1)
    try:
        want = reference.stream(later + ahead.tokenize(" Go."), GREEDY)
        assert "".join(reply) == "".join(want)  # the shared cells answer as evaluated ones
    finally:
        reference.close()
    assert reply.stats.evaluated_tokens == len(ahead.tokenize(" Go."))


def recorded(decode: Callable[..., int], pieces: list[int]) -> Callable[..., int]:
    """``decode`` (``Sequences.decode``) that notes the size of every piece it evaluates."""
    def recording(seq: int, tokens: list[int], abort: object = None) -> int:
        pieces.append(len(tokens))
        return decode(seq, tokens, abort)

    return recording


def test_background_chunks_start_small_and_double(ahead: LlamaBackend) -> None:
    # A player who acts aborts the chunk being evaluated and its work is lost: the first
    # chunk is small, and each next one (kept once it is done) twice as big, for speed, up
    # to where a bigger batch is no faster. Without aborting, a reply waits for the chunk:
    # chunks stay short. With nothing to wait (no cancel), they double up to 256.
    seqs = ahead._seqs  # noqa: SLF001
    pieces: list[int] = []
    real = seqs.decode
    recording = recorded(real, pieces)
    ahead.abort_background = True
    seqs.decode = recording  # type: ignore[method-assign]
    try:
        story = ahead.tokenize(STORY * 6)
        ahead.prefill(story[:300], CancelToken())
        assert pieces == [16, 32, 64, 64, 64, 60]
        pieces.clear()
        ahead.prefill_spare(story[100:400], CancelToken())
        assert pieces[:2] == [16, 32]
        pieces.clear()
        ahead.abort_background = False
        ahead.chunk_seconds = 1e-9
        ahead.prefill_spare(story[300:400], CancelToken())
        assert pieces[:3] == [16, 4, 4]
        pieces.clear()
        ahead.prefill_spare(story[1:301])  # (shares nothing with the main sequence)
        assert pieces == [16, 32, 64, 128, 60]
    finally:
        seqs.decode = real  # type: ignore[method-assign]


def test_without_a_spare_a_moved_window_is_evaluated_again(tiny_gguf: Path) -> None:
    b = backend_for(tiny_gguf, 1)  # the check above can fail: this is what it saves
    try:
        story = b.tokenize(STORY * 3)
        b.prefill(story)
        assert not b.supports_spare and b.prefill_spare(story[200:]) == 0
        nxt = story[200:] + b.tokenize(" You open the door.")
        reply = b.stream(nxt, GREEDY)
        "".join(reply)
        assert reply.stats.evaluated_tokens == len(nxt)
    finally:
        b.close()


def test_a_cancel_stops_a_long_prompt_before_the_reply_starts(ahead: LlamaBackend) -> None:
    # After a trim, nothing the main sequence holds answers the old prompt: the alternative
    # evaluates nearly all of it, and must still stop when the player acts.
    prompt = ahead.tokenize(STORY * 4)[:900]
    cancel = CancelToken()
    seqs = ahead._seqs  # noqa: SLF001
    decoded: list[int] = []
    real = seqs.decode

    def counting(seq: int, tokens: list[int], abort: object = None) -> int:
        done = real(seq, tokens, abort)  # type: ignore[arg-type]
        decoded.append(len(tokens))
        cancel.cancel()  # the player acts as soon as the first piece is evaluated
        return done

    seqs.decode = counting  # type: ignore[method-assign]
    try:
        assert list(ahead.write_ahead(AheadRequest(prompt, [FREE]), cancel)) == []
    finally:
        seqs.decode = real  # type: ignore[method-assign]
    assert sum(decoded) < len(prompt) // 4  # not the whole prompt first
    assert seqs.tokens[1] == []


def test_a_stale_handle_is_neither_kept_nor_continued(ahead: LlamaBackend) -> None:
    prompt = ahead.tokenize(STORY)
    "".join(ahead.stream(prompt, FREE))
    [old] = list(ahead.write_ahead(AheadRequest(prompt, [FREE])))
    "".join(ahead.stream(prompt, FREE))  # a new main reply: what was written ahead is gone
    assert old.handle is not None
    [new] = list(ahead.write_ahead(AheadRequest(prompt, [FREE], keep=[old.handle])))
    assert new.handle is not None
    assert new.handle.seq == old.handle.seq  # its sequence was free again: written anew
    held = ahead.evaluated
    ahead.use_written(old.handle)  # stale: the sequence holds another reply now
    assert ahead.evaluated == held
    ahead.use_written(new.handle)
    assert ahead.evaluated != held


def test_chunks_an_action_would_abort_end_before_the_player_usually_acts(
        ahead: LlamaBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    # On a clock that each decode moves 0.03 s a token, a player expected 2 s after the
    # warm-up began: 16 tokens (0.48 s), 32 (0.96 s), then 64 would end 1.92 s later, past
    # the action, and be lost: 16 fits. After the expected time, chunks are big again.
    from gpt2_adventure.engine.llama import backend as backend_module

    now = [50.0]
    monkeypatch.setattr(backend_module, "time",
                        types.SimpleNamespace(perf_counter=lambda: now[0]))
    seqs = ahead._seqs  # noqa: SLF001
    pieces: list[int] = []
    real = seqs.decode

    def timed(seq: int, tokens: list[int], abort: object = None) -> int:
        pieces.append(len(tokens))
        now[0] += 0.03 * len(tokens)
        return real(seq, tokens, abort)  # type: ignore[arg-type]

    monkeypatch.setattr(seqs, "decode", timed)
    story = ahead.tokenize(STORY * 6)
    assert len(story) > 300
    ahead.prefill(story[:300], CancelToken(expected_at=now[0] + 2.0))
    assert pieces == [16, 32, 16, 64, 64, 64, 44]
    pieces.clear()
    ahead.prefill_spare(story[1:301], CancelToken())  # pace unknown: doubling as before
    assert pieces == [16, 32, 64, 64, 64, 60]


def test_a_prompt_no_sequence_holds_is_evaluated_in_chunks_an_action_aborts(
        ahead: LlamaBackend) -> None:
    # After a trim the main sequence holds the new window, so the prompt of the reply before
    # (the old window) is evaluated anew for its alternatives: ~900 tokens, ~17 s on the
    # gpt2-xl shape. In the background's chunks: small at first, doubling, and a player who
    # acts aborts the one inside llama.cpp instead of waiting for it.
    seqs = ahead._seqs  # noqa: SLF001
    pieces: list[int] = []
    real = seqs.decode
    recording = recorded(real, pieces)
    story = ahead.tokenize(STORY * 6)
    ahead.prefill(story[200:400])  # the window after the trim
    old = story[:300]  # shares nothing with it
    seqs.decode = recording  # type: ignore[method-assign]
    try:
        written = list(ahead.write_ahead(AheadRequest(old, [GREEDY]), CancelToken()))
        assert len(written) == 1
        assert pieces[:5] == [16, 32, 64, 64, 64]  # then the reply, a token a step
        pieces.clear()
        ahead.prefill(story[200:420])  # the next turn; its alternative is written anew
        pieces.clear()
        cancel = ActsMidway(after=5)
        assert list(ahead.write_ahead(AheadRequest(old, [GREEDY]), cancel)) == []
        assert pieces == [16]  # aborted inside it: nothing after it
        assert 5 <= cancel.asked < 40
    finally:
        seqs.decode = real  # type: ignore[method-assign]
    assert seqs.tokens[ahead._main] == story[200:420]  # noqa: SLF001
    assert all(seqs.tokens[s] == [] for s in (1, 2))
