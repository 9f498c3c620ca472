"""Find the tensors of a ``pytorch_model.bin`` in either layout torch.save writes.

The zip archive (PyTorch >= 1.6): ``<name>/data.pkl`` and one stored, 64-byte aligned entry
per storage, ``<name>/data/<key>``, maybe ``<name>/byteorder``. The older stream of pickles:
magic number, protocol, system info, the state dict, the list of storage keys, then every
storage in that order as an 8-byte element count followed by its raw bytes. Either way the
result says where each tensor's elements are; nothing but the pickles is read.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from gpt2_adventure.engine.models.torch_pickle import (
    Storage,
    TorchTensor,
    load_pickle,
    locate,
    quoted,
)
from gpt2_adventure.errors import ModelFileError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_TRUNCATED = "the download may be truncated; fetch it again"


def _entry_spans(zf: zipfile.ZipFile, f: BinaryIO, names: list[str], size: int,
                 path: Path) -> dict[str, tuple[int, int]]:
    """Each named entry's data as (absolute byte offset, length); entries must be stored."""
    spans = {}
    for name in names:
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise ModelFileError(f"the archive has no {quoted(name)}", where=path,
                                 hint="the file is incomplete or not a torch.save archive"
                                 ) from None
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
            raise ModelFileError(f"{quoted(name)} is compressed or encrypted in the archive",
                                 where=path, hint="torch.save stores entries uncompressed; "
                                 "was the file zipped again?")
        # The data follows the local header, whose extra field (torch's alignment padding)
        # is not the central directory's: read its length there.
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise ModelFileError(f"the archive entry {quoted(name)} is damaged", where=path)
        start = (info.header_offset + 30 + int.from_bytes(header[26:28], "little")
                 + int.from_bytes(header[28:30], "little"))
        if start + info.file_size > size:
            raise ModelFileError(f"{quoted(name)} lies past the end of the file (truncated?)",
                                 where=path, hint=_TRUNCATED)
        spans[name] = (start, info.file_size)
    return spans


def _read_zip(path: Path, f: BinaryIO, size: int) -> dict[str, TorchTensor]:
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{path.name} is not a readable zip archive: {exc}", where=path,
                             hint=_TRUNCATED) from None
    with zf:
        names = zf.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ModelFileError(f"{path.name} is a zip archive but not a torch.save one "
                                 "(no single <name>/data.pkl)", where=path)
        prefix = pickles[0].removesuffix("data.pkl")
        if prefix + "byteorder" in names:
            start, length = _entry_spans(zf, f, [prefix + "byteorder"], size, path).popitem()[1]
            f.seek(start)
            order = f.read(min(length, 16))
            if order != b"little":
                raise ModelFileError(f"{path.name} was saved with byte order "
                                     f"{quoted(order.decode('latin-1'))}; only little-endian "
                                     "checkpoints are read", where=path)
        start, length = _entry_spans(zf, f, pickles, size, path).popitem()[1]
        state, storages, _ = load_pickle(f, start, start + length, path, tensors=True)
        entries = {key: f"{prefix}data/{key}" for key in storages}
        spans = _entry_spans(zf, f, list(entries.values()), size, path)
    return locate(state, {key: spans[name] for key, name in entries.items()}, path)


def _check_legacy_head(path: Path, f: BinaryIO) -> None:
    f.seek(0)
    head = f.read(512)
    # The magic number as pickle protocol 2 writes it (protocol 1: without the PROTO opcode).
    magic = b"\x8a\x0a" + _LEGACY_MAGIC.to_bytes(10, "little")
    if (head[:1] == b"\x80" and head[2:14] == magic) or head.startswith(magic):
        return
    if head[257:262] == b"ustar":
        raise ModelFileError(f"{path.name} is a tar file, the torch.save format before "
                             "PyTorch 0.1.10, which is not read", where=path)
    raise ModelFileError(f"{path.name} is not a PyTorch checkpoint (neither a zip archive nor "
                         "a torch.save stream)", where=path)


def _legacy_spans(path: Path, f: BinaryIO, size: int, pos: int, keys: Any,
                  storages: dict[str, Storage]) -> dict[str, tuple[int, int]]:
    """Walk the storages after the pickles: (data offset, length) by key, nothing read."""
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or \
            len(set(keys)) != len(keys) or set(keys) != set(storages):
        raise ModelFileError(f"{path.name}'s list of storages does not match its state dict",
                             where=path)
    spans = {}
    for key in keys:
        f.seek(pos)
        head = f.read(8)
        count = int.from_bytes(head, "little", signed=True)
        nbytes = count * storages[key].type.itemsize
        if len(head) < 8 or pos + 8 + nbytes > size:
            raise ModelFileError(f"{path.name} ends inside storage {quoted(key)} (truncated?)",
                                 where=path, hint=_TRUNCATED)
        if count != storages[key].numel:
            raise ModelFileError(f"storage {quoted(key)} holds {count} elements, the pickle "
                                 f"says {storages[key].numel}", where=path)
        spans[key] = (pos + 8, nbytes)
        pos += 8 + nbytes
    return spans


def _read_legacy(path: Path, f: BinaryIO, size: int) -> dict[str, TorchTensor]:
    _check_legacy_head(path, f)
    pos, header = 0, []
    for _ in range(3):  # magic number, protocol version, system info
        value, _, pos = load_pickle(f, pos, size, path, tensors=False)
        header.append(value)
    magic, protocol, info = header
    if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL or not isinstance(info, dict):
        raise ModelFileError(f"{path.name} has an unknown torch.save header", where=path)
    if info.get("little_endian") is not True:
        raise ModelFileError(f"{path.name} was saved on a big-endian machine; only "
                             "little-endian checkpoints are read", where=path)
    state, storages, pos = load_pickle(f, pos, size, path, tensors=True)
    keys, _, pos = load_pickle(f, pos, size, path, tensors=False)
    return locate(state, _legacy_spans(path, f, size, pos, keys, storages), path)


def read_torch_bin(path: Path) -> dict[str, TorchTensor]:
    """Every tensor of the state dict in ``path`` by name, located but not read."""
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if f.read(4) == b"PK\x03\x04":
                return _read_zip(path, f, size)
            return _read_legacy(path, f, size)
    except OSError as exc:
        raise ModelFileError(f"cannot read {path.name}: {exc.strerror or exc}",
                             where=path) from exc

