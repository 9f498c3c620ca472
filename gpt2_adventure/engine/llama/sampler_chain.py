"""Build llama.cpp's native sampler chain from our Sampling settings.

Everything runs in C per token (no Python logits processing), in llama.cpp's own order:
logit bias -> penalties -> top-k -> typical -> top-p -> min-p -> temperature -> draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gpt2_adventure.engine.sampling import Sampling


def build_sampler_chain(
    sampling: Sampling,
    *,
    n_vocab: int,
    seed: int,
    bias: Mapping[int, float],
    history: Iterable[int],
) -> Any:
    """Return a llama_sampler chain (free it with ``llama_sampler_free``).

    ``history`` (the prompt tokens) is fed to the repetition penalties so they see the story,
    not only the reply.
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
        if sampling.top_k > 0:
            add(lc.llama_sampler_init_top_k(sampling.top_k))
        if sampling.typical_p < 1.0:
            add(lc.llama_sampler_init_typical(sampling.typical_p, 1))
        if sampling.top_p < 1.0:
            add(lc.llama_sampler_init_top_p(sampling.top_p, 1))
        if sampling.min_p > 0.0:
            add(lc.llama_sampler_init_min_p(sampling.min_p, 1))
        add(lc.llama_sampler_init_temp(sampling.temperature))
        add(lc.llama_sampler_init_dist(seed))
    if penalised:
        for token in list(history)[-sampling.repeat_last_n:]:
            lc.llama_sampler_accept(chain, token)
    return chain
