"""TUI responsiveness: first paint, key-press latency while a reply streams, throughput.

    python benchmarks/tui.py [--model FILE] [--rounds 5] [--json]

First paint and key latency run the real command in tmux (like a player's terminal);
throughput drives the app with Textual's Pilot and compares the tokens/s of replies streamed
into the transcript with the bare backend on the same model. Without --model, a
GPT-2-124M-shaped Q8_0 file with random weights is built (speed does not depend on weights).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import THREADS, isolate, p95, shaped_gguf  # noqa: E402


def _tmux(*args: str) -> str:
    run = subprocess.run(["tmux", *args], capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"tmux {args[0]}: {run.stderr.strip()}")
    return run.stdout


def _start(env: dict[str, str], command: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    flags = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
    for attempt in range(3):  # a tmux server starting up can exit once ("server exited")
        try:
            _tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", *flags, "-c",
                  str(ROOT), command)
            return name
        except RuntimeError:
            if attempt == 2:
                raise
            time.sleep(0.5)
    return name


def _wait(name: str, text: str, timeout: float = 60) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if text in _tmux("capture-pane", "-p", "-t", name):
            return time.perf_counter()
        time.sleep(0.002)
    raise TimeoutError(text)


def first_paint(env: dict[str, str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        name = _start(env, f"{sys.executable} -m gpt2_adventure")
        try:
            times.append(_wait(name, "New adventure") - start)
        finally:
            _tmux("kill-session", "-t", name)
    return times


def key_latency(env: dict[str, str], samples: int) -> list[float]:
    """Type letters while a long reply streams; time until each shows on the screen."""
    name = _start(env, f"{sys.executable} -m gpt2_adventure play --story knight --name Anna")
    latencies = []
    try:
        _wait(name, "context", timeout=120)
        _tmux("send-keys", "-t", name, "-l", "/continue")
        _tmux("send-keys", "-t", name, "Enter")
        _wait(name, "GPT-2 is writing", timeout=30)
        typed = ""
        for i in range(samples):
            typed += "xyzwvq"[i % 6]  # the input line holds all typed so far
            start = time.perf_counter()
            _tmux("send-keys", "-t", name, "-l", typed[-1])
            deadline = start + 5
            while time.perf_counter() < deadline:
                screen = _tmux("capture-pane", "-p", "-t", name)
                if "GPT-2 is writing" not in screen:
                    break  # the reply ended: later samples would not be "while streaming"
                if typed in screen:
                    latencies.append(time.perf_counter() - start)
                    break
                time.sleep(0.001)
    finally:
        _tmux("send-keys", "-t", name, "C-q")
        time.sleep(1)
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    return latencies


@dataclass
class Throughput:
    bare_tok_s: float  # medians over the rounds
    tui_tok_s: float
    ratio: float  # median of each round's TUI/bare (the two ran side by side)
    ui_cpu_share: float  # the UI thread's CPU time over a reply's wall time (median)


def throughput(model: Path, tokens: int, rounds: int, history: int = 0) -> Throughput:
    """Replies streamed into the real app (Pilot, as run_tui sets it up) vs the bare backend
    writing from the very same prompt, round by round: this machine's speed drifts by a
    third over minutes, so only interleaved rounds compare like with like (and which of the
    two goes first alternates). ``history`` turns of earlier story are put in the transcript
    first (a long game). On two busy cores, the UI thread's CPU time is the cost: it is
    reported too, a steadier figure than the speed ratio."""
    from gpt2_adventure.config import Settings
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.launch import Launch
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.tui.app import AdventureApp
    from gpt2_adventure.tui.screens.game import GameScreen

    sys.setswitchinterval(0.0005)  # as run_tui does
    backend = LlamaBackend(model, threads=THREADS, seed=3, log_file=model.parent / "llama.log")
    sampling = Sampling(max_tokens=tokens, ignore_eos=True, repeat_penalty=1.0)
    launch = Launch(paths=AppPaths.from_env(), settings=Settings(sampling=sampling),
                    mode="play", story="knight", name="Anna", rng_seed=1)
    close, backend.close = backend.close, lambda: None  # type: ignore[method-assign]
    streamed: list[Any] = []  # each reply's statistics, the TUI's included
    stream = backend.stream

    def recorded(*args: Any, **kw: Any) -> Any:
        reply = stream(*args, **kw)
        streamed.append(reply.stats)
        return reply

    backend.stream = recorded  # type: ignore[method-assign]

    async def tui_round() -> tuple[float, float, list[int]]:
        app = AdventureApp(launch, lambda _launch: backend)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, GameScreen)
            while screen.game is None:
                await pilot.pause(0.05)
            screen.game.session.max_rerolls = 0
            screen.game.session.sampling = sampling
            if history:
                _long_story(screen.game.state, history)
                screen._redraw()  # noqa: SLF001
            await pilot.pause(0.5)  # the player reads the screen first: it has settled
            cpu, wall = time.thread_time(), time.perf_counter()
            screen.submit("/continue", "do")
            while screen.stream is None:
                await asyncio.sleep(0.01)
            while screen.stream is not None:
                await asyncio.sleep(0.05)
            share = (time.thread_time() - cpu) / (time.perf_counter() - wall)
            rate = streamed[-1].tokens_per_second
            prompt = list(screen.game.session.last_prompt.tokens)  # type: ignore[union-attr]
            await pilot.press("ctrl+q")
        return rate, share, prompt

    def bare_round(prompt: list[int]) -> float:
        backend.reset_cache()
        reply = backend.stream(prompt, sampling)
        for _piece in reply:
            pass
        return reply.stats.tokens_per_second

    tui, bare, shares = [], [], []
    prompt: list[int] = []
    for i in range(rounds):
        if i % 2 and prompt:  # the prompt is the same every round: the story is replayed
            bare.append(bare_round(prompt))
        rate, share, prompt = asyncio.run(tui_round())
        tui.append(rate)
        shares.append(share)
        if len(bare) < len(tui):
            bare.append(bare_round(prompt))
    close()
    ratios = [t / b for t, b in zip(tui, bare)]
    return Throughput(statistics.median(bare), statistics.median(tui), statistics.median(ratios),
                      statistics.median(shares))


def _long_story(state: Any, turns: int) -> None:
    from gpt2_adventure.story.model import Turn

    for i in range(turns):
        state.turns.append(Turn(role="player", text=f"\n> You walk on ({i}).\n", kind="do"))
        state.turns.append(Turn(role="model", text=" The road winds on through the hills, "
                                "past farms and streams, and the sky darkens a little." * 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--history", type=int, default=200,
                        help="turns of story in the transcript for the long-game round")
    args = parser.parse_args()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    home = isolate()
    os.environ["GPT2_ADVENTURE_AUTO_TUNE"] = "false"  # a fresh cache: no tuning on first use
    env = {k: v for k, v in os.environ.items() if k.startswith("GPT2_ADVENTURE_")}
    env |= {"GPT2_ADVENTURE_MODEL": str(model), "GPT2_ADVENTURE_THREADS": str(THREADS),
            "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[sampling]\nmax_tokens = 400\nignore_eos = true\n")
    paints = first_paint(env, args.rounds)
    keys = key_latency(env, 20)
    config.unlink()
    short = throughput(model, 128, args.rounds)
    long = throughput(model, 128, args.rounds, args.history)
    result = {
        "first_paint_s_median": statistics.median(paints),
        "first_paint_s_max": max(paints),
        "key_latency_ms_median": statistics.median(keys) * 1000 if keys else None,
        "key_latency_ms_p95": p95(keys) * 1000 if keys else None,
        "key_samples": len(keys),
        "bare_tok_s": short.bare_tok_s,
        "tui_tok_s": short.tui_tok_s,
        "tui_over_bare": short.ratio,
        "ui_thread_cpu_share": short.ui_cpu_share,
        "long_game_turns": args.history,
        "long_game_tui_over_bare": long.ratio,
        "long_game_ui_thread_cpu_share": long.ui_cpu_share,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:24} {value:.3f}" if isinstance(value, float) else f"{key:24} {value}")


if __name__ == "__main__":
    main()
