"""Which program a file comes from, told by its content (the extension only breaks ties)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from gpt2_adventure.story.importers.binary import binary_kind, png_content
from gpt2_adventure.story.importers.common import ImportProblem, kind, load_json, load_yaml

Format = Literal["aid2-seeds", "aid2-save", "clover-save", "clover-prompt", "kobold",
                 "kobold-united", "lorebook", "card", "novelai-story", "aid-scenarios",
                 "textgen-character", "charx", "st-chat", "novelai-scenario"]
FORMATS: tuple[str, ...] = ("aid2-seeds", "aid2-save", "clover-save", "clover-prompt", "kobold",
                            "kobold-united", "lorebook", "card", "novelai-story",
                            "aid-scenarios", "textgen-character", "charx", "st-chat",
                            "novelai-scenario")
KNOWN = ("a KoboldAI or KoboldAI United story (.json), an AI Dungeon 2 story_data.yaml or save "
         "(.json), a Clover Edition save (.json) or prompt (.txt), an AI Dungeon scenario "
         "export (.json), a NovelAI story (.story) or scenario (.scenario), or a character: "
         "a card (.json, .png), a RisuAI .charx or a text-generation-webui character "
         "(.yaml), or a SillyTavern chat (.jsonl)")
_SETTINGS_LINE = re.compile(r"^settings\s*:", re.MULTILINE)
# text-generation-webui characters: name/context/greeting (or the older char_* names).
_CHARACTER_LINE = re.compile(r"^(?:name|context|greeting|char_name|char_persona)\s*:",
                             re.MULTILINE)
_CHAT_HEADER = ("user_name", "character_name", "create_date", "chat_metadata")


@dataclass(frozen=True)
class Detected:
    format: Format
    doc: object  # the parsed JSON/YAML, or the text of a prompt file
    label: str = ""  # what exactly it is, when the format's own label is too broad


def detect_binary(data: bytes, where: str) -> Detected | None:
    """A file that is not text, by its first bytes; None when it may be text."""
    found = binary_kind(data)
    if found is None:
        return None
    if found == "png":
        what, doc = png_content(data, where)
        if what == "card":
            return Detected("card", doc)
        return Detected("lorebook", None, "a NovelAI lorebook image")
    if found == "zip":  # a RisuAI .charx; checked as hostile when it is read
        return Detected("charx", data)
    raise ImportProblem(f"this is {found}, not a format gpt2-adventure imports; expected "
                        f"{KNOWN}", where)


def detect(text: str, where: str, suffix: str = "") -> Detected:
    """The file's format and its parsed content; a clear error when it is none we read."""
    suffix = suffix.lower()
    if text.lstrip().startswith(("{", "[")) or suffix in (".json", ".jsonl"):
        try:
            doc = load_json(text, where)
        except ImportProblem:
            lines = json_lines(text, where)
            if lines is not None:
                return lines
            if suffix not in (".txt", ".yaml", ".yml"):  # a prompt or flow-style YAML
                raise
        else:
            if isinstance(doc, dict) and sum(key in doc for key in _CHAT_HEADER) >= 2:
                return Detected("st-chat", text)  # a chat log with no message yet
            return Detected(json_format(doc, where), doc)
    if (suffix in (".yaml", ".yml") or _SETTINGS_LINE.search(text)
            or (suffix != ".txt" and _CHARACTER_LINE.search(text))):  # .txt: a prompt
        doc = load_yaml(text, where)
        if isinstance(doc, dict) and "settings" not in doc and _is_character(doc):
            return Detected("textgen-character", doc)
        if not isinstance(doc, dict):
            raise ImportProblem(f"the YAML holds {kind(doc)}, not a mapping; expected AI "
                                "Dungeon 2's story_data.yaml (settings: ...) or a "
                                "text-generation-webui character", where)
        if "settings" not in doc:
            raise ImportProblem("not an AI Dungeon 2 story_data.yaml (it has no settings:) "
                                "nor a text-generation-webui character (no name, context "
                                "and greeting)", where)
        return Detected("aid2-seeds", doc)
    if suffix == ".txt":
        return Detected("clover-prompt", text)
    raise ImportProblem(f"not a format gpt2-adventure imports; expected {KNOWN}", where)


def json_lines(text: str, where: str) -> Detected | None:
    """A file of one JSON value a line (JSON Lines) that we know, or None."""
    first = text.lstrip().split("\n", 1)[0]
    try:
        header = json.loads(first)
    except (ValueError, RecursionError):
        return None
    if isinstance(header, dict) and sum(key in header for key in _CHAT_HEADER) >= 2:
        return Detected("st-chat", text)
    return None


def _is_character(doc: dict[object, object]) -> bool:
    return ("name" in doc and ("context" in doc or "greeting" in doc)) or "char_name" in doc


def json_format(doc: object, where: str) -> Format:
    # These readers use this package's helpers: imported when needed.
    from gpt2_adventure.story.importers import scenarios
    from gpt2_adventure.story.lorebooks.novelai import is_story
    from gpt2_adventure.story.lorebooks.read import lorebook_kind

    if is_story(doc):
        return "novelai-story"
    if scenarios.looks_like(doc):
        return "aid-scenarios"
    if lorebook_kind(doc) is not None:  # world info only: added to a story with --into
        return "lorebook"
    if not isinstance(doc, dict):
        raise ImportProblem(f"the file holds {kind(doc)}, not an object; expected {KNOWN}",
                            where)
    if doc.get("format") == "gpt2-adventure-save":
        raise ImportProblem("this is already a gpt2-adventure save", where,
                            hint="look at it with: gpt2-adventure saves show PATH")
    if "scenarioVersion" in doc:
        return "novelai-scenario"
    if "spec" in doc or ("first_mes" in doc and "name" in doc) or "char_greeting" in doc:
        return "card"
    if _is_character(doc):  # text-generation-webui also reads its characters as JSON
        return "textgen-character"
    if "story_start" in doc:
        return "aid2-save"
    # KoboldAI United's own format: "file_version": 2, its actions an object (not a list).
    if doc.get("file_version") == 2 or (isinstance(doc.get("actions"), dict)
                                         and "results" not in doc):
        return "kobold-united"
    if "gamestarted" in doc or ("prompt" in doc and "actions" in doc):
        return "kobold"
    if "actions" in doc and "results" in doc:
        return "clover-save"
    if "settings" in doc:
        return "aid2-seeds"
    raise ImportProblem(f"a JSON object, but not a format gpt2-adventure imports; expected "
                        f"{KNOWN}", where)
