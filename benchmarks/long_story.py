"""Autosave and open times of long stories: is the cost of a turn flat in the story's length?

    python benchmarks/long_story.py [--turns 10,1000,10000] [--rounds 200] [--json]

For each length a story of that many turns (a player line and a ~60-word reply each, with an
alternative now and then, as a played game has) is opened as a game opens it (loaded, then
autosaved), then played on for ``--rounds`` turns: each turn appends an action and a reply
and is autosaved, as ``Game.autosave`` does after every turn. The figures are the autosave's
wall time per turn (median, p95, max, mean: the mean carries the rare compactions), its CPU
time (without waiting for the disk) and the bytes it writes (``/proc/self/io`` wchar, Linux),
then the time to open the long save: read it (``SaveStore.load``) and write the first
autosave of the opened game. The lengths are played round by round, so that a busy disk slows
them alike. The model plays no part here: this is the save path alone, on the disk under the
temp folder.

``autosave_ms_10k_over_10_turns`` is the median at the longest length over the median at
the shortest (issue 24 asks for at most 1.2).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import p95  # noqa: E402

WORDS = ("the", "knight", "door", "river", "dragon", "opens", "slowly", "and", "a", "cold",
         "wind", "blows", "through", "hall", "you", "see", "lantern", "old", "smith", "key")


def written_bytes() -> int:
    """Bytes this process has passed to write() so far (0 where /proc/self/io is missing)."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reply(rng: random.Random, words: int = 60) -> str:
    return " " + " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + ".\n"


def add_turn(state: Any, rng: random.Random, n: int) -> None:
    from gpt2_adventure.story.model import Turn

    raw = f"open the door {n}"
    state.turns.append(Turn(role="player", text=f"\n> You {raw}.\n", kind="do", raw=raw))
    text = reply(rng)
    alternatives = [reply(rng), text] if n % 7 == 0 else [text]
    state.turns.append(Turn(role="model", text=text, alternatives=alternatives,
                            chosen=len(alternatives) - 1))


def story(turns: int, seed: int = 5) -> Any:
    """A state of ``turns`` turns (each turn: the action and its reply)."""
    from gpt2_adventure.story.model import StoryState, Turn, WorldEntry

    rng = random.Random(seed)
    state = StoryState(mode="adventure", title=f"A long tale of {turns} turns",
                       memory="You are Anna, a knight.",
                       world=[WorldEntry(keys=("smith",), content="The smith hid the key.")])
    state.turns.append(Turn(role="opening", text="You stand before the castle gate."))
    for n in range(turns):
        add_turn(state, rng, n)
    return state


class Game:
    """One long game as the benchmark plays it: opened as a game opens, then played on."""

    def __init__(self, turns: int, folder: Path) -> None:
        from gpt2_adventure.paths import AppPaths
        from gpt2_adventure.story.saves.store import SaveStore, autosave_slot

        self.turns = turns
        self.paths = AppPaths(config_dir=folder / "config", data_dir=folder / f"data-{turns}",
                              cache_dir=folder / "cache")
        self.rng = random.Random(turns)
        state = story(turns)
        SaveStore(self.paths).autosave(state)  # the game as it was left (killed: no close)
        self.name = f"autosave/{autosave_slot(state.id)}"
        started = time.perf_counter()
        self.store = SaveStore(self.paths)
        self.state = self.store.load(self.name)
        loaded = time.perf_counter()
        self.store.autosave(self.state)  # Game.open
        self.open_ms = {"load": round((loaded - started) * 1000, 1),
                        "first_autosave": round((time.perf_counter() - loaded) * 1000, 1)}
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.written: list[int] = []

    def turn(self) -> None:
        add_turn(self.state, self.rng, self.turns + len(self.wall))
        before_bytes, before_cpu = written_bytes(), time.process_time()
        before = time.perf_counter()
        self.store.autosave(self.state)
        self.wall.append((time.perf_counter() - before) * 1000)
        self.cpu.append((time.process_time() - before_cpu) * 1000)
        self.written.append(written_bytes() - before_bytes)

    def close(self) -> dict[str, Any]:
        from gpt2_adventure.story.saves.store import SaveStore

        finish = getattr(self.store, "finish_autosave", None)  # a closed game's whole file
        if finish is not None:
            finish(self.state)
        assert SaveStore(self.paths).load(self.name) == self.state, "did not load back equal"
        files = sorted(p for p in (self.paths.saves_dir / "autosave").iterdir()
                       if not p.name.startswith("."))
        return {"turns": self.turns, "rounds": len(self.wall),
                "autosave_ms": figures(self.wall), "autosave_cpu_ms": figures(self.cpu),
                "autosave_bytes_written": {"median": int(statistics.median(self.written)),
                                           "max": max(self.written)},
                "open_ms": self.open_ms, "files": {p.name: p.stat().st_size for p in files}}


def figures(ms: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(ms), 3), "p95": round(p95(ms), 3),
            "max": round(max(ms), 3), "mean": round(statistics.fmean(ms), 3)}


def play_lengths(lengths: list[int], rounds: int, folder: Path) -> list[dict[str, Any]]:
    """Every length played in turn, round by round and in a rotating order: a busy disk
    slows them alike."""
    games = [Game(n, folder) for n in lengths]
    for n in range(rounds):
        for game in games[n % len(games):] + games[:n % len(games)]:
            game.turn()
    return [game.close() for game in games]


def measure(lengths: list[int], rounds: int) -> dict[str, Any]:
    """Every figure (see the module's doc), the games played in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="long-story-") as tmp:
        rows = play_lengths(lengths, rounds, Path(tmp))
    first, last = rows[0], rows[-1]
    key = (f"autosave_ms_{lengths[-1] // 1000}k_over_{lengths[0]}_turns"
           if lengths[-1] >= 1000 else "autosave_ratio")
    return {"rows": rows,
            key: round(last["autosave_ms"]["median"] / first["autosave_ms"]["median"], 2),
            key + "_p95": round(last["autosave_ms"]["p95"] / first["autosave_ms"]["p95"], 2),
            key + "_cpu": round(last["autosave_cpu_ms"]["median"]
                                / max(first["autosave_cpu_ms"]["median"], 1e-3), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", default="10,1000,10000",
                        help="story lengths, comma-separated (default 10,1000,10000)")
    parser.add_argument("--rounds", type=int, default=200, help="turns played at each length")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    result = measure([int(n) for n in args.turns.split(",")], args.rounds)
    rows = result["rows"]
    if args.json:
        print(json.dumps(result))
        return
    for row in rows:
        save, cpu, opened = row["autosave_ms"], row["autosave_cpu_ms"], row["open_ms"]
        print(f"{row['turns']:>6} turns: autosave median {save['median']:.2f} ms, "
              f"p95 {save['p95']:.2f} ms, max {save['max']:.1f} ms, mean {save['mean']:.2f} "
              f"ms (CPU median {cpu['median']:.2f} ms), "
              f"{row['autosave_bytes_written']['median']} bytes written; open: load "
              f"{opened['load']:.0f} ms + first autosave {opened['first_autosave']:.0f} ms")
    print({k: v for k, v in result.items() if k != "rows"})


if __name__ == "__main__":
    main()
