"""`saves list`, `stories list` and `models list` never wrap or cut a name (it is what --load,
--story and --model take): a table on a terminal wide enough for it, else — piped, or on an
80-column terminal with long names — plain lines, one entry a line, the name first."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.saves.store import SaveStore
from tests.cli.terminal import run_on_terminal

SAVE = "the-long-name-of-my-castle-adventure-save-game-number-two"
SEED = "my-own-long-story-seed-about-a-lighthouse-in-a-winter-storm"
REPO = "someone/a-very-long-repository-name-of-a-gpt2-model-GGUF"
SEED_TEXT = 'format = 1\ntitle = "Mine"\nmode = "story"\nopenings = ["Once"]\n'


@pytest.fixture
def long_names() -> None:
    paths = AppPaths.from_env()
    state = StoryState(mode="adventure", title="A castle with a title long enough to wrap "
                       "around an eighty-column terminal", turns=[Turn("opening", "You stand.")])
    SaveStore(paths).save(state, SAVE)
    paths.stories_dir.mkdir(parents=True)
    (paths.stories_dir / f"{SEED}.toml").write_text(SEED_TEXT)
    folder = paths.models_dir / REPO.replace("/", "--")
    folder.mkdir(parents=True)
    (folder / "tiny.Q8_0.gguf").write_bytes(b"GGUF" + bytes(60))


def piped(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gpt2_adventure", *args], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "80"}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("command", "name"), [("saves", SAVE), ("stories", SEED),
                                               ("models", REPO)])
def test_piped_lists_are_plain_lines_name_first(long_names: None, command: str,
                                                name: str) -> None:
    out = piped(command, "list")
    lines = out.splitlines()
    assert all("\t" in line for line in lines), out
    assert name in [line.split("\t")[0] for line in lines]
    assert not any(box in out for box in "┃│┏━")


@pytest.mark.parametrize(("command", "name"), [("saves", SAVE), ("stories", SEED),
                                               ("models", REPO)])
def test_long_names_stay_whole_on_an_80_column_terminal(long_names: None, command: str,
                                                        name: str) -> None:
    code, shown, err = run_on_terminal(command, "list", columns=80)
    assert code == 0, err
    assert name in shown, shown
    assert all(len(line) <= 80 for line in shown.splitlines() if not line.startswith(name))


def test_a_table_that_fits_is_drawn_with_whole_names() -> None:
    code, shown, err = run_on_terminal("stories", "list", columns=80)
    assert code == 0, err
    assert "┃" in shown or "│" in shown
    for name in ("knight", "tavern-keeper", "first-contact"):
        assert any(line.startswith(f"│ {name} ") for line in shown.splitlines()), shown
    assert "stories new NAME" in shown
