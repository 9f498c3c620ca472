"""`saves list/show/export/delete` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from gpt2_adventure.cli import saves as cli_saves
from gpt2_adventure.cli.saves import saves_app
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.saves.store import SaveStore

runner = CliRunner()
EVIL = "**bold** [x](y) \x1b[31mred\x1b[0m"


@pytest.fixture
def store() -> SaveStore:
    store = SaveStore(AppPaths.from_env())
    state = StoryState(mode="adventure", title="Castle \x1b]0;pwned\x07", turns=[
        Turn("opening", "You stand at the gate."),
        Turn("player", "\n> You open the door.\n", kind="do", raw="open the door"),
        Turn("model", " " + EVIL),
    ])
    store.save(state, "castle")
    store.autosave(state)
    return store


def invoke(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(saves_app, list(args), input=stdin)


def user_error(result: Result, *words: str) -> UserError:
    assert isinstance(result.exception, UserError), result.output
    for word in words:
        assert word in str(result.exception) + (result.exception.hint or "")
    return result.exception


def test_list_empty() -> None:
    result = invoke("list")
    assert result.exit_code == 0 and "no saves yet" in result.output


def test_list_table_and_json(store: SaveStore) -> None:
    (store.saves_dir / "broken.json").write_text("{oops")
    table = invoke("list")
    assert table.exit_code == 0, table.output
    assert "castle" in table.output and "unreadable" in table.output and "\x1b]" not in table.output
    rows = json.loads(invoke("list", "--json").output)
    by_name = {row["name"]: row for row in rows}
    assert by_name["castle"]["turns"] == 3 and by_name["castle"]["mode"] == "adventure"
    assert not by_name["castle"]["autosave"] and by_name["castle"]["error"] is None
    [auto] = [row for row in rows if row["autosave"]]
    assert auto["name"].startswith("autosave/") and auto["id"] == by_name["castle"]["id"]
    assert "not valid JSON" in by_name["broken"]["error"]


def test_show_is_literal(store: SaveStore) -> None:
    result = invoke("show", "castle")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "Castle \\x1b]0;pwned\\x07" in result.output
    assert "> You open the door." in result.output
    assert "**bold** [x](y) \\x1b[31mred" in result.output
    assert "save version 1" in result.output


def test_show_reports_problems(store: SaveStore) -> None:
    user_error(invoke("show", "nowhere"), "no save named 'nowhere'")
    (store.saves_dir / "broken.json").write_text('{"format": 1,\n\n  oops}')
    user_error(invoke("show", "broken"), "not valid JSON", "broken.json:3:3")
    user_error(invoke("show", "../../nowhere-at-all"), "not found")
    user_error(invoke("show", str(store.saves_dir)), "is a folder")


def test_export_markdown_and_text(store: SaveStore, tmp_path: Path) -> None:
    out = tmp_path / "castle.md"
    result = invoke("export", "castle", "--format", "md", "--out", str(out))
    assert result.exit_code == 0, result.output
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Castle") and "\\*\\*bold\\*\\*" in md and "\x1b" not in md
    assert "> You open the door." in md

    txt = tmp_path / "castle.txt"  # format from the extension
    assert invoke("export", "castle", "--out", str(txt)).exit_code == 0
    assert "**bold** [x](y) \\x1b[31mred" in txt.read_text(encoding="utf-8")

    printed = invoke("export", "castle", "--format", "txt")
    assert printed.exit_code == 0 and "> You open the door." in printed.output
    assert list(tmp_path.glob(".save-*")) == []


def test_export_refuses_to_overwrite_without_force(store: SaveStore, tmp_path: Path) -> None:
    out = tmp_path / "mine.md"
    out.write_text("my own notes")
    user_error(invoke("export", "castle", "--out", str(out)), "already exists", "--force")
    assert out.read_text() == "my own notes"
    assert invoke("export", "castle", "--out", str(out), "--force").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# Castle")


def test_export_bad_arguments(store: SaveStore, tmp_path: Path) -> None:
    user_error(invoke("export", "castle", "--format", "pdf"), "unknown export format 'pdf'")
    user_error(invoke("export", "castle", "--out", str(tmp_path)), "is a folder")
    user_error(invoke("export", "castle", "--out", str(tmp_path / "no" / "x.md")),
               "does not exist")
    user_error(invoke("export", "missing", "--out", str(tmp_path / "x.md")), "no save named")


def test_delete_needs_confirmation(store: SaveStore, monkeypatch: pytest.MonkeyPatch) -> None:
    path = store.saves_dir / "castle.json"
    user_error(invoke("delete", "castle"), "without confirmation", "--yes")
    assert path.exists()

    monkeypatch.setattr(cli_saves, "_interactive", lambda: True)
    declined = invoke("delete", "castle", stdin="n\n")
    assert declined.exit_code == 1 and path.exists()
    accepted = invoke("delete", "castle", stdin="y\n")
    assert accepted.exit_code == 0 and not path.exists()


def test_delete_with_yes(store: SaveStore) -> None:
    [auto] = [info for info in store.list() if info.autosave]
    result = invoke("delete", auto.name, "--yes")
    assert result.exit_code == 0 and not auto.path.exists()
    user_error(invoke("delete", "castle/../../x", "--yes"), "is a path")
    user_error(invoke("delete", "CON", "--yes"), "reserved")
    user_error(invoke("delete", "ghost", "--yes"), "no save named 'ghost'")
    assert (store.saves_dir / "castle.json").exists()
