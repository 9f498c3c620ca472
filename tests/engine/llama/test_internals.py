"""The llama-cpp-python internals shim, on a real tiny GGUF: trimming the cache, and saving and
restoring it, must leave llama.cpp exactly where a fresh evaluation would. If a new
llama-cpp-python changes how ``Llama`` keeps its bookkeeping, these fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gpt2_adventure.engine.llama import internals

PROMPT = [464, 3290, 286, 262, 1748, 373, 4692, 290]  # any GPT-2 ids will do
OTHER = [40, 2497, 257, 8537, 13, 632, 318]


def load(path: Path) -> Any:
    from llama_cpp import GGML_TYPE_F32, Llama

    from gpt2_adventure.engine.llama.logs import route_llama_logs

    route_llama_logs(None)
    # An f32 KV cache: a restored or trimmed cache must give the very same numbers.
    return Llama(model_path=str(path), n_ctx=64, n_batch=64, n_threads=2, verbose=False,
                 type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32)


@pytest.fixture(scope="module")
def llm(tiny_gguf: Path) -> Iterator[Any]:
    model = load(tiny_gguf)
    yield model
    model.close()


def logits(llm: Any) -> np.ndarray:
    """The next-token logits after the last evaluation."""
    import llama_cpp

    pointer = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).copy()


def fresh(llm: Any, tokens: list[int]) -> np.ndarray:
    internals.trim(llm, 0)
    llm.eval(tokens)
    return logits(llm)


def kv_positions(llm: Any) -> int:
    """How many positions llama.cpp's own cache holds (not what Llama believes)."""
    import llama_cpp

    return int(llama_cpp.llama_memory_seq_pos_max(llama_cpp.llama_get_memory(llm.ctx),
                                                  internals.SEQ)) + 1


def test_evaluated_tokens_are_reported(llm: Any) -> None:
    fresh(llm, PROMPT)
    assert internals.evaluated(llm) == PROMPT
    assert internals.evaluated_count(llm) == len(PROMPT) == kv_positions(llm)


def test_trim_then_evaluate_equals_a_fresh_evaluation(llm: Any) -> None:
    want = fresh(llm, PROMPT)
    llm.eval(OTHER)  # the cache now holds PROMPT + OTHER
    assert internals.trim(llm, 5) == 5
    assert internals.evaluated(llm) == PROMPT[:5]
    assert kv_positions(llm) == 5  # the cells after the cut are gone from llama.cpp too
    llm.eval(PROMPT[5:])
    np.testing.assert_allclose(logits(llm), want, rtol=0, atol=1e-5)


def test_a_cache_left_untrimmed_gives_other_logits(llm: Any) -> None:
    # The check above can fail: continuing after the wrong context changes the logits.
    want = fresh(llm, PROMPT)
    fresh(llm, OTHER[:5])
    llm.eval(PROMPT[5:])
    assert np.abs(logits(llm) - want).max() > 1e-3


def test_trim_never_goes_past_what_is_evaluated(llm: Any) -> None:
    fresh(llm, PROMPT[:3])
    assert internals.trim(llm, 10) == 3
    assert internals.trim(llm, -1) == 0
    assert internals.evaluated(llm) == [] and kv_positions(llm) == 0


def test_export_then_import_resumes_where_it_was(llm: Any, tiny_gguf: Path) -> None:
    fresh(llm, PROMPT[:6])
    data = internals.export_sequence(llm)
    llm.eval(PROMPT[6:])
    want = logits(llm)
    other = load(tiny_gguf)
    try:
        other.eval(OTHER)
        assert internals.import_sequence(other, PROMPT[:6], data)
        assert internals.evaluated(other) == PROMPT[:6] and kv_positions(other) == 6
        other.eval(PROMPT[6:])
        np.testing.assert_allclose(logits(other), want, rtol=0, atol=1e-5)
    finally:
        other.close()


def test_a_refused_import_leaves_an_empty_cache(llm: Any) -> None:
    fresh(llm, PROMPT)
    assert not internals.import_sequence(llm, PROMPT[:2], b"\x00" * 64)
    assert internals.evaluated(llm) == [] and kv_positions(llm) == 0
