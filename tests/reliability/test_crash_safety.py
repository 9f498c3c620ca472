"""Crash safety: the real game (plain mode, tiny GPT-2) SIGKILLed at random moments.

Each run continues the same game (``play --continue``) with a few actions, each followed by
``/help quit``: the line that command prints is the acknowledgement that the action before it
is finished (the game reads the next line only after a turn is over, and autosaves before it
shows the end of the reply). Some runs also ``/save`` under a new name. The process is killed:

- ``random``: after a random delay;
- ``generation``: a random moment after the n-th acknowledgement, while GPT-2 writes the next;
- ``autosave`` / ``autosave-written`` / ``autosave-renamed``: the instant inotify reports the
  n-th whole write of the autosave slot (the snapshot and its new journal when the game
  opens, the whole file when it closes) created / closed after writing / renamed into place;
- ``journal``: the instant the n-th record is written to the autosave's journal (before its
  fsync: the record of every turn but the opening one);
- ``named``: the instant a named save's temp file is created;
- ``state``: the instant the model state (KV cache) starts being written at exit.

After every kill: every acknowledged turn is in the autosave that loads next, everything the
autosave held before the run is still there (in order), every acknowledged named save loads
with its turns, ``saves list`` shows no unreadable file and nothing was moved aside as broken,
and the next ``play --continue`` starts. ``pytest -m slow`` does >= 100 kills.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.commands import usage
from gpt2_adventure.story.saves.store import SaveStore
from tests.support import reliability_inotify as inotify
from tests.support.reliability_figures import record
from tests.support.reliability_proc import (
    Output,
    assert_clean_error,
    popen,
    run,
    write_config,
)

MARK_COMMAND = "/help quit"
MARK = usage("quit")  # what /help quit prints: one line, the acknowledgement
INOTIFY_PHASES = ("autosave", "autosave-written", "autosave-renamed", "journal", "named",
                  "state")
ALL_PHASES = ("random", "generation", *INOTIFY_PHASES)
SLOW_KILLS = 120

needs_inotify = pytest.mark.skipif(not inotify.available(), reason="needs Linux inotify")


def player_raws(state: object) -> list[str]:
    return [t.raw for t in state.turns if t.role == "player"]  # type: ignore[attr-defined]


def is_subsequence(wanted: list[str], found: list[str]) -> bool:
    it = iter(found)
    return all(any(item == x for x in it) for item in wanted)


@dataclass
class Rig:
    model: Path
    rng: random.Random
    paths: AppPaths = field(default_factory=AppPaths.from_env)
    expected: list[str] = field(default_factory=list)  # acknowledged actions, all runs
    previous: list[str] = field(default_factory=list)  # the autosave's actions after a run
    runs: int = 0
    kills: Counter = field(default_factory=Counter)
    completed: Counter = field(default_factory=Counter)
    mid_write: Counter = field(default_factory=Counter)  # kills that left a temp file behind
    kill_times: list[float] = field(default_factory=list)
    acked_turns: int = 0

    @property
    def saves_dir(self) -> Path:
        return self.paths.saves_dir

    @property
    def autosave_dir(self) -> Path:
        return self.paths.saves_dir / "autosave"

    def start_args(self) -> list[str]:
        model = ["--model", str(self.model)]
        if SaveStore(self.paths).latest_autosave() is None:
            return ["play", "--plain", "--story", "knight", "--name", "Anna", *model]
        return ["play", "--plain", "--continue", *model]

    def script(self, phase: str) -> tuple[str, list[str]]:
        n = self.rng.randint(2, 5)
        actions = [f"touch stone {self.runs}-{k}" for k in range(n)]
        lines: list[str] = []
        saves_left = 1 if phase == "named" else 0
        for k, action in enumerate(actions):
            lines += [action, MARK_COMMAND]
            if self.rng.random() < 0.3 or (saves_left and k == n - 1):
                lines.append(f"/save crash {self.runs}-{k}")
                saves_left = 0
        return "".join(line + "\n" for line in lines), actions

    def trigger(self, phase: str, folder: Path, mask: int, name: str) -> bool:
        temp = name.startswith(".save-")
        if phase == "autosave":
            return folder == self.autosave_dir and mask & inotify.IN_CREATE and temp
        if phase == "autosave-written":
            return folder == self.autosave_dir and mask & inotify.IN_CLOSE_WRITE and temp
        if phase == "autosave-renamed":
            return (folder == self.autosave_dir and mask & inotify.IN_MOVED_TO
                    and name.endswith(".json"))
        if phase == "journal":
            return (folder == self.autosave_dir and mask & inotify.IN_MODIFY
                    and name.endswith(".journal"))
        if phase == "named":
            return folder == self.saves_dir and mask & inotify.IN_CREATE and temp
        if phase == "state":
            return (folder == self.autosave_dir and mask & inotify.IN_CREATE
                    and name.startswith(".state-"))
        return False

    def one_run(self, phase: str) -> None:
        """Start, kill per ``phase`` (unless the run ends first), then check everything."""
        self.autosave_dir.mkdir(parents=True, exist_ok=True)  # for inotify to watch
        stdin, actions = self.script(phase)
        before = self.leftovers()
        mask = inotify.IN_CREATE | inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO \
            | inotify.IN_MODIFY
        watch = inotify.Watch(self.saves_dir, self.autosave_dir, mask=mask) \
            if phase in INOTIFY_PHASES else None
        rng = self.rng
        target = rng.randint(1, len(actions))  # which matching event to kill at
        if phase.startswith("autosave"):  # whole writes: 2 as the game opens, 1 as it closes
            target = rng.randint(1, 3)
        if phase in ("named", "state"):
            target = 1
        delay = rng.uniform(0.0, 1.6) if phase == "random" else rng.uniform(0.0, 0.3)
        after_mark = rng.randint(0, len(actions) - 1)
        spin = rng.choice([0.0, 0.0, 50e-6, 300e-6, 2e-3])
        started = time.monotonic()
        proc = popen(*self.start_args())
        out, err = Output(proc.stdout), Output(proc.stderr)
        killed_after: float | None = None
        try:
            try:
                assert proc.stdin is not None
                proc.stdin.write(stdin)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            seen = 0
            marked_at: float | None = None
            deadline = started + 90
            while proc.poll() is None and time.monotonic() < deadline:
                now = time.monotonic()
                fire = False
                if phase == "random":
                    fire = now - started >= delay
                elif phase == "generation":
                    if marked_at is None and out.count(MARK) > after_mark:
                        marked_at = now
                    fire = marked_at is not None and now - marked_at >= delay
                elif watch is not None:
                    for folder, mask, name in watch.events(0.01):
                        if self.trigger(phase, folder, mask, name):
                            seen += 1
                            if seen == target:
                                fire = True
                                break
                if fire:
                    end = time.perf_counter() + spin
                    while time.perf_counter() < end:
                        pass
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_after = time.monotonic() - started
                    break
                if watch is None:
                    time.sleep(0.002)
            proc.wait(timeout=90)
        finally:
            if watch is not None:
                watch.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.join()
        err.join()
        self.runs += 1
        self.check_leftovers(phase, before)
        stderr = err.text()
        assert "Traceback" not in stderr, stderr[-3000:]
        assert "autosave failed" not in stderr, stderr[-3000:]
        if proc.returncode == -signal.SIGKILL and killed_after is not None:
            self.kills[phase] += 1
            self.kill_times.append(killed_after)
        else:
            assert proc.returncode == 0, (phase, proc.returncode, stderr[-3000:])
            self.completed[phase] += 1
        self.check(out, actions, phase)

    def leftovers(self) -> Counter:
        found: Counter = Counter()
        if not self.saves_dir.is_dir():
            return found
        for path in self.saves_dir.rglob("*"):
            if path.name.startswith(".save-"):
                found["save temp files"] += 1
            elif path.name.startswith(".state-"):
                found["model-state temp files"] += 1
            elif path.suffix == ".lock":
                found["lock files"] += 1
            elif ".broken-" in path.name or ".link-" in path.name:
                found["moved aside"] += 1
        return found

    def check_leftovers(self, phase: str, before: Counter) -> None:
        """Count the kills that left a new temp file behind: proof they hit a write."""
        after = self.leftovers()
        for kind in ("save temp files", "model-state temp files"):
            if after[kind] > before[kind]:
                self.mid_write[f"{phase}: {kind}"] += 1

    def check(self, out: Output, actions: list[str], phase: str) -> None:
        store = SaveStore(self.paths)
        infos = store.list()
        assert not [i for i in infos if i.error], [(i.name, i.error) for i in infos if i.error]
        assert self.leftovers()["moved aside"] == 0, "a save failed to load; it was moved aside"
        for info in infos:  # every file loads by its name, as the player would load it
            store.load(info.name)

        # Walk stdout in order: acknowledgements and named saves.
        acked: list[str] = []
        named: list[tuple[str, list[str]]] = []
        for line in out.text().splitlines():
            if line == MARK:
                acked.append(actions[len(acked)])
            elif line.startswith("saved: "):
                named.append((Path(line[len("saved: "):]).stem, self.expected + acked))
        self.expected += acked
        self.acked_turns += len(acked)

        autosaves = [i for i in infos if i.autosave]
        assert len(autosaves) <= 1, [i.name for i in autosaves]
        if not autosaves:
            assert not self.expected, "acknowledged turns but no autosave"
            return
        raws = player_raws(store.load(autosaves[0].name))
        assert raws[: len(self.previous)] == self.previous, "the autosave lost turns it had"
        assert is_subsequence(self.expected, raws), (self.expected[-5:], raws[-5:])
        self.previous = raws
        for name, wanted in named:
            assert is_subsequence(wanted, player_raws(store.load(name))), name

    def cli_list_is_clean(self) -> None:
        result = run("saves", "list", "--json")
        assert result.returncode == 0, result.stderr
        listed = json.loads(result.stdout)
        assert listed and not [s for s in listed if s["error"]], listed

    def final_run(self) -> Counter:
        """After all the kills: a clean start resumes the game and cleans the temp files."""
        before = self.leftovers()
        result = run(*self.start_args(), stdin=f"touch final\n{MARK_COMMAND}\n/save final\n")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "warning" not in result.stderr
        assert result.stdout.count(MARK) == 1 and "saved: " in result.stdout
        store = SaveStore(self.paths)
        state = store.load(store.latest_autosave()[0])  # type: ignore[index]
        assert is_subsequence([*self.expected, "touch final"], player_raws(state))
        after = self.leftovers()
        assert after["save temp files"] == 0, "temp files of killed writes were not cleaned"
        self.cli_list_is_clean()
        return before


def _figures(rig: Rig, before: Counter, seconds: float, prefix: str) -> None:
    times = sorted(rig.kill_times)
    record(f"{prefix}.kills", sum(rig.kills.values()))
    record(f"{prefix}.kills_by_moment", dict(rig.kills))
    record(f"{prefix}.runs_finished_before_the_kill", dict(rig.completed))
    record(f"{prefix}.kills_leaving_a_temp_file", dict(rig.mid_write))
    record(f"{prefix}.acknowledged_turns_checked", rig.acked_turns)
    record(f"{prefix}.leftovers_before_final_start", dict(before))
    if times:
        record(f"{prefix}.kill_time_s", {"min": round(times[0], 3),
                                          "median": round(statistics.median(times), 3),
                                          "max": round(times[-1], 3)})
    record(f"{prefix}.seconds", round(seconds, 1))


@needs_inotify
def test_kills_at_chosen_moments_lose_nothing(tiny_gguf: Path) -> None:
    write_config()
    rig = Rig(tiny_gguf, random.Random(8))
    started = time.monotonic()
    for phase in ("generation", "autosave", "journal", "named"):
        rig.one_run(phase)
    before = rig.final_run()
    assert sum(rig.kills.values()) >= 2, (rig.kills, rig.completed)
    _figures(rig, before, time.monotonic() - started, "crash.fast")


@pytest.mark.slow
@needs_inotify
def test_a_hundred_and_more_kills_lose_nothing(tiny_gguf: Path) -> None:
    write_config()
    rig = Rig(tiny_gguf, random.Random(2024))
    started = time.monotonic()
    while sum(rig.kills.values()) < SLOW_KILLS:
        assert rig.runs < SLOW_KILLS * 2, (rig.kills, rig.completed)
        rig.one_run(ALL_PHASES[rig.runs % len(ALL_PHASES)])
        if rig.runs % 10 == 0:
            rig.cli_list_is_clean()
    before = rig.final_run()
    assert len(rig.kills) == len(ALL_PHASES), rig.kills  # every kind of moment was hit
    _figures(rig, before, time.monotonic() - started, "crash.slow")


# -- two instances ------------------------------------------------------------------------


def test_a_second_instance_is_told_and_nothing_is_corrupted(tiny_gguf: Path) -> None:
    write_config()
    model = ("--model", str(tiny_gguf))
    first = run("play", "--plain", "--story", "knight", "--name", "Anna", *model,
                stdin="look around\n")
    assert first.returncode == 0, first.stderr
    store = SaveStore(AppPaths.from_env())
    slot, state = store.latest_autosave()  # type: ignore[misc]

    holder = popen("play", "--plain", "--continue", *model)
    out, err = Output(holder.stdout), Output(holder.stderr)
    try:
        deadline = time.monotonic() + 60
        while not out.text() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert out.text().startswith("The Dragon of the Anvil"), err.text()  # it holds the game

        for args in (("--continue",), ("--load", slot)):
            second = run("play", "--plain", *args, *model, stdin="touch nothing\n")
            assert_clean_error(second, "already open in another gpt2-adventure")
            assert "touch nothing" not in second.stdout

        # Another game that tries to /load it is told too, and plays on.
        other = run("play", "--plain", "--story", "knight", "--name", "Bo", *model,
                    stdin=f"/load {slot}\ntouch other\n{MARK_COMMAND}\n")
        assert other.returncode == 0, other.stderr
        assert "error: this game is already open in another gpt2-adventure" in other.stdout
        assert other.stdout.count(MARK) == 1

        assert holder.stdin is not None
        holder.stdin.write(f"touch mine\n{MARK_COMMAND}\n")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0, err.text()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    out.join()
    assert out.count(MARK) == 1
    infos = store.list()
    assert not [i for i in infos if i.error]
    assert player_raws(store.load(slot)) == ["look around", "touch mine"]
    assert len([i for i in infos if i.autosave]) == 2  # the holder's game and the other one


def test_two_instances_saving_under_one_name_never_corrupt_it(tiny_gguf: Path) -> None:
    write_config()
    model = ("--model", str(tiny_gguf))
    # Two games, one name: each says --replace (a save name belongs to one game, so without
    # it the second is refused), and both write it over and over at once.
    lines = "".join(f"/save --replace shared\n/note round {i}\n" for i in range(15))
    procs = [popen("play", "--plain", "--story", "knight", "--name", name, *model)
             for name in ("Anna", "Bo")]
    outputs = []
    for proc in procs:
        outputs.append((Output(proc.stdout), Output(proc.stderr)))
        assert proc.stdin is not None
        proc.stdin.write(lines)
        proc.stdin.close()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.wait(timeout=90) == 0, err.text()
        out.join()
        assert out.text().count("saved: ") == 15
    store = SaveStore(AppPaths.from_env())
    shared = store.load("shared")
    assert shared.values.get("name") in ("Anna", "Bo")
    assert not [i for i in store.list() if i.error]
    assert not list(store.saves_dir.glob(".save-*.tmp"))  # finished writers leave nothing


def test_leftover_temp_and_lock_files_do_not_stop_the_next_start(tiny_gguf: Path) -> None:
    """What a crash can leave: half-written temp files (of a dead process), a stale lock
    file, an empty temp file. The next start ignores them and cleans the dead temp files."""
    write_config()
    model = ("--model", str(tiny_gguf))
    assert run("play", "--plain", "--story", "knight", "--name", "Anna", *model,
               stdin="look\n").returncode == 0
    paths = AppPaths.from_env()
    store = SaveStore(paths)
    slot = store.latest_autosave()[0]  # type: ignore[index]
    autosave = store.autosave_dir
    dead_pid = _dead_pid()
    half = autosave / f".save-{dead_pid}-abc.tmp"
    half.write_bytes(b'{"format": "gpt2-adventure-save", "version": 1, "sta')
    (store.saves_dir / f".save-{dead_pid}-x.tmp").write_bytes(b"")
    (store.saves_dir / ".locks").mkdir(exist_ok=True)
    (store.saves_dir / ".locks" / "stale.lock").write_bytes(b"")
    assert not [i for i in store.list() if i.error]  # temp files are never read as saves

    result = run("play", "--plain", "--continue", *model, stdin=f"look again\n{MARK_COMMAND}\n")
    assert result.returncode == 0, result.stderr
    assert "look again" in str(player_raws(store.load(slot)))
    assert not half.exists()  # the dead writer's temp file is gone after the next autosave


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@needs_inotify
def test_a_model_state_write_killed_midway_is_cleaned_next_time(tiny_gguf: Path) -> None:
    write_config()
    rig = Rig(tiny_gguf, random.Random(5))
    rig.one_run("state")
    assert rig.kills["state"] == 1, (rig.kills, rig.completed)
    assert rig.leftovers()["model-state temp files"] == 1
    result = run(*rig.start_args(), stdin=f"look\n{MARK_COMMAND}\n")
    assert result.returncode == 0, result.stderr
    assert rig.leftovers()["model-state temp files"] == 0
