"""Which program a file comes from, told by its content (the extension only breaks ties)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gpt2_adventure.story.importers.common import ImportProblem, kind, load_json, load_yaml

Format = Literal["aid2-seeds", "aid2-save", "clover-save", "clover-prompt", "kobold",
                 "kobold-united", "lorebook"]
FORMATS: tuple[str, ...] = ("aid2-seeds", "aid2-save", "clover-save", "clover-prompt", "kobold",
                            "kobold-united", "lorebook")
KNOWN = ("a KoboldAI or KoboldAI United story (.json), an AI Dungeon 2 story_data.yaml or save "
         "(.json), or a Clover Edition save (.json) or prompt (.txt)")
_SETTINGS_LINE = re.compile(r"^settings\s*:", re.MULTILINE)


@dataclass(frozen=True)
class Detected:
    format: Format
    doc: object  # the parsed JSON/YAML, or the text of a prompt file


def detect(text: str, where: str, suffix: str = "") -> Detected:
    """The file's format and its parsed content; a clear error when it is none we read."""
    suffix = suffix.lower()
    if text.lstrip().startswith(("{", "[")) or suffix == ".json":
        try:
            doc = load_json(text, where)
        except ImportProblem:
            if suffix not in (".txt", ".yaml", ".yml"):  # a prompt or flow-style YAML
                raise
        else:
            return Detected(json_format(doc, where), doc)
    if suffix in (".yaml", ".yml") or _SETTINGS_LINE.search(text):
        doc = load_yaml(text, where)
        if not isinstance(doc, dict):
            raise ImportProblem(f"the YAML holds {kind(doc)}, not a mapping; expected AI "
                                "Dungeon 2's story_data.yaml (settings: ...)", where)
        if "settings" not in doc:
            raise ImportProblem("not an AI Dungeon 2 story_data.yaml (it has no settings:)",
                                where)
        return Detected("aid2-seeds", doc)
    if suffix == ".txt":
        return Detected("clover-prompt", text)
    raise ImportProblem(f"not a format gpt2-adventure imports; expected {KNOWN}", where)


def json_format(doc: object, where: str) -> Format:
    from gpt2_adventure.story.lorebooks.read import lorebook_kind

    if lorebook_kind(doc) is not None:  # world info only: added to a story with --into
        return "lorebook"
    if not isinstance(doc, dict):
        raise ImportProblem(f"the file holds {kind(doc)}, not an object; expected {KNOWN}",
                            where)
    if doc.get("format") == "gpt2-adventure-save":
        raise ImportProblem("this is already a gpt2-adventure save", where,
                            hint="look at it with: gpt2-adventure saves show PATH")
    if "spec" in doc or ("first_mes" in doc and "name" in doc):
        raise ImportProblem("this looks like a character card", where,
                            hint="import it with: gpt2-adventure stories import-card PATH")
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
