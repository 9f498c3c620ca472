"""Stored model state: a loaded game resumes warm; anything stale or damaged is ignored."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gpt2_adventure.config import Settings
from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.llama.state_cache import StateCache, model_fingerprint
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game
from gpt2_adventure.launch import Launch, load_state, open_game
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.seeds.library import find_seed

SAMPLING = Sampling(max_tokens=16, temperature=0.8)


def launch() -> Launch:
    return Launch(paths=AppPaths.from_env(), settings=Settings(sampling=SAMPLING), mode="play",
                  story="knight", name="Anna", rng_seed=1)


def play(game: Game, text: str) -> Done:
    outcome = game.handle(text)
    events = list(outcome.events)  # type: ignore[union-attr]
    assert isinstance(events[-1], Done)
    return events[-1]


@pytest.fixture
def played(tiny_gguf: Path) -> tuple[str, int]:
    """A game of a few turns, closed (autosaved, state stored); its id and full prompt size."""
    from gpt2_adventure.launch import start_state

    backend = LlamaBackend(tiny_gguf, threads=2, seed=2)
    state = start_state(launch(), find_seed(AppPaths.from_env(), "knight"),
                        lambda p: p.default)
    game = open_game(launch(), backend, state, SAMPLING)
    for action in ("look around", "draw your sword", "walk to the cave"):
        play(game, action)
    game.close()
    prompt = game.session.preview()
    backend.close()
    return state.id, len(prompt.tokens)


def resume(tiny_gguf: Path, game_id: str, settings: Settings | None = None
           ) -> tuple[int, int]:
    """Load the game, play one turn: (prompt tokens, tokens llama.cpp had to evaluate)."""
    backend = LlamaBackend(tiny_gguf, threads=2, seed=3)
    lch = launch()
    if settings is not None:
        lch.settings = settings
    lch.load = f"autosave/{game_id}"
    game = open_game(lch, backend, load_state(lch), SAMPLING)
    stats = play(game, "open the door").stats
    assert stats is not None
    game.close()
    backend.close()
    return stats.prompt_tokens, stats.evaluated_tokens


def test_a_loaded_game_resumes_warm(tiny_gguf: Path, played: tuple[str, int]) -> None:
    game_id, _ = played
    prompt, evaluated = resume(tiny_gguf, game_id)
    assert prompt > 300 and evaluated < 40  # only the new action (and the old tail's token)


def test_without_stored_state_the_prompt_is_evaluated_again(
        tiny_gguf: Path, played: tuple[str, int]) -> None:
    game_id, _ = played
    off = replace(Settings(sampling=SAMPLING), model=replace(Settings().model, save_state=False))
    prompt, evaluated = resume(tiny_gguf, game_id, off)
    assert evaluated == prompt


def _cache(tiny_gguf: Path) -> StateCache:
    return StateCache(AppPaths.from_env().saves_dir / "autosave", model_fingerprint(tiny_gguf))


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "model", "empty"])
def test_damaged_or_stale_states_are_ignored(tiny_gguf: Path, played: tuple[str, int],
                                             damage: str) -> None:
    game_id, prompt_tokens = played
    cache = _cache(tiny_gguf)
    path = cache.path(game_id)
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[-100] ^= 0xFF
    elif damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "garbage":
        blob = bytearray(b"G2ASTATE" + b"\xff" * 64)
    elif damage == "empty":
        blob = bytearray()
    path.write_bytes(bytes(blob))
    backend = LlamaBackend(tiny_gguf, threads=1)
    other = StateCache(cache.folder, "another model") if damage == "model" else cache
    assert other.restore(game_id, backend) is None
    assert backend.export_state() == ([], b"")  # nothing half-loaded
    backend.close()
    prompt, evaluated = resume(tiny_gguf, game_id)  # the game still plays, just cold
    if damage != "model":
        assert evaluated == prompt


def test_refused_llama_data_leaves_an_empty_cache(tiny_gguf: Path) -> None:
    backend = LlamaBackend(tiny_gguf, threads=1)
    assert not backend.import_state([464, 3290], b"\x00" * 64)
    assert not backend.import_state([10**6], b"\x00" * 64)  # not a token of this model
    assert backend.export_state() == ([], b"")
    backend.close()


def test_states_over_the_size_cap_are_not_stored(tiny_gguf: Path, played: tuple[str, int]
                                                 ) -> None:
    game_id, _ = played
    backend = LlamaBackend(tiny_gguf, threads=1)
    "".join(backend.stream("Hello there", SAMPLING))
    small = StateCache(_cache(tiny_gguf).folder, "x", max_bytes=10)
    assert small.store(game_id, backend, {}) == 0
    assert not small.path(game_id).exists()
    backend.close()
