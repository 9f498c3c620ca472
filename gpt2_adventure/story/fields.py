"""Typed access to the fields of a parsed JSON or YAML object from another program (a
character card, another app's save), with errors that name the file and the field by its
path: ``data.character_book.entries[2].keys``.

A missing key and ``null`` both mean "not given": old versions of every format left keys out,
and hand edits put nulls in. Each family of files words its errors and treats its text its
own way (``Rules``); the reading is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.json_kind import kind as json_kind


@dataclass(frozen=True)
class Rules:
    """How one family of files is read, and how its problems are worded."""

    error: Callable[[str, str], UserError]  # the exception, from (message, where)
    clean: Callable[[str], str]  # applied to every text read
    label: str = ""  # before the field's name: "field " -> "field data.name must be ..."
    verb: str = "should be"  # "prompt should be text, not a number"
    kind: Callable[[object], str] = json_kind  # how a wrong value is named: "a number"
    list_of_text: str = "a list of text"  # what ``texts`` asks for when it gets no list
    null_items_are_empty: bool = True  # [null, "x"] reads as ["", "x"]; else an error
    max_chars: int | None = None  # per text
    max_items: int | None = None  # per list


class Fields:
    """One object of the file: ``data`` as parsed, ``prefix`` its path in the file."""

    def __init__(self, data: dict[str, Any], where: str, rules: Rules, prefix: str = "") -> None:
        self.data = data
        self.where = where
        self.rules = rules
        self.prefix = prefix

    def name(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.prefix}[{key}]"
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str | int, problem: str) -> UserError:
        return self._error(self.name(key), problem)

    def fail(self, key: str | int, problem: str) -> NoReturn:
        raise self.error(key, problem)

    def given(self, key: str) -> bool:
        return self.data.get(key) is not None

    def filled(self, key: str) -> bool:
        """Whether the field holds anything worth mentioning when we ignore it."""
        value = self.data.get(key)
        return bool(value.strip()) if isinstance(value, str) else bool(value)

    def text(self, key: str, limit: int | None = None, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "is missing")
            return ""
        return self._text(self.name(key), value, limit)

    def texts(self, key: str, limit: int | None = None) -> list[str]:
        """A list of texts, at most ``limit`` (else the rules') items."""
        name = self.name(key)
        empty = self.rules.null_items_are_empty
        return [self._text(f"{name}[{i}]", "" if item is None and empty else item)
                for i, item in enumerate(self._list(key, self.rules.list_of_text, limit))]

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._wrong(self.name(key), "true or false", value)
        return value

    def obj(self, key: str) -> Fields | None:
        """The object at ``key``, or None when it is not given."""
        value = self.data.get(key)
        return None if value is None else self.sub(key, value)

    def objs(self, key: str, limit: int | None = None) -> list[Fields]:
        return [self._object(f"{self.name(key)}[{i}]", item)
                for i, item in enumerate(self._list(key, "a list", limit))]

    def sub(self, key: str | int, value: object) -> Fields:
        """``value``, found at ``key``, as an object; an error naming it if it is none."""
        return self._object(self.name(key), value)

    def _object(self, name: str, value: object) -> Fields:
        if not isinstance(value, dict):
            self._wrong(name, "an object", value)
        return Fields(value, self.where, self.rules, name)

    def _text(self, name: str, value: object, limit: int | None = None) -> str:
        if not isinstance(value, str):
            self._wrong(name, "text", value)
        limit = limit if limit is not None else self.rules.max_chars
        if limit is not None and len(value) > limit:
            raise self._error(name, f"is too long ({len(value):,} characters; "
                                    f"at most {limit:,})")
        return self.rules.clean(value)

    def _list(self, key: str, wanted: str, limit: int | None) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(self.name(key), wanted, value)
        limit = limit if limit is not None else self.rules.max_items
        if limit is not None and len(value) > limit:
            self.fail(key, f"has too many items ({len(value):,}; at most {limit:,})")
        return value

    def _wrong(self, name: str, wanted: str, value: object) -> NoReturn:
        raise self._error(name, f"{self.rules.verb} {wanted}, not {self.rules.kind(value)}")

    def _error(self, name: str, problem: str) -> UserError:
        return self.rules.error(f"{self.rules.label}{name} {problem}", self.where)
