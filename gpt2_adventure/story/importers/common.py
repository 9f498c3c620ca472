"""Reading files from other programs safely: size caps, encodings, JSON/YAML, typed fields
(``story.fields``, with the importers' wording).

Everything read here may be hostile or broken. Every failure is a ``UserError`` naming the file
(and the field), never a KeyError/TypeError/RecursionError traceback.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.fileio import FileRefused, atomic_create, read_regular_file
from gpt2_adventure.story import strict_json
from gpt2_adventure.story.fields import Fields, Rules
from gpt2_adventure.story.json_kind import kind as json_kind
from gpt2_adventure.units import size_text

MAX_FILE_BYTES = 50 * 1024 * 1024  # saves and stories: the same cap as our own saves
# YAML is parsed by a pure-Python loader: a small cap keeps it quick (story_data.yaml is 4 kB).
MAX_YAML_BYTES = 1_000_000
MAX_SEEDS = 500  # one file may not flood the stories folder (YAML aliases multiply cheaply)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_NAME_BAD = re.compile(r"[^\w \-.']+")  # what check_name() allows: letters, digits, " -_.'"
_WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                               *(f"lpt{i}" for i in range(10))})


class ImportProblem(UserError):
    """A file that cannot be imported; ``where`` names it."""


# -- reading ------------------------------------------------------------------------------

def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file up to ``limit``; anything else is a clear error."""
    try:
        return read_regular_file(path, limit)
    except FileRefused as refused:
        message = too_large(limit) if refused.reason == "too_large" else str(refused)
        raise ImportProblem(message, path) from None


def too_large(limit: int) -> str:
    return f"the file is too large to import (the limit is {size_text(limit)})"


def decode_text(raw: bytes, where: str) -> tuple[str, list[str]]:
    """Text from UTF-8 (with or without a byte-order mark), UTF-16 with a BOM, or else
    Windows-1252/Latin-1, which is reported in the notes because accents may be wrong."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ImportProblem("the file says it is UTF-16 but is not", where) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        if "\x00" in text:
            raise ImportProblem("this is a binary file, not text", where)
        return text, []
    if b"\x00" in raw:
        raise ImportProblem("this is a binary file, not text", where)
    # Old Windows tools wrote Windows-1252 (curly quotes at 0x91-0x94); Latin-1 takes the
    # five bytes Windows-1252 leaves undefined, so decoding always succeeds.
    try:
        return raw.decode("cp1252"), ["the file is not UTF-8; read it as Windows-1252 "
                                      "(check accented letters and quotes)"]
    except UnicodeDecodeError:
        return raw.decode("latin-1"), ["the file is not UTF-8; read it as Latin-1 "
                                       "(check accented letters and quotes)"]


_JSON_SAYS: dict[strict_json.Failure, str] = {
    "syntax": "not valid JSON: {}", "nested": "the JSON is nested too deeply",
    "value": "the JSON has a value it should not: {}"}


def load_json(text: str, where: str) -> Any:
    try:
        return strict_json.loads(text)
    except strict_json.JsonProblem as problem:
        raise ImportProblem(problem.say(_JSON_SAYS), problem.place(where)) from None


def load_yaml(text: str, where: str) -> Any:
    """YAML through the safe loader only: tags such as ``!!python/object`` are refused."""
    import yaml  # only YAML imports pay for it

    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise ImportProblem(too_large(MAX_YAML_BYTES) + " for YAML", where)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        place = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        problem = error.problem or error.context or "unreadable"
        if "could not determine a constructor" in str(error):
            problem = f"{problem} (only plain YAML is read; tags like !!python are refused)"
        raise ImportProblem(f"not valid YAML: {problem}", place) from None
    except yaml.YAMLError as error:
        raise ImportProblem(f"not valid YAML: {' '.join(str(error).split())}", where) from None
    except RecursionError:
        raise ImportProblem("the YAML is nested too deeply", where) from None
    except (ValueError, TypeError, OverflowError) as error:  # e.g. a date like 2019-99-99
        raise ImportProblem(f"the YAML has a value that cannot be read: {error}",
                            where) from None


def kind(value: object) -> str:
    """How a value is named in errors: JSON's words, but YAML's "a mapping" for tables."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, tuple):
        return "a list"
    if value is None or isinstance(value, (bool, int, float, str, list)):
        return json_kind(value)
    return f"a {type(value).__name__}"


def clean(text: str) -> str:
    """Lone surrogates (from JSON ``\\ud800`` escapes) cannot be written as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


# -- typed fields -------------------------------------------------------------------------

# Importers say "prompt should be text, not a number", and name a table "a mapping" (YAML's word).
IMPORTED = Rules(error=ImportProblem, clean=clean, kind=kind)


def import_fields(data: dict[str, Any], where: str) -> Fields:
    return Fields(data, where, IMPORTED)


def need_object(doc: object, where: str, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ImportProblem(f"not {what}: the file holds {kind(doc)}, not an object", where)
    return doc


# -- names --------------------------------------------------------------------------------

def slug(name: str, limit: int = 48) -> str:
    """A file-safe id part: ASCII letters, digits and hyphens ("" when nothing is left)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:limit].strip("-")


def seed_id(prefix: str, *parts: str) -> str:
    """``prefix-part-part``; a part that leaves no letters becomes a short hash of itself."""
    pieces = [slug(p, 24) or hashlib.sha1(p.encode("utf-8", "surrogatepass")).hexdigest()[:8]
              for p in parts]
    return "-".join([prefix, *pieces])


def save_name(stem: str) -> str:
    """A save name (see ``saves.check_name``) made from a file name."""
    name = unicodedata.normalize("NFC", clean(stem))
    name = " ".join(_NAME_BAD.sub("-", name).split()).replace("..", ".")
    name = name.strip(" .-")[:80].strip(" .-")
    if name.lower().endswith(".json"):
        name = name[:-5].rstrip(" .-")
    if not name:
        return "imported story"
    if name.split(".")[0].rstrip().lower() in _WINDOWS_RESERVED:
        name = f"{name} story"
    return name


def unique(names: Iterator[str], taken: set[str]) -> str:
    for name in names:
        if name.casefold() not in taken:
            return name
    raise AssertionError("unreachable: the name generator is endless")


def numbered(base: str) -> Iterator[str]:
    """``base``, ``base 2``, ``base 3``..."""
    yield base
    n = 2
    while True:
        yield f"{base} {n}"
        n += 1


def first_sentence(text: str, limit: int = 60) -> str:
    """A one-line title from a story's first words."""
    line = " ".join(text.split())
    match = re.match(r".+?[.!?](?=\s|$)", line)
    title = match.group() if match else line
    if len(title) > limit:
        title = title[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return title


# -- writing ------------------------------------------------------------------------------

def write_new(path: Path, data: bytes) -> bool:
    """Write a new file atomically; never replace an existing one. False if it exists."""
    return atomic_create(path, data, mode=0o644, temp_prefix=".import-")
