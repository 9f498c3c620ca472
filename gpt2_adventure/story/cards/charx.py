"""RisuAI ``.charx`` cards: a zip archive holding a Character Card V3 ``card.json`` and its
assets (``assets/...``), as the V3 spec defines the container.

An archive from a stranger is hostile. Before anything is read, every member is checked:
no absolute path, drive letter or ``..`` (a path that would leave the folder if unpacked),
no more than ``MAX_MEMBERS`` members, no encrypted member, ``card.json`` not larger than a
card may be and not compressed more than ``MAX_RATIO`` to one (a zip bomb). Only
``card.json`` is ever decompressed, into memory, and reading stops at the cap whatever the
archive claims. Assets are listed as dropped, never unpacked.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards.reader import MAX_CARD_BYTES, parse_json
from gpt2_adventure.units import size_text

FORMAT = "a RisuAI character (.charx)"
CARD_MEMBER = "card.json"
MAX_MEMBERS = 10_000
MAX_RATIO = 200  # JSON compresses well, but not this well
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
               EOFError, OSError, ValueError, zlib.error)


def card_from_charx(data: bytes, where: str) -> tuple[dict[str, Any] | Any, list[str]]:
    """The parsed ``card.json`` and what was left out (the assets)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as error:
        raise UserError(f"not a readable zip archive ({_short(error)})", where) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UserError(f"the archive has too many files ({len(members):,}; at most "
                            f"{MAX_MEMBERS:,})", where)
        for member in members:
            _check_path(member.filename, where)
        cards = [m for m in members if m.filename == CARD_MEMBER]
        if not cards:
            raise UserError("this zip archive has no card.json, so it is not a RisuAI .charx "
                            "card", where)
        if len(cards) > 1:
            raise UserError("the archive holds card.json twice", where)
        raw = _read(archive, cards[0], where)
    card = parse_json(raw, "the card.json in the archive", where)
    assets = [m for m in members if not m.is_dir() and m.filename != CARD_MEMBER]
    dropped = ([f"{len(assets)} asset file(s) in the archive (images, sounds…) not imported"]
               if assets else [])
    return card, dropped


def _check_path(name: str, where: str) -> None:
    shown = name.encode("unicode_escape").decode("ascii")[:80]
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if (posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith("\\")
            or ".." in posix.parts or ".." in windows.parts or "\0" in name):
        raise UserError(f"the archive holds a file with an unsafe path ({shown!r}): an "
                        "archive trick, refused", where)


def _read(archive: zipfile.ZipFile, member: zipfile.ZipInfo, where: str) -> bytes:
    if member.flag_bits & 0x1:
        raise UserError("card.json is encrypted in the archive", where)
    if member.file_size > MAX_CARD_BYTES:
        raise UserError(f"card.json is too large ({size_text(member.file_size)}; a card may "
                        f"be at most {size_text(MAX_CARD_BYTES)})", where)
    if (member.file_size > 1_000_000
            and member.file_size > MAX_RATIO * max(member.compress_size, 1)):
        raise UserError("card.json expands more than a card could (a zip bomb?); refused",
                        where)
    try:
        with archive.open(member) as stream:
            raw = stream.read(MAX_CARD_BYTES + 1)
    except _ZIP_ERRORS as error:
        raise UserError(f"cannot read card.json from the archive ({_short(error)})",
                        where) from None
    if len(raw) > MAX_CARD_BYTES:  # never: zipfile stops at the stated size (and checks it)
        raise UserError(f"card.json expands past {size_text(MAX_CARD_BYTES)} (a zip bomb?); "
                        "refused", where)
    return raw


def _short(error: BaseException) -> str:
    return " ".join(str(error).split())[:120] or type(error).__name__
