"""The save file: a versioned JSON document, its validation, and upgrades from older versions.

A document looks like ``{"format": "gpt2-adventure-save", "version": 1, "saved_at": ...,
"app_version": ..., "name": ..., "state": {...}}``. ``state`` is ``StoryState.to_dict()``.
Version 2 is the same document with ``"journal": <base>``: an autosave snapshot whose story
goes on in the journal file beside it (``journal.py``). A file is written with the lowest
version that holds it, so a whole save (named, exported, imported, an autosave at rest) stays
version 1 and an older gpt2-adventure reads it; an autosave in the middle of a game is
version 2, which an older one refuses as newer rather than read it without its last turns.
Everything read here may be hostile: every failure is a ``UserError`` naming the file (and the
line/column or the field), never a KeyError/TypeError/RecursionError traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NoReturn

from gpt2_adventure import __version__
from gpt2_adventure.errors import UserError
from gpt2_adventure.story import strict_json
from gpt2_adventure.story.json_kind import kind
from gpt2_adventure.story.model import ACTION_KINDS, MODES, StoryState
from gpt2_adventure.story.saves import journal as journal_file
from gpt2_adventure.story.saves.journal import Replay
from gpt2_adventure.units import count

FORMAT = "gpt2-adventure-save"
WHOLE_VERSION = 1  # a whole story in one file: what every save but a live autosave is
JOURNALED_VERSION = 2  # a snapshot continued by the journal beside it
CURRENT_VERSION = 2  # the newest version this build reads
MAX_SAVE_BYTES = 50 * 1024 * 1024

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _whole_to_journaled(doc: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: nothing to change (a version-2 document without "journal" is whole)."""
    doc.pop("journal", None)  # a version-1 file never continues in a journal
    return doc


# MIGRATIONS[n] turns a version-n document into a version-(n + 1) one; applied in order.
# Add a step whenever CURRENT_VERSION goes up. A new optional key that an older reader may
# ignore (from_dict skips unknown keys) and whose absence means "none" (a turn's "ahead") is
# not a new version: old saves load as they are. A key an older reader must not ignore (the
# story goes on elsewhere: "journal") is.
MIGRATIONS: dict[int, Migration] = {1: _whole_to_journaled}

ROLES = ("opening", "player", "model")
# Every key StoryState.to_dict() writes; a test keeps this in step with model.py.
STATE_FIELDS = frozenset({"mode", "title", "id", "seed_id", "memory", "authors_note", "world",
                          "turns", "redo", "chat", "sampling", "values", "model",
                          "dropped_lore"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class NewerSaveError(UserError):
    """The save was written by a newer gpt2-adventure (a save version this one cannot read):
    the file is sound, only not for us."""


def legacy_id(raw: bytes) -> str:
    """The game id of a save written without one: taken from its bytes, so that the same file
    is the same game every time it is loaded (one lock, one autosave, its own save name)."""
    return "legacy" + hashlib.sha256(raw).hexdigest()[:26]


@dataclass(frozen=True)
class SaveDocument:
    """A save as read from disk (already upgraded to the current version)."""

    state: StoryState
    name: str
    saved_at: datetime | None
    app_version: str
    version: int  # the version the file was written with, before any upgrade
    journal: Replay | None = None  # the journal replayed over a snapshot (version 2)


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).isoformat(timespec="milliseconds")


def encode(state: StoryState, name: str, now: datetime | None = None,
           journal: str | None = None) -> bytes:
    """The bytes of a save document; checked to load back before anyone writes them. With
    ``journal`` (the base token of the journal that will continue it), a snapshot."""
    doc: dict[str, Any] = {"format": FORMAT, "version": WHOLE_VERSION,
                           "saved_at": now_text(now), "app_version": __version__,
                           "name": name}
    if journal is not None:
        doc.update(version=JOURNALED_VERSION, journal=journal)
    doc["state"] = state.to_dict()
    try:
        try:
            data = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False).encode()
        except UnicodeEncodeError:  # lone surrogates: \u-escapes keep the file valid UTF-8
            data = json.dumps(doc, ensure_ascii=True, indent=1, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as error:
        raise UserError(f"cannot save: the game holds a value JSON cannot store ({error})",
                        name) from None
    return data


_JSON_SAYS: dict[strict_json.Failure, str] = {
    "syntax": "save file is not valid JSON: {}",
    "nested": "save file is nested too deeply to be a save",
    "value": "save file has a value it should not: {}"}


def decode(raw: bytes, where: str,
           journal: bytes | Callable[[], bytes | None] | None = None) -> SaveDocument:
    """Parse, upgrade and validate a save file's bytes. ``where`` names the file in errors.
    A snapshot (version 2) is continued by ``journal``, its journal file's bytes or what
    reads them (None: it has none, and the snapshot is the story)."""
    try:
        text = raw.decode("utf-8-sig")  # tolerate a BOM from a hand edit
    except UnicodeDecodeError as error:
        raise UserError(f"save file is not UTF-8 text (bad byte at offset {error.start})",
                        where) from None
    try:
        doc = strict_json.loads(text)
    except strict_json.JsonProblem as problem:
        raise UserError(problem.say(_JSON_SAYS), problem.place(where)) from None
    if not isinstance(doc, dict):
        raise UserError(f"not a gpt2-adventure save (the file holds {kind(doc)}, "
                        "not an object)", where)
    if doc.get("format") != FORMAT:
        raise UserError(f'not a gpt2-adventure save (no "format": "{FORMAT}")', where)
    version = doc.get("version")
    if type(version) is not int or version < 1:
        raise UserError(f'bad save: "version" should be a whole number >= 1, not '
                        f"{kind(version)}", where)
    doc = upgrade(doc, where)
    if "state" not in doc:
        raise UserError("bad save: state is missing", where)
    check = _Checker(where)
    state_data = check.obj(doc["state"], "state")
    saved_at, replay = doc.get("saved_at"), None
    base = doc.get("journal")
    if base is not None:
        if not isinstance(base, str):
            check.fail("journal", "text", base)
        raw_journal = journal() if callable(journal) else journal
        replay = journal_file.read(raw_journal or b"", base)
        last = journal_file.replay_into(state_data, replay)
        saved_at = last.get("at", saved_at) if last is not None else saved_at
    if not state_data.get("id"):  # written before saves kept the game's id
        state_data = {**state_data, "id": legacy_id(raw)}
    return SaveDocument(
        state=check.state(state_data),
        name=_lenient_text(doc.get("name")),
        saved_at=parse_time(saved_at),
        app_version=_lenient_text(doc.get("app_version")),
        version=version,
        journal=replay,
    )


def upgrade(doc: dict[str, Any], where: str) -> dict[str, Any]:
    """Apply the registered steps from the document's version up to CURRENT_VERSION."""
    version = doc["version"]
    if version > CURRENT_VERSION:
        raise NewerSaveError(f"this save was made by a newer gpt2-adventure (save version "
                             f"{version}, this one reads up to {CURRENT_VERSION})", where,
                             hint="update gpt2-adventure to load it; the file is left as it is")
    while version < CURRENT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise UserError(f"cannot upgrade a version-{version} save (no upgrade step)", where)
        try:
            doc = step(dict(doc))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise UserError(f"cannot upgrade this save from version {version}: "
                            f"{type(error).__name__}: {error}", where) from None
        version += 1
        doc["version"] = version
    return doc


def parse_time(value: object) -> datetime | None:
    """An ISO-8601 time as aware UTC, or None (saved_at is metadata: never fatal)."""
    if not isinstance(value, str):
        return None
    try:  # Python 3.10's fromisoformat does not take a trailing "Z"
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def _lenient_text(value: object) -> str:
    return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else ""


def _dotted(field: str, key: str) -> str:
    """``field.key`` for a key from the file; a key that is not one plain word is quoted and
    escaped, so the message stays one line (a key can hold a newline)."""
    plain = key.isidentifier() or (key.replace("-", "_").isidentifier())
    return f"{field}.{key}" if plain else f"{field}[{key!r}]"


class _Checker:
    """Checks the decoded state field by field; errors name the field, e.g. state.turns[2].text.

    Returns copies with lone surrogates replaced (they cannot be printed or written as UTF-8).
    Unknown keys are passed through untouched for ``from_dict`` to ignore.
    """

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, expected: str, value: object) -> NoReturn:
        raise UserError(f"bad save: {field} should be {expected}, not {kind(value)}",
                        self.where)

    def obj(self, value: object, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(field, "an object", value)
        return value

    def text(self, value: object, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, "text", value)
        return _LONE_SURROGATE.sub("\ufffd", value)

    def texts(self, value: object, field: str) -> list[str]:
        if not isinstance(value, list):
            self.fail(field, "a list of text", value)
        return [self.text(item, f"{field}[{i}]") for i, item in enumerate(value)]

    def choice(self, value: object, field: str, allowed: tuple[str, ...]) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        shown = repr(value[:40]) if isinstance(value, str) else kind(value)
        raise UserError(f"bad save: {field} should be one of {', '.join(allowed)}, not {shown}",
                        self.where)

    def fields(self, data: dict[str, Any], field: str, required: tuple[str, ...],
               texts: tuple[str, ...]) -> dict[str, Any]:
        """A copy of ``data`` with the required keys present and the text keys checked."""
        for key in required:
            if key not in data:
                raise UserError(f"bad save: {field}.{key} is missing", self.where)
        out = dict(data)
        for key in texts:
            if key in data:
                out[key] = self.text(data[key], f"{field}.{key}")
        return out

    def state(self, data: dict[str, Any]) -> StoryState:
        out = self.fields(data, "state", ("mode", "title"),
                          ("title", "id", "seed_id", "memory", "authors_note", "model"))
        self.choice(data["mode"], "state.mode", MODES)
        out["world"] = [self.world(w, f"state.world[{i}]")
                        for i, w in enumerate(self.list_of(data.get("world", []), "state.world"))]
        out["turns"] = self.turns(data.get("turns", []), "state.turns")
        out["redo"] = [self.turns(step, f"state.redo[{i}]")
                       for i, step in enumerate(self.list_of(data.get("redo", []), "state.redo"))]
        chat = data.get("chat")
        out["chat"] = None if chat is None else self.chat(chat, "state.chat")
        out["sampling"] = self.sampling(data.get("sampling", {}), "state.sampling")
        out["dropped_lore"] = self.texts(data.get("dropped_lore", []), "state.dropped_lore")
        values = self.obj(data.get("values", {}), "state.values")
        out["values"] = {self.text(k, "state.values key"): self.text(v, _dotted("state.values", k))
                         for k, v in values.items()}
        try:  # the checks above should make this safe; stay safe if model.py grows
            return StoryState.from_dict(out)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UserError(f"bad save: state: {type(error).__name__}: {error}",
                            self.where) from None

    def list_of(self, value: object, field: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(field, "a list", value)
        return value

    def turns(self, value: object, field: str) -> list[dict[str, Any]]:
        return [self.turn(t, f"{field}[{i}]") for i, t in enumerate(self.list_of(value, field))]

    def turn(self, value: object, field: str) -> dict[str, Any]:
        data = self.obj(value, field)
        out = self.fields(data, field, ("role", "text"), ("text", "raw", "speaker"))
        self.choice(data["role"], f"{field}.role", ROLES)
        if data.get("kind") is not None:
            self.choice(data["kind"], f"{field}.kind", ACTION_KINDS)
        out["alternatives"] = self.texts(data.get("alternatives", []), f"{field}.alternatives")
        out["ahead"] = self.texts(data.get("ahead", []), f"{field}.ahead")
        chosen = data.get("chosen", 0)
        if type(chosen) is not int:
            self.fail(f"{field}.chosen", "a whole number", chosen)
        if out["alternatives"] and not 0 <= chosen < len(out["alternatives"]):
            raise UserError(f"bad save: {field}.chosen is {chosen} but the turn has "
                            f"{count(len(out['alternatives']), 'alternative')}", self.where)
        out["chosen"] = chosen if out["alternatives"] else 0  # no alternatives: nothing chosen
        return out

    def world(self, value: object, field: str) -> dict[str, Any]:
        data = self.obj(value, field)
        out = self.fields(data, field, ("content",), ("content", "comment"))
        out["keys"] = self.texts(data.get("keys", []), f"{field}.keys")
        out["secondary_keys"] = self.texts(data.get("secondary_keys", []),
                                           f"{field}.secondary_keys")
        if not isinstance(data.get("always", False), bool):
            self.fail(f"{field}.always", "true or false", data["always"])
        return out

    def chat(self, value: object, field: str) -> dict[str, Any]:
        data = self.obj(value, field)
        out = self.fields(data, field, ("character",),
                          ("character", "persona", "example_dialogue", "greeting", "player"))
        out["others"] = self.texts(data.get("others", []), f"{field}.others")
        if "alternate_greetings" in data:
            out["alternate_greetings"] = self.texts(data["alternate_greetings"],
                                                    f"{field}.alternate_greetings")
        return out

    def sampling(self, value: object, field: str) -> dict[str, Any]:
        """Overrides of Sampling fields: numbers, true/false, text, lists of text, maps."""
        data = self.obj(value, field)
        out: dict[str, Any] = {}
        for raw_key, item in data.items():
            key = self.text(raw_key, field + " key")
            name = _dotted(field, key)
            if isinstance(item, list):
                out[key] = [self.scalar(x, f"{name}[{i}]") for i, x in enumerate(item)]
            elif isinstance(item, dict):
                out[key] = {self.text(k, name + " key"): self.scalar(v, _dotted(name, k))
                            for k, v in item.items()}
            else:
                out[key] = self.scalar(item, name)
        return out

    def scalar(self, value: object, field: str) -> object:
        if isinstance(value, str):
            return self.text(value, field)
        if isinstance(value, float) and not math.isfinite(value):  # 1e999 parses as inf
            raise UserError(f"bad save: {field} is too large a number", self.where)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        self.fail(field, "a number, true/false or text", value)
