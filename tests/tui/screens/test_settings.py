"""The Settings screen: rows from the schema; a save writes only what the player changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Input, Label, Select

from gpt2_adventure.config import load_settings, settings_rows
from gpt2_adventure.tui.screens import settings as screen_module
from gpt2_adventure.tui.screens.settings import SettingsScreen, screen_rows
from tests.tui.helpers import make_app, settle

# Comments, blank lines, a comment line between keys and an order no writer would choose.
ORIGINAL = """\
# my settings, written by hand

[ui]
text_width = 70   # narrow terminal
theme = "textual-dark"

[sampling]    # tuned for the knight story
top_k = 10    # fewer choices
preset = "clover"
# the next one matters
temperature = 0.3
banned_strings = ["suddenly"]
"""


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    out: list[str] = []
    monkeypatch.setattr(screen_module, "say", lambda _node, text, **_kw: out.append(text))
    return out


def app_on(config: Path, environ: dict[str, str] | None = None):  # noqa: ANN201
    app = make_app(mode="title")
    app.launch.settings = load_settings(config, environ={} if environ is None else environ)
    return app


def config_file() -> Path:
    path = Path(os.environ["GPT2_ADVENTURE_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


async def test_rows_are_the_settings_declared_for_the_screen() -> None:
    app = make_app(mode="title")
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        labels = [str(label.render()) for label in app.screen.query(Label)]
    expected = [spec.label or spec.name for _, spec, _ in screen_rows(app.launch.settings)]
    assert labels == expected
    assert labels == ["preset", "temperature", "top_k", "top_p", "min_p", "typical_p",
                      "repeat_penalty", "repeat_last_n", "dry_multiplier", "xtc_probability",
                      "top_n_sigma", "max_tokens", "candidates", "model",
                      "threads", "prompt batch", "flash attention", "recall", "recall share",
                      "automatic lore", "automatic lore share", "lore mid-reply", "theme",
                      "text width"]
    assert {spec.name for _, spec, _ in settings_rows(app.launch.settings) if spec.screen} \
        == {"preset", "temperature", "top_k", "top_p", "min_p", "typical_p", "repeat_penalty",
            "repeat_last_n", "dry_multiplier", "xtc_probability", "top_n_sigma", "max_tokens",
            "candidates", "name", "threads", "n_batch",
            "flash_attn", "recall", "recall_share", "auto_lore", "auto_lore_share",
            "lore_mid_reply", "theme", "text_width"}


async def test_a_save_changes_only_that_value_and_keeps_comments_and_order(
        said: list[str]) -> None:
    path = config_file()
    path.write_text(ORIGINAL, encoding="utf-8")
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        # The boxes show the values in effect, not the preset's (top_k is 0 in "clover").
        assert app.screen.query_one("#sampling-top_k", Input).value == "10"
        app.screen.query_one("#sampling-temperature", Input).value = "0.45"
        app.screen.query_one("#sampling-top_p", Input).value = "0.90"  # the same number
        app.screen.action_save()
        await settle(pilot)
    assert path.read_text(encoding="utf-8") == ORIGINAL.replace("temperature = 0.3",
                                                                 "temperature = 0.45")
    assert said == [f"saved to {path}"]
    assert app.launch.settings.sampling.temperature == 0.45
    assert app.launch.settings.sampling.banned_strings == ("suddenly",)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


async def test_a_new_preset_and_model_land_in_the_file_as_shown(said: list[str]) -> None:
    path = config_file()
    path.write_text(ORIGINAL, encoding="utf-8")
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        app.screen.query_one("#sampling-preset", Select).value = "creative"
        await settle(pilot)
        assert app.screen.query_one("#sampling-top_k", Input).value == "0"  # the preset's
        app.screen.query_one("#model-name", Input).value = "gpt2-medium"
        app.screen.action_save()
        await settle(pilot)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(ORIGINAL.split("[sampling]")[0])  # [ui] untouched
    assert '# fewer choices' in text and "\n[model]\nname = \"gpt2-medium\"\n" in text
    again = load_settings(path, environ={})
    assert again.preset == "creative" and again.model.name == "gpt2-medium"
    assert again.sampling == app.launch.settings.sampling
    assert again.sampling.banned_strings == ("suddenly",)  # not on the screen: kept


async def test_candidates_is_saved_to_sampling_and_checked(said: list[str]) -> None:
    path = config_file()
    path.write_text(ORIGINAL, encoding="utf-8")
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        box = app.screen.query_one("#sampling-candidates", Input)
        assert box.value == "2"
        box.value = "6"
        app.screen.action_save()
        await settle(pilot)
        assert path.read_text(encoding="utf-8") == ORIGINAL  # refused: nothing written
        box.value = "4"
        app.screen.action_save()
        await settle(pilot)
    assert said == ["not saved: candidates must be 1..5, got 6", f"saved to {path}"]
    assert path.read_text(encoding="utf-8") == ORIGINAL + "candidates = 4\n"
    assert load_settings(path, environ={}).sampling.candidates == 4
    assert app.launch.settings.sampling.candidates == 4


async def test_choosing_a_preset_keeps_the_players_candidates(said: list[str]) -> None:
    path = config_file()
    path.write_text(ORIGINAL + "candidates = 4\n", encoding="utf-8")
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        app.screen.query_one("#sampling-preset", Select).value = "focused"
        await settle(pilot)
        assert app.screen.query_one("#sampling-top_k", Input).value == "20"  # the preset's
        assert app.screen.query_one("#sampling-candidates", Input).value == "4"  # kept
        app.screen.action_save()
        await settle(pilot)
    assert "candidates = 4\n" in path.read_text(encoding="utf-8")
    assert app.launch.settings.sampling.candidates == 4
    assert load_settings(path, environ={}).sampling.candidates == 4


async def test_a_bad_value_is_refused_and_nothing_is_written(said: list[str]) -> None:
    path = config_file()
    path.write_text(ORIGINAL, encoding="utf-8")
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        app.screen.query_one("#sampling-temperature", Input).value = "-1"
        app.screen.action_save()
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#sampling-temperature", Input).value = "0.3"
        app.screen.query_one("#ui-text_width", Input).value = "10"
        app.screen.action_save()
        await settle(pilot)
    assert said == ["not saved: temperature must be >= 0, got -1.0",
                    "not saved: text_width must be 0 (the whole window) or 30..400, got 10"]
    assert path.read_text(encoding="utf-8") == ORIGINAL


async def test_what_the_environment_set_is_not_written_unless_changed(
        said: list[str]) -> None:
    path = config_file()  # no file yet
    app = app_on(path, {"GPT2_ADVENTURE_MODEL": "distilgpt2", "GPT2_ADVENTURE_PRESET": "greedy"})
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        assert app.screen.query_one("#model-name", Input).value == "distilgpt2"
        app.screen.query_one("#ui-text_width", Input).value = "0"
        app.screen.action_save()
        await settle(pilot)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("[ui]\ntext_width = 0\n") and "model" not in text
    assert "preset" not in text
    assert load_settings(path, environ={}).ui.text_width == 0


async def test_nothing_changed_writes_nothing(said: list[str]) -> None:
    path = config_file()
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        app.screen.action_save()
        await settle(pilot)
    assert said == ["nothing changed"] and not path.exists()


async def test_speed_settings_left_blank_stay_tuned_and_a_typed_one_is_saved(
        said: list[str]) -> None:
    path = config_file()
    app = app_on(path)
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_settings()
        await settle(pilot)
        flash = app.screen.query_one("#model-flash_attn", Input)
        batch = app.screen.query_one("#model-n_batch", Input)
        assert (flash.value, flash.placeholder) == ("", "tuned, else off")
        assert (batch.value, batch.placeholder) == ("", "tuned, else 512")
        flash.value = "on"
        app.screen.query_one("#model-threads", Input).value = "2"
        app.screen.action_save()
        await settle(pilot)
    assert path.read_text(encoding="utf-8").endswith("[model]\nthreads = 2\nflash_attn = true\n")
    model = load_settings(path, environ={}).model
    assert (model.threads, model.flash_attn, model.n_batch) == (2, True, None)


async def test_recall_turned_off_on_the_screen_applies_to_the_open_game(
        said: list[str]) -> None:
    from tests.tui.helpers import playing

    async with playing(size=(100, 60)) as (app, pilot, _screen):
        builder = app.game.session.builder  # type: ignore[union-attr]
        assert builder.recall is not None and builder.recall_on
        app.open_settings()
        await settle(pilot)
        app.screen.query_one("#memory-recall", Input).value = "off"
        app.screen.query_one("#memory-recall_share", Input).value = "0.2"
        app.screen.action_save()
        await settle(pilot)
        assert not builder.recall_on and builder.recall_share == 0.2
    text = config_file().read_text(encoding="utf-8")
    assert "[memory]\nrecall = false\nrecall_share = 0.2\n" in text


async def test_automatic_lore_turned_off_on_the_screen_applies_to_the_open_game(
        said: list[str]) -> None:
    from tests.tui.helpers import playing

    async with playing(size=(100, 60)) as (app, pilot, _screen):
        builder = app.game.session.builder  # type: ignore[union-attr]
        assert builder.auto_lore
        app.open_settings()
        await settle(pilot)
        app.screen.query_one("#memory-auto_lore", Input).value = "off"
        app.screen.action_save()
        await settle(pilot)
        assert not builder.auto_lore
    assert "[memory]\nauto_lore = false\n" in config_file().read_text(encoding="utf-8")
