"""Build character-card PNGs for tests: a valid 1x1 image plus text chunks, CRCs correct."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(ctype: bytes, data: bytes, crc: int | None = None) -> bytes:
    """One chunk: length, type, data, CRC over type+data (or the ``crc`` given)."""
    if crc is None:
        crc = zlib.crc32(ctype + data)
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def text_chunk(keyword: str, text: str) -> bytes:
    return chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))


def ztxt_chunk(keyword: str, text: str | bytes, level: int = 9) -> bytes:
    raw = text.encode("latin-1") if isinstance(text, str) else text
    return chunk(b"zTXt", keyword.encode("latin-1") + b"\0\0" + zlib.compress(raw, level))


def itxt_chunk(keyword: str, text: str | bytes, compressed: bool = False) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if compressed:
        raw = zlib.compress(raw, 9)
    head = keyword.encode("latin-1") + b"\0" + bytes([int(compressed), 0]) + b"en\0\0"
    return chunk(b"iTXt", head + raw)


def minimal_png(*extra: bytes) -> bytes:
    """A 1x1 8-bit greyscale PNG with ``extra`` chunks between IHDR and IDAT."""
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\x00\x80"))  # filter byte 0, one grey pixel
    return SIGNATURE + ihdr + b"".join(extra) + idat + chunk(b"IEND", b"")


def encode_card(card: Any) -> str:
    """The card as PNG card writers store it: base64 of the UTF-8 JSON."""
    return base64.b64encode(json.dumps(card).encode("utf-8")).decode("ascii")


def card_png(card: Any, keyword: str = "chara", kind: str = "tEXt") -> bytes:
    """A PNG holding ``card`` in one text chunk of the given kind (tEXt, zTXt, iTXt, iTXt-z)."""
    text = encode_card(card)
    if kind == "tEXt":
        made = text_chunk(keyword, text)
    elif kind == "zTXt":
        made = ztxt_chunk(keyword, text)
    elif kind == "iTXt":
        made = itxt_chunk(keyword, text)
    else:
        made = itxt_chunk(keyword, text, compressed=True)
    return minimal_png(made)
