"""One rule for every `--out FILE` (`saves export`, `models convert`): a folder is refused as a
folder at once, a missing folder is an error (never created), an existing file needs --force,
and only a regular file is ever replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.cli.models import models_app
from gpt2_adventure.cli.out_path import checked_out
from gpt2_adventure.cli.saves import saves_app
from gpt2_adventure.errors import UserError
from tests.support.cli_runner import run_cli

# Each command with --out, as far as the --out check (which comes before any slow work).
COMMANDS = {
    "saves export": (saves_app, ["export", "castle"]),
    "models convert": (models_app, ["convert", "no-such-checkpoint-folder"]),
}


def error_of(command: str, out: Path, *more: str) -> str:
    app, args = COMMANDS[command]
    code, _, err = run_cli(app, *args, "--out", str(out), *more)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2, err
    return err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_folder_is_an_error_and_is_not_created(command: str, tmp_path: Path) -> None:
    err = error_of(command, tmp_path / "no" / "such" / "out.file")
    assert "folder for --out does not exist" in err and str(tmp_path / "no" / "such") in err
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_folder_is_refused_as_a_folder_at_once(command: str, force: list[str],
                                                 tmp_path: Path) -> None:
    err = error_of(command, tmp_path, *force)
    assert "--out is a folder" in err and "--force" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_an_existing_file_needs_force(command: str, tmp_path: Path) -> None:
    mine = tmp_path / "mine.out"
    mine.write_text("my own notes")
    err = error_of(command, mine)
    assert "already exists" in err and "pass --force" in err
    assert mine.read_text() == "my own notes"


def test_the_rule() -> None:
    here = Path.cwd()
    with pytest.raises(UserError, match="not a regular file"):
        checked_out(Path("/dev/null"), force=True)
    with pytest.raises(UserError, match="is not a folder"):
        checked_out(Path("/dev/null/x.md"), force=True)
    name = "no-such-export.md"
    assert checked_out(Path("~") / name, force=False) == Path.home() / name
    assert checked_out(here / "fresh-file-name.md", force=False) == here / "fresh-file-name.md"
