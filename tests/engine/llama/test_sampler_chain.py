"""DRY, XTC and top-n-sigma reach llama.cpp's sampler chain (real llama.cpp, tiny GGUF).

The chain is applied to hand-made candidate logits, so what each sampler did can be read off
exactly; the last test runs DRY through the backend on a prompt built to repeat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.llama.sampler_chain import build_sampler_chain
from gpt2_adventure.engine.sampling import PRESETS, Sampling

# Plain draws, nothing else in the chain unless a test asks for it.
PLAIN = Sampling(temperature=1.0, top_k=0, top_p=1.0, repeat_penalty=1.0)
GREEDY = Sampling(temperature=0.0, top_k=0, top_p=1.0, repeat_penalty=1.0)
REPEATING = " the cat sat on the mat. the cat sat on the"  # " mat" would repeat 5 tokens


@pytest.fixture(scope="module")
def model(tiny_gguf: Path) -> Iterator[Any]:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(tiny_gguf), vocab_only=True, verbose=False)
    yield llm
    llm.close()


def tokens(llm: Any, text: str) -> list[int]:
    return llm.tokenize(text.encode(), add_bos=False, special=False)


def apply(llm: Any, sampling: Sampling, logits: Sequence[float], *, history: Sequence[int] = (),
          seed: int = 1, n_ctx: int = 1024) -> tuple[int, list[float]]:
    """The token the chain picks among candidates 0..len(logits)-1, and their logits after
    the chain ran (a token a sampler dropped is gone from the array: -inf here)."""
    import llama_cpp as lc

    chain = build_sampler_chain(sampling, n_vocab=llm.n_vocab(), seed=seed, bias={},
                                history=history, vocab=lc.llama_model_get_vocab(llm.model),
                                n_ctx=n_ctx)
    try:
        data = (lc.llama_token_data * len(logits))(
            *[lc.llama_token_data(id=i, logit=float(v), p=0.0) for i, v in enumerate(logits)])
        array = lc.llama_token_data_array(data=data, size=len(logits), selected=-1,
                                          sorted=False)
        lc.llama_sampler_apply(chain, lc.ctypes.byref(array))
        after = [float("-inf")] * len(logits)
        for i in range(array.size):
            after[array.data[i].id] = array.data[i].logit
        return array.data[array.selected].id, after
    finally:
        lc.llama_sampler_free(chain)


def repeat_candidates(llm: Any) -> tuple[list[int], int, list[float]]:
    """A history ending in a repeat, the token that would extend it (" mat") and logits over
    the whole vocabulary that make it the likeliest by 1."""
    history = tokens(llm, REPEATING)
    mat = tokens(llm, " mat")
    assert len(mat) == 1
    logits = [0.0] * llm.n_vocab()
    logits[mat[0]] = 1.0
    return history, mat[0], logits


def test_dry_penalises_the_token_that_extends_a_repeat(model: Any) -> None:
    history, mat, logits = repeat_candidates(model)
    off, after_off = apply(model, GREEDY, logits, history=history)
    assert off == mat and after_off[mat] == 1.0
    dry = GREEDY.with_changes(dry_multiplier=0.8, dry_base=1.75, dry_allowed_length=2)
    on, after_on = apply(model, dry, logits, history=history)
    # " the cat sat on the" (5 tokens) came before " mat" earlier: 0.8 * 1.75 ** (5 - 2).
    assert after_on[mat] == pytest.approx(1.0 - 0.8 * 1.75 ** 3, abs=1e-4)
    assert on != mat
    cat = tokens(model, " cat")[0]  # " the" -> " cat" repeats 1 token: within the allowance
    assert after_on[cat] == 0.0


def test_dry_allowance_window_and_breakers(model: Any) -> None:
    history, mat, logits = repeat_candidates(model)
    dry = GREEDY.with_changes(dry_multiplier=0.8)
    assert apply(model, dry.with_changes(dry_allowed_length=6), logits,
                 history=history)[1][mat] == 1.0  # a 5-token repeat is allowed
    assert apply(model, dry.with_changes(dry_allowed_length=5), logits,
                 history=history)[1][mat] == pytest.approx(1.0 - 0.8)  # at 5: the multiplier
    assert apply(model, dry.with_changes(dry_penalty_last_n=6), logits,
                 history=history)[1][mat] == 1.0  # the earlier " mat" is out of its sight
    assert apply(model, dry, logits, history=history, n_ctx=6)[1][mat] == 1.0  # 0 = n_ctx
    assert apply(model, dry.with_changes(dry_sequence_breakers=(" sat",)), logits,
                 history=history)[1][mat] == pytest.approx(1.0 - 0.8)  # " on the" only


def test_xtc_drops_the_likeliest_tokens(model: Any) -> None:
    logits = [2.0, 1.8, 1.5, -5.0]  # probabilities 0.44, 0.36, 0.27, 0.001
    xtc = PLAIN.with_changes(xtc_probability=1.0, xtc_threshold=0.1)
    picked = {apply(model, xtc, logits, seed=seed)[0] for seed in range(20)}
    assert picked <= {2, 3} and 2 in picked  # all above 0.1 but the least likely are gone
    assert 0 in {apply(model, PLAIN, logits, seed=seed)[0] for seed in range(20)}
    off = xtc.with_changes(xtc_threshold=0.6)  # above 0.5: off, as in llama.cpp
    assert 0 in {apply(model, off, logits, seed=seed)[0] for seed in range(20)}


def test_top_n_sigma_keeps_tokens_near_the_top_logit(model: Any) -> None:
    logits = [4.0, 3.9] + [0.0] * 98  # std 0.55: 1 sigma keeps the first two only
    sigma = PLAIN.with_changes(top_n_sigma=1.0)
    picked = {apply(model, sigma, logits, seed=seed)[0] for seed in range(30)}
    assert picked <= {0, 1}
    assert {apply(model, PLAIN, logits, seed=seed)[0] for seed in range(30)} - {0, 1}


def test_dry_through_the_backend_on_a_prompt_built_to_repeat(tiny_gguf: Path,
                                                              tmp_path: Path) -> None:
    backend = LlamaBackend(tiny_gguf, seed=7, threads=2, log_file=tmp_path / "llama.log")
    try:
        prompt = backend.tokenize(" the cat sat on the mat." * 3 + " the cat sat on the")
        mat = backend.tokenize(" mat")[0]
        # The bias makes " mat" the greedy choice whatever the random weights say.
        greedy = Sampling(temperature=0.0, repeat_penalty=1.0, max_tokens=1, ignore_eos=True,
                          logit_bias={mat: 10.0})
        assert "".join(backend.stream(prompt, greedy)) == " mat"
        dry = greedy.with_changes(dry_multiplier=0.8)
        assert "".join(backend.stream(prompt, dry)) != " mat"
        assert "".join(backend.stream(prompt, PRESETS["dry"].with_changes(
            temperature=0.0, max_tokens=1, logit_bias={mat: 10.0}))) != " mat"
    finally:
        backend.close()
