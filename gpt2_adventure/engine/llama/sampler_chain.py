"""Build llama.cpp's native sampler chain from our Sampling settings.

Everything runs in C per token (no Python logits processing), in llama.cpp's own order
(``common/sampling.cpp``): logit bias -> penalties -> DRY -> top-n-sigma -> top-k -> typical
-> top-p -> min-p -> XTC -> temperature -> draw. DRY is a penalty, so it applies to greedy and
Mirostat sampling too; top-n-sigma and XTC choose among tokens, so only the usual draw has them.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Mapping
from typing import Any

from gpt2_adventure.engine.sampling import Sampling


def dry_window(sampling: Sampling, n_ctx: int) -> int:
    """The tokens DRY searches: ``dry_penalty_last_n``, or the whole context for 0."""
    return sampling.dry_penalty_last_n or n_ctx


def build_sampler_chain(
    sampling: Sampling,
    *,
    n_vocab: int,
    seed: int,
    bias: Mapping[int, float],
    history: Iterable[int],
    vocab: Any,
    n_ctx: int,
) -> Any:
    """Return a llama_sampler chain (free it with ``llama_sampler_free``).

    ``history`` (the prompt tokens) is fed to the repetition penalties and DRY so they see
    the story, not only the reply. ``vocab`` (``llama_model_get_vocab``) is what DRY reads
    its sequence breakers with; ``n_ctx`` is the whole context, DRY's window when its own is 0.
    """
    import llama_cpp as lc

    chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())

    def add(sampler: Any) -> None:
        lc.llama_sampler_chain_add(chain, sampler)

    if bias:
        items = [lc.llama_logit_bias(token=int(t), bias=float(b)) for t, b in bias.items()]
        array = (lc.llama_logit_bias * len(items))(*items)
        add(lc.llama_sampler_init_logit_bias(n_vocab, len(items), array))
    penalised = (sampling.repeat_penalty != 1.0 or sampling.frequency_penalty != 0.0
                 or sampling.presence_penalty != 0.0) and sampling.repeat_last_n > 0
    if penalised:
        add(lc.llama_sampler_init_penalties(n_vocab, sampling.repeat_last_n,
                                            sampling.repeat_penalty,
                                            sampling.frequency_penalty,
                                            sampling.presence_penalty))
    dry = sampling.dry_multiplier > 0.0
    if dry:
        add(_dry(lc, sampling, vocab, dry_window(sampling, n_ctx)))
    if sampling.temperature == 0.0:
        add(lc.llama_sampler_init_greedy())
    elif sampling.mirostat == 1:
        add(lc.llama_sampler_init_temp(sampling.temperature))
        add(lc.llama_sampler_init_mirostat(n_vocab, seed, sampling.mirostat_tau,
                                           sampling.mirostat_eta, 100))
    elif sampling.mirostat == 2:
        add(lc.llama_sampler_init_temp(sampling.temperature))
        add(lc.llama_sampler_init_mirostat_v2(seed, sampling.mirostat_tau,
                                              sampling.mirostat_eta))
    else:
        if sampling.top_n_sigma > 0.0:
            add(lc.llama_sampler_init_top_n_sigma(sampling.top_n_sigma))
        if sampling.top_k > 0:
            add(lc.llama_sampler_init_top_k(sampling.top_k))
        if sampling.typical_p < 1.0:
            add(lc.llama_sampler_init_typical(sampling.typical_p, 1))
        if sampling.top_p < 1.0:
            add(lc.llama_sampler_init_top_p(sampling.top_p, 1))
        if sampling.min_p > 0.0:
            add(lc.llama_sampler_init_min_p(sampling.min_p, 1))
        if sampling.xtc_probability > 0.0 and sampling.xtc_threshold <= 0.5:
            add(lc.llama_sampler_init_xtc(sampling.xtc_probability, sampling.xtc_threshold,
                                          1, seed))
        add(lc.llama_sampler_init_temp(sampling.temperature))
        add(lc.llama_sampler_init_dist(seed))
    seen = max(sampling.repeat_last_n if penalised else 0,
               dry_window(sampling, n_ctx) if dry else 0)
    if seen:
        for token in list(history)[-seen:]:
            lc.llama_sampler_accept(chain, token)
    return chain


def _dry(lc: Any, sampling: Sampling, vocab: Any, window: int) -> Any:
    """llama.cpp's DRY sampler; it copies the breaker strings, so the C array may go."""
    breakers = [b.encode("utf-8") for b in sampling.dry_sequence_breakers if b]
    array = (ctypes.c_char_p * max(1, len(breakers)))(*breakers)
    return lc.llama_sampler_init_dry(vocab, sampling.dry_multiplier, sampling.dry_base,
                                     sampling.dry_allowed_length, window, array, len(breakers))
