"""SillyTavern / TavernAI character cards (V1, V2, V3; .json or .png) as chat seeds.

A card is untrusted input from a stranger: every problem becomes a ``UserError`` naming the
file and the field, files and fields have size caps, and card text is kept as data (never
interpreted as markup). What the game cannot use (system prompts, assets, disabled lore...)
is listed in the notes of ``load_card_report`` so an import command can tell the player.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.fileio import FileRefused, read_regular_file
from gpt2_adventure.story.cards.fields import card_fields
from gpt2_adventure.story.cards.png_text import is_png, read_text_chunks
from gpt2_adventure.story.cards.to_seed import seed_from_fields
from gpt2_adventure.story.json_kind import kind
from gpt2_adventure.story.model import Seed
from gpt2_adventure.units import size_text

MAX_CARD_BYTES = 20_000_000  # whole file, and inflated zTXt/iTXt text
CARD_SUFFIXES = (".json", ".png")
_SPECS = {"chara_card_v2": "V2", "chara_card_v3": "V3"}
# Pygmalion/old TavernAI flat cards use other names for the V1 fields.
_V1_ALIASES = {"char_name": "name", "char_persona": "description",
               "world_scenario": "scenario", "char_greeting": "first_mes",
               "example_dialogue": "mes_example"}
_OTHER_FORMATS = ((b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
                  (b"PK\x03\x04", "a zip archive"))


def load_card(path: str | Path) -> Seed:
    """Read a character card file as a chat seed."""
    return load_card_report(path)[0]


def load_card_report(path: str | Path) -> tuple[Seed, list[str]]:
    """Read a character card file; also return notes on what the game ignored or changed."""
    path = Path(path)
    data = read_card_file(path)
    return card_report_from_bytes(data, path)


def card_report_from_bytes(data: bytes, path: Path) -> tuple[Seed, list[str]]:
    """A PNG or JSON card's seed and notes (``story/cards/files.py`` reads every kind)."""
    where = str(path)
    if is_png(data):
        obj = _card_from_png(data, where)
    else:
        _refuse_other_formats(data, path, where)
        obj = parse_json(data, "the card", where, in_file=True)
    seed, notes = card_to_seed(obj, where)
    return replace(seed, source=path), notes


def card_to_seed(obj: Any, where: str) -> tuple[Seed, list[str]]:
    """Map a parsed card (any version) to a chat seed and notes; ``where`` names it in errors."""
    if not isinstance(obj, dict):
        raise UserError(f"the card's JSON is {kind(obj)}, expected an object", where)
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, str):
        raise UserError(f"field spec must be text, not {kind(spec)}", where)
    notes: list[str] = []
    if spec in _SPECS or (isinstance(spec, str) and isinstance(obj.get("data"), dict)):
        version = _SPECS.get(spec, "V3")
        if spec not in _SPECS:
            notes.append(f"unknown card spec {str(spec)[:40]!r}; read as V3")
        data = obj.get("data")
        if not isinstance(data, dict):
            raise UserError(f"field data must be an object, not {kind(data)} "
                            f"(this is a {spec} card)", where)
        fields = card_fields(data, where, "data")
    else:
        version = "V1"
        if "name" not in obj and "char_name" in obj:
            obj = {_V1_ALIASES.get(key, key): value for key, value in obj.items()}
        fields = card_fields(obj, where)
    seed, mapping_notes = seed_from_fields(fields, version)
    return seed, notes + mapping_notes


def parse_json(raw: bytes, what: str, where: str, in_file: bool = False) -> Any:
    """Decode UTF-8 JSON, turning every failure into a UserError (line/column when known)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{what} is not UTF-8 text (bad byte at offset {exc.start})",
                        where) from None
    if not text.strip():
        raise UserError(f"{what} is empty", where)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"{where}:{exc.lineno}" if in_file else where
        raise UserError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                        f"column {exc.colno}", at) from None
    except RecursionError:
        raise UserError(f"{what} is nested too deeply to read", where) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise UserError(f"{what} is not valid JSON ({str(exc)[:120]})", where) from None


def read_card_file(path: Path) -> bytes:
    """The file's bytes, within the size a card may have."""
    where = str(path)
    try:
        return read_regular_file(path, MAX_CARD_BYTES, "character card file")
    except FileRefused as refused:
        if refused.reason == "too_large":
            raise UserError(f"the file is too large for a character card (at most "
                            f"{size_text(MAX_CARD_BYTES)})", where) from None
        raise UserError(str(refused), where) from None


def _refuse_other_formats(data: bytes, path: Path, where: str) -> None:
    if path.suffix.lower() == ".png":
        raise UserError("not a PNG image (bad signature)", where)
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise UserError(f"this is {what}; character cards are .png or .json files", where)
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        raise UserError("this is a WEBP image; character cards are .png or .json files", where)


def _card_from_png(data: bytes, where: str) -> Any:
    chunks = read_text_chunks(data, where, ("ccv3", "chara"), MAX_CARD_BYTES)
    # V3 writers keep a V2 copy in `chara` for old readers; `ccv3` is the newer truth.
    keyword = "ccv3" if "ccv3" in chunks else "chara"
    if keyword not in chunks:
        raise UserError("this PNG has no character card in it (no 'chara' or 'ccv3' text "
                        "chunk)", where)
    what = f"the card inside the PNG's '{keyword}' chunk"
    return parse_json(_unbase64(chunks[keyword], keyword, where), what, where)


def _unbase64(text: str, keyword: str, where: str) -> bytes:
    compact = "".join(text.split())
    if not compact:
        raise UserError(f"the PNG's '{keyword}' chunk is empty", where)
    compact += "=" * (-len(compact) % 4)  # some writers drop the padding
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"the PNG's '{keyword}' chunk is not valid base64", where) from None
