"""Files that are not text, told by their first bytes: a PNG holding a character card
(``chara``/``ccv3`` text chunks) or a NovelAI lorebook (``naidata``), a zip archive (a RisuAI
``.charx`` card), other images. Nothing here decodes pixels or unpacks anything."""

from __future__ import annotations

import base64
import binascii

from gpt2_adventure.story.cards.png_text import is_png, read_text_chunks
from gpt2_adventure.story.importers.common import ImportProblem, load_json

MAX_TEXT_BYTES = 20_000_000  # a card's or a lorebook's text inside a PNG (as cards allow)
CARD_KEYWORDS = ("ccv3", "chara")  # V3 writers keep a V2 copy in 'chara': 'ccv3' wins
LOREBOOK_KEYWORD = "naidata"
ZIP_MAGIC = b"PK\x03\x04"
_IMAGES = ((b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"))


def png_content(data: bytes, where: str) -> tuple[str, object]:
    """("card", the card's JSON) or ("lorebook", None) for a PNG; an error for a PNG that
    holds neither."""
    chunks = read_text_chunks(data, where, (*CARD_KEYWORDS, LOREBOOK_KEYWORD), MAX_TEXT_BYTES)
    for keyword in CARD_KEYWORDS:
        if keyword in chunks:
            return "card", load_json(chunk_text(chunks[keyword], keyword, where), where)
    if LOREBOOK_KEYWORD in chunks:
        return "lorebook", None
    raise ImportProblem("this PNG image has no character card ('chara' or 'ccv3' text chunk) "
                        "and no NovelAI lorebook ('naidata') in it", where)


def chunk_text(text: str, keyword: str, where: str) -> str:
    """The JSON text of a PNG text chunk: base64 (as every writer does), or JSON itself."""
    compact = "".join(text.split())
    if compact.startswith(("{", "[")):
        return text
    if not compact:
        raise ImportProblem(f"the PNG's '{keyword}' chunk is empty", where)
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImportProblem(f"the PNG's '{keyword}' chunk is neither base64 nor JSON",
                            where) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem(f"the PNG's '{keyword}' chunk is not UTF-8 text", where) from None


def binary_kind(data: bytes) -> str | None:
    """"png", "zip", or what other image this is ("a JPEG image"); None for text."""
    if is_png(data):
        return "png"
    if data.startswith(ZIP_MAGIC):
        return "zip"
    for magic, what in _IMAGES:
        if data.startswith(magic):
            return what
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        return "a WEBP image"
    return None
