"""Several sequences in one llama.cpp cache, on a real tiny GGUF: trimming, sharing a prefix,
batched steps and stored state must leave llama.cpp where a fresh evaluation of the same tokens
would (within what llama.cpp guarantees across batch splits: tests/support/logits.py), and one
sequence's changes must never reach another's numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gpt2_adventure.engine.llama import internals
from gpt2_adventure.engine.llama.sequences import Sequences
from tests.support.logits import assert_same_evaluation, same_evaluation

PROMPT = [464, 3290, 286, 262, 1748, 373, 4692, 290]  # any GPT-2 ids will do
OTHER = [40, 2497, 257, 8537, 13, 632, 318]


def load(path: Path) -> tuple[Any, Sequences]:
    from llama_cpp import GGML_TYPE_F32, Llama

    from gpt2_adventure.engine.llama.logs import route_llama_logs

    route_llama_logs(None)
    llm = Llama(model_path=str(path), n_ctx=16, n_batch=16, n_threads=2, verbose=False)
    internals.drop_context(llm)
    # An f32 KV cache: a restored, shared or trimmed cache must give the very same numbers.
    seqs = Sequences(llm.model, cells=128, n_seq=3, n_batch=64, threads=2, flash_attn=False,
                     kv_type=GGML_TYPE_F32)
    return llm, seqs


@pytest.fixture(scope="module")
def model(tiny_gguf: Path) -> Iterator[tuple[Any, Sequences]]:
    llm, seqs = load(tiny_gguf)
    yield llm, seqs
    seqs.close()
    llm.close()


@pytest.fixture
def seqs(model: tuple[Any, Sequences]) -> Sequences:
    s = model[1]
    for seq in range(s.n_seq):
        s.clear(seq)
    return s


def logits(seqs: Sequences, index: int = -1) -> np.ndarray:
    """The next-token logits of output ``index`` of the last evaluation."""
    import llama_cpp

    pointer = llama_cpp.llama_get_logits_ith(seqs.ctx, index)
    return np.ctypeslib.as_array(pointer, shape=(50257,)).copy()


def fresh(seqs: Sequences, tokens: list[int], seq: int = 0) -> np.ndarray:
    seqs.clear(seq)
    seqs.decode(seq, tokens)
    return logits(seqs)


def kv_positions(seqs: Sequences, seq: int) -> int:
    """How many positions llama.cpp's own cache holds for ``seq`` (not what we believe)."""
    import llama_cpp

    return int(llama_cpp.llama_memory_seq_pos_max(llama_cpp.llama_get_memory(seqs.ctx),
                                                  seq)) + 1


def test_trim_then_evaluate_equals_a_fresh_evaluation(seqs: Sequences) -> None:
    want = fresh(seqs, PROMPT)
    seqs.decode(0, OTHER)  # the sequence now holds PROMPT + OTHER
    assert seqs.trim(0, 5) == 5
    assert seqs.tokens[0] == PROMPT[:5]
    assert kv_positions(seqs, 0) == 5  # the cells after the cut are gone from llama.cpp too
    seqs.decode(0, PROMPT[5:])
    assert_same_evaluation(logits(seqs), want)


def test_a_cache_left_untrimmed_gives_other_logits(seqs: Sequences) -> None:
    # The check above can fail: continuing after the wrong context changes the logits.
    want = fresh(seqs, PROMPT)
    seqs.clear(0)
    seqs.decode(0, OTHER[:5])
    seqs.decode(0, PROMPT[5:])
    assert not same_evaluation(logits(seqs), want)


@pytest.mark.parametrize("context", [
    [PROMPT[1], PROMPT[0]] + PROMPT[2:],          # two tokens swapped
    PROMPT[:5] + [OTHER[0]] + PROMPT[6:],         # one token changed
    PROMPT[1:],                                   # one dropped (every position moves)
], ids=["swapped", "changed", "dropped"])
def test_the_tolerance_tells_a_mix_up_from_a_batch_split(seqs: Sequences,
                                                         context: list[int]) -> None:
    # The smallest mix-ups of a context are far outside what batch splits change.
    want = fresh(seqs, PROMPT)
    for split in (PROMPT[:6], PROMPT[6:]):
        seqs.decode(1, split)
    assert_same_evaluation(logits(seqs), want)
    assert not same_evaluation(fresh(seqs, context), want)


def test_trim_never_goes_past_what_is_held(seqs: Sequences) -> None:
    fresh(seqs, PROMPT[:3])
    assert seqs.trim(0, 10) == 3
    assert seqs.trim(0, -1) == 0
    assert seqs.tokens[0] == [] and kv_positions(seqs, 0) == 0


def test_a_shared_prefix_continues_like_a_fresh_evaluation(seqs: Sequences) -> None:
    want = fresh(seqs, PROMPT, seq=2)
    seqs.clear(2)
    seqs.decode(0, PROMPT[:6] + OTHER)
    seqs.share(0, 1, 6)
    assert seqs.tokens[1] == PROMPT[:6]
    assert kv_positions(seqs, 1) == 6
    seqs.decode(1, PROMPT[6:])
    assert_same_evaluation(logits(seqs), want)


def test_changing_one_sequence_leaves_the_other_as_it_was(seqs: Sequences) -> None:
    want = fresh(seqs, PROMPT + OTHER[:1])
    seqs.trim(0, len(PROMPT))
    seqs.share(0, 1, len(PROMPT))
    seqs.decode(1, OTHER)  # the second sequence goes on; the shared cells stay
    seqs.clear(1)
    assert kv_positions(seqs, 0) == len(PROMPT)
    seqs.decode(0, OTHER[:1])
    assert_same_evaluation(logits(seqs), want)


def test_one_step_for_several_sequences_equals_each_alone(seqs: Sequences) -> None:
    alone = [fresh(seqs, PROMPT + [t]) for t in (11, 12)]
    seqs.clear(0)
    seqs.decode(0, PROMPT)
    seqs.share(0, 1, len(PROMPT))
    seqs.step([(0, 11), (1, 12)])
    assert seqs.tokens[0] == PROMPT + [11] and seqs.tokens[1] == PROMPT + [12]
    for index, want in enumerate(alone):
        assert_same_evaluation(logits(seqs, index), want)
    assert not same_evaluation(logits(seqs, 0), logits(seqs, 1))  # they are not one sequence


def test_export_then_load_resumes_where_it_was(seqs: Sequences, tiny_gguf: Path) -> None:
    fresh(seqs, PROMPT[:6])
    data = seqs.export(0)
    seqs.decode(0, PROMPT[6:])
    want = logits(seqs)
    llm, other = load(tiny_gguf)
    try:
        other.decode(0, OTHER)
        assert other.load(1, PROMPT[:6], data)
        assert other.tokens[1] == PROMPT[:6] and kv_positions(other, 1) == 6
        other.decode(1, PROMPT[6:])
        assert_same_evaluation(logits(other), want)
    finally:
        other.close()
        llm.close()


def test_a_refused_load_leaves_the_sequence_empty(seqs: Sequences) -> None:
    fresh(seqs, PROMPT)
    assert not seqs.load(0, PROMPT[:2], b"\x00" * 64)
    assert seqs.tokens[0] == [] and kv_positions(seqs, 0) == 0


def test_an_evaluation_aborted_half_way_keeps_nothing_of_its_batch(seqs: Sequences) -> None:
    want = fresh(seqs, PROMPT + OTHER)
    seqs.clear(0)
    seqs.decode(0, PROMPT)
    asked = 0

    def abort() -> bool:  # llama.cpp asks between the steps of one evaluation
        nonlocal asked
        asked += 1
        return asked >= 3

    assert seqs.decode(0, OTHER, abort) == 0
    assert asked == 3  # stopped inside the evaluation, not only before it
    assert seqs.tokens[0] == PROMPT and kv_positions(seqs, 0) == len(PROMPT)
    assert seqs.decode(0, OTHER, lambda: False) == len(OTHER)  # evaluated again, in full
    assert_same_evaluation(logits(seqs), want)
    seqs.decode(0, PROMPT[:2])  # no abort is asked any more
    assert asked == 3
