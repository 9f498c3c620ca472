"""A long game on a real GPT-2 GGUF, autosaved after every turn, measured turn by turn.

``python -m tests.support.reliability_long_session MODEL TURNS N_CTX`` prints one JSON line per
turn (seconds, the autosave's own seconds and CPU seconds, resident memory from
/proc/self/status, the autosave's size on disk — snapshot and journal — and the story's size
as one whole save, prompt and evaluated tokens) and a last line with the loaded save's turn
count. Its own process: the memory it reports is the game's, not pytest's.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.model import StoryState
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.format import encode
from gpt2_adventure.story.saves.journal import journal_path
from gpt2_adventure.story.saves.store import SaveStore, autosave_slot
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session

ACTIONS = [("look around", "do"), ("open the heavy door", "do"), ("hello there", "say"),
           ("The wind picks up.", "story"), ("draw my sword", "do"), ("who goes there", "say"),
           ("walk north along the river", "do"), ("", "story")]


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    model, turns, n_ctx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    paths = AppPaths.from_env()
    store = SaveStore(paths)
    backend = LlamaBackend(model, n_ctx=n_ctx, threads=1, seed=5)
    rng = random.Random(5)
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, rng)
    autosave_seconds: list[float] = []
    autosave_cpu: list[float] = []

    def autosave(changed: StoryState) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        store.autosave(changed)
        autosave_seconds.append(time.perf_counter() - started)
        autosave_cpu.append(time.process_time() - cpu)

    session = Session(state, backend, Sampling(max_tokens=16), on_change=autosave)
    save = store.autosave_dir / f"{autosave_slot(state.id)}.json"
    journal = journal_path(save)
    for turn in range(turns):
        text, kind = ACTIONS[turn % len(ACTIONS)]
        started = time.perf_counter()
        events = list(session.act(f"{text} {turn}" if text else "", kind))  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        stats = events[-1].stats if isinstance(events[-1], Done) else None
        on_disk = save.stat().st_size + (journal.stat().st_size if journal.exists() else 0)
        print(json.dumps({"turn": turn, "seconds": seconds, "rss_kb": rss_kb(),
                          "autosave_seconds": sum(autosave_seconds),
                          "autosave_cpu_seconds": sum(autosave_cpu),
                          "save_bytes": on_disk, "story_bytes": len(encode(state, "x")),
                          "prompt": stats.prompt_tokens if stats else 0,
                          "evaluated": stats.evaluated_tokens if stats else 0}), flush=True)
        autosave_seconds.clear()
        autosave_cpu.clear()
    loaded = store.load(f"autosave/{autosave_slot(state.id)}")
    print(json.dumps({"loaded_turns": len(loaded.turns), "turns": len(state.turns),
                      "same": loaded == state}), flush=True)
    backend.close()


if __name__ == "__main__":
    main()
