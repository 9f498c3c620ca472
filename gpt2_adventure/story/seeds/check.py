"""Turn a parsed seed document (a dict from tomllib) into a ``Seed``, or say what is wrong.

Problems carry the key path of the offending field, so the caller can find its line in the
file; this module never looks at files.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any, cast

from gpt2_adventure import schema
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.model import (
    MODES,
    NO_SCENE,
    ChatSpec,
    Mode,
    Placeholder,
    Seed,
    WorldEntry,
)
from gpt2_adventure.story.seeds.fill import BraceError, is_identifier, placeholder_names
from gpt2_adventure.story.seeds.lines import KeyPath

FORMAT = 1
ROOT_FIELDS = ("format", "title", "genre", "description", "mode", "openings", "opening",
               "placeholders", "memory", "authors_note", "world", "sampling", "chat")
PLACEHOLDER_FIELDS = ("name", "question", "default")
WORLD_FIELDS = ("keys", "secondary_keys", "content", "always", "comment")
CHAT_FIELDS = ("character", "persona", "example_dialogue", "greeting", "player", "others",
               "alternate_greetings")


class Problem(Exception):
    """What is wrong and where.

    ``field`` is the key path named in the message; ``line_at`` the path whose line to show
    (a missing key has no line of its own, so its table's is shown); ``needle`` is text to
    look for from there on (an undeclared placeholder inside a long opening).
    """

    def __init__(self, field: KeyPath, message: str, *, line_at: KeyPath | None = None,
                 needle: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.line_at = field if line_at is None else line_at
        self.needle = needle

    @property
    def label(self) -> str:
        return label(self.field)


def label(field: KeyPath) -> str:
    """("world", 1, "keys") -> "world#2.keys": entries are counted from 1, as people count."""
    out = ""
    for part in field:
        out += f"#{part + 1}" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# TOML's kinds as a seed's errors name them (bool before int: True is an int in Python)
_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true/false"), (int, "a whole number"), (float, "a number"), (str, "a text"),
    (list, "a list"), (dict, "a table"))


def _kind(value: Any) -> str:
    return next((name for type_, name in _KINDS if isinstance(value, type_)),
                f"a {type(value).__name__}")


def _unknown(data: dict[str, Any], allowed: tuple[str, ...], at: KeyPath) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise Problem((*at, key), f"unknown field{hint}; expected one of: "
                          + ", ".join(allowed))


def _text(data: dict[str, Any], key: str, at: KeyPath, *, required: bool = False,
          default: str = "") -> str:
    if key not in data:
        if required:
            raise Problem((*at, key), f'missing; expected {key} = "..."', line_at=at)
        return default
    value = data[key]
    if not isinstance(value, str):
        raise Problem((*at, key), f"expected a text in quotes, got {_kind(value)}")
    if required and not value.strip():
        raise Problem((*at, key), "must not be empty")
    return value


def _texts(data: dict[str, Any], key: str, at: KeyPath, example: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise Problem((*at, key), f"expected a list of texts, e.g. {key} = {example}, "
                      f"got {_kind(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise Problem((*at, key, index), f"expected a text, got {_kind(item)}")
        if not item.strip():
            raise Problem((*at, key, index), "must not be empty")
    return tuple(value)


def _tables(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Problem((key,), f"expected [[{key}]] tables, got {_kind(value)}")
    return value


def _format(data: dict[str, Any]) -> None:
    if "format" not in data:
        raise Problem(("format",), f"missing; a seed starts with format = {FORMAT}",
                      line_at=())
    value = data["format"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Problem(("format",), f"expected format = {FORMAT}, got {value!r}")
    if value > FORMAT:
        raise Problem(("format",), f"this seed is format {value}, but this version of "
                      f"gpt2-adventure reads format {FORMAT}; update gpt2-adventure")


def _openings(data: dict[str, Any], chat: ChatSpec | None) -> tuple[str, ...]:
    if "opening" in data and "openings" in data:
        raise Problem(("opening",), "use either opening or openings, not both")
    if "opening" in data:
        return (_text(data, "opening", (), required=True),)
    if "openings" not in data and chat is not None and chat.greeting.strip():
        return (NO_SCENE,)  # a chat may open on the character's greeting alone
    if "openings" not in data:
        raise Problem(("openings",), 'missing; expected openings = ["..."] '
                      '(or a single opening = "...")', line_at=())
    openings = _texts(data, "openings", (), '["You stand at the gate..."]')
    if not openings:
        raise Problem(("openings",), "expected at least one opening")
    return openings


def _placeholders(data: dict[str, Any]) -> tuple[Placeholder, ...]:
    out: list[Placeholder] = []
    for index, table in enumerate(_tables(data, "placeholders")):
        at: KeyPath = ("placeholders", index)
        _unknown(table, PLACEHOLDER_FIELDS, at)
        name = _text(table, "name", at, required=True)
        if not is_identifier(name):
            raise Problem((*at, "name"), f"{name!r} is not a simple name; use letters, "
                          "digits and _ (not starting with a digit), e.g. name = \"name\"")
        if any(p.name == name for p in out):
            raise Problem((*at, "name"), f'placeholder "{name}" is declared twice')
        out.append(Placeholder(name=name, question=_text(table, "question", at, default=name),
                               default=_text(table, "default", at)))
    return tuple(out)


def _world(data: dict[str, Any]) -> tuple[WorldEntry, ...]:
    out = []
    for index, table in enumerate(_tables(data, "world")):
        at: KeyPath = ("world", index)
        _unknown(table, WORLD_FIELDS, at)
        always = table.get("always", False)
        if not isinstance(always, bool):
            raise Problem((*at, "always"), f"expected true or false, got {_kind(always)}")
        keys = _texts(table, "keys", at, '["dragon", "wyrm"]')
        if not keys and not always:
            raise Problem((*at, "keys"), 'missing; expected keys = ["..."] (or always = true)',
                          line_at=at)
        out.append(WorldEntry(
            keys=keys, content=_text(table, "content", at, required=True),
            secondary_keys=_texts(table, "secondary_keys", at, '["cave"]'),
            always=always, comment=_text(table, "comment", at)))
    return tuple(out)


def _sampling(data: dict[str, Any]) -> dict[str, Any]:
    """The seed's suggested sampling, each value checked as config.toml's would be (kept as
    written: sessions convert it)."""
    table = data.get("sampling", {})
    if not isinstance(table, dict):
        raise Problem(("sampling",), f"expected a [sampling] table, got {_kind(table)}")
    _unknown(table, tuple(spec.name for spec in schema.specs(Sampling)), ("sampling",))
    for key, value in table.items():
        try:
            schema.checked(Sampling, key, value)
        except schema.SettingError as error:
            raise Problem(("sampling", key), error.problem) from None
    return dict(table)


def _speaker(data: dict[str, Any], key: str, *, required: bool, default: str = "") -> str:
    name = _text(data, key, ("chat",), required=required, default=default)
    if ":" in name or "\n" in name or not name.strip():
        raise Problem(("chat", key), f"{name!r} cannot be a speaker's name (no ':' or line "
                      "breaks; the transcript is written as \"Name: text\")")
    return name


def _chat(data: dict[str, Any], mode: str) -> ChatSpec | None:
    if "chat" not in data:
        if mode == "chat":
            raise Problem(("chat",), 'missing; mode = "chat" needs a [chat] table with at '
                          'least character = "..."', line_at=("mode",))
        return None
    table = data["chat"]
    if not isinstance(table, dict):
        raise Problem(("chat",), f"expected a [chat] table, got {_kind(table)}")
    if mode != "chat":
        raise Problem(("chat",), f'a [chat] table is only for mode = "chat" (this seed\'s '
                      f'mode is "{mode}")')
    _unknown(table, CHAT_FIELDS, ("chat",))
    others = _texts(table, "others", ("chat",), '["quietlibrarian", "OP"]')
    spec = ChatSpec(
        character=_speaker(table, "character", required=True),
        persona=_text(table, "persona", ("chat",)),
        example_dialogue=_text(table, "example_dialogue", ("chat",)),
        greeting=_text(table, "greeting", ("chat",)),
        player=_speaker(table, "player", required=False, default="You"),
        others=others,
        alternate_greetings=_texts(table, "alternate_greetings", ("chat",),
                                   '["Oh! A visitor."]'))
    if spec.alternate_greetings and not spec.greeting.strip():
        raise Problem(("chat", "alternate_greetings"), "alternate greetings need a greeting "
                      "(they are alternatives of it)")
    for index, name in enumerate(others):
        if ":" in name or "\n" in name:
            raise Problem(("chat", "others", index), f"{name!r} cannot be a speaker's name "
                          "(no ':' or line breaks)")
    everyone = [spec.player, *spec.speakers]
    if len(set(everyone)) < len(everyone):
        raise Problem(("chat",), "the player, character and others must all have "
                      "different names")
    return spec


def templated_fields(seed: Seed) -> Iterator[tuple[KeyPath, str]]:
    """Every text of a seed that may hold placeholders, with its key path."""
    for index, opening in enumerate(seed.openings):
        yield ("openings", index), opening
    yield ("memory",), seed.memory
    yield ("authors_note",), seed.authors_note
    for index, entry in enumerate(seed.world):
        at: KeyPath = ("world", index)
        for k, key in enumerate(entry.keys):
            yield (*at, "keys", k), key
        for k, key in enumerate(entry.secondary_keys):
            yield (*at, "secondary_keys", k), key
        yield (*at, "content"), entry.content
    if seed.chat:
        for name in ("character", "persona", "example_dialogue", "greeting", "player"):
            yield ("chat", name), getattr(seed.chat, name)
        for index, other in enumerate(seed.chat.others):
            yield ("chat", "others", index), other
        for index, greeting in enumerate(seed.chat.alternate_greetings):
            yield ("chat", "alternate_greetings", index), greeting


def _check_placeholders(seed: Seed) -> None:
    declared = {p.name for p in seed.placeholders}
    used: set[str] = set()
    for field, text in templated_fields(seed):
        try:
            names = placeholder_names(text)
        except BraceError as exc:
            raise Problem(field, f"{exc}; write {{{{ or }}}} for a literal brace, "
                          "{name} for a placeholder",
                          needle=text[exc.position:exc.position + 10].split("\n")[0]) from None
        for name in names:
            if name not in declared:
                raise Problem(field, f"placeholder {{{name}}} is not declared; add a "
                              f'[[placeholders]] table with name = "{name}" (or write '
                              f"{{{{{name}}}}} for literal braces)", needle=f"{{{name}}}")
        used.update(names)
    for index, placeholder in enumerate(seed.placeholders):
        if placeholder.name not in used:
            raise Problem(("placeholders", index, "name"), f'placeholder "{placeholder.name}" '
                          "is declared but never used; write {" + placeholder.name + "} in an "
                          "opening, the memory, the author's note, world info or [chat]")


def check_seed(data: dict[str, Any], seed_id: str) -> Seed:
    """Validate a parsed document and build the Seed. Raises Problem."""
    _format(data)
    _unknown(data, ROOT_FIELDS, ())
    title = _text(data, "title", (), required=True)
    mode = _text(data, "mode", (), required=True)
    if mode not in MODES:
        raise Problem(("mode",), "expected one of " + ", ".join(f'"{m}"' for m in MODES)
                      + f", got {mode!r}")
    chat = _chat(data, mode)
    seed = Seed(
        id=seed_id, title=title, mode=cast(Mode, mode), openings=_openings(data, chat),
        genre=_text(data, "genre", ()), description=_text(data, "description", ()),
        placeholders=_placeholders(data), memory=_text(data, "memory", ()),
        authors_note=_text(data, "authors_note", ()), world=_world(data),
        sampling=_sampling(data), chat=chat)
    _check_placeholders(seed)
    return seed
