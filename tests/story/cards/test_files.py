"""Every character file a player may bring opens as a chat (chat --character, stories
import-card): SillyTavern cards, RisuAI .charx, text-generation-webui YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards.files import load_character_report
from tests.support.peer_formats import charx, textgen_character, v2_card, v3_card


def test_a_charx_opens_as_a_chat(tmp_path: Path) -> None:
    path = tmp_path / "risa.charx"
    path.write_bytes(charx(v3_card("Risa")))
    seed, notes = load_character_report(path)
    assert seed.chat is not None and seed.chat.character == "Risa" and seed.source == path
    assert any("asset" in note for note in notes)


def test_a_textgen_character_opens_as_a_chat(tmp_path: Path) -> None:
    path = tmp_path / "Example.yaml"
    path.write_text(textgen_character(), encoding="utf-8")
    seed, _ = load_character_report(path)
    assert seed.chat is not None and seed.chat.character and seed.source == path


def test_a_sillytavern_card_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "mira.json"
    path.write_text(json.dumps(v2_card("Mira")), encoding="utf-8")
    seed, _ = load_character_report(path)
    assert seed.chat is not None and seed.chat.character == "Mira"


@pytest.mark.parametrize("spec", [["chara_card_v2"], {"v": 2}, 3])
def test_a_spec_that_is_not_text_is_one_clear_error(tmp_path: Path, spec: object) -> None:
    # A list or an object here raised TypeError (unhashable) from the card reader.
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({**v2_card("Mira"), "spec": spec}), encoding="utf-8")
    with pytest.raises(UserError, match="field spec must be text") as info:
        load_character_report(path)
    assert info.value.where == str(path)


def test_a_broken_zip_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "card.charx"
    path.write_bytes(b"PK\x03\x04zip")
    with pytest.raises(UserError, match="zip archive") as info:
        load_character_report(path)
    assert info.value.where == str(path)
