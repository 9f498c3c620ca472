"""Tuning on first use: the plans, the time budget, a stop (the player skips), and what is
stored (the tiny model for the real runs, scripted backends for the budget)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gpt2_adventure.engine import tune
from gpt2_adventure.engine.backend import AheadRequest, CancelToken, ReplyStream, Written
from gpt2_adventure.engine.first_use import (
    QUICK_BIG,
    QUICK_SMALL,
    TuneWatch,
    quick_sizes,
    tune_first_use,
    wanted,
)
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.engine.tune import Step, TuneSizes, TuningStopped, measure_all
from gpt2_adventure.engine.tuning import choose_speed, load_tuning
from gpt2_adventure.paths import AppPaths
from tests.engine.test_tune import Run, Timed

TINY = TuneSizes(prompt_tokens=24, turn_tokens=8, write_tokens=4, ahead_tokens=4, rounds=1,
                 n_batches=(8, 32), budget_seconds=60.0)


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env()


def test_the_plans_by_model_size() -> None:
    assert quick_sizes(124_000_000) is QUICK_SMALL and quick_sizes(1_558_000_000) is QUICK_BIG
    assert QUICK_SMALL.budget_seconds is not None and QUICK_SMALL.budget_seconds <= 12
    assert set(QUICK_BIG.measures) == {"threads", "flash_attn"}  # writing speed only


def test_a_first_use_tuning_is_stored_and_then_not_wanted(tiny_gguf: Path,
                                                          paths: AppPaths) -> None:
    model = ModelSettings()
    assert wanted(paths, model, tiny_gguf)
    steps: list[Step] = []
    result = tune_first_use(paths, model, tiny_gguf, watch=TuneWatch(step=steps.append),
                            sizes=TINY)
    assert result.tuning is not None and not result.skipped
    assert steps and steps[-1].done == steps[-1].total and steps[-1].fraction == 1.0
    assert load_tuning(paths.tuning_file, tiny_gguf) is not None
    assert not wanted(paths, model, tiny_gguf)
    assert not wanted(paths, ModelSettings(auto_tune=False), tiny_gguf)
    assert result.summary().startswith("tuned in ")


def test_a_skip_stores_nothing_and_the_game_opens_on_the_defaults(tiny_gguf: Path,
                                                                  paths: AppPaths) -> None:
    watch = TuneWatch()
    watch.step = lambda step: watch.stop.cancel()  # the player skips after one measurement
    result = tune_first_use(paths, ModelSettings(), tiny_gguf, watch=watch, sizes=TINY)
    assert result.skipped and result.tuning is None
    assert "skipped" in result.summary() and "auto_tune = false" in result.summary()
    assert not paths.tuning_file.exists()
    assert wanted(paths, ModelSettings(), tiny_gguf)  # it measures again next time
    speed = choose_speed(ModelSettings(), load_tuning(paths.tuning_file, tiny_gguf))
    assert set(speed.sources.values()) == {"default"}


def test_a_failure_stores_nothing_and_says_why(tmp_path: Path, paths: AppPaths) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    result = tune_first_use(paths, ModelSettings(), bad, sizes=TINY)
    assert result.tuning is None and not result.skipped and result.error
    assert "failed" in result.summary() and not paths.tuning_file.exists()


# -- the budget and the stop, with scripted backends ---------------------------------------------

class Clock:
    """The time ``engine/tune.py`` reads, moved on only by the scripted measurements, so
    the budget tests do not depend on how busy the machine is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


class Slow(Timed):
    """Every measurement takes ``seconds`` on ``clock``."""

    seconds = 0.05

    def __init__(self, run: Run, config: dict[str, Any], clock: Clock) -> None:
        super().__init__(run, config)
        self.clock = clock

    def stream(self, prompt: str | Sequence[int], sampling: Sampling, stop: Sequence[str] = (),
               cancel: CancelToken | None = None) -> ReplyStream:
        self.clock.now += self.seconds
        return super().stream(prompt, sampling, stop, cancel)

    def write_ahead(self, request: AheadRequest, cancel: CancelToken | None = None
                    ) -> Iterator[Written]:
        self.clock.now += self.seconds
        return super().write_ahead(request, cancel)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(tune, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    return clock


def slow_run(clock: Clock, speeds: dict | None = None) -> Run:
    run = Run(speeds or {})
    run.open_backend = lambda **config: (run.opened.append(config), Slow(run, config, clock))[1]
    return run


def test_what_the_budget_leaves_out_keeps_the_default_and_is_not_measured(clock: Clock) -> None:
    sizes = replace(QUICK_SMALL, prompt_tokens=16, turn_tokens=4, write_tokens=4,
                    max_prefill_seconds=None, budget_seconds=0.3)
    run = slow_run(clock, {"write": {("threads", 1): 80.0}})  # 1 thread writes fastest
    started = clock.now
    tuning = measure_all(run.open_backend, sizes, physical=2, progress=lambda _t: None)
    assert clock.now - started < 0.3 + 2 * Slow.seconds  # one measurement over
    # All four would take ~0.7 s: the first measures in the plan's order, not the rest.
    plan = list(sizes.measures)
    done = len(plan) - len(tuning.figures["skipped"])
    assert 1 <= done < len(plan) and tuning.figures["skipped"] == plan[done:]
    assert set(tuning.measured) == set(plan[:done]) and tuning.threads == 1
    defaults = {"flash_attn": False, "batched": False, "n_batch": 512}
    for name in plan[done:]:
        assert getattr(tuning, name) == defaults[name]


def test_a_measure_cut_by_the_budget_after_one_round_still_chooses(clock: Clock) -> None:
    # 2 settings x 2 rounds of 0.05 s; the budget ends within the second round.
    sizes = replace(QUICK_SMALL, prompt_tokens=16, turn_tokens=4, write_tokens=4,
                    max_prefill_seconds=None, budget_seconds=0.13, measures=("threads",))
    run = slow_run(clock, {"write": {("threads", 1): 80.0}})
    tuning = measure_all(run.open_backend, sizes, physical=2, progress=lambda _t: None)
    assert tuning.measured == ("threads",) and tuning.threads == 1
    assert len(run.measured) < 4


def test_a_stop_raises_and_no_measure_starts_after_it(clock: Clock) -> None:
    stop = CancelToken()
    run = slow_run(clock)

    def step(_step: Step) -> None:
        stop.cancel()

    with pytest.raises(TuningStopped):
        measure_all(run.open_backend, replace(QUICK_SMALL, prompt_tokens=16, turn_tokens=4,
                                              write_tokens=4), physical=2,
                    progress=lambda _t: None, stop=stop, steps=step)
    assert len(run.measured) <= 1 and run.open_now == 0  # the backend was closed


def test_settings_the_player_fixed_are_not_measured_but_used(clock: Clock) -> None:
    run = slow_run(clock)
    tuning = measure_all(run.open_backend, replace(QUICK_SMALL, prompt_tokens=16,
                                                   turn_tokens=4, write_tokens=4,
                                                   budget_seconds=None),
                         physical=2, progress=lambda _t: None, fixed={"threads": 1})
    assert "threads" not in tuning.measured and tuning.threads == 1
    assert {c["threads"] for c in run.opened} == {1}


def test_within_a_budget_a_setting_far_behind_after_one_round_is_not_measured_again() -> None:
    sizes = replace(QUICK_SMALL, prompt_tokens=16, turn_tokens=4, write_tokens=4, rounds=3,
                    budget_seconds=60.0, measures=("threads", "flash_attn"))
    run = Run({"write": {("flash_attn", True): 60.0,  # 60 vs 80: behind, not far behind
                         ("threads", 2): 10.0, ("threads", 1): 80.0}})  # 2 threads crawl
    tuning = measure_all(run.open_backend, sizes, physical=2, progress=lambda _t: None)
    assert tuning.threads == 1 and not tuning.flash_attn
    assert [c["threads"] for c in run.measured].count(2) == 1  # one round, then dropped
    assert sum(1 for c in run.measured if c.get("flash_attn") is True) == 3  # every round
    assert run.most_open == 1 and run.open_now == 0


def test_when_no_setting_got_to_write_the_prompt_speed_says_which_is_far_behind() -> None:
    from gpt2_adventure.engine.tune import _far_behind

    crawl = [[{"write_tok_s": 0.0, "prompt_tok_s": 12.0}], [{"write_tok_s": 0.0,
                                                             "prompt_tok_s": 1.1}]]
    assert _far_behind(crawl) == {1}
    assert _far_behind([[{"write_tok_s": 0.0, "prompt_tok_s": 12.0}],
                        [{"write_tok_s": 0.0, "prompt_tok_s": 10.0}]]) == set()
    assert _far_behind([[{"seconds": 1.0}], [{"seconds": 9.0}]]) == set()  # not a speed
