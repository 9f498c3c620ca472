"""A small, bounded GGUF header parser.

gguf.GGUFReader builds numpy views for every vocabulary string (seconds for GPT-2's 50257
tokens) and trusts the counts it reads. This reads only what we need, checks every length
against the file size, and skips arrays without materialising them, so a corrupt or hostile
header fails fast with ``HeaderError``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_KEY_BYTES = 1 << 16
MAX_STRING_BYTES = 1 << 24
MAX_DIMS = 8
# Strings and inner arrays walked in the whole header. GPT-2 has ~100k (50257 tokens, 50000
# merges); a hostile file could claim tens of millions, each costing a Python loop step.
MAX_ITEMS = 1 << 21
MAX_NESTING = 4  # arrays of arrays; real files use none
_CHUNK = 1 << 20
_LENGTH = struct.Struct("<Q")

# GGUF value type -> struct format of a scalar
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
            12: "d"}
_STRING, _ARRAY = 8, 9


class HeaderError(Exception):
    """The header is cut short or inconsistent."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # ggml order: fastest-varying dimension first
    type_id: int
    offset: int  # absolute offset of the data in the file
    n_bytes: int

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass
class Header:
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)  # arrays: their length only
    array_lengths: dict[str, int] = field(default_factory=dict)
    tensors: list[TensorInfo] = field(default_factory=list)


class _Reader:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        self.items = 0  # strings and inner arrays walked so far (bounded by MAX_ITEMS)

    def count(self, n: int) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise HeaderError(f"more than {MAX_ITEMS} strings or arrays in the header")

    def take(self, n: int) -> bytes:
        if n < 0 or self.fh.tell() + n > self.size:
            raise HeaderError("header cut short")
        return self.fh.read(n)

    def unpack(self, fmt: str) -> Any:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self, limit: int = MAX_STRING_BYTES) -> str:
        n = self.unpack("Q")
        if n > limit:
            raise HeaderError(f"string of {n} bytes")
        return self.take(n).decode("utf-8", errors="replace")

    def skip(self, n: int) -> None:
        if n < 0 or self.fh.tell() + n > self.size:
            raise HeaderError("header cut short")
        self.fh.seek(n, 1)

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        raise HeaderError(f"unknown value type {vtype}")

    def skip_array(self, etype: int, count: int, depth: int = 0) -> None:
        if etype in _SCALARS:
            self.skip(count * struct.calcsize(_SCALARS[etype]))
        elif etype == _STRING:
            if count * 8 > self.size - self.fh.tell():  # each string has an 8-byte length
                raise HeaderError("header cut short")
            self.count(count)
            self.skip_strings(count)
        elif etype == _ARRAY:
            if depth >= MAX_NESTING:
                raise HeaderError(f"arrays nested more than {MAX_NESTING} deep")
            if count * 12 > self.size - self.fh.tell():
                raise HeaderError("header cut short")
            self.count(count)
            for _ in range(count):
                inner, n = self.unpack("I"), self.unpack("Q")
                self.skip_array(inner, n, depth + 1)
        else:
            raise HeaderError(f"unknown array element type {etype}")

    def skip_strings(self, count: int) -> None:
        """Skip ``count`` length-prefixed strings, reading the lengths in 1 MiB chunks
        (a vocabulary is 100k strings: one read call each would take half a second)."""
        pos, end = self.fh.tell(), self.size
        buf, start = b"", pos
        for _ in range(count):
            off = pos - start
            if off + 8 > len(buf):
                if pos + 8 > end:
                    raise HeaderError("header cut short")
                self.fh.seek(pos)
                buf, start, off = self.fh.read(_CHUNK), pos, 0
                if len(buf) < 8:
                    raise HeaderError("header cut short")
            pos += 8 + _LENGTH.unpack_from(buf, off)[0]
            if pos > end:
                raise HeaderError("header cut short")
        self.fh.seek(pos)


def _type_size(type_id: int) -> tuple[int, int]:
    import gguf

    try:
        return gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(type_id)]
    except (ValueError, KeyError):
        raise HeaderError(f"unknown tensor type {type_id}") from None


def read_header(path: Path) -> Header:
    size = path.stat().st_size
    with path.open("rb") as fh:
        r = _Reader(fh, size)
        if r.take(4) != MAGIC:
            raise HeaderError("bad magic")
        version = r.unpack("I")
        if version not in (2, 3):
            raise HeaderError(f"unsupported GGUF version {version}")
        n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
        # Every entry takes at least a few bytes: a count beyond the file is a lie.
        if n_tensors > size // 24 or n_kv > size // 12:
            raise HeaderError(f"header cut short ({n_tensors} tensors and {n_kv} keys cannot "
                              f"fit in {size} bytes)")
        header = Header(version=version)
        for _ in range(n_kv):
            key = r.string(MAX_KEY_BYTES)
            vtype = r.unpack("I")
            if vtype == _ARRAY:
                etype, count = r.unpack("I"), r.unpack("Q")
                header.array_lengths[key] = count
                r.skip_array(etype, count)
            else:
                header.metadata[key] = r.value(vtype)
        raw = []
        for _ in range(n_tensors):
            name = r.string(MAX_KEY_BYTES)
            n_dims = r.unpack("I")
            if n_dims > MAX_DIMS:
                raise HeaderError(f"tensor {name!r} has {n_dims} dimensions")
            shape = tuple(r.unpack("Q") for _ in range(n_dims))
            raw.append((name, shape, r.unpack("I"), r.unpack("Q")))
        alignment = header.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
            raise HeaderError(f"bad alignment {alignment!r}")
        start = -(-fh.tell() // alignment) * alignment
    for name, shape, type_id, offset in raw:
        block, type_bytes = _type_size(type_id)
        n = 1
        for d in shape:
            n *= d
        if n % block:
            raise HeaderError(f"tensor {name!r} does not fill whole blocks")
        header.tensors.append(TensorInfo(name, shape, type_id, start + offset,
                                         n // block * type_bytes))
    return header
