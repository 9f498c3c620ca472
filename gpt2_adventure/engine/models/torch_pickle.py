"""Unpickle a PyTorch state dict without PyTorch and without trusting it.

A PyTorch checkpoint is a pickle, and unpickling calls whatever functions the file names.
Here only the few names a state dict of tensors uses are honoured, each replaced by a
stand-in that records where a tensor's elements are in its storage; any other name refuses
the file before anything runs. ``torch_bin`` finds the storages in the file's two layouts.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from gpt2_adventure.errors import ModelFileError
from gpt2_adventure.safe_text import printable

# gpt2-xl's data.pkl is about 100 KB; a pickle is held in memory while it is checked, and a
# few bytes of pickle can build a large object, so the bound is tight.
MAX_PICKLE_BYTES = 4 << 20
_HINT = ("a PyTorch checkpoint is a pickle, which can run code when loaded; only plain state "
         "dicts of tensors are read here, so do not open this file with torch either")


def quoted(text: str) -> str:
    """A name from the file, fit for a message: visible characters, at most 80 of them."""
    text = printable(text)
    return repr(text if len(text) <= 80 else text[:77] + "...")


class _Malformed(ValueError):
    """The pickle is well formed but is not a state dict of tensors."""


# What the pickle gets to hold is immutable even to its BUILD opcode, which sets attributes
# or calls __setstate__ (frozen slotted dataclasses have one that writes every field): a
# named tuple has neither. Shared ones (the storage types, the stand-ins) would otherwise
# carry a hostile file's changes into every later load.
class _StorageType(NamedTuple):
    name: str  # torch.FloatStorage and its siblings
    dtype: str  # spelled as safetensors does
    itemsize: int


_STORAGE_TYPES = {t.name: t for t in (
    _StorageType("DoubleStorage", "F64", 8), _StorageType("FloatStorage", "F32", 4),
    _StorageType("HalfStorage", "F16", 2), _StorageType("BFloat16Storage", "BF16", 2),
    # Not weights, but GPT-2's causal-mask buffers (Byte, later Bool) sit in old state dicts.
    _StorageType("LongStorage", "I64", 8), _StorageType("IntStorage", "I32", 4),
    _StorageType("ShortStorage", "I16", 2), _StorageType("CharStorage", "I8", 1),
    _StorageType("ByteStorage", "U8", 1), _StorageType("BoolStorage", "BOOL", 1),
)}


class Storage(NamedTuple):
    key: str
    type: _StorageType
    numel: int


class _StorageRef(NamedTuple):
    """What a persistent id resolves to: a storage, or (legacy) a view of one."""
    root: Storage
    start: int  # in elements
    size: int


class _Tensor(NamedTuple):
    storage: _StorageRef
    offset: int  # in elements, within the storage reference
    shape: tuple[int, ...]
    strides: tuple[int, ...]


@dataclass(frozen=True)
class TorchTensor:
    """Where one tensor's elements are in the file."""
    dtype: str  # F32, F16, BF16, F64, or an integer type (refused for weights by the caller)
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in elements
    offset: int  # absolute byte offset of the first element
    nbytes: int  # of the tensor's own elements


# ---- the stand-ins for the globals a state dict names ------------------------------------


def _dims(value: Any, what: str) -> tuple[int, ...]:
    if type(value) not in (tuple, list) or not all(
            type(v) is int and v >= 0 for v in value):
        raise _Malformed(f"a tensor's {what} is not a list of whole numbers")
    return tuple(value)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> _Tensor:
    if not isinstance(storage, _StorageRef):
        raise _Malformed("a tensor is built on something that is not a storage")
    if type(storage_offset) is not int or storage_offset < 0:
        raise _Malformed("a tensor's storage offset is not a whole number")
    shape, strides = _dims(size, "shape"), _dims(stride, "stride")
    if len(shape) != len(strides):
        raise _Malformed("a tensor's shape and stride have different lengths")
    return _Tensor(storage, storage_offset, shape, strides)


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any,
                       _requires_grad: Any, _backward_hooks: Any,
                       _metadata: Any = None) -> _Tensor:
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data: Any, _requires_grad: Any, _backward_hooks: Any,
                       _state: Any = None) -> _Tensor:
    if not isinstance(data, _Tensor):
        raise _Malformed("a parameter wraps something that is not a tensor")
    return data


class _StandIn(NamedTuple):
    """A stand-in as the pickle sees it (a function's attributes, ``__defaults__`` included,
    could be set by BUILD)."""
    build: Callable[..., _Tensor]

    def __call__(self, *args: Any) -> _Tensor:
        return self.build(*args)


_ALLOWED: dict[tuple[str, str], object] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _StandIn(_rebuild_tensor),
    ("torch._utils", "_rebuild_tensor_v2"): _StandIn(_rebuild_tensor_v2),
    ("torch._utils", "_rebuild_parameter"): _StandIn(_rebuild_parameter),
    ("torch._utils", "_rebuild_parameter_with_state"): _StandIn(_rebuild_parameter),
    **{("torch", name): t for name, t in _STORAGE_TYPES.items()},
}


def _text(value: Any) -> str:
    """Persistent ids of pickles written by Python 2 may hold bytes."""
    if isinstance(value, bytes):
        return value.decode("ascii")
    if not isinstance(value, str):
        raise _Malformed(f"a storage reference holds {type(value).__name__}, not text")
    return value


class _Unpickler(pickle.Unpickler):
    """Resolves only the allowed globals (none unless ``tensors``) and storage references."""

    def __init__(self, data: bytes, path: Path, *, tensors: bool):
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self._path, self._tensors = path, tensors
        self.storages: dict[str, Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name)) if self._tensors else None
        if found is None:
            raise ModelFileError(f"refusing to load {self._path.name}: its pickle asks for "
                                 f"{quoted(f'{module}.{name}')[1:-1]}, which a weights file "
                                 "never needs",
                                 where=self._path, hint=_HINT)
        return found

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not self._tensors or not isinstance(pid, tuple) or len(pid) not in (5, 6) or \
                _text(pid[0]) != "storage":
            raise _Malformed("the pickle refers to an object outside it that is not a storage")
        storage_type, key, _location, numel = pid[1:5]
        key = _text(key)
        if not isinstance(storage_type, _StorageType) or type(numel) is not int or numel < 0:
            raise _Malformed(f"storage {quoted(key)} has no usable type or size")
        root = self.storages.setdefault(key, Storage(key, storage_type, numel))
        if root != Storage(key, storage_type, numel):
            raise _Malformed(f"storage {quoted(key)} is declared twice, differently")
        view = pid[5] if len(pid) == 6 else None
        if view is None:
            return _StorageRef(root, 0, numel)
        # Storage views: torch before 1.0 could save a slice of a storage as its own.
        if not isinstance(view, tuple) or len(view) != 3 or not all(
                type(v) is int and v >= 0 for v in view[1:]) or view[1] + view[2] > numel:
            raise _Malformed(f"storage {quoted(key)} has a view that does not fit in it")
        return _StorageRef(root, view[1], view[2])


# ---- reading pickles safely --------------------------------------------------------------


class _PastWindow(EOFError):
    pass


class _Window:
    """A file seen from ``start`` to ``end``. A pickle's lengths are data: a read past the
    end fails before anything of that length is allocated."""

    def __init__(self, f: BinaryIO, start: int, end: int):
        self._f, self._end = f, end
        f.seek(start)

    def tell(self) -> int:
        return self._f.tell()

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self._end - self._f.tell():
            raise _PastWindow("the pickle runs past the end of the file")
        return self._f.read(n)

    def readline(self) -> bytes:
        return self._f.readline(self._end - self._f.tell())


def _check_opcodes(stream: Any, path: Path) -> None:
    """Walk the pickle's opcodes without running any; stops after STOP."""
    for opcode, _arg, _pos in pickletools.genops(stream):
        # The extension registry hands out objects without asking find_class.
        if opcode.name in ("EXT1", "EXT2", "EXT4"):
            raise ModelFileError(f"refusing to load {path.name}: its pickle uses the copyreg "
                                 "extension registry, which a weights file never needs",
                                 where=path, hint=_HINT)


def _unreadable(path: Path, exc: BaseException, hint: str | None) -> ModelFileError:
    detail = printable(str(exc))[:200] or type(exc).__name__
    return ModelFileError(f"{path.name} is not a readable PyTorch state dict: {detail}",
                          where=path, hint=hint)


def load_pickle(f: BinaryIO, start: int, end: int, path: Path, *,
                tensors: bool) -> tuple[Any, dict[str, Storage], int]:
    """The pickle at ``start`` in ``f``, which ends by ``end``: its value, the storages it
    refers to by key, and where it stops. Without ``tensors`` it may name no global at all.
    """
    capped = end - start > MAX_PICKLE_BYTES
    window = _Window(f, start, start + MAX_PICKLE_BYTES if capped else end)
    try:
        _check_opcodes(window, path)
    except ModelFileError:
        raise
    except (ValueError, EOFError) as exc:  # what genops raises on a bad or cut pickle
        if capped and isinstance(exc, _PastWindow):
            raise ModelFileError(f"{path.name} has a pickle of over {MAX_PICKLE_BYTES >> 20} "
                                 "MB, far more than a GPT-2 state dict needs", where=path
                                 ) from None
        raise _unreadable(path, exc, "the download may be truncated; fetch it again") from None
    stop = window.tell()
    f.seek(start)
    unpickler = _Unpickler(f.read(stop - start), path, tensors=tensors)
    try:
        return unpickler.load(), unpickler.storages, stop
    except ModelFileError:
        raise
    # Anything can go wrong in a hostile pickle (a stand-in given the wrong arguments, a
    # REDUCE on a storage type, memo errors...); every such failure means the same thing.
    except Exception as exc:
        raise _unreadable(path, exc, None if isinstance(exc, _Malformed) else
                          "the file is damaged, or torch.save did not write it") from None


# ---- from pickled tensors to places in the file ------------------------------------------


def locate(state: Any, spans: dict[str, tuple[int, int]], path: Path) -> dict[str, TorchTensor]:
    """``spans``: each storage key's data as (absolute byte offset, bytes available)."""
    if not isinstance(state, dict):
        raise ModelFileError(f"{path.name} holds a {type(state).__name__}, not a state dict",
                             where=path, hint="a pytorch_model.bin maps weight names to tensors")
    tensors = {}
    for name, tensor in state.items():
        if not isinstance(name, str):
            raise ModelFileError(f"{path.name} names a tensor with a {type(name).__name__}, "
                                 "not text", where=path)
        if not isinstance(tensor, _Tensor):
            raise ModelFileError(f"{path.name} holds a {type(tensor).__name__} under "
                                 f"{quoted(name)}, not a tensor", where=path)
        ref, kind = tensor.storage, tensor.storage.root.type
        where, available = spans[ref.root.key]
        if ref.root.numel * kind.itemsize > available:
            raise ModelFileError(f"storage {quoted(ref.root.key)} of tensor {quoted(name)} is "
                                 "shorter than the pickle says (truncated?)", where=path)
        count = math.prod(tensor.shape)
        last = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.shape, tensor.strides))
        # More elements than the storage holds would be a broadcast view, never a weight.
        if count and (last >= ref.size or count > ref.size):
            raise ModelFileError(f"tensor {quoted(name)} lies past the end of its storage",
                                 where=path)
        tensors[name] = TorchTensor(kind.dtype, tensor.shape, tensor.strides,
                                    where + (ref.start + tensor.offset) * kind.itemsize,
                                    count * kind.itemsize)
    return tensors
