from pathlib import Path

import pytest

from gpt2_adventure.config import load_settings
from gpt2_adventure.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml", environ={})
    assert settings.model.n_ctx == 1024 and settings.preset == "default"


def test_file_then_environment_in_that_order(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\nname = "gpt2-medium"\nthreads = 3\n'
                           '[sampling]\npreset = "aidungeon2"\ntop_k = 10\n')
    from_file = load_settings(path, environ={})
    assert from_file.model.name == "gpt2-medium" and from_file.model.threads == 3
    assert from_file.sampling.temperature == 0.4 and from_file.sampling.top_k == 10
    env = {"GPT2_ADVENTURE_MODEL": "/tmp/x.gguf", "GPT2_ADVENTURE_THREADS": "1"}
    both = load_settings(path, environ=env)
    assert both.model.name == "/tmp/x.gguf" and both.model.threads == 1
    assert both.sampling.top_k == 10  # untouched by the environment


@pytest.mark.parametrize("text, words", [
    ("[model\nname = 1", "invalid TOML"),
    ("[model]\nthreads = \"two\"\n", "[model].threads must be an integer"),
    ("[model]\ncolour = 1\n", "unknown setting [model].colour"),
    ("[modle]\n", "unknown section [modle]"),
    ("[sampling]\npreset = \"wild\"\n", "[sampling].preset must be one of"),
    ("[sampling]\ntop_p = 3.0\n", "top_p must be between 0 and 1"),
    ("model = 3\n", "[model] must be a table"),
])
def test_bad_config_names_the_problem_and_the_file(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert words in str(caught.value)
    assert caught.value.where == str(path)


def test_toml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[model]\nthreads = 2\nname = \n")
    with pytest.raises(ConfigError, match="line 3"):
        load_settings(path, environ={})


def test_bad_environment_value_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GPT2_ADVENTURE_SEED"):
        load_settings(tmp_path / "none.toml", environ={"GPT2_ADVENTURE_SEED": "abc"})


def test_non_utf8_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[model]\nname = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path, environ={})


def test_saved_settings_load_back_unchanged(tmp_path: Path) -> None:
    from dataclasses import replace

    from gpt2_adventure.config import UISettings, save_settings
    from gpt2_adventure.engine.sampling import preset

    path = tmp_path / "sub" / "config.toml"
    original = load_settings(tmp_path / "none.toml", environ={})
    changed = replace(original, preset="aidungeon2",
                      sampling=preset("aidungeon2").with_changes(
                          banned_strings=('say "no"',), logit_bias={50256: -2.5}),
                      ui=UISettings(theme="nord", text_width=100))
    save_settings(path, changed)
    assert load_settings(path, environ={}) == changed
    assert not [p for p in path.parent.iterdir() if p.name != "config.toml"]


def test_ui_settings_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "[ui]\ntext_width = 5\n")
    with pytest.raises(ConfigError, match="text_width"):
        load_settings(path, environ={})
