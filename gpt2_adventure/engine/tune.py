"""``bench --tune``: measure llama.cpp's speed settings on this machine and pick the fastest.

Four measures, each with the winners of the ones before: flash attention on/off and the
thread count (1 to the physical cores) by writing speed after a long prompt (within 3%, the
speed of evaluating a turn's worth of new prompt decides), the prompt batch size by the speed
of a whole cold prompt, and replies written ahead
batched or one after another by wall time (batched only when at least 10% faster). The
candidates of one measure take turns, the order reversed every round (A B, B A, A B...), so
a machine slowing down or speeding up favours none; each figure is the median over the
rounds. Only one model is open at a time, as when playing.

Tuning on first use (``first_use.py``) runs fewer, shorter measures (``TuneSizes.measures``
picks which, in which order) within a time budget: what the budget leaves out keeps the
built-in default and is not "measured"; a stop (the player skips) raises ``TuningStopped``.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpt2_adventure.engine.backend import AheadRequest, Backend, CancelToken
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.engine.tuning import Tuning, now
from gpt2_adventure.units import count

if TYPE_CHECKING:  # tuning measures llama.cpp's own speed settings: a local model only
    from gpt2_adventure.engine.llama.backend import LlamaBackend

TIE = 0.03  # writing speeds this close are a tie: the faster prompt wins
BATCHED_GAIN = 1.10  # batched writing ahead must be this much faster (wall time) to be chosen
WIDE_SPREAD = 0.5  # rounds this far apart (of the median) say the machine was busy
FAR_BEHIND = 0.5  # within a budget, a setting this far behind the best has lost
_FILLER = ("The old road wound through the hills toward the castle, where the king waited "
           "for news of the dragon. ")

Figures = dict[str, float]
Progress = Callable[[str], None]
MEASURES = ("flash_attn", "threads", "n_batch", "batched")  # bench --tune's, in its order
WHAT = {"flash_attn": "flash attention", "threads": "threads", "n_batch": "prompt batch",
        "batched": "replies written ahead"}


class TuningStopped(Exception):
    """The player stopped the tuning: nothing it measured counts."""


@dataclass(frozen=True)
class Step:
    """How far a tuning has got: ``done`` of ``total`` measurements, now in ``what``."""

    what: str
    done: int
    total: int
    seconds: float  # since the start
    budget: float | None  # seconds, when the tuning has a budget

    @property
    def fraction(self) -> float:
        by_count = self.done / self.total if self.total else 1.0
        by_time = self.seconds / self.budget if self.budget else 0.0
        return min(1.0, max(by_count, by_time))


Steps = Callable[[Step], None]


class Until(CancelToken):
    """Cancelled when ``stop`` is, or once ``deadline`` (perf_counter seconds) has passed:
    handed to the backend, it cuts a prefill or a reply short at the budget's end."""

    def __init__(self, stop: CancelToken | None = None, deadline: float | None = None) -> None:
        super().__init__()
        self.stop = stop
        self.deadline = deadline
        self.longest = 0.0  # seconds: the measure's longest measurement (with its opening)

    def fits(self) -> bool:
        """Whether a measurement as long as the longest so far still ends in time (one that
        cannot be cut short, a cold prompt, must not run far past the deadline)."""
        return self.deadline is None or time.perf_counter() + self.longest < self.deadline

    @property
    def stopped(self) -> bool:
        return self.stop is not None and self.stop.cancelled

    @property
    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    @property
    def cancelled(self) -> bool:
        return super().cancelled or self.stopped or self.out_of_time


class _OutOfTime(Exception):
    pass


@dataclass(frozen=True)
class TuneSizes:
    """How much each measure runs: the defaults take under a minute for GPT-2 124M on 2
    cores; tests pass a few tokens."""

    prompt_tokens: int = 512  # writing happens after this many (n_batch: evaluates them all)
    turn_tokens: int = 128  # of which evaluated anew before each writing (what a turn adds)
    write_tokens: int = 32
    ahead_tokens: int = 24  # per reply written ahead, after half the prompt
    replies_ahead: int = 3
    rounds: int = 3
    # Writing stops this long after its first token: a setting that crawls on a busy
    # machine (two threads on two cores, one of them taken) cannot hold the run up for long.
    max_write_seconds: float = 4.0
    n_batches: tuple[int, ...] = (128, 256, 512)
    # The untimed part of the prompt before writing stops this long after it started: a
    # setting that crawls there has lost (it counts as writing nothing, its prompt speed as
    # far as it got), and cannot hold a budgeted run up (None: no limit).
    max_prefill_seconds: float | None = None
    cold_tokens: int | None = None  # the prompt n_batch is measured on (None: prompt_tokens)
    measures: tuple[str, ...] = MEASURES  # which to run, in this order
    # No measure starts after this many seconds; one running is cut short (None: no limit).
    budget_seconds: float | None = None


def thread_candidates(physical: int) -> list[int]:
    """1 to the physical cores: every count up to 4 cores, five spread counts above."""
    if physical <= 4:
        return list(range(1, physical + 1))
    return sorted({1, physical // 4, physical // 2, physical * 3 // 4, physical})


# -- the decision rules (pure) ----------------------------------------------------------------

def pick_writer(rows: Sequence[Figures]) -> int:
    """The fastest writer; among those within TIE of it, the fastest prompt."""
    best = max(row["write_tok_s"] for row in rows)
    close = [i for i, row in enumerate(rows) if row["write_tok_s"] >= best * (1 - TIE)]
    return max(close, key=lambda i: (rows[i]["prompt_tok_s"], rows[i]["write_tok_s"]))


def pick_prompt(rows: Sequence[Figures]) -> int:
    return max(range(len(rows)), key=lambda i: rows[i]["prompt_tok_s"])


def pick_batched(sequential: Figures, batched: Figures) -> bool:
    return batched["seconds"] * BATCHED_GAIN <= sequential["seconds"]


# -- measuring --------------------------------------------------------------------------------

Opener = Callable[..., "LlamaBackend"]  # the speed settings as keywords -> an open backend
Measure = Callable[["LlamaBackend"], Figures]  # one measurement on an open backend


def tune_model(path: Path, *, n_ctx: int = 1024, n_gpu_layers: int = -1,
               log_file: Path | None = None, sizes: TuneSizes | None = None,
               progress: Progress | None = None, physical: int | None = None,
               stop: CancelToken | None = None, steps: Steps | None = None,
               fixed: dict[str, Any] | None = None) -> Tuning:
    """Measure and pick every speed setting for the model at ``path`` (nothing is stored).
    ``fixed``: settings not to measure, with the values to measure the others with."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.llama.hardware import physical_cores
    from gpt2_adventure.engine.loader import GAME_SEQUENCES

    def opener(**speed: Any) -> LlamaBackend:
        # As many sequences as a game asks for: the same cache size as when playing.
        sequences = max(GAME_SEQUENCES, speed.pop("sequences", 1))
        return LlamaBackend(path, n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, seed=1234,
                            log_file=log_file, sequences=sequences, **speed)

    return measure_all(opener, sizes or TuneSizes(), physical or physical_cores(),
                       progress or (lambda _text: None), str(path), stop=stop, steps=steps,
                       fixed=fixed)


def measure_all(open_backend: Opener, sizes: TuneSizes, physical: int, progress: Progress,
                model_path: str = "", *, stop: CancelToken | None = None,
                steps: Steps | None = None, fixed: dict[str, Any] | None = None) -> Tuning:
    """The measures of ``sizes`` in turn, each with the winners of the ones before it; the
    figures keep every setting's medians and spread, and how long each measure took. A
    measure the budget leaves no time for keeps its default (and is not in ``measured``);
    ``stop`` raises TuningStopped."""
    started = time.perf_counter()
    until = Until(stop, None if sizes.budget_seconds is None
                  else started + sizes.budget_seconds)
    figures: dict[str, Any] = {"sizes": asdict(sizes), "measure_seconds": {}}
    chosen: dict[str, Any] = {"threads": physical, "n_batch": max(sizes.n_batches),
                              "flash_attn": False, **(fixed or {})}
    plan = [name for name in sizes.measures if name not in (fixed or {})]
    values: dict[str, list[Any]] = {"flash_attn": [False, True],
                                    "threads": thread_candidates(physical),
                                    "n_batch": list(sizes.n_batches), "batched": [False, True]}
    total = sum(len(values[name]) * sizes.rounds for name in plan)
    held = _Held()  # the last config's backend stays open into the next measure
    done = 0
    measured: list[str] = []

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if steps is not None:
            steps(Step(WHAT[name], done, total, time.perf_counter() - started,
                       sizes.budget_seconds))

    measures: dict[str, Measure] = {"flash_attn": _writing(sizes, until),
                                    "threads": _writing(sizes, until),
                                    "n_batch": _prompt_only(sizes),
                                    "batched": _ahead(sizes, until)}
    try:
        for name in plan:
            if until.stopped:
                raise TuningStopped
            if until.out_of_time:
                break
            progress(f"measuring {WHAT[name]}: {count(len(values[name]), 'setting')}, "
                     f"{count(sizes.rounds, 'round')}")
            if steps is not None:
                steps(Step(WHAT[name], done, total, time.perf_counter() - started,
                           sizes.budget_seconds))
            extra = {"sequences": sizes.replies_ahead + 1} if name == "batched" else {}
            at = time.perf_counter()
            try:
                configs = [{**chosen, name: v, **extra} for v in values[name]]
                rows = _compare(open_backend, configs, measures[name], sizes.rounds, until,
                                functools.partial(step, name), held)
            except _OutOfTime:
                break
            figures[name] = [{"value": v, **row}
                             for v, row in zip(values[name], rows, strict=True)]
            figures["measure_seconds"][name] = time.perf_counter() - at
            chosen[name] = values[name][_pick(name, rows)]
            measured.append(name)
    finally:
        held.close()
    figures["seconds"] = time.perf_counter() - started
    figures["skipped"] = [name for name in plan if name not in measured]
    return Tuning(figures=figures, model_path=model_path, measured_at=now(),
                  measured=tuple(name for name in MEASURES if name in measured),
                  **{"batched": False, **chosen})


def _pick(name: str, rows: list[Figures]) -> int:
    if name == "n_batch":
        return pick_prompt(rows)
    if name == "batched":
        return int(pick_batched(rows[0], rows[1]))
    return pick_writer(rows)


def _compare(open_backend: Opener, configs: Sequence[dict[str, Any]],
             measure: Measure, rounds: int, until: Until | None = None,
             step: Callable[[], None] | None = None,
             held: _Held | None = None) -> list[Figures]:
    """Each config's median figures over ``rounds``, the configs taking turns (A B, B A,
    A B...). One backend is open at a time, as when playing: a second one's idle OpenMP
    team makes every barrier of the first sleep. A config measured twice in a row (at a
    turn of the order) stays open. ``until`` cancelled: TuningStopped (the player) or
    _OutOfTime (the budget; what this compare measured is dropped). With ``held``, the
    last backend stays open for the next compare (whose first config may be the same)."""
    own = held is None
    samples: list[list[Figures]] = [[] for _ in configs]
    order = list(range(len(configs)))
    turns = [i for round_ in range(rounds) for i in (order if round_ % 2 == 0 else order[::-1])]
    held = held if held is not None else _Held()
    if until is not None:
        until.longest = 0.0  # this measure's own: the first of each always starts

    def check() -> None:
        if until is not None and until.stopped:
            raise TuningStopped
        if until is not None and until.out_of_time:
            raise _OutOfTime

    dropped: set[int] = set()
    try:
        for i in turns:
            if i in dropped:
                continue
            check()
            if until is not None and not until.fits():
                raise _OutOfTime
            at = time.perf_counter()
            backend = held.backend if held.config == configs[i] else None
            if backend is None:
                held.close()
                backend = held.open(open_backend, configs[i])
                check()
            figures = measure(backend)
            check()  # a measurement cut short measured nothing
            if until is not None:
                until.longest = max(until.longest, time.perf_counter() - at)
            samples[i].append(figures)
            if step is not None:
                step()
            if until is not None and until.deadline is not None and all(samples):
                dropped |= _far_behind(samples)
    except _OutOfTime:
        if not all(samples):
            raise
        # Every setting measured at least once: fewer rounds, but a choice.
    finally:
        if own:
            held.close()
    return [_summary(runs) for runs in samples]


class _Held:
    """The one backend open during a tuning, and the config it was opened with."""

    def __init__(self) -> None:
        self.backend: LlamaBackend | None = None
        self.config: dict[str, Any] | None = None

    def open(self, open_backend: Opener, config: dict[str, Any]) -> LlamaBackend:
        self.backend, self.config = open_backend(**config), config
        return self.backend

    def close(self) -> None:
        backend, self.backend, self.config = self.backend, None, None
        if backend is not None:
            backend.close()


def _far_behind(samples: list[list[Figures]]) -> set[int]:
    """Within a budget: the settings whose best speed so far is under FAR_BEHIND of the
    best one's (a crawl: two threads on a busy 2-core machine) have lost; their further
    rounds would only spend the budget."""
    key = next(iter(samples[0][0]))
    if not key.endswith("tok_s"):
        return set()
    best = [max(run[key] for run in runs) for runs in samples]
    if max(best) <= 0 and "prompt_tok_s" in samples[0][0]:  # none got to write: the prompt
        best = [max(run["prompt_tok_s"] for run in runs) for runs in samples]
    top = max(best)
    return {i for i, value in enumerate(best) if top > 0 and value < top * FAR_BEHIND}


def _summary(runs: list[Figures]) -> Figures:
    """The median of each figure, and how far the first (the one that decides) spread over
    the rounds, relative to its median: a busy machine shows as a wide spread."""
    out = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    first = next(iter(runs[0]))
    values = [run[first] for run in runs]
    out["spread"] = (max(values) - min(values)) / out[first] if out[first] > 0 else 0.0
    return out


def _prompt(backend: Backend, tokens: int, room: int) -> list[int]:
    count = max(2, min(tokens, backend.n_ctx - room - 2))
    text = _FILLER * (count // 8 + 1)
    while len(ids := backend.tokenize(text)) < count:
        text += _FILLER
    return ids[:count]


def _writing(sizes: TuneSizes, until: CancelToken | None = None) -> Measure:
    """Writing after a long prompt (where the game writes), the prompt's last tokens
    evaluated just before, as a turn's are: the rest stays evaluated from round to round
    (one token to restore it), so a round costs little more than its writing."""
    sampling = Sampling(max_tokens=max(2, sizes.write_tokens), ignore_eos=True,
                        repeat_penalty=1.0)

    def measure(backend: LlamaBackend) -> Figures:
        prompt = _prompt(backend, sizes.prompt_tokens, sampling.max_tokens)
        ahead = prompt[:-min(sizes.turn_tokens, len(prompt) // 2)]
        crawl = Until(until, None if sizes.max_prefill_seconds is None
                      else time.perf_counter() + sizes.max_prefill_seconds)
        started = time.perf_counter()
        # Small first chunks (they grow to ~0.1 s each): a crawl is seen early.
        done = backend.prefill(ahead, cancel=crawl, chunk=4)
        if until is not None and until.cancelled:  # not the rest in one go: dropped anyway
            return {"write_tok_s": 0.0, "prompt_tok_s": 0.0}
        if crawl.cancelled:
            return {"write_tok_s": 0.0,
                    "prompt_tok_s": done / max(time.perf_counter() - started, 1e-9)}
        cancel = CancelToken()
        deadline = 0.0
        reply = backend.stream(prompt, sampling, cancel=cancel)
        for _piece in reply:
            if until is not None and until.cancelled:
                cancel.cancel()
            elif not deadline:
                deadline = time.perf_counter() + sizes.max_write_seconds
            elif time.perf_counter() > deadline:
                cancel.cancel()
        stats = reply.stats
        return {"write_tok_s": stats.tokens_per_second,
                "prompt_tok_s": stats.evaluated_tokens / max(stats.prompt_seconds, 1e-9)}
    return measure


def _prompt_only(sizes: TuneSizes) -> Measure:
    sampling = Sampling(max_tokens=1, ignore_eos=True)

    def measure(backend: LlamaBackend) -> Figures:
        prompt = _prompt(backend, sizes.cold_tokens or sizes.prompt_tokens, 1)
        backend.reset_cache()
        reply = backend.stream(prompt, sampling)
        for _piece in reply:
            pass
        stats = reply.stats
        return {"prompt_tok_s": stats.evaluated_tokens / max(stats.prompt_seconds, 1e-9)}
    return measure


def _ahead(sizes: TuneSizes, until: CancelToken | None = None) -> Measure:
    """Replies written ahead to a prompt already evaluated (as after a turn): wall time."""
    sampling = Sampling(max_tokens=max(1, sizes.ahead_tokens), ignore_eos=True,
                        repeat_penalty=1.0)

    def measure(backend: LlamaBackend) -> Figures:
        prompt = _prompt(backend, sizes.prompt_tokens // 2, sampling.max_tokens)
        # once: writing ahead leaves the main sequence as it was
        backend.prefill(prompt, cancel=until)
        if until is not None and until.cancelled:
            return {"seconds": 0.0, "write_tok_s": 0.0}  # dropped by the caller
        started = time.perf_counter()
        request = AheadRequest(prompt, [sampling] * sizes.replies_ahead)
        written = list(backend.write_ahead(request, until))
        seconds = time.perf_counter() - started
        if until is not None and until.cancelled:
            return {"seconds": seconds, "write_tok_s": 0.0}  # dropped by the caller
        if len(written) != sizes.replies_ahead:
            wanted = count(sizes.replies_ahead, "reply", "replies")
            raise RuntimeError(f"wrote {len(written)} of {wanted} ahead")
        tokens = sum(w.stats.generated_tokens for w in written)
        return {"seconds": seconds, "write_tok_s": tokens / max(seconds, 1e-9)}
    return measure
