"""Files shaped like the ones other programs write (NovelAI, AI Dungeon, SillyTavern chats,
text-generation-webui, RisuAI, Agnai), built in code so the tests run without the peer
samples. Each builder follows the real file it is named after (see the docstrings)."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any


def novelai_entry(text: str, keys: list[str], name: str = "", **fields: Any) -> dict[str, Any]:
    """A NovelAI lorebook entry with every field NovelAI writes (its defaults)."""
    entry: dict[str, Any] = {
        "text": text,
        "contextConfig": {"prefix": "", "suffix": "\n", "tokenBudget": 1, "reservedTokens": 0,
                          "budgetPriority": 400, "trimDirection": "trimBottom",
                          "insertionType": "newline", "maximumTrimType": "sentence",
                          "insertionPosition": -1},
        "lastUpdatedAt": 1666044123984, "displayName": name, "id": f"id-{name or text[:8]}",
        "keys": keys, "searchRange": 1000, "enabled": True, "forceActivation": False,
        "keyRelative": False, "nonStoryActivatable": False, "category": "",
        "loreBiasGroups": [{"phrases": [], "ensureSequenceFinish": False,
                            "generateOnce": True, "bias": 0, "enabled": True,
                            "whenInactive": False}],
    }
    entry.update(fields)
    return entry


def novelai_lorebook(version: int = 5) -> dict[str, Any]:
    """A ``.lorebook`` export: plain, always-on, disabled, regex-keyed and categorised
    entries (like ``Ripple (Mon Oct 17 2022).lorebook``, with more of NovelAI's fields)."""
    return {
        "lorebookVersion": version,
        "entries": [
            novelai_entry("Rome burned in 476.", ["Rome", "Emperor"], "Rome Burning"),
            novelai_entry("Magic is rare.", [], "World", forceActivation=True),
            novelai_entry("Hidden.", ["secret"], "Off", enabled=False),
            novelai_entry("Wyrms sleep under the hills.", ["/wyrm(s)?/i", "serpent"], "Wyrm",
                          searchRange=5000),
            novelai_entry("Ships sail at dawn.", ["harbor"], "Harbor", category="c1",
                          contextConfig={"prefix": "[", "suffix": "]\n", "tokenBudget": 1,
                                         "reservedTokens": 0, "budgetPriority": 200,
                                         "trimDirection": "trimBottom",
                                         "insertionType": "newline",
                                         "maximumTrimType": "sentence",
                                         "insertionPosition": -3}),
            novelai_entry("Ghosts walk.", ["ghost"], "Ghosts", category="c2"),
        ],
        "settings": {"orderByKeyLocations": False},
        "categories": [
            {"name": "Places", "id": "c1", "enabled": True, "createSubcontext": False,
             "subcontextSettings": {}, "useCategoryDefaults": False,
             "categoryDefaults": {}, "categoryBiasGroups": []},
            {"name": "Spooky", "id": "c2", "enabled": False, "createSubcontext": False,
             "subcontextSettings": {}, "useCategoryDefaults": False,
             "categoryDefaults": {}, "categoryBiasGroups": []},
        ],
    }


def novelai_story(text: str = "You stand at the gates of Whiterun.",
                  fragments: list[dict[str, str]] | None = None,
                  document: str | None = None) -> dict[str, Any]:
    """A ``.story`` export, ``storyContainerVersion`` 1 (like the Tamriel sample): the story
    text, memory and author's note in ``context``, a lorebook (version 1 inside stories)."""
    story: dict[str, Any] = {"version": 1, "text": text, "datablocks": [],
                             "currentBlock": 0, "fragments": fragments or []}
    config = {"prefix": "", "suffix": "\n", "tokenBudget": 2048, "reservedTokens": 0,
              "budgetPriority": 400, "trimDirection": "trimBottom",
              "insertionType": "newline", "insertionPosition": -1}
    content: dict[str, Any] = {
        "storyContentVersion": 1,
        "settings": {"parameters": {"temperature": 0.8, "max_length": 40}},
        "story": story,
        "context": [{"text": "[Genre: fantasy]", "contextConfig": dict(config)},
                    {"text": "[Style: grim]", "contextConfig": dict(config)}],
        "lorebook": {"lorebookVersion": 1, "entries": [
            novelai_entry("Ungvid is the Jarl of Winterhold.", ["Ungvid"], "Ungvid")]},
        "storyContextConfig": dict(config),
    }
    if document is not None:
        content["document"] = document
        del content["story"]
    return {"storyContainerVersion": 1,
            "metadata": {"storyMetadataVersion": 1, "id": "215228ed",
                         "title": "Tamriel: The Reign", "description": "A scenario.",
                         "createdAt": 1624410169091},
            "content": content}


def png_with_text(chunks: dict[str, str]) -> bytes:
    """A 1x1 PNG with tEXt chunks (keyword -> text)."""
    def chunk(ctype: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + ctype + body
                + struct.pack(">I", zlib.crc32(ctype + body)))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    texts = b"".join(chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
                     for key, value in chunks.items())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + texts
            + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))


def base64_json(doc: object) -> str:
    return base64.b64encode(json.dumps(doc).encode("utf-8")).decode("ascii")


def v2_card(name: str = "Mira") -> dict[str, Any]:
    return {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": name, "description": "{{char}} is a sailor.",
                     "personality": "", "scenario": "", "first_mes": "Ahoy, {{user}}!",
                     "mes_example": "", "creator_notes": "", "system_prompt": "",
                     "post_history_instructions": "", "alternate_greetings": [],
                     "tags": [], "creator": "", "character_version": "", "extensions": {}}}


def sillytavern_chat_lines() -> list[dict[str, Any]]:
    """A SillyTavern chat log (like ``1673181146000.jsonl``, with today's fields)."""
    return [
        {"user_name": "You", "character_name": "Aqua", "create_date": 1674559896839,
         "chat_metadata": {"note_prompt": "", "note_interval": 1, "note_position": 1,
                           "note_depth": 4}},
        {"name": "Aqua", "is_user": False, "is_system": False, "send_date": 1674563371558,
         "mes": "Are you new here?", "swipes": ["Are you new here?", "Hello there!"],
         "swipe_id": 0, "extra": {}},
    ]


def textgen_character() -> str:
    """A text-generation-webui character (like ``characters/Example.yaml``)."""
    return ('name: "Chiharu Yamada"\n'
            'context: "Chiharu Yamada\'s Persona: Chiharu is a computer engineer."\n'
            "greeting: |-\n    *Chiharu waves* Hey! Let's get started!\n"
            "example_dialogue: |-\n    {{user}}: So how did you start?\n"
            "    {{char}}: I've always loved tinkering.\n")


def aid_story_cards() -> list[dict[str, Any]]:
    """AI Dungeon's story-card export (a list; keys comma-separated)."""
    return [
        {"keys": "Ana, the smith", "value": "Ana is the village smith.", "type": "character",
         "title": "Ana", "description": "Make her gruff.", "useForCharacterCreation": False},
        {"keys": "forge", "value": "The forge burns day and night.", "type": "location",
         "title": "Forge", "description": "", "useForCharacterCreation": True},
        {"keys": "", "value": "No keys.", "type": "custom", "title": "Keyless",
         "description": "", "useForCharacterCreation": False},
    ]


def aid_world_info() -> list[dict[str, Any]]:
    """AI Dungeon's 2021 world-info export, keys written for Enhanced World Info (like
    ``1-jarls.json``)."""
    return [
        {"id": "1.1", "keys": "Katariah|(|the )emp(ress|eror)#[t=5l=5f=2S=2]",
         "entry": "Katariah rules Tamriel.", "hidden": False},
        {"id": "1.2", "keys": "Ungvid,Jarl of Winterhold", "entry": "Ungvid is old.",
         "hidden": True},
        {"id": "1.3", "keys": "wyrm.*", "entry": "Only a regex.", "hidden": False},
    ]


def aid_scenario(title: str, prompt: str, options: list[dict[str, Any]] | None = None,
                 **fields: Any) -> dict[str, Any]:
    """One scenario of an AI Dungeon scenario export (like ``javaman_scenarios.json``)."""
    scenario: dict[str, Any] = {
        "id": "1409055", "publicId": "8569ef80", "published": True, "title": title,
        "description": f"About {title}.", "tags": [], "createdAt": "2021-02-24T02:25:11.800Z",
        "updatedAt": "2021-02-24T02:27:08.712Z", "memory": "", "authorsNote": "",
        "mode": "creative", "prompt": prompt, "quests": [], "worldInfo": [],
        "isOwner": True, "user": {"username": "someone"}, "options": options or [],
        "isOption": False,
    }
    scenario.update(fields)
    return scenario


def charx(card: object, extra: dict[str, bytes] | None = None) -> bytes:
    """A RisuAI ``.charx``: a zip with ``card.json`` and assets."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(card))
        archive.writestr("assets/icon/image/main.png", b"\x89PNG\r\n\x1a\n")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def v3_card(name: str = "Risa") -> dict[str, Any]:
    return {"spec": "chara_card_v3", "spec_version": "3.0",
            "data": {"name": name, "description": "{{char}} paints.", "personality": "",
                     "scenario": "", "first_mes": "Hello!", "mes_example": "",
                     "creator_notes": "", "system_prompt": "", "post_history_instructions": "",
                     "alternate_greetings": ["Hi again."], "tags": [], "creator": "",
                     "character_version": "", "extensions": {}, "group_only_greetings": [],
                     "assets": [{"type": "icon", "uri": "embeded://assets/icon/image/main.png",
                                 "name": "main", "ext": "png"}]}}


def agnai_memory_book() -> dict[str, Any]:
    """An Agnai memory book export."""
    return {"kind": "memory", "name": "Larion", "description": "The kingdom.",
            "userId": "u1", "entries": [
                {"name": "Dragon", "entry": "Vharzul is a red dragon.",
                 "keywords": ["Vharzul", "dragon"], "priority": 10, "weight": 5,
                 "enabled": True},
                {"name": "Off", "entry": "Hidden.", "keywords": ["secret"], "priority": 0,
                 "weight": 0, "enabled": False},
                {"name": "Inn", "entry": "The inn is loud.", "keywords": ["inn"],
                 "priority": 0, "weight": 0, "enabled": True},
            ]}


def st_message(name: str, mes: str, *, user: bool = False, swipes: list[str] | None = None,
               swipe_id: int = 0, **fields: Any) -> dict[str, Any]:
    """One SillyTavern chat message with the fields SillyTavern writes."""
    message: dict[str, Any] = {"name": name, "is_user": user, "is_system": False,
                               "send_date": "January 24, 2023 7:38pm", "mes": mes,
                               "extra": {}}
    if swipes is not None:
        message.update(swipes=swipes, swipe_id=swipe_id,
                       swipe_info=[{"send_date": "January 24, 2023 7:38pm", "extra": {}}
                                   for _ in swipes])
    message.update(fields)
    return message


def st_chat(*messages: dict[str, Any], character: str = "Seraphina", user: str = "Tom",
            **metadata: Any) -> str:
    """A SillyTavern chat log's text: the header line, then the messages."""
    header = {"user_name": user, "character_name": character,
              "create_date": "2023-1-24 @19h 38m 16s 839ms",
              "chat_metadata": {"note_prompt": "", "note_interval": 1, "note_position": 1,
                                "note_depth": 4, **metadata}}
    return "".join(json.dumps(line) + "\n" for line in (header, *messages))


def novelai_scenario() -> dict[str, Any]:
    """A NovelAI ``.scenario`` (version 3) with placeholders written in place and listed."""
    config = {"prefix": "", "suffix": "\n", "tokenBudget": 1, "reservedTokens": 0,
              "budgetPriority": 800, "trimDirection": "trimBottom",
              "insertionType": "newline", "maximumTrimType": "sentence",
              "insertionPosition": 0}
    return {"scenarioVersion": 3, "title": "The Knight", "author": "", "description":
            "A knight's tale.", "prompt": "You are ${name[Bob]:Your name}, a knight of "
            "${1city}. {Braces} stay. ${name} rides.", "tags": ["fantasy"],
            "context": [{"text": "${name} is brave.", "contextConfig": config},
                        {"text": "[Style: grim]", "contextConfig": config}],
            "ephemeralContext": [], "placeholders": [
                {"key": "1city", "description": "Your city", "defaultValue": "Larion",
                 "longDescription": ""}],
            "settings": {"parameters": {"temperature": 0.7}},
            "lorebook": novelai_lorebook(), "storyContextConfig": config,
            "contextDefaults": {}, "phraseBiasGroups": [], "bannedSequenceGroups": []}
