"""A character file of any kind a player may bring, as a chat seed: a SillyTavern/TavernAI card
(.png or .json, V1-V3), a RisuAI .charx (a zip holding a V3 card.json and its assets) or a
text-generation-webui character (.yaml). ``chat --character``, ``stories import-card`` and a
chat log's ``--character`` all read cards through here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards.charx import card_from_charx
from gpt2_adventure.story.cards.reader import card_report_from_bytes, card_to_seed, read_card_file
from gpt2_adventure.story.cards.textgen import seed_from_character
from gpt2_adventure.story.model import Seed

ZIP = b"PK\x03\x04"
YAML_SUFFIXES = (".yaml", ".yml")


def load_character_report(path: str | Path) -> tuple[Seed, list[str]]:
    """The chat seed a character file makes, and notes on what it left out."""
    path = Path(path)
    where = str(path)
    data = read_card_file(path)
    if data.startswith(ZIP):
        card, assets = card_from_charx(data, where)
        seed, notes = card_to_seed(card, where)
        return replace(seed, source=path), notes + assets
    if path.suffix.lower() in YAML_SUFFIXES:
        from gpt2_adventure.story.importers.common import load_yaml

        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UserError(f"the character is not UTF-8 text (bad byte at offset "
                            f"{exc.start})", where) from None
        seed, notes = seed_from_character(load_yaml(text, where), where)
        return replace(seed, source=path), notes
    return card_report_from_bytes(data, path)
