"""`stories list/show/validate/new`, run through Typer as the real command would be."""

from __future__ import annotations

import json
from pathlib import Path

from gpt2_adventure.cli.stories import stories_app
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.seeds.library import fill_seed, find_seed
from tests.support.cli_runner import run_cli

GOOD = 'format = 1\ntitle = "Mine"\nmode = "story"\nopenings = ["Once"]\n'
BAD = 'format = 1\ntitle = "Mine"\nmode = "stroy"\nopenings = ["Once"]\n'


def invoke(*args: str) -> tuple[int, str, str]:
    return run_cli(stories_app, *args)


def assert_clean_error(code: int, stderr: str, *words: str) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and 1 <= len(lines) <= 2, stderr
    for word in words:
        assert word in stderr, stderr


def own(name: str, text: str) -> Path:
    folder = AppPaths.from_env().stories_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_list_json_has_every_bundled_seed() -> None:
    code, out, _ = invoke("list", "--json")
    rows = json.loads(out)
    assert code == 0
    assert sum(row["mode"] == "adventure" for row in rows) >= 12
    knight = next(row for row in rows if row["id"] == "knight")
    assert knight["origin"] == "bundled" and knight["genre"] == "fantasy"
    assert set(knight) == {"id", "title", "mode", "genre", "description", "origin", "path"}
    assert [row["mode"] for row in rows] == sorted(
        (row["mode"] for row in rows), key=["adventure", "story", "chat"].index)


def test_list_table_marks_own_seeds_and_reports_broken_ones() -> None:
    own("mine.toml", GOOD)
    broken = own("broken.toml", BAD)
    code, out, err = invoke("list")
    assert code == 0
    assert "Neon Debt" in out and "Mine" in out and "own" in out
    assert f"({broken}:3)" in err and "skipped" in err


def test_show_prints_openings_literally() -> None:
    code, out, _ = invoke("show", "western")
    assert code == 0
    assert "Dust and Iron" in out and "{horse}" in out and "opening 2 of 2" in out
    assert "What is your horse called? (default: Dusty)" in out
    data = json.loads(invoke("show", "knight", "--json")[1])
    assert data["openings"][0].startswith("You are {name}, a knight of Larion")
    assert data["origin"] == "bundled"


def test_show_treats_seed_text_as_data() -> None:
    own("sneaky.toml", 'format = 1\ntitle = "[bold red]Boo[/] \\u001b[2J"\nmode = "story"\n'
        'openings = ["[link=x]hi[/link]"]\n')
    code, out, _ = invoke("show", "sneaky")
    assert code == 0
    assert "[bold red]Boo[/] \\x1b[2J" in out and "[link=x]hi[/link]" in out
    assert "\x1b" not in out


def test_show_unknown_is_one_clean_error() -> None:
    code, _, err = invoke("show", "knigt")
    assert_clean_error(code, err, "unknown story 'knigt'", "'knight'", "stories list")


def test_show_broken_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    code, _, err = invoke("show", str(path))
    assert_clean_error(code, err, f"({path}:3)", "mode")


def test_validate_reports_each_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD)
    bad.write_text(BAD)
    missing = tmp_path / "missing.toml"
    code, out, err = invoke("validate", str(good), str(bad), str(missing))
    assert code == 2
    assert out.splitlines() == [f"ok {good}"]
    assert err.splitlines() == [
        f"error: mode: expected one of \"adventure\", \"story\", \"chat\", got 'stroy' "
        f"({bad}:3)",
        f"error: no such seed file ({missing})"]


def test_validate_all_bundled_seeds_by_default_and_by_folder() -> None:
    code, out, err = invoke("validate")
    assert code == 0 and not err
    count = len(list(stories_dir().glob("*.toml")))
    assert len(out.splitlines()) == count and all(line.startswith("ok ") for line in
                                                  out.splitlines())
    code, out, _ = invoke("validate", str(stories_dir()))
    assert code == 0 and len(out.splitlines()) == count


def test_new_writes_the_template_once() -> None:
    code, out, _ = invoke("new", "my-story")
    path = AppPaths.from_env().stories_dir / "my-story.toml"
    assert code == 0 and out.strip() == str(path)
    assert invoke("validate", str(path))[0] == 0
    before = path.read_text()
    code, _, err = invoke("new", "my-story")
    assert_clean_error(code, err, "already exists", "my-story")
    assert path.read_text() == before


def test_new_with_a_bundled_name_needs_force_and_warns() -> None:
    paths = AppPaths.from_env()
    code, out, err = invoke("new", "knight")
    assert_clean_error(code, err, "'knight' is the name of a bundled story", "--force")
    assert out == "" and not (paths.stories_dir / "knight.toml").exists()
    assert find_seed(paths, "knight").source == stories_dir() / "knight.toml"  # the bundled one
    code, out, err = invoke("new", "knight", "--force")
    mine = paths.stories_dir / "knight.toml"
    assert code == 0 and out.strip() == str(mine)
    assert err.startswith("warning: ") and "replaces the bundled story" in err and str(mine) in err
    assert find_seed(paths, "knight").source == mine


def test_import_card_with_a_bundled_name_needs_force(tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"name": "Knight", "description": "A knight.",
                                "first_mes": "Hail."}))
    code, _, err = invoke("import-card", str(card), "--name", "knight")
    assert_clean_error(code, err, "bundled story", "--force")
    code, _, err = invoke("import-card", str(card), "--name", "knight", "--force")
    assert code == 0 and "replaces the bundled story" in err


def test_new_from_a_seed_copies_it() -> None:
    code, out, _ = invoke("new", "my-knight", "--from", "knight")
    assert code == 0
    assert Path(out.strip()).read_text() == (stories_dir() / "knight.toml").read_text()


def test_new_refuses_paths() -> None:
    code, _, err = invoke("new", "../outside")
    assert_clean_error(code, err, "simple file name")
    assert not (AppPaths.from_env().data_dir / "outside.toml").exists()


def test_import_card_writes_a_chat_seed_that_plays(tmp_path: Path) -> None:
    from tests.support.png_cards import card_png

    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Mira", "description": "A {curious} [bold]cartographer[/bold].",
        "personality": "bright", "scenario": "A map shop.", "first_mes": "Hello, {{user}}!",
        "mes_example": "<START>\n{{user}}: hi\n{{char}}: Welcome!",
        "system_prompt": "ignored", "alternate_greetings": ["Back again?"]}}
    path = tmp_path / "mira.png"
    path.write_bytes(card_png(card))
    code, out, err = invoke("import-card", str(path))
    assert code == 0, err
    assert "created chat seed mira" in out and "dropped:" in out
    seed = find_seed(AppPaths.from_env(), "mira")
    assert seed.mode == "chat" and seed.chat is not None and seed.chat.character == "Mira"
    filled = fill_seed(seed, {"name": "Tom"})  # "Hello, you!" would not do: it asks
    assert filled.openings == ("A map shop.",)  # the scene; the first message is the greeting
    assert (filled.chat.greeting, filled.chat.alternate_greetings) == ("Hello, Tom!",
                                                                       ("Back again?",))
    assert "A {curious} [bold]cartographer[/bold]." in filled.chat.persona
    code, _, err = invoke("import-card", str(path))
    assert_clean_error(code, err, "already exists")


def test_import_card_refuses_a_broken_card(tmp_path: Path) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    code, _, err = invoke("import-card", str(path))
    assert_clean_error(code, err, str(path))
    assert not AppPaths.from_env().stories_dir.exists() or not any(
        AppPaths.from_env().stories_dir.iterdir())


def test_import_card_reads_a_charx_and_a_textgen_character(tmp_path: Path) -> None:
    from tests.support.peer_formats import charx, textgen_character, v3_card

    risa = tmp_path / "risa.charx"
    risa.write_bytes(charx(v3_card("Risa")))
    code, out, err = invoke("import-card", str(risa))
    assert code == 0, err  # was: "this is a zip archive (CHARX cards are not supported)"
    assert "created chat seed risa" in out
    example = tmp_path / "Example.yaml"
    example.write_text(textgen_character(), encoding="utf-8")
    code, out, err = invoke("import-card", str(example))
    assert code == 0, err
    assert "created chat seed" in out
