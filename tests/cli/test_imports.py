"""`gpt2-adventure import FILE... [--as seed|save]` and `saves export --format kobold`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpt2_adventure.cli.imports import import_command
from gpt2_adventure.cli.saves import saves_app
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers.detect import KNOWN
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from gpt2_adventure.story.saves.store import SaveStore
from tests.story.importers import peer_sample
from tests.support.peer_formats import (
    aid_scenario,
    aid_story_cards,
    base64_json,
    charx,
    novelai_lorebook,
    novelai_scenario,
    png_with_text,
    st_chat,
    st_message,
    textgen_character,
    v2_card,
    v3_card,
)

app = typer.Typer()
app.command()(import_command)
KOBOLD = {"gamestarted": True, "prompt": "Once \x1b[31mupon", "memory": "", "authorsnote": "",
          "actions": [" a time."], "worldinfo": [{"key": "", "content": "never shown"}]}
STORY_DATA = ('settings:\n  fantasy:\n    description: "in Larion. "\n    characters:\n'
              '      knight: {prompts: ["You ride."], item1: sword, item2: shield}\n')


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_import_reports_created_and_dropped(tmp_path: Path) -> None:
    source = tmp_path / "niko.json"
    source.write_text(json.dumps(KOBOLD), encoding="utf-8")
    code, out, err = invoke(str(source))
    assert code == 0, err
    lines = out.splitlines()
    save = AppPaths.from_env().saves_dir / "niko.json"
    assert lines[0] == f"{source}: a KoboldAI story (1 turn)"
    assert lines[1] == f"created save niko: {save}"
    assert lines[2] == "dropped: world info entry 1: it has no keys and is not constant, so " \
                       "it never shows"
    assert SaveStore(AppPaths.from_env()).load("niko").turns[0].text == "Once \x1b[31mupon"
    # Importing again makes a second save rather than replacing the first.
    code, out, _ = invoke(str(source))
    assert code == 0 and "created save niko 2:" in out


def test_bad_files_are_reported_and_the_others_still_imported(tmp_path: Path) -> None:
    good = tmp_path / "story_data.yaml"
    good.write_text(STORY_DATA, encoding="utf-8")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    missing = tmp_path / "missing.json"
    code, out, err = invoke(str(listed), str(good), str(missing))
    assert code == 2
    errors = err.splitlines()
    assert errors == [f"error: the file holds a list, not an object; expected {KNOWN} ({listed})",
                      f"error: no such file ({missing})"]
    assert "Traceback" not in err
    assert "created seed aid2-fantasy-knight:" in out
    code, out, _ = invoke(str(good))
    assert code == 0 and "skipped seed aid2-fantasy-knight: it already exists" in out


def test_as_seed_and_bad_as(tmp_path: Path) -> None:
    source = tmp_path / "niko.json"
    source.write_text(json.dumps(KOBOLD), encoding="utf-8")
    code, out, err = invoke(str(source), "--as", "seed")
    assert code == 0, err
    assert "created seed kobold-niko:" in out and "1 turn after the opening" in out
    result = CliRunner().invoke(app, [str(source), "--as", "game"])
    assert isinstance(result.exception, UserError)
    assert "--as should be seed or save" in str(result.exception)


def test_output_is_terminal_safe(tmp_path: Path) -> None:
    source = tmp_path / "evil\x1b]0;x\x07.json"
    source.write_text(json.dumps(KOBOLD), encoding="utf-8")
    code, out, err = invoke(str(source))
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\\x1b]0;x\\x07" in out


def test_module_is_light() -> None:
    code = ("import sys, gpt2_adventure.cli.imports\n"
            "print(any(m.startswith(('gpt2_adventure.story', 'yaml')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_real_peer_files(tmp_path: Path) -> None:
    code, out, err = invoke(str(peer_sample("aidungeon2/story_data.yaml")),
                            str(peer_sample("koboldai/sample_story.json")))
    assert code == 0, err
    assert out.count("created seed aid2-") == 14 and "created save sample_story:" in out


# -- every format by content (issue 22, items 21-23) ---------------------------------------

def test_a_png_card_becomes_a_chat_seed(tmp_path: Path) -> None:
    card = tmp_path / "Mira.png"
    card.write_bytes(png_with_text({"chara": base64_json(v2_card("Mira"))}))
    code, out, err = invoke(str(card))
    assert code == 0, err
    assert out.splitlines()[0] == f"{card}: a character card (SillyTavern, TavernAI): Mira " \
                                  "(1 greeting)"
    seed_file = AppPaths.from_env().stories_dir / "mira.toml"
    assert f"created seed mira: {seed_file}" in out and seed_file.is_file()
    code, out, _ = invoke(str(card))  # nothing overwritten
    assert code == 0 and "skipped seed mira: it already exists" in out


@pytest.mark.parametrize(("name", "content", "words"), [
    ("Ripple.lorebook", json.dumps(novelai_lorebook()).encode(),
     "this is a lorebook (a NovelAI lorebook): world info to add to a story, not a story"),
    ("x.png", png_with_text({"Comment": "hi"}), "this PNG image has no character card "
     "('chara' or 'ccv3' text chunk) and no NovelAI lorebook ('naidata') in it"),
], ids=["novelai-lorebook", "png-without-card"])
def test_known_formats_are_named_in_one_line(tmp_path: Path, name: str, content: bytes,
                                             words: str) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    code, out, err = invoke(str(source))
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.splitlines()[0] == f"error: {words} ({source})"


def test_real_peer_card_and_lorebook(tmp_path: Path) -> None:
    code, out, err = invoke(str(peer_sample("sillytavern/cards/Aqua.png")))
    assert code == 0, err
    assert "created seed aqua:" in out
    lorebook = peer_sample("novelai/Ripple (Mon Oct 17 2022).lorebook")
    code, _, err = invoke(str(lorebook))
    assert code == 2 and "NovelAI lorebook" in err and "orderByKeyLocations" not in err


def test_ai_dungeon_scenarios_become_seeds(tmp_path: Path) -> None:
    source = tmp_path / "scenarios.json"
    source.write_text(json.dumps([aid_scenario("Keep", "You are ${character.name}.")]),
                      encoding="utf-8")
    code, out, err = invoke(str(source))
    assert code == 0, err
    seed_file = AppPaths.from_env().stories_dir / "aid-keep.toml"
    assert out.splitlines() == [f"{source}: AI Dungeon scenarios (1 seed)",
                                f"created seed aid-keep: {seed_file}"]
    assert 'question = "What is your name?"' in seed_file.read_text(encoding="utf-8")


def test_a_novelai_scenario_becomes_a_seed(tmp_path: Path) -> None:
    source = tmp_path / "knight.scenario"
    source.write_text(json.dumps(novelai_scenario()), encoding="utf-8")
    code, out, err = invoke(str(source))
    assert code == 0, err
    seed_file = AppPaths.from_env().stories_dir / "novelai-the-knight.toml"
    assert out.splitlines()[:2] == [f"{source}: a NovelAI scenario (1 seed, 4 world entries)",
                                    f"created seed novelai-the-knight: {seed_file}"]


def test_ai_dungeon_story_cards_need_into(tmp_path: Path) -> None:
    source = tmp_path / "cards.json"
    source.write_text(json.dumps(aid_story_cards()), encoding="utf-8")
    code, out, err = invoke(str(source))
    assert code == 2 and out == ""
    assert err.startswith("error: this is a lorebook (AI Dungeon story cards)")


def test_characters_from_other_front_ends(tmp_path: Path) -> None:
    yaml_file = tmp_path / "Example.yaml"
    yaml_file.write_text(textgen_character(), encoding="utf-8")
    risu = tmp_path / "risa.charx"
    risu.write_bytes(charx(v3_card("Risa")))
    code, out, err = invoke(str(yaml_file), str(risu))
    assert code == 0, err
    stories = AppPaths.from_env().stories_dir
    assert f"{yaml_file}: a text-generation-webui character" in out
    assert f"created seed chiharu-yamada: {stories / 'chiharu-yamada.toml'}" in out
    assert f"{risu}: a RisuAI character (.charx)" in out
    assert f"created seed risa: {stories / 'risa.toml'}" in out
    evil = tmp_path / "evil.charx"
    evil.write_bytes(charx(v3_card("Eve"), {"../../escape.txt": b"x"}))
    code, out, err = invoke(str(evil))
    assert code == 2 and out == "" and "unsafe path" in err.splitlines()[0]
    assert not (stories / "eve.toml").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_real_peer_scenarios(tmp_path: Path) -> None:
    code, out, err = invoke(str(peer_sample("aidungeon/javaman_scenarios.json")))
    assert code == 0, err
    assert out.count("created seed aid-") == 8


def test_a_sillytavern_chat_with_its_card_and_back(tmp_path: Path) -> None:
    log = tmp_path / "Seraphina - 2023-1-24.jsonl"
    log.write_text(st_chat(st_message("Seraphina", "Hi.", swipes=["Hi.", "Hey."]),
                           st_message("Tom", "Hello.", user=True)), encoding="utf-8")
    card = tmp_path / "card.json"
    card.write_text(json.dumps(v2_card("Seraphina")), encoding="utf-8")
    code, out, err = invoke(str(log), "--character", str(card))
    assert code == 0, err
    save = AppPaths.from_env().saves_dir / "Seraphina - 2023-1-24.json"
    assert out.splitlines() == [
        f"{log}: a SillyTavern chat (2 messages, 1 swipe) with Seraphina",
        f"note: character card: {card}", f"created save Seraphina - 2023-1-24: {save}"]
    code, out, err = invoke(str(card), "--character", str(card))
    assert code == 2 and "--character goes with a SillyTavern chat" in err


def test_saves_export_sillytavern(tmp_path: Path) -> None:
    log = tmp_path / "chat.jsonl"
    log.write_text(st_chat(st_message("Seraphina", "Hey.", swipes=["Hi.", "Hey."],
                                      swipe_id=1),
                           st_message("Tom", "Hello.", user=True)), encoding="utf-8")
    assert invoke(str(log))[0] == 0
    out_file = tmp_path / "back.jsonl"
    result = CliRunner().invoke(saves_app, ["export", "chat", "--format", "sillytavern",
                                            "--out", str(out_file)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert lines[1]["swipes"] == ["Hi.", "Hey."] and lines[1]["swipe_id"] == 1
    assert lines[2] == {"name": "Tom", "is_user": True, "is_system": False,
                        "send_date": lines[2]["send_date"], "mes": "Hello.", "extra": {}}
    result = CliRunner().invoke(saves_app, ["export", "chat", "-f", "sillytavern"])
    assert result.exit_code == 0 and result.stdout.startswith('{"user_name": "Tom"')


def test_saves_export_sillytavern_needs_a_chat(tmp_path: Path) -> None:
    saved_game()  # an adventure
    result = CliRunner().invoke(saves_app, ["export", "castle", "--format", "sillytavern"])
    assert isinstance(result.exception, UserError)
    assert "only a chat exports as a SillyTavern chat" in str(result.exception)


# -- saves export --format kobold ---------------------------------------------------------

def saved_game() -> SaveStore:
    store = SaveStore(AppPaths.from_env())
    state = StoryState(mode="adventure", title="Castle", memory="You are Ana.",
                       world=[WorldEntry(keys=("gate",), content="The gate is old.")],
                       turns=[Turn("opening", "You stand at the gate."),
                              Turn("player", "\n> You open it.\n", kind="do", raw="open it"),
                              Turn("model", " It creaks — \x1b[31m ✓", alternatives=[
                                  " It creaks — \x1b[31m ✓"])])
    store.save(state, "castle")
    return store


def test_export_kobold_to_stdout_and_back(tmp_path: Path) -> None:
    saved_game()
    result = CliRunner().invoke(saves_app, ["export", "castle", "--format", "kobold"])
    assert result.exit_code == 0, result.output
    assert result.stdout.isascii() and "\x1b" not in result.stdout
    doc = json.loads(result.stdout)
    assert doc["prompt"] == "You stand at the gate."
    assert doc["actions"] == ["\n> You open it.\n", " It creaks — \x1b[31m ✓"]
    assert doc["worldinfo"][0]["key"] == "gate"
    exported = tmp_path / "castle.json"
    exported.write_text(result.stdout, encoding="ascii")
    code, out, err = invoke(str(exported))
    assert code == 0, err
    back = SaveStore(AppPaths.from_env()).load("castle 2")
    assert [t.text for t in back.turns] == [t.text for t in
                                            SaveStore(AppPaths.from_env()).load("castle").turns]


def test_export_kobold_to_a_file_by_extension(tmp_path: Path) -> None:
    saved_game()
    out = tmp_path / "castle.json"
    result = CliRunner().invoke(saves_app, ["export", "castle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="ascii"))["gamestarted"] is True
    result = CliRunner().invoke(saves_app, ["export", "castle", "-f", "json", "--out", str(out),
                                            "--force"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(saves_app, ["export", "castle", "-f", "xml"])
    assert isinstance(result.exception, UserError)
    assert "md, txt, kobold, sillytavern or lorebook" in str(result.exception)


def test_export_notes_go_to_stderr(tmp_path: Path) -> None:
    store = saved_game()
    state = store.load("castle")
    state.sampling = {"temperature": 1.1}
    store.save(state, "castle")
    result = CliRunner().invoke(saves_app, ["export", "castle", "-f", "kobold"])
    assert result.exit_code == 0
    json.loads(result.stdout)  # stdout is only the JSON
    assert "dropped: this game's own generation settings" in result.stderr
