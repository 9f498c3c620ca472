from dataclasses import replace
from pathlib import Path

import pytest

from gpt2_adventure import schema
from gpt2_adventure.config import (
    Settings,
    env_tables,
    load_settings,
    save_changes,
    settings_rows,
)
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.errors import ConfigError, UserError
from gpt2_adventure.schema import Spec


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
    ("[sampling]\ncandidates = 6\n", "[sampling].candidates must be 1..5, got 6"),
    ("[sampling]\ncandidates = 2.5\n", "[sampling].candidates must be an integer"),
    ("model = 3\n", "[model] must be a table"),
])
def test_bad_config_names_the_problem_and_the_file(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert words in str(caught.value)
    assert caught.value.where == str(path)


def test_candidates_is_read_from_sampling_and_shown(tmp_path: Path) -> None:
    from gpt2_adventure.config import settings_toml

    assert Settings().sampling.candidates == 2 and "candidates = 2" in settings_toml(Settings())
    path = write(tmp_path, '[sampling]\ncandidates = 4\npreset = "focused"\n')
    settings = load_settings(path, environ={})
    # the preset starts the table's sampling; the table's own keys apply over it
    assert settings.sampling.candidates == 4 and settings.sampling.temperature == 0.25
    assert settings.to_dict()["sampling"]["candidates"] == 4
    assert "\ncandidates = 4\n" in settings_toml(settings)


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


def test_settings_written_as_toml_load_back_unchanged(tmp_path: Path) -> None:
    from gpt2_adventure.config import UISettings, settings_toml
    from gpt2_adventure.engine.sampling import preset

    path = tmp_path / "sub" / "config.toml"
    original = load_settings(tmp_path / "none.toml", environ={})
    changed = replace(original, preset="aidungeon2",
                      sampling=preset("aidungeon2").with_changes(
                          banned_strings=('say "no"',), logit_bias={50256: -2.5}),
                      ui=UISettings(theme="nord", text_width=100))
    path.parent.mkdir()
    path.write_text(settings_toml(changed), encoding="utf-8")  # what `config show` prints
    assert load_settings(path, environ={}) == changed


def test_ui_settings_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "[ui]\ntext_width = 5\n")
    with pytest.raises(ConfigError, match="text_width"):
        load_settings(path, environ={})


# -- derived from the schema ---------------------------------------------------------------

ENV_NAMES = {"GPT2_ADVENTURE_MODEL", "GPT2_ADVENTURE_THREADS", "GPT2_ADVENTURE_N_GPU_LAYERS",
             "GPT2_ADVENTURE_N_CTX", "GPT2_ADVENTURE_N_BATCH", "GPT2_ADVENTURE_SEED",
             "GPT2_ADVENTURE_PRESET", "GPT2_ADVENTURE_BACKEND_KIND",
             "GPT2_ADVENTURE_BACKEND_URL", "GPT2_ADVENTURE_BACKEND_API_KEY",
             "GPT2_ADVENTURE_AUTO_TUNE"}


def _sample(spec: Spec) -> tuple[str, object]:
    """A text for the setting that is not its default, and the value it means."""
    if spec.choices:
        return str(spec.choices[-1]), spec.choices[-1]
    if spec.kind == "int":
        number = int(spec.low) + 1 if spec.low is not None else 7
        return str(number), number
    if spec.kind == "bool":
        return str(not spec.default).lower(), not spec.default
    return "something", "something"


def test_every_declared_variable_is_read_and_no_other() -> None:
    declared = {(section, spec.name): spec for section, spec, _ in settings_rows(Settings())
                if spec.env}
    assert {spec.env for spec in declared.values()} == ENV_NAMES
    for (section, name), spec in declared.items():
        text, value = _sample(spec)
        assert value != spec.default
        assert env_tables({spec.env: text}) == {section: {name: value}}, spec.env
        assert env_tables({spec.env: ""}) == {}  # empty is not set
    assert env_tables({"GPT2_ADVENTURE_SAVE_STATE": "0", "GPT2_ADVENTURE_TOP_K": "1"}) == {}


def test_config_show_lists_every_setting_in_declared_order() -> None:
    settings = replace(Settings(), model=ModelSettings(threads=2, n_batch=256, flash_attn=True,
                                                       seed=3))
    shown = settings.to_dict()
    for section, spec, value in settings_rows(settings):
        if value is None or (spec.secret and not value):
            assert spec.name not in shown[section]
        else:
            assert spec.name in shown[section], (section, spec.name)
    assert list(shown["model"]) == [s.name for s in schema.specs(ModelSettings)
                                    if s.name != "name"]  # None is left out
    assert "api_key" not in shown["backend"]
    with_key = replace(settings, backend=replace(settings.backend, api_key="k"))
    assert with_key.to_dict()["backend"]["api_key"] == "k"


def test_config_show_says_what_an_unset_setting_means() -> None:
    from gpt2_adventure.config import settings_toml

    shown = settings_toml(replace(Settings(), model=ModelSettings(n_batch=256)))
    assert "n_batch = 256" in shown
    assert "# flash_attn: not set (tuned, else off)" in shown
    assert "# threads: not set (tuned, else physical cores)" in shown
    assert "api_key" not in shown  # a secret is not a setting with a meaning when unset


def test_a_bounds_violation_reads_the_same_from_the_file_and_the_environment(
        tmp_path: Path) -> None:
    rule = "must be 1..512, got 0"
    with pytest.raises(ConfigError) as from_file:
        load_settings(write(tmp_path, "[model]\nthreads = 0\n"), environ={})
    assert from_file.value.message == f"[model].threads {rule}"
    with pytest.raises(ConfigError) as from_env:
        load_settings(tmp_path / "none.toml", environ={"GPT2_ADVENTURE_THREADS": "0"})
    assert from_env.value.message == f"GPT2_ADVENTURE_THREADS {rule}"
    assert from_env.value.where == "environment"


def test_the_engine_hears_of_the_model_variable_only_through_config(tmp_path: Path) -> None:
    from gpt2_adventure.engine.loader import load_backend
    from gpt2_adventure.paths import AppPaths

    paths = AppPaths.from_env()
    settings = load_settings(tmp_path / "none.toml", environ={"GPT2_ADVENTURE_MODEL": "gpt2-xl"})
    assert settings.model.name == "gpt2-xl"
    with pytest.raises(UserError) as caught:
        load_backend(paths, settings.model, settings.backend)
    assert caught.value.where == "GPT2_ADVENTURE_MODEL" and "gpt2-xl" in caught.value.message
    path = write(tmp_path, '[model]\nname = "gpt-j"\n')
    with pytest.raises(UserError) as caught:
        load_backend(paths, load_settings(path, environ={}).model, settings.backend)
    assert caught.value.where == str(path)
    with pytest.raises(UserError) as caught:  # a --model flag is named by nobody
        load_backend(paths, settings.model, settings.backend, model="gpt-j")
    assert caught.value.where is None


# -- saving only what changed ---------------------------------------------------------------

HAND_WRITTEN = """\
# mine
[ui]
text_width = 70   # narrow

[sampling]  # tuned
top_k = 10 # k
preset = "clover"
"""


def test_save_changes_keeps_the_rest_of_the_file_byte_for_byte(tmp_path: Path) -> None:
    path = write(tmp_path, HAND_WRITTEN)
    save_changes(path, {"sampling": {"top_k": 20}})
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN.replace("top_k = 10", "top_k = 20")
    save_changes(path, {"model": {"name": "gpt2-medium"}, "ui": {"theme": "nord"},
                        "sampling": {"banned_strings": ("a b",)}})
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# mine\n[ui]\ntext_width = 70   # narrow\ntheme = \"nord\"\n")
    assert 'preset = "clover"\nbanned_strings = ["a b"]\n' in text
    assert text.endswith('[model]\nname = "gpt2-medium"\n')
    save_changes(path, {"model": {"name": None}})  # None: back to the default
    assert load_settings(path, environ={}).model.name is None
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_save_changes_refuses_what_the_next_start_would(tmp_path: Path) -> None:
    path = write(tmp_path, HAND_WRITTEN)
    with pytest.raises(ConfigError, match=r"\[ui\]\.text_width must be 0"):
        save_changes(path, {"ui": {"text_width": 5}})
    with pytest.raises(ConfigError, match=r"unknown setting \[ui\]\.colour"):
        save_changes(path, {"ui": {"colour": "red"}})
    path.write_text(HAND_WRITTEN + "[model]\nthreads = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="threads"):  # a file broken since the start
        save_changes(path, {"ui": {"text_width": 80}})
    assert path.read_text(encoding="utf-8").endswith("threads = 0\n")


def test_save_changes_starts_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_changes(path, {"sampling": {"temperature": 0.5}})
    assert path.read_text(encoding="utf-8") == (
        "# gpt2-adventure settings (see `gpt2-adventure config show`)\n\n"
        "[sampling]\ntemperature = 0.5\n")
    assert load_settings(path, environ={}).sampling.temperature == 0.5
