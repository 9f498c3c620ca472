from pathlib import Path

import pytest

from gpt2_adventure.paths import AppPaths, has_separator, looks_like_path


def test_env_overrides_each_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.setenv(f"GPT2_ADVENTURE_{name}_DIR", str(tmp_path / name.lower()))
    paths = AppPaths.from_env()
    assert paths.config_file == tmp_path / "config" / "config.toml"
    assert paths.saves_dir == tmp_path / "data" / "saves"
    assert paths.log_file.parent == tmp_path / "data" / "logs"
    assert paths.models_dir == tmp_path / "cache" / "models"


def test_defaults_come_from_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONFIG", "DATA", "CACHE"):
        monkeypatch.delenv(f"GPT2_ADVENTURE_{name}_DIR", raising=False)
    paths = AppPaths.from_env()
    assert "gpt2-adventure" in str(paths.config_dir)
    assert "gpt2-adventure" in str(paths.cache_dir)


def test_computing_paths_creates_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GPT2_ADVENTURE_DATA_DIR", str(tmp_path / "d"))
    AppPaths.from_env().log_file  # noqa: B018
    assert not (tmp_path / "d").exists()


def test_either_slash_is_a_separator_on_every_system() -> None:
    assert has_separator("stories/x") and has_separator("stories\\x")
    assert not has_separator("castle") and not has_separator("gpt2:Q8_0")


@pytest.mark.parametrize(("text", "seed", "model", "save"), [
    # text               story id? model?  save?   (True: a path)
    ("knight",           False,    False,  False),
    ("stories/x.toml",   True,     True,   True),
    ("C:\\x\\castle",    True,     True,   True),
    ("castle.toml",      True,     False,  False),
    ("castle.TOML",      False,    False,  False),
    ("gpt2.gguf",        False,    True,   False),
    ("GPT2.GGUF",        False,    True,   False),
    ("~/castle",         True,     True,   True),
    ("~castle",          True,     True,   False),
    (".hidden",          False,    True,   False),
    ("gpt2:Q8_0",        False,    False,  False),
    ("castle.json",      False,    False,  False),  # a save name, unless such a file exists
])
def test_each_kind_of_name_keeps_its_own_rule(text: str, seed: bool, model: bool,
                                              save: bool) -> None:
    assert looks_like_path(text, ".toml") is seed
    assert looks_like_path(text.lower(), ".gguf", ("~", ".")) is model
    assert looks_like_path(text, ".json", (), suffix_if_file=True) is save


def test_a_save_suffix_counts_once_the_file_exists(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "castle.json").write_text("{}")
    assert looks_like_path("castle.json", ".json", (), suffix_if_file=True)
    assert looks_like_path("other.json", ".json")  # without the flag the suffix is enough


@pytest.mark.parametrize("root", ["CONFIG", "DATA", "CACHE"])
@pytest.mark.parametrize("below", [False, True])
def test_a_root_that_is_a_file_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path, root: str, below: bool
                                                  ) -> None:
    from gpt2_adventure.errors import UserError

    blocker = tmp_path / "some-file"
    blocker.write_text("not a folder")
    folder = blocker / "deeper" if below else blocker
    monkeypatch.setenv(f"GPT2_ADVENTURE_{root}_DIR", str(folder))
    with pytest.raises(UserError) as caught:
        AppPaths.from_env()
    assert caught.value.where == str(blocker)
    assert f"GPT2_ADVENTURE_{root}_DIR" in caught.value.message
    assert "is a file, not a folder" in caught.value.message


def test_a_data_folder_that_is_a_file_ends_the_command_cleanly(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_gguf: Path) -> None:
    from tests.cli.test_app import assert_clean_error, run

    blocker = tmp_path / "some-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GPT2_ADVENTURE_DATA_DIR", str(blocker))
    result = run("play", "--plain", "--model", str(tiny_gguf), "--name", "A", stdin="look\n")
    assert_clean_error(result, str(blocker), "GPT2_ADVENTURE_DATA_DIR")
    assert_clean_error(run("saves", "list"), str(blocker))


def test_a_typed_path_no_file_can_have_is_a_user_error() -> None:
    from gpt2_adventure.errors import UserError
    from gpt2_adventure.paths import player_path

    assert player_path("~/x.md") == Path.home() / "x.md"
    with pytest.raises(UserError, match="NUL"):
        player_path("a\x00b.md")
    with pytest.raises(UserError, match="no such home folder") as caught:
        player_path("~nosuchuser-gpt2/x.md")
    assert caught.value.where == "~nosuchuser-gpt2"
