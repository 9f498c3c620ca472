"""Measuring the speed settings: the decision rules, the interleaved rounds, the winners of
one measure carried into the next (scripted backends), and one real run on the tiny model."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.engine.backend import (
    AheadRequest,
    CancelToken,
    GenerationStats,
    ReplyStream,
    Written,
)
from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.tune import (
    TuneSizes,
    _writing,
    measure_all,
    pick_batched,
    pick_prompt,
    pick_writer,
    thread_candidates,
    tune_model,
)
from tests.support.fake_backend import FakeBackend

SIZES = TuneSizes(prompt_tokens=16, write_tokens=4, ahead_tokens=4, rounds=3,
                  n_batches=(8, 16))


# -- the decision rules -----------------------------------------------------------------------

def test_the_fastest_writer_wins_unless_another_is_within_3_percent_with_a_faster_prompt(
        ) -> None:
    assert pick_writer([{"write_tok_s": 50, "prompt_tok_s": 400},
                        {"write_tok_s": 53, "prompt_tok_s": 300}]) == 1  # 6% faster writing
    assert pick_writer([{"write_tok_s": 52, "prompt_tok_s": 400},
                        {"write_tok_s": 53, "prompt_tok_s": 300}]) == 0  # a tie: prompt
    assert pick_writer([{"write_tok_s": 53, "prompt_tok_s": 300},
                        {"write_tok_s": 52, "prompt_tok_s": 400},
                        {"write_tok_s": 40, "prompt_tok_s": 900}]) == 1  # 40 is no tie


def test_the_batch_size_with_the_fastest_prompt_wins() -> None:
    assert pick_prompt([{"prompt_tok_s": 300}, {"prompt_tok_s": 310}, {"prompt_tok_s": 305}]) \
        == 1


def test_batched_writing_ahead_must_be_at_least_10_percent_faster() -> None:
    assert pick_batched({"seconds": 1.11}, {"seconds": 1.0})
    assert not pick_batched({"seconds": 1.09}, {"seconds": 1.0})
    assert not pick_batched({"seconds": 1.0}, {"seconds": 1.2})


def test_threads_run_from_one_to_the_physical_cores() -> None:
    assert thread_candidates(1) == [1]
    assert thread_candidates(2) == [1, 2]
    assert thread_candidates(4) == [1, 2, 3, 4]
    assert thread_candidates(16) == [1, 4, 8, 12, 16]
    assert thread_candidates(6) == [1, 3, 4, 6]


# -- measuring, with scripted backends ----------------------------------------------------------

class Run:
    """What the scripted backends of one tuning run did."""

    def __init__(self, speeds: dict[str, Any]) -> None:
        self.speeds = speeds
        self.opened: list[dict[str, Any]] = []  # each backend's config, in opening order
        self.measured: list[dict[str, Any]] = []  # the config of each measurement
        self.open_now = self.most_open = 0

    def open_backend(self, **config: Any) -> Timed:
        self.opened.append(config)
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        return Timed(self, config)


class Timed(FakeBackend):
    """Reports speeds from its run's table, keyed by its speed settings (the first entry
    that matches its config counts)."""

    def __init__(self, run: Run, config: dict[str, Any]) -> None:
        super().__init__(replies=lambda _prompt: "word " * 50, n_ctx=1024)
        self.run, self.config = run, config

    def _speed(self, name: str, default: float) -> float:
        for (key, value), speed in self.run.speeds.get(name, {}).items():
            if self.config.get(key) == value:
                return speed
        return default

    def reset_cache(self) -> None:
        pass

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None,
                chunk: int = 64) -> int:
        return len(tokens)

    def stream(self, prompt: str | Sequence[int], sampling: Sampling, stop: Sequence[str] = (),
               cancel: CancelToken | None = None) -> ReplyStream:
        self.run.measured.append(self.config)
        cold = len(self.run.measured) == 1  # the very first measurement is an outlier
        write = self._speed("write", 50.0) * (1.5 if cold else 1.0)
        prompt_speed = self._speed("prompt", 400.0)
        tokens = len(prompt)
        return ReplyStream(iter(["x"]), GenerationStats(
            prompt_tokens=tokens, evaluated_tokens=tokens, generated_tokens=sampling.max_tokens,
            prompt_seconds=tokens / prompt_speed,
            generation_seconds=(sampling.max_tokens - 1) / write))

    def write_ahead(self, request: AheadRequest, cancel: CancelToken | None = None
                    ) -> Iterator[Written]:
        self.run.measured.append(self.config)
        time.sleep(self._speed("ahead", 0.02))
        for sampling in request.samplings:
            yield Written("x", None, GenerationStats(generated_tokens=sampling.max_tokens))

    def close(self) -> None:
        self.run.open_now -= 1


def test_the_winners_are_chosen_and_carried_into_the_next_measures() -> None:
    run = Run({
        "write": {("threads", 1): 30.0, ("flash_attn", True): 60.0},
        "prompt": {("n_batch", 8): 500.0},
        "ahead": {("batched", True): 0.01, ("batched", False): 0.03},
    })
    tuning = measure_all(run.open_backend, SIZES, physical=2, progress=lambda _t: None)
    assert (tuning.flash_attn, tuning.threads, tuning.n_batch, tuning.batched) == (
        True, 2, 8, True)
    # Each measure ran with the winners of the ones before it.
    first_seen = [c for i, c in enumerate(run.opened) if c not in run.opened[:i]]
    assert first_seen == [
        {"threads": 2, "n_batch": 16, "flash_attn": False},
        {"threads": 2, "n_batch": 16, "flash_attn": True},
        {"threads": 1, "n_batch": 16, "flash_attn": True},
        {"threads": 2, "n_batch": 8, "flash_attn": True},
        {"threads": 2, "n_batch": 8, "flash_attn": True, "batched": False, "sequences": 4},
        {"threads": 2, "n_batch": 8, "flash_attn": True, "batched": True, "sequences": 4},
    ]
    figures = tuning.figures
    assert [row["value"] for row in figures["threads"]] == [1, 2]
    assert figures["flash_attn"][1]["write_tok_s"] == pytest.approx(60.0)  # the median
    assert figures["batched"][0]["seconds"] > figures["batched"][1]["seconds"]
    assert set(figures["measure_seconds"]) == {"flash_attn", "threads", "n_batch", "batched"}
    assert figures["measure_seconds"]["batched"] >= 3 * (0.01 + 0.03)  # the scripted sleeps


def test_settings_take_turns_one_open_at_a_time_the_order_flipping_every_round() -> None:
    run = Run({})
    measure_all(run.open_backend, SIZES, physical=2, progress=lambda _t: None)
    assert [c["flash_attn"] for c in run.measured[:6]] == [False, True, True, False, False, True]
    assert [c["n_batch"] for c in run.measured[12:18]] == [8, 16, 16, 8, 8, 16]
    assert run.most_open == 1 and run.open_now == 0  # and every one closed
    # At a turn of the order the same backend measures again: 4 openings for 6 turns.
    assert [c["flash_attn"] for c in run.opened[:4]] == [False, True, False, True]


def test_a_slow_round_does_not_decide() -> None:
    # The very first measurement (flash off) reports 50% faster writing; the median ignores it.
    run = Run({"write": {("flash_attn", True): 52.0}})
    tuning = measure_all(run.open_backend, SIZES, physical=2, progress=lambda _t: None)
    off, on = tuning.figures["flash_attn"]
    assert off["write_tok_s"] == pytest.approx(50.0)
    assert tuning.flash_attn  # 52 vs 50: beyond the 3% tie
    # ... and the spread of the rounds says the machine was not steady: (75 - 50) / 50
    assert off["spread"] == pytest.approx(0.5) and on["spread"] == pytest.approx(0.0)


def test_the_progress_names_each_measure() -> None:
    said: list[str] = []
    measure_all(Run({}).open_backend, SIZES, physical=2, progress=said.append)
    assert said == ["measuring flash attention: 2 settings, 3 rounds",
                    "measuring threads: 2 settings, 3 rounds",
                    "measuring prompt batch: 2 settings, 3 rounds",
                    "measuring replies written ahead: 2 settings, 3 rounds"]


# -- the real thing, small ------------------------------------------------------------------------

def test_a_real_run_on_the_tiny_model(tiny_gguf: Path, tmp_path: Path) -> None:
    tuning = tune_model(tiny_gguf, log_file=tmp_path / "llama.log",
                        sizes=TuneSizes(prompt_tokens=24, write_tokens=4, ahead_tokens=4,
                                        rounds=1, n_batches=(8, 32)), physical=2)
    assert tuning.threads in (1, 2) and tuning.n_batch in (8, 32)
    assert isinstance(tuning.flash_attn, bool) and isinstance(tuning.batched, bool)
    for name in ("flash_attn", "threads", "n_batch"):
        assert all(row["prompt_tok_s"] > 0 for row in tuning.figures[name]), name
    assert all(row["write_tok_s"] > 0 for row in tuning.figures["threads"])
    assert all(row["seconds"] > 0 for row in tuning.figures["batched"])
    assert tuning.model_path == str(tiny_gguf) and tuning.measured_at


class Recorded(LlamaBackend):
    """Keeps each reply's statistics for the test to read."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.replies: list[GenerationStats] = []

    def stream(self, *args: Any, **kw: Any) -> ReplyStream:
        reply = super().stream(*args, **kw)
        self.replies.append(reply.stats)
        return reply


def test_writing_that_crawls_is_cut_short(tiny_gguf: Path, tmp_path: Path) -> None:
    backend = Recorded(tiny_gguf, threads=1, seed=1, log_file=tmp_path / "llama.log")
    try:
        figures = _writing(TuneSizes(prompt_tokens=16, write_tokens=900,
                                     max_write_seconds=0.02))(backend)
        stats = backend.replies[-1]
        assert stats.finish_reason == "cancelled"
        assert 2 <= stats.generated_tokens < 900 and figures["write_tok_s"] > 0
    finally:
        backend.close()


def test_each_writing_round_evaluates_a_turns_worth_of_prompt(tiny_gguf: Path,
                                                             tmp_path: Path) -> None:
    backend = Recorded(tiny_gguf, threads=1, seed=1, log_file=tmp_path / "llama.log")
    try:
        measure = _writing(TuneSizes(prompt_tokens=64, turn_tokens=16, write_tokens=4))
        for _ in range(3):  # the first round evaluates the rest of the prompt ahead, untimed
            measure(backend)
            stats = backend.replies[-1]
            assert (stats.prompt_tokens, stats.evaluated_tokens) == (64, 16)
    finally:
        backend.close()
