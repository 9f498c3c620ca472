"""Write GPT-2 state dicts as PyTorch ``pytorch_model.bin`` files, without PyTorch.

Both layouts torch.save writes: the zip archive (torch >= 1.6: ``archive/data.pkl``,
``archive/byteorder``, one stored entry per storage ``archive/data/<key>`` with its data
64-byte aligned through a local-header-only ``FB`` extra field, ``archive/version``) and the
legacy stream (magic number, protocol 1001, system info, the state dict, the sorted storage
keys, then every storage as an int64 element count and its bytes). The state dict pickle is
protocol 2 as torch writes it: an ``OrderedDict`` with a ``_metadata`` attribute, each
tensor ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False,
OrderedDict())`` with the storage a persistent id ``('storage', torch.FloatStorage, key,
'cpu', numel)`` (plus ``None`` for the view in the legacy layout).

``Emitter`` writes those opcodes itself: pickling real stand-ins would need modules named
``torch`` importable in the test process. Tests also use it to build hostile pickles.
"""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from safetensors.numpy import load_file

from tests.support.hf_checkpoint import make_checkpoint

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_TYPES = {np.dtype(np.float64): "DoubleStorage", np.dtype(np.float32): "FloatStorage",
                  np.dtype(np.float16): "HalfStorage", np.dtype(np.int64): "LongStorage",
                  np.dtype(np.uint8): "ByteStorage", np.dtype(np.bool_): "BoolStorage"}
Format = Literal["zip", "legacy"]


# ---- pickle protocol 2, opcode by opcode ------------------------------------------------


@dataclass(frozen=True)
class Global:
    module: str
    name: str


@dataclass(frozen=True)
class Reduce:
    """``func(*args)``, then ``items`` set on the result, then ``state`` built into it."""
    func: Any
    args: tuple = ()
    items: list[tuple[Any, Any]] = field(default_factory=list)
    state: Any = None


@dataclass(frozen=True)
class PersistentId:
    pid: tuple


@dataclass(frozen=True)
class Raw:
    """Opcodes written as they are (for hostile pickles)."""
    data: bytes


ORDERED_DICT = Global("collections", "OrderedDict")


class Emitter:
    """Protocol-2 pickle bytes for the values above and plain Python data."""

    def __init__(self) -> None:
        self._out = bytearray(b"\x80\x02")
        self._memo: dict[Any, int] = {}

    def dumps(self, value: Any) -> bytes:
        self._save(value)
        return bytes(self._out + b".")

    def _put(self, key: Any = None) -> None:
        index = len(self._memo)
        self._memo[key if key is not None else object()] = index
        self._out += b"q" + bytes([index]) if index < 256 else b"r" + struct.pack("<I", index)

    def _get(self, key: Any) -> bool:
        index = self._memo.get(key)
        if index is not None:
            self._out += b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index)
        return index is not None

    def _save(self, value: Any) -> None:
        out = self._out
        if value is None or isinstance(value, bool):
            out += {None: b"N", True: b"\x88", False: b"\x89"}[value]
        elif isinstance(value, int):
            self._int(value)
        elif isinstance(value, str):
            if not self._get(("str", value)):
                data = value.encode("utf-8")
                out += b"X" + struct.pack("<I", len(data)) + data
                self._put(("str", value))
        elif isinstance(value, tuple):
            if not value:
                out += b")"
                return
            if len(value) > 3:
                out += b"("
            for item in value:
                self._save(item)
            out += b"t" if len(value) > 3 else b"\x85\x86\x87"[len(value) - 1:len(value)]
            self._put()
        elif isinstance(value, list):
            out += b"]"
            self._put()
            if len(value) > 1:
                out += b"("
            for item in value:
                self._save(item)
            if value:
                out += b"e" if len(value) > 1 else b"a"
        elif isinstance(value, dict):
            out += b"}"
            self._put()
            self._setitems(value.items())
        elif isinstance(value, Global):
            if not self._get(value):
                out += f"c{value.module}\n{value.name}\n".encode()
                self._put(value)
        elif isinstance(value, Reduce):
            self._save(value.func)
            self._save(tuple(value.args))
            out += b"R"
            self._put()
            self._setitems(value.items)
            if value.state is not None:
                self._save(value.state)
                out += b"b"
        elif isinstance(value, PersistentId):
            self._save(value.pid)
            out += b"Q"
        elif isinstance(value, Raw):
            out += value.data
        else:
            raise TypeError(f"cannot emit {type(value).__name__}")

    def _int(self, n: int) -> None:
        if 0 <= n < 256:
            self._out += b"K" + bytes([n])
        elif 0 <= n < 65536:
            self._out += b"M" + struct.pack("<H", n)
        elif -(2**31) <= n < 2**31:
            self._out += b"J" + struct.pack("<i", n)
        else:
            data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            self._out += b"\x8a" + bytes([len(data)]) + data

    def _setitems(self, items: Iterable[tuple[Any, Any]]) -> None:
        items = list(items)
        for start in range(0, len(items), 1000):  # the C pickler's batch size
            batch = items[start:start + 1000]
            if len(batch) > 1:
                self._out += b"("
            for key, value in batch:
                self._save(key)
                self._save(value)
            self._out += b"u" if len(batch) > 1 else b"s"


def dumps(value: Any) -> bytes:
    return Emitter().dumps(value)


# ---- state dicts -------------------------------------------------------------------------


@dataclass
class Blob:
    """A storage's bytes and the element count the file declares for them."""
    data: bytes
    numel: int


def tensor_ref(key: str, shape: tuple[int, ...], stride: tuple[int, ...], offset: int = 0, *,
               numel: int, type_name: str = "FloatStorage", legacy: bool = False) -> Reduce:
    """What torch pickles for one tensor on storage ``key``."""
    pid = ("storage", Global("torch", type_name), key, "cpu", numel)
    return Reduce(Global("torch._utils", "_rebuild_tensor_v2"), (
        PersistentId(pid + (None,) if legacy else pid), offset, shape, stride, False,
        Reduce(ORDERED_DICT)))


def state_dict(refs: dict[str, Any]) -> Reduce:
    """An OrderedDict of ``refs`` with the ``_metadata`` attribute nn.Module.state_dict sets."""
    metadata = Reduce(ORDERED_DICT, items=[("", {"version": 1}), ("h", {"version": 1})])
    return Reduce(ORDERED_DICT, items=list(refs.items()), state={"_metadata": metadata})


def state_dict_pickle(tensors: dict[str, np.ndarray], *, legacy: bool,
                      transposed: Iterable[str] = (), tied: dict[str, str] | None = None,
                      storage_offset: int = 0, bf16: bool = False
                      ) -> tuple[bytes, dict[str, Blob]]:
    """The state dict pickle and its storages by key.

    ``transposed``: 2-D tensors stored as the transpose of a contiguous storage (a strided
    view). ``tied``: name -> name whose storage (and view) it shares, like lm_head and wte.
    ``storage_offset``: elements of padding before each tensor in its storage. ``bf16``:
    float32 tensors are stored as bfloat16 (their top 16 bits).
    """
    tied, transposed = tied or {}, set(transposed)
    storages: dict[str, Blob] = {}
    refs: dict[str, Reduce] = {}
    for n, (name, value) in enumerate(tensors.items()):
        if name in tied:
            refs[name] = refs[tied[name]]
            continue
        array = np.asarray(value)
        stored = np.ascontiguousarray(array.T if name in transposed else array)
        if bf16 and stored.dtype == np.float32:
            type_name = "BFloat16Storage"
            stored = (stored.view(np.uint32) >> 16).astype(np.uint16)
        else:
            type_name = _STORAGE_TYPES[stored.dtype]
        data = bytes(storage_offset * stored.itemsize) + stored.tobytes()
        key = str(140_000_000_000_000 + 4096 * n) if legacy else str(len(storages))
        storages[key] = Blob(data, storage_offset + stored.size)
        strides = tuple(s // stored.itemsize for s in stored.strides)
        if name in transposed:
            strides = strides[::-1]
        refs[name] = tensor_ref(key, array.shape, strides, storage_offset,
                                numel=storages[key].numel, type_name=type_name, legacy=legacy)
    return dumps(state_dict(refs)), storages


def zip_archive(entries: list[tuple[str, bytes]], *, align: int = 64) -> bytes:
    """A zip of stored entries as torch's writer (miniz) makes it: each entry's data aligned
    by an ``FB`` extra field in its local header only, DOS time zero, no data descriptors."""
    out, central = bytearray(), bytearray()
    for name, data in entries:
        raw = name.encode()
        start = len(out) + 30 + len(raw) + 4
        pad = -start % align
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        crc = zlib.crc32(data)
        fields = struct.pack("<HHHHHIII", 0, 0, 0, 0, 0, crc, len(data), len(data))
        central += (b"PK\x01\x02" + struct.pack("<H", 0) + fields
                    + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, len(out)) + raw)
        out += b"PK\x03\x04" + fields + struct.pack("<HH", len(raw), len(extra)) + raw + extra
        out += data
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(out), 0)
    return bytes(out + central + end)


def write_torch_bin(path: Path, tensors: dict[str, np.ndarray], *, fmt: Format = "zip",
                    **options: Any) -> Path:
    """Write ``tensors`` as torch.save would (``options``: see ``state_dict_pickle``)."""
    pkl, storages = state_dict_pickle(tensors, legacy=fmt == "legacy", **options)
    return write_saved(path, pkl, storages, fmt=fmt)


def write_saved(path: Path, pkl: bytes, storages: dict[str, Blob], *,
                fmt: Format = "zip") -> Path:
    """A torch.save file around the pickle ``pkl`` and the storages it refers to."""
    if fmt == "zip":
        entries = [("archive/data.pkl", pkl), ("archive/byteorder", b"little")]
        entries += [(f"archive/data/{key}", storages[key].data) for key in sorted(storages)]
        path.write_bytes(zip_archive([*entries, ("archive/version", b"3\n")]))
        return path
    keys = sorted(storages)
    info = {"protocol_version": 1001, "little_endian": True,
            "type_sizes": {"short": 2, "int": 4, "long": 4}}
    with path.open("wb") as f:
        for header in (LEGACY_MAGIC, 1001, info):
            f.write(pickle.dumps(header, protocol=2))
        f.write(pkl)
        f.write(pickle.dumps(keys, protocol=2))
        for key in keys:
            f.write(struct.pack("<q", storages[key].numel) + storages[key].data)
    return path


def make_torch_checkpoint(folder: Path, *, fmt: Format = "zip", shards: int = 1,
                          transposed: Iterable[str] = (), tie_head: bool = False,
                          storage_offset: int = 0, bf16: bool = False,
                          cast: dict[str, type] | None = None, **checkpoint: Any) -> Path:
    """``make_checkpoint(folder, **checkpoint)`` with its weights as ``pytorch_model.bin``
    (``shards`` > 1: ``pytorch_model-0000N-of-0000M.bin`` and an index) instead of safetensors.

    The causal-mask buffers of the plain layout become bool tensors, as in transformers.
    ``tie_head``: lm_head.weight shares wte's storage (the transformers layout). ``cast``:
    tensors by name to write as another dtype.
    """
    folder = make_checkpoint(folder, **checkpoint)
    tensors: dict[str, np.ndarray] = {}
    for path in sorted(folder.glob("*.safetensors")):
        tensors |= load_file(str(path))
        path.unlink()
    (folder / "model.safetensors.index.json").unlink(missing_ok=True)
    tensors = {k: v.astype(bool) if k.endswith(".attn.bias") else v for k, v in tensors.items()}
    tensors |= {k: tensors[k].astype(dtype) for k, dtype in (cast or {}).items()}
    tied = {"lm_head.weight": "transformer.wte.weight"} if tie_head else {}
    options = dict(fmt=fmt, transposed=transposed, storage_offset=storage_offset,
                   bf16=bf16)
    names = sorted(tensors, key=lambda k: k in tied)  # a tied tensor after its source
    if shards == 1:
        write_torch_bin(folder / "pytorch_model.bin", {k: tensors[k] for k in names},
                        tied=tied, **options)
        return folder
    weight_map = {}
    for s in range(shards):
        shard = f"pytorch_model-{s + 1:05d}-of-{shards:05d}.bin"
        part = names[s::shards]
        write_torch_bin(folder / shard, {k: tensors[k] for k in part}, **options)
        weight_map |= dict.fromkeys(part, shard)
    index = {"metadata": {"total_size": sum(t.nbytes for t in tensors.values())},
             "weight_map": weight_map}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index), encoding="utf-8")
    return folder
