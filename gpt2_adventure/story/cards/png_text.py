"""Read the text chunks (tEXt, zTXt, iTXt) of a PNG file without decoding any pixels.

Only what character cards need: walk the chunk list, find the first text chunk for each
wanted keyword, check its CRC and return its text. Compressed text is inflated with a cap so
a tiny zTXt cannot expand into gigabytes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Collection

from gpt2_adventure.errors import UserError
from gpt2_adventure.units import size_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
_MAX_CHUNK = 2**31 - 1  # the PNG spec's limit for a chunk's length


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def read_text_chunks(
    data: bytes, where: str, wanted: Collection[str], max_text_bytes: int
) -> dict[str, str]:
    """Map each wanted keyword (lower case; matched case-insensitively) to its chunk's text.

    The first chunk with a keyword wins, as in SillyTavern. Text chunks whose keyword is not
    wanted are skipped unread, so a broken comment chunk cannot block a card. A wanted chunk
    with a wrong CRC is an error: it is corrupt, and its base64 would only fail later with a
    vaguer message. Chunks after IEND are ignored; a file that ends cleanly between chunks
    without IEND is accepted (the text we need was complete and checked).
    """
    if not is_png(data):
        raise UserError("not a PNG image (bad signature)", where)
    found: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise UserError(f"truncated PNG: chunk header at byte {pos} is cut short", where)
        length, ctype = struct.unpack_from(">I4s", data, pos)
        name = _chunk_name(ctype)
        if length > _MAX_CHUNK:
            raise UserError(f"bad PNG: the {name} chunk at byte {pos} claims {length} bytes",
                            where)
        end = pos + 12 + length
        if end > len(data):
            raise UserError(f"truncated PNG: the {name} chunk at byte {pos} is cut short", where)
        if ctype == b"IEND":
            break
        if ctype in _TEXT_TYPES:
            body = data[pos + 8 : pos + 8 + length]
            keyword = _keyword(body)
            if keyword is not None and keyword in wanted and keyword not in found:
                (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
                if zlib.crc32(ctype + body) != crc:
                    raise UserError(f"corrupt PNG: CRC mismatch in the {name} chunk "
                                    f"'{keyword}' at byte {pos}", where)
                found[keyword] = _chunk_text(ctype, body, keyword, where, max_text_bytes)
        pos = end
    return found


def _chunk_name(ctype: bytes) -> str:
    text = ctype.decode("latin-1")
    return text if text.isascii() and text.isalpha() else repr(ctype)


def _keyword(body: bytes) -> str | None:
    nul = body.find(b"\0", 0, 80)  # keywords are 1-79 Latin-1 bytes
    if nul < 1:
        return None
    return body[:nul].decode("latin-1").lower()


def _chunk_text(ctype: bytes, body: bytes, keyword: str, where: str, limit: int) -> str:
    rest = body[len(keyword) + 1 :]
    if ctype == b"tEXt":
        return rest.decode("latin-1")
    if not rest and ctype != b"tEXt":
        raise UserError(f"the {ctype.decode()} chunk '{keyword}' is malformed", where)
    if ctype == b"zTXt":
        if rest[:1] != b"\0":
            raise UserError(f"the zTXt chunk '{keyword}' uses an unknown compression method",
                            where)
        return _inflate(rest[1:], keyword, where, limit).decode("latin-1")
    # iTXt: flag, method, language tag NUL, translated keyword NUL, UTF-8 text
    if len(rest) < 2:
        raise UserError(f"the iTXt chunk '{keyword}' is malformed", where)
    compressed, method = rest[0], rest[1]
    fields = rest[2:].split(b"\0", 2)
    if len(fields) < 3:
        raise UserError(f"the iTXt chunk '{keyword}' is malformed", where)
    raw = fields[2]
    if compressed:
        if method != 0:
            raise UserError(f"the iTXt chunk '{keyword}' uses an unknown compression method",
                            where)
        raw = _inflate(raw, keyword, where, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"the iTXt chunk '{keyword}' is not UTF-8 text "
                        f"(bad byte at offset {exc.start})", where) from None


def _inflate(payload: bytes, keyword: str, where: str, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(payload, limit + 1)  # stop as soon as it is too big
    except zlib.error as exc:
        raise UserError(f"the compressed chunk '{keyword}' is corrupt ({exc})", where) from None
    if len(out) > limit:
        raise UserError(f"the compressed chunk '{keyword}' expands to more than "
                        f"{size_text(limit)}; refusing it", where)
    if not inflater.eof:
        raise UserError(f"the compressed chunk '{keyword}' is cut short", where)
    return out
