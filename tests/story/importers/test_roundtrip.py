"""Import -> play a turn -> save -> export to KoboldAI -> import again: no text changes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.importers import convert_bytes, import_file
from gpt2_adventure.story.importers.kobold import export_kobold
from gpt2_adventure.story.model import StoryState
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.story.importers import peer_sample, write_json
from tests.support.fake_backend import FakeBackend

# Whitespace and Unicode that must survive: tabs, runs of spaces, CRLF, NBSP, zero-width
# space, combining marks, CJK, emoji, right-to-left text, and braces.
TRICKY = "\t Ça  va?\r\n e\u0301 \u00a0漢字 🐉 \u200b שָׁלוֹם {x} }{"
REPLY = " The door creaks open.\n\nA draft blows."

AID2_SAVE = {"story_start": "You are Bob." + TRICKY, "context": "You are Bob. ",
             "actions": ["\n> You look around.\n"], "results": [TRICKY + " "],
             "choices": [], "possible_action_results": None, "game_state": {},
             "seed": None, "uuid": "u-1", "rating": -1}
CLOVER_SAVE = {"context": "Ctx " + TRICKY, "memory": ["Fact."], "actions": ["You start" + TRICKY,
                                                                          "You wave."],
               "results": ["x" + TRICKY, "Ok" + TRICKY]}
KOBOLD = {"gamestarted": True, "prompt": TRICKY, "memory": TRICKY, "authorsnote": "note" + TRICKY,
          "anotetemplate": "[Author's note: <|>]", "actions": [TRICKY, "\n\n> You jump\n"],
          "worldinfo": [{"key": "dragon", "keysecondary": "", "content": TRICKY,
                         "comment": "", "folder": None, "selective": False,
                         "constant": False}]}


def play_one_turn(state: StoryState) -> StoryState:
    session = Session(state, FakeBackend([REPLY]), Sampling(max_tokens=60))
    events = list(session.act("open the door"))
    assert isinstance(events[-1], Done) and not events[-1].cancelled
    return session.state


def export_and_reimport(state: StoryState, tmp_path: Path) -> StoryState:
    text, _ = export_kobold(state)
    out = tmp_path / "exported.json"
    out.write_text(text, encoding="ascii")
    conversion = convert_bytes(out.read_bytes(), str(out))
    [(_, again)] = conversion.saves
    return again


def same_story(a: StoryState, b: StoryState) -> None:
    assert [t.to_dict() for t in a.turns] == [t.to_dict() for t in b.turns]
    assert (a.memory, a.authors_note, a.world, a.mode, a.title) == (
        b.memory, b.authors_note, b.world, b.mode, b.title)


@pytest.mark.parametrize(("name", "doc"), [("story-u-1.json", AID2_SAVE),
                                           ("clover.json", CLOVER_SAVE),
                                           ("kobold.json", KOBOLD)])
def test_saved_game_round_trip(tmp_path: Path, name: str, doc: dict) -> None:
    paths = AppPaths.from_env()
    store = SaveStore(paths)
    result = import_file(write_json(tmp_path / name, doc), paths)
    imported = store.load(result.created[0].name)
    before = [t.text for t in imported.turns]
    played = play_one_turn(imported)
    assert [t.text for t in played.turns[:len(before)]] == before  # history untouched
    assert played.turns[-2].text == "\n> You open the door.\n"
    assert played.turns[-1].text.startswith(" The door creaks open.")
    store.save(played, "after one turn")
    saved = store.load("after one turn")
    same_story(saved, played)
    same_story(export_and_reimport(saved, tmp_path), saved)
    # The imported text is there, character for character.
    assert sum(TRICKY in t.text for t in saved.turns) == json.dumps(doc).count(
        json.dumps(TRICKY)[1:-1]) - (TRICKY in saved.memory) - sum(
        TRICKY in w.content for w in saved.world) - (TRICKY in saved.authors_note)


def test_seed_round_trip(tmp_path: Path) -> None:
    """A seed imported from a prompt file starts a game whose text is the file's."""
    paths = AppPaths.from_env()
    source = tmp_path / "tricky.txt"
    source.write_text("Memory line.\n" + TRICKY.replace("\r\n", " ").strip(), encoding="utf-8")
    import_file(source, paths)
    state = new_state(find_seed(paths, "clover-tricky"), {}, random.Random(0))
    assert state.turns[0].text == TRICKY.replace("\r\n", " ").strip()
    played = play_one_turn(state)
    SaveStore(paths).save(played, "seeded")
    same_story(export_and_reimport(SaveStore(paths).load("seeded"), tmp_path), played)


def test_real_files_round_trip(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    kobold = peer_sample("koboldai/sample_story.json")
    state = SaveStore(paths).load(import_file(kobold, paths).created[0].name)
    played = play_one_turn(state)
    same_story(export_and_reimport(played, tmp_path), played)

    import_file(peer_sample("aidungeon2/story_data.yaml"), paths)
    seeded = new_state(find_seed(paths, "aid2-fantasy-knight"), {"name": "Zoë"},
                       random.Random(0))
    assert seeded.turns[0].text.startswith("You are Zoë, a knight living in the kingdom")
    played = play_one_turn(seeded)
    same_story(export_and_reimport(played, tmp_path), played)


def test_a_card_chat_that_opens_on_its_greeting_comes_back_from_koboldai() -> None:
    from gpt2_adventure.story.model import NO_SCENE, ChatSpec, Seed

    chat = ChatSpec(character="Mira", greeting="Oh! A customer.",
                    alternate_greetings=("Shut the door!",))
    seed = Seed(id="mira", title="Mira", mode="chat", openings=(NO_SCENE,), chat=chat)
    state = new_state(seed, {}, random.Random(0))
    text, _ = export_kobold(state)
    assert json.loads(text)["prompt"] == ""  # KoboldAI would take the first action instead
    conversion = convert_bytes(text.encode(), "mira.json")
    (_, back), = conversion.saves
    assert conversion.notes == [] and back.mode == "chat"
    assert [(t.role, t.text, t.alternatives) for t in back.turns] == [
        (t.role, t.text, t.alternatives) for t in state.turns]
    assert back.chat is not None and back.chat.alternate_greetings == ("Shut the door!",)
