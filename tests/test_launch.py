"""launch: a seed's or save's suggestions over the player's settings, and the model's own
preset when the player chose none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gpt2_adventure.config import Settings
from gpt2_adventure.engine.models.gguf_info import read_model_info
from gpt2_adventure.engine.sampling import PRESETS, Sampling
from gpt2_adventure.launch import player_sampling, session_sampling
from gpt2_adventure.paths import AppPaths
from tests.support.fake_backend import FakeBackend


def test_each_refused_suggestion_is_dropped_alone() -> None:
    base = Sampling(temperature=0.7, max_tokens=30)
    got = session_sampling(base, {
        "temperature": -1.0,  # out of bounds
        "max_tokens": "many",  # the wrong type
        "bogus": 1,  # not a setting
        "top_k": 5, "top_p": 1, "banned_strings": ["x"], "logit_bias": {"50256": -100},
    })
    assert (got.temperature, got.max_tokens) == (0.7, 30)
    assert (got.top_k, got.top_p, got.banned_strings) == (5, 1.0, ("x",))
    assert isinstance(got.top_p, float) and got.logit_bias == {50256: -100.0}
    assert session_sampling(base, {}) is base


# -- the model's own preset --------------------------------------------------------------

def _backend_for(folder: Path, tiny_gguf_q8: Path) -> FakeBackend:
    folder.mkdir(parents=True, exist_ok=True)
    path = shutil.copy(tiny_gguf_q8, folder / "model.Q8_0.gguf")
    backend = FakeBackend()
    backend.info = read_model_info(path)
    return backend


@pytest.mark.parametrize(("folder", "expected"), [
    ("aidungeon2", "aidungeon2"),  # the catalog's AI Dungeon 2 model: its card's sampling
    ("gpt2", "default"),  # base GPT-2: the player's settings as they are
])
def test_the_model_preset_applies_when_the_player_chose_none(
        folder: str, expected: str, tiny_gguf_q8: Path) -> None:
    paths = AppPaths.from_env()
    backend = _backend_for(paths.models_dir / folder, tiny_gguf_q8)
    start = player_sampling(Settings(), paths, backend)
    assert start.sampling == PRESETS[expected]
    assert ("temperature" in start.fixed) == (expected == "aidungeon2")


def test_the_players_choice_wins_over_the_model_preset(tiny_gguf_q8: Path,
                                                       tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    backend = _backend_for(paths.models_dir / "aidungeon2", tiny_gguf_q8)
    creative = Settings(preset="creative", sampling=PRESETS["creative"])
    assert player_sampling(creative, paths, backend) == (PRESETS["creative"], frozenset())
    warmer = Settings(sampling=Sampling(temperature=0.9))
    assert player_sampling(warmer, paths, backend).sampling.temperature == 0.9
    elsewhere = _backend_for(tmp_path / "aidungeon2", tiny_gguf_q8)  # not in the models folder
    assert player_sampling(Settings(), paths, elsewhere).sampling == Sampling()
    remote = FakeBackend()  # no model file here: a server runs it
    assert player_sampling(Settings(), paths, remote).sampling == Sampling()


def test_candidates_alone_keeps_the_model_preset(tiny_gguf_q8: Path) -> None:
    paths = AppPaths.from_env()
    backend = _backend_for(paths.models_dir / "aidungeon2", tiny_gguf_q8)
    more = Settings(sampling=Sampling(candidates=4))  # e.g. [sampling].candidates = 4
    start = player_sampling(more, paths, backend)
    assert start.sampling == PRESETS["aidungeon2"].with_changes(candidates=4)
    assert "temperature" in start.fixed and "candidates" not in start.fixed
    one = Settings(sampling=Sampling(candidates=1, temperature=0.9))  # a choice: no preset
    assert player_sampling(one, paths, backend) == (Sampling(candidates=1, temperature=0.9),
                                                    frozenset())


def test_fixed_fields_keep_the_model_preset_over_a_seeds_suggestion() -> None:
    preset = PRESETS["aidungeon2"]
    got = session_sampling(preset, {"temperature": 0.65, "banned_strings": ["Larion"]},
                           fixed={"temperature", "top_k"})
    assert got.temperature == 0.4 and got.banned_strings == ("Larion",)


def test_a_card_and_its_lorebook_tell_the_player_what_was_left_out(tmp_path: Path) -> None:
    import json

    from gpt2_adventure.launch import Launch, pick_seed

    card = {"spec": "chara_card_v2", "data": {
        "name": "Mira", "first_mes": "Hi.", "system_prompt": "Be nice.",
        "extensions": {"world": "Coast"}}}
    book = {"entries": {"0": {"uid": 0, "key": ["coast"], "content": "{{char}}'s coast.",
                              "disable": True}, "1": {"uid": 1, "key": ["sea"],
                                                      "content": "{{char}} loves the sea."}}}
    (tmp_path / "mira.json").write_text(json.dumps(card), "utf-8")
    (tmp_path / "coast.json").write_text(json.dumps(book), "utf-8")
    launch = Launch(paths=AppPaths.from_env(), settings=Settings(), mode="chat",
                    character=tmp_path / "mira.json")
    notes: list[str] = []
    pick_seed(launch, notes)
    assert any("system prompt ignored" in n for n in notes)
    assert any("separate lorebook ('Coast')" in n for n in notes)  # not brought: say so
    launch.lorebook = tmp_path / "coast.json"
    notes.clear()
    seed = pick_seed(launch, notes)
    assert [w.content for w in seed.world] == ["Mira loves the sea."]
    assert any("system prompt ignored" in n for n in notes)
    assert not any("separate lorebook" in n for n in notes)  # brought: no nagging
    assert any(n.startswith("lorebook: disabled entries dropped") for n in notes), notes


# -- tuning on first use ----------------------------------------------------------------

@pytest.mark.parametrize(("kind", "auto_tune", "tunes"), [
    ("local", True, True), ("local", False, False), ("openai", True, False)])
def test_load_model_tunes_only_a_local_model_with_auto_tune_on(
        tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch, kind: str, auto_tune: bool,
        tunes: bool) -> None:
    import dataclasses

    from gpt2_adventure.engine import first_use, loader
    from gpt2_adventure.engine.remote.settings import BackendSettings
    from gpt2_adventure.engine.settings import ModelSettings
    from gpt2_adventure.launch import Launch, load_model

    tuned: list[Path] = []
    opened = FakeBackend()
    monkeypatch.setattr(first_use, "tune_first_use",
                        lambda _paths, _model, path, **_kw: tuned.append(path))
    monkeypatch.setattr(loader, "load_backend", lambda *_a, **_kw: opened)
    settings = dataclasses.replace(
        Settings(), model=ModelSettings(auto_tune=auto_tune),
        backend=BackendSettings(kind=kind, url="http://127.0.0.1:9"))  # type: ignore[arg-type]
    launch = Launch(AppPaths.from_env(), settings, mode="play", model=str(tiny_gguf))
    assert load_model(launch, first_use.TuneWatch()) is opened
    assert tuned == ([tiny_gguf] if tunes else [])
