from pathlib import Path

import pytest

from gpt2_adventure.paths import AppPaths


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
