"""`models remove` asks before deleting, as `saves delete` does: y/N on a terminal, --yes to
skip the question, a refusal when stdin is not a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpt2_adventure.cli import confirm
from gpt2_adventure.cli.models import models_app
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths


@pytest.fixture
def model_file() -> Path:
    folder = AppPaths.from_env().models_dir / "gpt2"
    folder.mkdir(parents=True)
    path = folder / "gpt2.Q8_0.gguf"
    path.write_bytes(b"GGUF" + bytes(100))
    return path


def remove(*args: str, stdin: str | None = None) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(models_app, ["remove", *args], input=stdin)
    return result.exit_code, result.output, result.exception


def test_without_a_terminal_it_refuses_without_yes(model_file: Path) -> None:
    _, _, error = remove("gpt2")
    assert isinstance(error, UserError) and "without confirmation" in str(error)
    assert "--yes" in (error.hint or "")
    assert model_file.exists()


def test_on_a_terminal_it_asks_and_no_keeps_it(model_file: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confirm, "can_ask", lambda: True)
    code, out, _ = remove("gpt2", stdin="\n")  # the default is no
    assert code == 1 and "Delete the model gpt2" in out and "[y/N]" in out
    assert model_file.exists()
    code, out, _ = remove("gpt2", stdin="y\n")
    assert code == 0 and f"removed {model_file}" in out and not model_file.exists()


def test_yes_skips_the_question(model_file: Path) -> None:
    code, out, _ = remove("gpt2", "--yes")
    assert code == 0 and "Delete" not in out and not model_file.exists()


def test_a_model_not_installed_is_an_error_before_any_question(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confirm, "can_ask", lambda: True)
    _, out, error = remove("gpt2", stdin="y\n")
    assert isinstance(error, UserError) and "not installed" in str(error) and "Delete" not in out
