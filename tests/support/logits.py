"""Comparing llama.cpp logits with the tolerance llama.cpp itself works to.

llama.cpp does not promise bit-equal results when the same tokens are evaluated in other batch
splits or on other CPUs: each split and each instruction set (AVX2, AVX-512 VNNI/BF16...) can
take another matmul kernel, which sums in another order. Its own cross-backend check
(``tests/test-backend-ops.cpp``) accepts a normalised mean squared error, NMSE = sum((a-b)^2) /
sum(b^2), of up to 1e-7 per operation and 5e-4 per matrix product.

Measured on the tiny f32 test model (tests/engine/llama/test_sequences.py, 2-core AMD EPYC with
AVX-512 VNNI and BF16): the same 8 tokens in one batch, in 6 + 2 tokens, one by one or
continued from another sequence's shared cells give NMSE 0 to 8.5e-9 (largest difference
6.4e-4, logits' std 1.5), while a real mix-up — one token of the context changed, two tokens
swapped, one dropped or doubled, a cache left untrimmed — gives NMSE 1.1e-2 to 3.7e-1. The
bound below sits four orders of magnitude above the first and two below the second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAME_EVALUATION_NMSE = 1e-4


def nmse(got: np.ndarray, want: np.ndarray) -> float:
    """The normalised mean squared error of ``got`` against ``want`` (test-backend-ops')."""
    want64 = want.astype(np.float64)
    return float(((got.astype(np.float64) - want64) ** 2).sum() / (want64 ** 2).sum())


def same_evaluation(got: np.ndarray, want: np.ndarray) -> bool:
    """Whether two logit vectors come from evaluating the same tokens (kernels aside)."""
    return got.shape == want.shape and nmse(got, want) <= SAME_EVALUATION_NMSE


def assert_same_evaluation(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape, f"{got.shape} logits, expected {want.shape}"
    error = nmse(got, want)
    assert error <= SAME_EVALUATION_NMSE, (
        f"NMSE {error:.2e} > {SAME_EVALUATION_NMSE:.0e}: not the same tokens evaluated "
        f"(largest difference {np.abs(got - want).max():.2e})")


TIE = 1e-2
"""Two logits closer than this many standard deviations of the logits are a tie that another
batch split may break either way: the largest difference a split made above was 4.3e-4 of
the std, so two paths can differ by ~9e-4 of it; this leaves a margin of ten."""


def greedy_paths_agree(model: Path, prompt: list[int], a: list[int], b: list[int]) -> str:
    """Why two greedy continuations of ``prompt``, written through different batch splits,
    are not the same writing, or "" when they are: equal, or parting only where a fresh
    evaluation finds the two tokens tied for the top within ``TIE``."""
    same = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
    if same is None:
        return "" if len(a) == len(b) else f"lengths {len(a)} and {len(b)}"
    from llama_cpp import Llama

    llm = Llama(model_path=str(model), n_ctx=1024, n_batch=512, n_threads=2, verbose=False,
                logits_all=True)  # without it, llama-cpp-python leaves `scores` at zero
    try:
        llm.eval(prompt + a[:same])
        scores = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float64)
    finally:
        llm.close()
    bound = TIE * scores.std()
    top = scores.max()
    if top - scores[a[same]] <= bound and top - scores[b[same]] <= bound:
        return ""
    return (f"token {same}: {a[same]} vs {b[same]}, logits {scores[a[same]]:.4f} and "
            f"{scores[b[same]]:.4f} (top {top:.4f}): not a tie within {bound:.2e}")
