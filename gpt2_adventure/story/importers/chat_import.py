"""A SillyTavern chat log with its character: the card given (``--character``) or, when none
is, one named like the chat's character in the log's own folder (``Aqua.png``,
``Aqua.json``). The name comes from the file, so it is used only when it is a plain file name:
nothing outside that folder is looked at."""

from __future__ import annotations

from pathlib import Path

from gpt2_adventure.story.importers.common import ImportProblem
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.importers.sillytavern_chat import (
    character_name,
    label,
    parse_log,
    story_from_chat,
)
from gpt2_adventure.story.model import Seed

CARD_SUFFIXES = (".png", ".json")


def chat_story(doc: object, where: str, title: str, character: Path | None,
               beside: Path | None) -> tuple[ImportedStory, list[str], list[str], str]:
    """(the story, dropped, notes, what it is: a chat or a group chat)."""
    if not isinstance(doc, str):
        raise ImportProblem("a SillyTavern chat is read from its text", where)
    chat = parse_log(doc, where)
    notes: list[str] = []
    card_path = character or _beside(character_name(chat), beside, where)
    card = None
    if card_path is not None:
        card, card_notes = _card(card_path)
        notes.append(f"character card: {card_path}"
                     + ("" if character is not None else " (found beside the chat)"))
        notes += [f"card: {note}" for note in card_notes]
    story, dropped, more = story_from_chat(chat, where, title or "SillyTavern chat", card)
    return story, dropped, notes + more, label(story)


def _beside(name: str, folder: Path | None, where: str) -> Path | None:
    if folder is None or not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        return None
    for suffix in CARD_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # a name the filesystem refuses
            return None
    return None


def _card(path: Path) -> tuple[Seed, list[str]]:
    from gpt2_adventure.story.cards.files import load_character_report
    from gpt2_adventure.story.seeds.library import fill_seed

    seed, notes = load_character_report(path)
    return fill_seed(seed, {}), notes
