"""pytorch_model.bin without PyTorch: both torch.save layouts, and hostile pickles refused
without running anything."""

from __future__ import annotations

import dataclasses
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gpt2_adventure.engine.models import torch_pickle
from gpt2_adventure.engine.models.checkpoint import load_checkpoint
from gpt2_adventure.engine.models.torch_bin import read_torch_bin
from gpt2_adventure.engine.models.torch_pickle import MAX_PICKLE_BYTES
from gpt2_adventure.errors import ModelFileError
from tests.engine.models.test_checkpoint import expect_refusal
from tests.support.hf_checkpoint import make_checkpoint
from tests.support.torch_bin import (
    LEGACY_MAGIC,
    ORDERED_DICT,
    Blob,
    Format,
    Global,
    PersistentId,
    Raw,
    Reduce,
    dumps,
    make_torch_checkpoint,
    state_dict,
    tensor_ref,
    write_saved,
    write_torch_bin,
    zip_archive,
)

SMALL = {"n_layer": 1, "n_embd": 16, "n_head": 2, "n_positions": 32}
FORMATS: list[Format] = ["zip", "legacy"]


def _reference(tmp_path: Path, **spec: Any) -> Any:
    return load_checkpoint(make_checkpoint(tmp_path / "safetensors", **SMALL, **spec))


def _assert_same_weights(got: Any, want: Any) -> None:
    assert got.has_lm_head == want.has_lm_head
    assert set(got._entries) == set(want._entries)
    for name in want._entries:
        np.testing.assert_array_equal(got.tensor(name), want.tensor(name), err_msg=name)


def _refused(path: Path, *words: str) -> ModelFileError:
    return expect_refusal(read_torch_bin, path, path, *words)


# ---- what must load ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", ["plain", "transformers"])
def test_bin_equals_safetensors(tmp_path: Path, fmt: Format, layout: str) -> None:
    want = _reference(tmp_path, seed=7, layout=layout)
    folder = make_torch_checkpoint(tmp_path / "bin", **SMALL, seed=7, layout=layout, fmt=fmt)
    assert not list(folder.glob("*.safetensors"))
    got = load_checkpoint(folder)
    assert got.files == {folder / "pytorch_model.bin"}
    _assert_same_weights(got, want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_strided_offset_and_tied_tensors(tmp_path: Path, fmt: Format) -> None:
    want = _reference(tmp_path, seed=8, layout="transformers")
    transposed = ["transformer.wte.weight", "transformer.h.0.attn.c_attn.weight"]
    folder = make_torch_checkpoint(tmp_path / "bin", **SMALL, seed=8, layout="transformers",
                                   fmt=fmt, transposed=transposed, tie_head=True,
                                   storage_offset=5)
    tensors = read_torch_bin(folder / "pytorch_model.bin")
    wte, head = tensors["transformer.wte.weight"], tensors["lm_head.weight"]
    assert wte == head and wte.strides == (1, 50257)  # one storage, a transposed view
    assert tensors["transformer.h.0.ln_1.bias"].strides == (1,)
    _assert_same_weights(load_checkpoint(folder), want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sharded_bin_with_index(tmp_path: Path, fmt: Format) -> None:
    want = _reference(tmp_path, seed=9)
    folder = make_torch_checkpoint(tmp_path / "bin", **SMALL, seed=9, fmt=fmt, shards=3)
    shards = sorted(folder.glob("pytorch_model-*-of-00003.bin"))
    assert len(shards) == 3
    got = load_checkpoint(folder)
    assert got.files == {*shards, folder / "pytorch_model.bin.index.json"}
    _assert_same_weights(got, want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_half_and_bfloat16_storages(tmp_path: Path, fmt: Format) -> None:
    half = _reference(tmp_path, seed=10, dtype=np.float16)
    folder = make_torch_checkpoint(tmp_path / "f16", **SMALL, seed=10, fmt=fmt, dtype=np.float16)
    _assert_same_weights(load_checkpoint(folder), half)

    full = load_checkpoint(make_checkpoint(tmp_path / "f32", **SMALL, seed=10))
    folder = make_torch_checkpoint(tmp_path / "bf16", **SMALL, seed=10, fmt=fmt, bf16=True)
    got = load_checkpoint(folder)
    assert read_torch_bin(folder / "pytorch_model.bin")["wte.weight"].dtype == "BF16"
    for name in ("wte.weight", "h.0.mlp.c_proj.weight", "ln_f.bias"):
        bits = full.tensor(name).view(np.uint32) >> 16 << 16
        np.testing.assert_array_equal(got.tensor(name), bits.view(np.float32))


def test_zip_layout_is_torchs(tmp_path: Path) -> None:
    """Entries as torch.save names them, data 64-byte aligned by local-header padding that
    the central directory does not repeat (so offsets must come from the local headers)."""
    path = write_torch_bin(tmp_path / "pytorch_model.bin",
                           {"a": np.ones((3, 5), np.float32), "b": np.zeros(7, np.float16)})
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["archive/data.pkl", "archive/byteorder", "archive/data/0",
                                 "archive/data/1", "archive/version"]
        assert zf.read("archive/version") == b"3\n"
        assert all(i.compress_type == zipfile.ZIP_STORED and i.extra == b""
                   for i in zf.infolist())
        assert zf.testzip() is None
    tensors = read_torch_bin(path)
    assert [t.offset % 64 for t in tensors.values()] == [0, 0]
    assert (tensors["a"].shape, tensors["a"].strides, tensors["a"].dtype) == ((3, 5), (5, 1), "F32")
    raw = path.read_bytes()
    assert raw[tensors["b"].offset:tensors["b"].offset + 14] == bytes(14)


def test_legacy_layout_is_torchs(tmp_path: Path) -> None:
    path = write_torch_bin(tmp_path / "pytorch_model.bin", {"a": np.arange(4, dtype=np.float32)},
                           fmt="legacy")
    raw = path.read_bytes()
    assert raw.startswith(pickle.dumps(LEGACY_MAGIC, protocol=2) + pickle.dumps(1001, protocol=2))
    a = read_torch_bin(path)["a"]
    assert raw[a.offset - 8:a.offset] == struct.pack("<q", 4)  # element count, then the data
    assert raw[a.offset:] == np.arange(4, dtype=np.float32).tobytes()


def test_parameters_and_old_rebuild_are_understood(tmp_path: Path) -> None:
    storage = PersistentId(("storage", Global("torch", "FloatStorage"), "0", "cpu", 6))
    old = Reduce(Global("torch._utils", "_rebuild_tensor"), (storage, 2, (4,), (1,)))
    param = Reduce(Global("torch._utils", "_rebuild_parameter"), (
        tensor_ref("0", (2, 3), (3, 1), numel=6), True, Reduce(ORDERED_DICT)))
    pkl = dumps(state_dict({"old": old, "param": param}))
    path = write_saved(tmp_path / "x.bin", pkl,
                       {"0": Blob(np.arange(6, dtype=np.float32).tobytes(), 6)})
    tensors = read_torch_bin(path)
    assert tensors["old"].offset == tensors["param"].offset + 8
    assert tensors["param"].shape == (2, 3) and tensors["old"].nbytes == 16


# ---- hostile pickles: refused, never run -------------------------------------------------


def _attacks(marker: Path) -> dict[str, Any]:
    touch = f"touch {marker}"
    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": Reduce(Global("os", "system"), (touch,)),
        "posix.system": Reduce(Global("posix", "system"), (touch,)),
        "builtins.exec": Reduce(Global("builtins", "exec"), (code,)),
        "builtins.eval": Reduce(Global("builtins", "eval"), (code,)),
        "__builtin__.eval": Reduce(Global("__builtin__", "eval"), (code,)),
        "subprocess.call": Reduce(Global("subprocess", "call"), (["touch", str(marker)],)),
        "subprocess.Popen": Reduce(Global("subprocess", "Popen"), (["touch", str(marker)],)),
        # Allowed names in the wrong module, and neighbours of allowed ones.
        "torch.utils._rebuild_tensor_v2": Reduce(Global("torch.utils", "_rebuild_tensor_v2"),
                                                 (code,)),
        "torch._rebuild_tensor_v2": Reduce(Global("torch", "_rebuild_tensor_v2"), (code,)),
        "collections.namedtuple": Reduce(Global("collections", "namedtuple"), ("T", "a")),
        "collections.OrderedDict.fromkeys": Reduce(
            Global("collections", "OrderedDict.fromkeys"), ((1,),)),
        "torch._utils._rebuild_device_tensor_from_numpy": Reduce(
            Global("torch._utils", "_rebuild_device_tensor_from_numpy"), (code,)),
        "torch.load": Reduce(Global("torch", "load"), (str(marker),)),
        "numpy.core.multiarray._reconstruct": Reduce(
            Global("numpy.core.multiarray", "_reconstruct"), (code,)),
        # The same through other opcodes that name a global.
        "INST os.system": Raw(b"(X" + struct.pack("<I", len(touch)) + touch.encode()
                              + b"ios\nsystem\n"),
        "STACK_GLOBAL os.system": Raw(b"\x8c\x02os\x8c\x06system\x93X"
                                      + struct.pack("<I", len(touch)) + touch.encode()
                                      + b"\x85R"),
    }


def _hostile_file(path: Path, payload: Any, fmt: Format, *, hidden: bool) -> Path:
    """A torch.save file whose state dict pickle runs ``payload`` (``hidden``: as one more
    entry of a real-looking state dict, after a real tensor)."""
    legacy = fmt == "legacy"
    blob = {"0": Blob(np.ones(4, np.float32).tobytes(), 4),
            "140000000000000": Blob(np.ones(4, np.float32).tobytes(), 4)}
    key = "140000000000000" if legacy else "0"
    if hidden:
        pkl = dumps(state_dict({"wte.weight": tensor_ref(key, (4,), (1,), numel=4,
                                                         legacy=legacy), "x": payload}))
    else:
        pkl = dumps(payload)
    return write_saved(path, pkl, {key: blob[key]}, fmt=fmt)


ATTACKS = list(_attacks(Path("m")))


@pytest.mark.parametrize("hidden", [False, True], ids=["bare", "in-state-dict"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_pickle_is_refused_without_running(
        tmp_path: Path, attack: str, fmt: Format, hidden: bool) -> None:
    marker = tmp_path / "MARKER"
    path = _hostile_file(tmp_path / "pytorch_model.bin", _attacks(marker)[attack], fmt,
                         hidden=hidden)
    err = _refused(path, "refusing to load pytorch_model.bin", attack.split()[-1],
                   "never needs")
    assert "code" in (err.hint or "")
    assert not marker.exists()


def test_the_attacks_are_real(tmp_path: Path) -> None:
    """The same bytes, given to pickle itself, do run (builtins.exec: no shell needed)."""
    marker = tmp_path / "MARKER"
    pickle.loads(dumps(_attacks(marker)["builtins.exec"]))
    assert marker.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_checkpoint_folder_is_refused(tmp_path: Path, fmt: Format) -> None:
    folder = make_torch_checkpoint(tmp_path / "bin", **SMALL, fmt=fmt)
    marker = tmp_path / "MARKER"
    _hostile_file(folder / "pytorch_model.bin", _attacks(marker)["os.system"], fmt, hidden=True)
    with pytest.raises(ModelFileError, match="os.system") as info:
        load_checkpoint(folder)
    assert Path(info.value.where or "") == folder / "pytorch_model.bin"
    assert not marker.exists()


def test_hostile_legacy_header_pickles_are_refused(tmp_path: Path) -> None:
    """The header pickles (magic, protocol, system info, storage keys) may name no global."""
    marker = tmp_path / "MARKER"
    attack = dumps(_attacks(marker)["os.system"])
    head = pickle.dumps(LEGACY_MAGIC, protocol=2) + pickle.dumps(1001, protocol=2)
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(head + attack)
    _refused(path, "os.system")
    good = write_torch_bin(tmp_path / "good.bin", {"a": np.ones(2, np.float32)}, fmt="legacy")
    raw = good.read_bytes()
    keys = pickle.dumps(["140000000000000"], protocol=2)
    path.write_bytes(raw.replace(keys, attack))
    _refused(path, "os.system")
    assert not marker.exists()


def test_extension_registry_opcodes_are_refused(tmp_path: Path) -> None:
    path = _hostile_file(tmp_path / "x.bin", Raw(b"\x82\x01"), "zip", hidden=False)
    _refused(path, "extension registry")


@pytest.mark.parametrize(("payload", "words"), [
    (Reduce(Global("torch", "FloatStorage"), ()), ("not callable",)),
    (Reduce(Global("torch._utils", "_rebuild_tensor_v2"), ("x", 0, (1,), (1,), False, None)),
     ("not a storage",)),
    (Reduce(Global("torch._utils", "_rebuild_tensor_v2"), ()), ("argument",)),
    (Reduce(Global("torch._utils", "_rebuild_parameter"), (1, False, None)), ("not a tensor",)),
    (PersistentId(("module", "x", "y", "z", 1)), ("not a storage",)),
    (PersistentId(("storage", Global("torch", "FloatStorage"), "0", "cpu", -1)),
     ("no usable type or size",)),
    (Reduce(ORDERED_DICT, state=(None, {"__class__": 1})), ("__class__",)),
    ([1, 2], ("list", "not a state dict")),
    ({"a": 1}, ("int", "'a'", "not a tensor")),
])
def test_not_a_state_dict_of_tensors(tmp_path: Path, payload: Any, words: tuple[str, ...]) -> None:
    path = _hostile_file(tmp_path / "x.bin", payload, "zip", hidden=False)
    _refused(path, *words)


def _build(target: bytes, state: bytes) -> Raw:
    """BUILD ``state`` (opcodes) into the object ``target`` (opcodes) pushes."""
    return Raw(target + state + b"b")


_FIELDS = b"(N}X\x05\x00\x00\x00buildNsX\x08\x00\x00\x00itemsizeK\x00st"  # (None, {..})
_DEFAULTS = b"(N}X\x0c\x00\x00\x00__defaults__(K\x01tst"
_SETSTATE = b"(NK\x00t"  # what a dataclass's own __setstate__ would take
_GLOBALS = {"stand-in": b"ctorch._utils\n_rebuild_tensor_v2\n",
            "storage type": b"ctorch\nFloatStorage\n",
            "OrderedDict": b"ccollections\nOrderedDict\n"}


@pytest.mark.parametrize("state", [_FIELDS, _DEFAULTS, _SETSTATE, b"}"],
                         ids=["fields", "defaults", "setstate", "dict"])
@pytest.mark.parametrize("target", list(_GLOBALS))
def test_allowed_globals_cannot_be_altered(tmp_path: Path, target: str, state: bytes) -> None:
    """BUILD on an allowed global would change it for every later load in this process."""
    payload = _build(_GLOBALS[target], state)
    _refused(_hostile_file(tmp_path / "x.bin", payload, "zip", hidden=True))
    allowed = torch_pickle._ALLOWED
    assert allowed["torch._utils", "_rebuild_tensor_v2"].build is torch_pickle._rebuild_tensor_v2
    assert torch_pickle._rebuild_tensor_v2.__defaults__ == (None,)
    assert tuple(allowed["torch", "FloatStorage"]) == ("FloatStorage", "F32", 4)
    tensors = read_torch_bin(_good(tmp_path, "zip"))
    assert tensors["a"].nbytes == 128 and tensors["a"].shape == (8, 4)


def test_a_checked_tensor_cannot_be_changed_afterwards(tmp_path: Path) -> None:
    """BUILD on a tensor after its rebuild checked it (here: a shape that is not numbers)."""
    ref = dataclasses.replace(tensor_ref("0", (1,), (1,), numel=1), state=(None, {"shape": "x"}))
    pkl = dumps(state_dict({"w": ref}))
    _refused(write_saved(tmp_path / "x.bin", pkl, {"0": Blob(bytes(4), 1)}))


# ---- damaged or unusual files ------------------------------------------------------------


def _good(tmp_path: Path, fmt: Format) -> Path:
    return write_torch_bin(tmp_path / "pytorch_model.bin",
                           {"a": np.ones((8, 4), np.float32), "b": np.ones(8, np.float16)},
                           fmt=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [20, 100, 0.5, -1], ids=["20B", "100B", "half", "1-short"])
def test_truncated_files(tmp_path: Path, fmt: Format, keep: float) -> None:
    path = _good(tmp_path, fmt)
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep) if isinstance(keep, float) else keep])
    err = _refused(path)
    assert "truncated" in f"{err.message} {err.hint}"


def test_compressed_zip_entries(tmp_path: Path) -> None:
    path = _good(tmp_path, "zip")
    with zipfile.ZipFile(path) as src:
        entries = [(name, src.read(name)) for name in src.namelist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            dst.writestr(name, data)
    _refused(path, "compressed")


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_storage(tmp_path: Path, fmt: Format) -> None:
    key = "140000000000000" if fmt == "legacy" else "0"
    pkl = dumps(state_dict({"a": tensor_ref(key, (2,), (1,), numel=2, legacy=fmt == "legacy"),
                            "b": tensor_ref("9", (2,), (1,), numel=2, legacy=fmt == "legacy")}))
    path = write_saved(tmp_path / "x.bin", pkl, {key: Blob(bytes(8), 2)}, fmt=fmt)
    _refused(path, *(["list of storages"] if fmt == "legacy" else ["archive/data/9"]))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("shape", "stride", "offset", "numel"), [
    ((5,), (1,), 0, 4),  # more elements than the storage
    ((2, 2), (1, 3), 0, 4),  # a stride reaching past it
    ((4,), (1,), 1, 4),  # the offset pushing it past
    ((8,), (0,), 0, 4),  # a broadcast view: more elements than bytes
], ids=["shape", "stride", "offset", "broadcast"])
def test_tensor_past_its_storage(tmp_path: Path, fmt: Format, shape: tuple[int, ...],
                                 stride: tuple[int, ...], offset: int, numel: int) -> None:
    legacy = fmt == "legacy"
    key = "140000000000000" if legacy else "0"
    pkl = dumps(state_dict({"w": tensor_ref(key, shape, stride, offset, numel=numel,
                                            legacy=legacy)}))
    path = write_saved(tmp_path / "x.bin", pkl, {key: Blob(bytes(4 * numel), numel)}, fmt=fmt)
    _refused(path, "'w'", "past the end of its storage")


def test_storage_shorter_than_declared(tmp_path: Path) -> None:
    pkl = dumps(state_dict({"w": tensor_ref("0", (4,), (1,), numel=4)}))
    _refused(write_saved(tmp_path / "x.bin", pkl, {"0": Blob(bytes(12), 4)}), "shorter")
    pkl = dumps(state_dict({"w": tensor_ref("1", (4,), (1,), numel=4, legacy=True)}))
    path = write_saved(tmp_path / "y.bin", pkl, {"1": Blob(bytes(16), 3)}, fmt="legacy")
    _refused(path, "holds 3 elements", "says 4")


def test_same_storage_declared_twice_differently(tmp_path: Path) -> None:
    pkl = dumps(state_dict({"a": tensor_ref("0", (2,), (1,), numel=2),
                            "b": tensor_ref("0", (2,), (1,), numel=2, type_name="HalfStorage")}))
    _refused(write_saved(tmp_path / "x.bin", pkl, {"0": Blob(bytes(8), 2)}), "declared twice")


def test_big_endian_is_refused(tmp_path: Path) -> None:
    path = _good(tmp_path, "zip")
    with zipfile.ZipFile(path) as zf:
        entries = [(n, b"big" if n.endswith("byteorder") else zf.read(n)) for n in zf.namelist()]
    path.write_bytes(zip_archive(entries))
    _refused(path, "'big'", "little-endian")

    legacy = _good(tmp_path, "legacy")
    raw = legacy.read_bytes()
    little = pickle.dumps({"protocol_version": 1001, "little_endian": True,
                           "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    legacy.write_bytes(raw.replace(little, little.replace(b"\x88", b"\x89")))
    _refused(legacy, "big-endian")


@pytest.mark.parametrize(("content", "words"), [
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}", ("not a PyTorch checkpoint",)),
    (b"", ("not a PyTorch checkpoint",)),
    (b"x" * 257 + b"ustar" + bytes(300), ("tar file",)),
    (zip_archive([("foo/bar.txt", b"hi")]), ("not a torch.save one",)),
])
def test_not_a_torch_file(tmp_path: Path, content: bytes, words: tuple[str, ...]) -> None:
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(content)
    _refused(path, *words)


def test_oversized_pickle_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = Raw(b"B" + struct.pack("<I", MAX_PICKLE_BYTES) + bytes(MAX_PICKLE_BYTES) + b"0")
    path = _hostile_file(tmp_path / "x.bin", big, "legacy", hidden=True)
    _refused(path, f"over {MAX_PICKLE_BYTES >> 20} MB")
    _refused(_hostile_file(tmp_path / "y.bin", big, "zip", hidden=True),
             f"over {MAX_PICKLE_BYTES >> 20} MB")
    # A length that the file does not hold is refused before anything that long is allocated.
    lying = Raw(b"\x8e" + struct.pack("<Q", 1 << 62))
    _refused(_hostile_file(tmp_path / "z.bin", lying, "legacy", hidden=True), "past the end")
