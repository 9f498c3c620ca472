"""How a card speaks of the player: "you" where it fits, the player's name where it does not
(addressed by name, text in another script), and ids readable in any script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.cards.fields import substitute
from gpt2_adventure.story.cards.reader import load_card_report
from gpt2_adventure.story.cards.to_seed import slug
from gpt2_adventure.story.model import Placeholder, Seed
from gpt2_adventure.story.seeds.library import fill_seed, find_seed, to_toml, write_template
from tests.story.importers import PEER_SAMPLES

NAME = "\u2023"  # what stands for the player's name in these examples


@pytest.mark.parametrize(("text", "expected"), [
    # Addressed by name: "you" would not do.
    ("What can I do for you, {{user}}?", "What can I do for you, \u2023?"),
    ("Easy now, {{user}}. Rest.", "Easy now, \u2023. Rest."),
    ("{{user}}, come here!", "\u2023, come here!"),
    ("*She blushes.* {{user}}! What a question.", "*She blushes.* \u2023! What a question."),
    ("Welcome back {{user}}.... Why", "Welcome back \u2023.... Why"),
    ("to be the best assistant to you {{user}}.", "to be the best assistant to you \u2023."),
    ("Thank you {{user}} for coming.", "Thank you \u2023 for coming."),
    ("\"Hi {{user}}\"", "\"Hi \u2023\""),
    # Everywhere else the player is "you", as before.
    ("{{user}} wakes up.", "You wake up."),
    ("She looks at {{user}}.", "She looks at you."),
    ("{{user}}'s sword", "Your sword"),
    ("and {{user}} runs, {{user}}.", "and you run, \u2023."),
    ("In the rain, {{user}} looked up.", "In the rain, you looked up."),
    ("{{user}}: Hello.", "You: Hello."),  # a speaker label stays the player's label
    # Text mostly in another script: an English "you" would not fit anywhere.
    ("{{user}} 扮演唯一女主角", "\u2023 扮演唯一女主角"),
    ("资金用途由 {{user}} 决定", "资金用途由 \u2023 决定"),
    ("{{user}}: 我拿起扫帚。", "You: 我拿起扫帚。"),
    ("Привет, {{user}}! Как дела у {{user}}?", "Привет, \u2023! Как дела у \u2023?"),
])
def test_you_where_it_fits_the_name_where_it_does_not(text: str, expected: str) -> None:
    assert substitute(text, "Mira", "You", NAME) == expected
    if NAME in expected:  # without a name to use, "you" as before
        assert NAME not in substitute(text, "Mira")


def _card(tmp_path: Path, **fields: object) -> tuple[Seed, list[str]]:
    path = tmp_path / "card.json"
    card = {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "Mira", "description": "", "first_mes": "Hello.", **fields}}
    path.write_text(json.dumps(card), encoding="utf-8")
    return load_card_report(path)


def test_a_card_that_calls_the_player_by_name_asks_for_it(tmp_path: Path) -> None:
    seed, _ = _card(tmp_path, first_mes="*looks up* What can I do for you, {{user}}?",
                    scenario="{{user}} steps into {{char}}'s shop.",
                    character_book={"entries": [{"keys": ["map"], "content": "Maps cost "
                                                 "gold, {{user}}.", "enabled": True}]})
    assert seed.placeholders == (Placeholder("name", "What does Mira call you?", "User"),)
    game = fill_seed(seed, {"name": "Tom"})
    assert game.chat is not None
    assert game.chat.greeting == "*looks up* What can I do for you, Tom?"
    assert game.openings == ("You step into Mira's shop.",)
    assert game.world[0].content == "Maps cost gold, Tom."
    assert fill_seed(seed, {}).chat.greeting.endswith("for you, User?")  # type: ignore[union-attr]


def test_a_card_that_never_does_asks_nothing(tmp_path: Path) -> None:
    seed, _ = _card(tmp_path, first_mes="Oh! You are awake, and {{user}} looks pale.")
    assert seed.placeholders == ()
    assert seed.chat is not None and seed.chat.greeting == "Oh! You are awake, and you look pale."


def test_a_chinese_card_uses_the_name_not_english(tmp_path: Path) -> None:
    seed, _ = _card(tmp_path, name="莉莉安", description="{{user}} 扮演唯一女主角。",
                    first_mes="早上好，{{user}}。", mes_example="<START>\n{{user}}: 你好\n"
                    "{{char}}: 你好！",
                    character_book={"entries": [{"keys": ["教堂"], "content": "{{user}}的教堂。",
                                                 "enabled": True}]})
    assert seed.description == "User 扮演唯一女主角。"  # the list shows the default name
    game = fill_seed(seed, {"name": "Lina"})
    assert game.chat is not None
    assert game.chat.persona == "莉莉安's persona: Lina 扮演唯一女主角。"
    assert game.chat.greeting == "早上好，Lina。"
    assert game.chat.example_dialogue == "You: 你好\n莉莉安: 你好！"  # the player's label
    assert game.world[0].content == "Lina的教堂。"
    assert not re.search(r"\byou\b", game.chat.persona + game.chat.greeting, re.IGNORECASE)


def test_start_markers_go_from_the_persona_too(tmp_path: Path) -> None:
    seed, _ = _card(tmp_path, description="{{char}} is a mapmaker.\n<START>\n{{user}}: Hi.\n"
                    "{{char}}: Welcome!\n<START>\n{{user}}: Bye.", personality="<START>\nbright")
    assert seed.chat is not None
    assert seed.chat.persona == ("Mira's persona: Mira is a mapmaker.\n\nYou: Hi.\n"
                                 "Mira: Welcome!\n\nYou: Bye.\nMira's personality: bright")


@pytest.mark.parametrize(("name", "expected"), [
    ("修女与女忍的双面日常", "修女与女忍的双面日常"), ("角色卡: 修女", "角色卡-修女"),
    ("Анна Каренина", "анна-каренина"), ("Ελένη", "ελένη"), ("ミク・ー", "ミク-ー"),
    ("İstanbul", "istanbul"), ("ＡＢＣ", "abc"), ("Nguyễn Văn", "nguyen-van"),
    ("a_b/c\\d", "a-b-c-d"), ("\u202eevil\u200b", "evil"), ("नमस्ते", "नमसत"),
])
def test_ids_keep_letters_of_any_script(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_a_non_latin_id_is_a_seed_the_stories_folder_takes(tmp_path: Path) -> None:
    seed, _ = _card(tmp_path, name="修女与女忍的双面日常", first_mes="你好。")
    assert seed.id == "修女与女忍的双面日常"
    paths = AppPaths.from_env()
    path = write_template(paths, seed.id, to_toml(seed))  # refuses what a file may not be
    assert path.name == "修女与女忍的双面日常.toml"
    assert find_seed(paths, "修女与女忍的双面日常").title == "修女与女忍的双面日常"


# -- real cards ---------------------------------------------------------------------------

def _peer(name: str) -> Path:
    path = PEER_SAMPLES / "sillytavern" / "cards" / name
    if not path.is_file():
        pytest.skip(f"peer sample sillytavern/cards/{name} is not present")
    return path


def test_a_real_chinese_card_speaks_of_the_player_by_name() -> None:
    seed, _ = load_card_report(_peer("角色卡_修女与女忍的双面日常.json"))
    assert seed.id == "修女与女忍的双面日常"
    game = fill_seed(seed, {"name": "Lina"})
    assert game.chat is not None
    texts = [game.chat.persona, game.chat.greeting, *(w.content for w in game.world)]
    assert "Lina" in game.chat.persona
    assert not [t for t in texts if re.search(r"\byou\b", t, re.IGNORECASE)]
    assert game.chat.example_dialogue.startswith("You: ")


def test_a_real_card_greets_the_player_by_name() -> None:
    seed, _ = load_card_report(_peer("contest_Assistant_Sakana.png"))
    game = fill_seed(seed, {"name": "Lina"})
    assert game.chat is not None
    text = "\n".join((game.chat.persona, game.chat.greeting, game.chat.example_dialogue))
    assert "Welcome back Lina." in text and "to you Lina." in text
    assert "to you you" not in text and "back you" not in text
