"""What automatic lore (story/autolore.py) costs per turn, on a short and a long story.

A made-up adventure where 40 characters come and go (each named inside sentences and at
their starts, some with a common word's name the story also writes in lower case); the
story is counted once as a game opening would, then 300 exchanges are added one at a time,
each followed by the update a session makes after a change. Times are the thread's CPU time
(the machine is shared: wall time measures the neighbours too). Prints JSON.

    python benchmarks/autolore.py [--turns 10 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from gpt2_adventure.story.autolore import AutoLore
from gpt2_adventure.story.model import StoryState, Turn

NAMES = [f"{a}{b}" for a in ("Bran", "Ys", "Quil", "Mer", "Tor", "Ael", "Dun", "Hal")
         for b in ("oc", "olde", "lon", "ric", "ven")]
PLACES = ["river", "mill", "forest", "hill", "bridge", "meadow", "road", "tower", "ford"]


def exchange(rng: random.Random, i: int) -> tuple[str, str]:
    name, place = rng.choice(NAMES), rng.choice(PLACES)
    action = f"\n> You ask {name} about the {place}.\n"
    reply = rng.choice([
        f" {name} points toward the {place} and says the guard saw smoke at step {i}.",
        f" You reach the {place}. The Guard waves; {name} is not there. The wind is cold.",
        f" The old guard near the {place} grumbles about {name} and the missing cart.",
        f" Rain falls on the {place} at step {i}. Birds sing."])
    return action, reply


def story(exchanges: int, rng: random.Random) -> StoryState:
    state = StoryState(mode="adventure", title="bench",
                       turns=[Turn(role="opening", text="You arrive in Harrow at dusk.")])
    for i in range(exchanges):
        action, reply = exchange(rng, i)
        state.turns += [Turn(role="player", text=action), Turn(role="model", text=reply)]
    return state


def measure(turns: int, added: int = 300) -> dict[str, float]:
    rng = random.Random(turns)
    state = story(max(1, turns // 2), rng)
    lore = AutoLore()
    start = time.thread_time()
    lore.update(state)
    opening = time.thread_time() - start
    per_turn = []
    for i in range(added):
        action, reply = exchange(rng, i)
        state.turns += [Turn(role="player", text=action), Turn(role="model", text=reply)]
        start = time.thread_time()
        lore.update(state)
        per_turn.append(time.thread_time() - start)
    per_turn.sort()
    return {"turns": len(state.turns) - 2 * added,
            "entries": sum(1 for entry in state.lore if entry.content),
            "open_ms": round(opening * 1000, 2),
            "update_ms_p50": round(statistics.median(per_turn) * 1000, 3),
            "update_ms_p95": round(per_turn[int(0.95 * len(per_turn))] * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[10, 10000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = {"autolore": [measure(n) for n in args.turns]}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
