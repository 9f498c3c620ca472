"""How a character card's fields become a chat seed (file reading lives in ``cards.py``).

GPT-2 is not an instruction follower: it continues text. So the card becomes prose it can
continue (a persona header, example lines as ``Name: text``), and instruction-style fields
(system prompt, post-history instructions) are left out and reported.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace

from gpt2_adventure.story.cards.fields import (
    MAX_FIELD_CHARS,
    MAX_NAME_CHARS,
    MAX_WORLD_ENTRIES,
    clean,
    substitute,
)
from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.lorebooks.character_book import read_book
from gpt2_adventure.story.model import NO_SCENE, ChatSpec, Placeholder, Seed, WorldEntry
from gpt2_adventure.story.seeds.fill import escape

PLAYER = "You"
OTHER_PLAYER = "User"  # when the character itself is called "You"
NEUTRAL_GREETING = "Hello."
LINKED_LOREBOOK = "the card names a separate lorebook"  # how that note starts
DESCRIPTION_MAX_CHARS = 160
# The persona and memory get 30% of GPT-2's 1,024 tokens (story/context.py): about 1,200
# characters of English.
LONG_PERSONA_CHARS = 1_200
_START = re.compile(r"[ \t]*<start>\s*", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]")  # a letter or digit of any script
# Stands for the player's name while card text is escaped (private-use characters).
_CALLED = "\ue000name\ue001"
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}
_IGNORED = (("system_prompt", "system prompt ignored (GPT-2 does not follow instructions)"),
            ("post_history_instructions", "post-history instructions ignored (GPT-2 does not "
                                          "follow instructions)"))
_QUIET_EXTENSIONS = {"talkativeness", "fav", "depth_prompt", "world"}  # UI state or handled

Sub = Callable[[str], str]


def seed_from_fields(fields: Fields, version: str) -> tuple[Seed, list[str]]:
    """Build the chat seed from a card's fields (root of V1, ``data`` of V2/V3)."""
    notes: list[str] = []
    title = " ".join(fields.text("name", MAX_NAME_CHARS).split())  # one line, as a label
    if not title:
        raise fields.error("name", "is missing or empty: a character card needs a name")
    # V3: when a nickname is set, {{char}} means the nickname.
    nickname = " ".join(fields.text("nickname", MAX_NAME_CHARS).split()) if version == "V3" else ""
    character, player = _speakers(nickname or title, notes)

    called: list[bool] = []  # did any text need the player's name ({name})?

    def sub(text: str) -> str:
        out = substitute(text, character, player, _CALLED).strip()
        if _CALLED in out:
            called.append(True)
        return out

    # A persona may embed an example chat, <START> markers and all, as example dialogue has.
    description = example_dialogue(sub(fields.text("description")))
    personality = example_dialogue(sub(fields.text("personality")))
    scenario = sub(fields.text("scenario"))
    first = sub(fields.text("first_mes"))
    others = [g for g in map(sub, fields.texts("alternate_greetings")) if g]
    examples = example_dialogue(sub(fields.text("mes_example")))
    creator_notes = fields.text("creator_notes").strip()

    # The first message is the character's greeting, the chat's first reply (once: on
    # screen and in the prompt); alternate greetings are its alternatives; the scenario is
    # the scene above it.
    greetings = [first, *others] if first else others
    if not greetings and not scenario:
        notes.append("the card has no first message; the chat opens with a neutral greeting")
        greetings = [NEUTRAL_GREETING]
    elif not greetings:
        notes.append("the card has no first message; you speak first")
    parts = [f"{character}'s persona: {description}" if description else "",
             f"{character}'s personality: {personality}" if personality else ""]
    persona = "\n".join(p for p in parts if p)
    if len(persona) > LONG_PERSONA_CHARS:
        notes.append(f"the persona is long (about {len(persona) // 4:,} tokens): GPT-2 keeps "
                     "about 300 of its 1,024 for it, so its end is left out; consider "
                     "shortening it")

    summary = one_line((description or creator_notes).replace(_CALLED, OTHER_PLAYER),
                       DESCRIPTION_MAX_CHARS)
    if creator_notes and description:
        notes.append("creator notes ignored (they are for people browsing cards)")
    notes += [note for key, note in _IGNORED if fields.filled(key)]
    if version == "V3":
        notes += _v3_notes(fields)
    authors_note = _extensions(fields, sub, notes)
    world = _world(fields, version, sub, notes)

    # Seed texts are templates ({name} placeholders); card text is literal, so its braces
    # are doubled and fill_seed() gives back exactly what the card said. Where the card
    # calls the player by name, {name} asks for it when the chat starts (or takes --name).
    def template(text: str) -> str:
        return escape(text).replace(_CALLED, "{name}")

    world = tuple(replace(e, keys=tuple(map(template, e.keys)), content=template(e.content),
                          secondary_keys=tuple(map(template, e.secondary_keys)))
                  for e in world)
    seed = Seed(
        id=slug(title), title=title, mode="chat", openings=(template(scenario or NO_SCENE),),
        genre=_genre(fields, notes), description=summary or f"A chat with {character}.",
        placeholders=(Placeholder("name", f"What does {one_line(character, 40)} call you?",
                                  OTHER_PLAYER),) if called else (),
        authors_note=template(authors_note), world=world, sampling={},
        chat=ChatSpec(character=escape(character), persona=template(persona),
                      example_dialogue=template(examples),
                      greeting=template(greetings[0] if greetings else ""), player=player,
                      alternate_greetings=tuple(map(template, greetings[1:]))),
    )
    return seed, notes


def _speakers(name: str, notes: list[str]) -> tuple[str, str]:
    """The character's and the player's speaker labels for ``Name: text`` lines."""
    character = " ".join(name.replace(":", " ").split())
    if not character:
        character = "Character"
    if character != name:
        notes.append(f"the name has ':' which cannot be in a speaker's name; the character "
                     f"speaks as {one_line(character, 40)!r}")
    if character.casefold() == PLAYER.casefold():
        notes.append(f"the character is called {PLAYER!r}, so the player is called "
                     f"{OTHER_PLAYER!r}")
        return character, OTHER_PLAYER
    return character, PLAYER


def example_dialogue(text: str) -> str:
    """Drop the ``<START>`` separators; a blank line marks where one example ended."""
    lines: list[str] = []
    for line in text.split("\n"):  # not splitlines(): keep U+2028 and friends as written
        start = _START.match(line)
        if start is None:
            lines.append(line)
            continue
        if lines and lines[-1].strip():
            lines.append("")
        if line[start.end():].strip():
            lines.append(line[start.end():])
    return "\n".join(lines).strip()


def one_line(text: str, limit: int) -> str:
    """Whitespace collapsed, cut at a word boundary with an ellipsis when too long."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "\u2026"


def slug(name: str) -> str:
    """A readable, file-safe id: the name's letters and digits in any script (Latin ones
    without their accents), lower case, with hyphens between words; what a seed file may be
    called (``\\w[\\w.-]*``, as ``stories new`` accepts) and every file system allows. Marks
    that are not word characters (some Indic vowel signs) are left out; a hash when nothing
    is left."""
    out = []
    for char in unicodedata.normalize("NFKC", name):
        ascii_part = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        if ascii_part.isalnum():  # "é" -> "e", "İ" -> "i"
            out.append(ascii_part.lower())
        elif _WORD.fullmatch(char):
            out.append(char.lower() if len(char.lower()) == 1 else char)
        elif not unicodedata.category(char).startswith("M"):
            out.append("-")
    text = re.sub(r"-+", "-", "".join(out)).strip("-")[:48].strip("-")
    if not text:
        return "card-" + hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{text}-card" if text in _WINDOWS_RESERVED else text


def _listing(labels: list[str], shown: int = 5) -> str:
    more = f" and {len(labels) - shown} more" if len(labels) > shown else ""
    return ", ".join(labels[:shown]) + more


def _genre(fields: Fields, notes: list[str]) -> str:
    tags = fields.data.get("tags")
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        picked = [one_line(clean(t), 20) for t in tags if t.strip()][:3]
        if picked:
            return ", ".join(picked)
    elif fields.filled("tags"):
        notes.append("tags ignored (not a list of text)")
    return "character card"


def _v3_notes(fields: Fields) -> list[str]:
    notes = []
    group = fields.data.get("group_only_greetings")
    if isinstance(group, list) and group:
        notes.append(f"{len(group)} group-only greeting(s) ignored")
    assets = fields.data.get("assets")
    if isinstance(assets, list):
        # The default icon ("ccdefault:") is the PNG itself; anything else is not shown.
        extra = [a for a in assets if not (isinstance(a, dict) and a.get("uri") == "ccdefault:")]
        if extra:
            notes.append(f"{len(extra)} asset(s) ignored (images and sounds are not shown)")
    return notes


def _extensions(fields: Fields, sub: Sub, notes: list[str]) -> str:
    """SillyTavern's character note (``depth_prompt``) is an author's note; the rest is noted."""
    ext = fields.data.get("extensions")
    if not isinstance(ext, dict):
        if fields.filled("extensions"):
            notes.append("extensions ignored (not an object)")
        return ""
    authors_note = ""
    depth = ext.get("depth_prompt")
    prompt = depth.get("prompt") if isinstance(depth, dict) else None
    if isinstance(prompt, str) and len(prompt) <= MAX_FIELD_CHARS:
        authors_note = sub(clean(prompt))
    elif depth:
        notes.append("extensions.depth_prompt ignored (not in the expected shape)")
    linked = ext.get("world")
    if isinstance(linked, str) and linked.strip() and not _embedded(fields, linked):
        notes.append(f"{LINKED_LOREBOOK} ({one_line(clean(linked), 40)!r}) "
                     "that is not inside it; bring it with --lorebook FILE")
    other = sorted(one_line(clean(k), 40) for k, v in ext.items()
                   if v and k not in _QUIET_EXTENSIONS)
    if other:
        notes.append(f"extensions ignored: {_listing(other)}")
    return authors_note


def _embedded(fields: Fields, world: str) -> bool:
    """Is the lorebook ``extensions.world`` names the card's own ``character_book``? When
    SillyTavern exports a card, it embeds the world it links, named after it."""
    book = fields.data.get("character_book")
    name = book.get("name") if isinstance(book, dict) else None
    return isinstance(name, str) and clean(name).strip() == clean(world).strip()


def _world(fields: Fields, version: str, sub: Sub, notes: list[str]) -> tuple[WorldEntry, ...]:
    book = fields.obj("character_book")
    if book is None:
        return ()
    entries, dropped = read_book(book, version, sub, MAX_WORLD_ENTRIES)
    notes += dropped
    return tuple(entries)  # plain text: seed_from_fields makes them templates
