"""Fuzzing every reader: seeds, saves, character cards, importers, the config file, GGUF headers
and Hugging Face checkpoints.

What a reader may do with hostile input: return something usable, or raise one of our own
errors (a ``UserError``) with a clear one-line message, within a bounded time. What it accepts
must then work: a seed or card starts a game that saves and loads, a save plays a turn, the
settings are of the types llama.cpp takes and write back unchanged. A 100 MB file and a deeply
nested document are refused quickly, without reading them into memory.

The default run tries a few dozen inputs per reader; ``pytest -m slow`` tries >= 10,000 in all
(counted in the figures at the end of the run).
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import shutil
import struct
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.config import Settings, load_settings, settings_toml, toml_value
from gpt2_adventure.engine.models.checkpoint import load_checkpoint
from gpt2_adventure.engine.models.gguf_header import MAX_ITEMS
from gpt2_adventure.engine.models.gguf_info import read_model_info
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import UserError
from gpt2_adventure.launch import session_sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.cards.reader import load_card_report
from gpt2_adventure.story.model import Seed
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.format import decode, encode
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed, load_seed, parse_seed
from gpt2_adventure.story.session import Session
from tests.support import reliability_gguf as gg
from tests.support.fake_backend import FakeBackend
from tests.support.png_cards import minimal_png, text_chunk
from tests.support.reliability_figures import add

PEERS = Path(__file__).resolve().parents[3] / "shared" / "peer-samples"
COUNTS: Counter = Counter()
PER_INPUT_SECONDS = 3.0  # generous: a loaded 2-core CI machine; real inputs take milliseconds
BIG_SECONDS = 5.0
BIG_PEAK_BYTES = 40 * 1024 * 1024
HUGE = 100 * 1024 * 1024

# (fast examples, slow examples) per reader; the slow numbers add up to >= 10,000.
SIZES = {
    "seeds": (30, 1500), "seed-mutations": (20, 1000), "saves": (30, 1500),
    "save-mutations": (20, 1000), "cards": (25, 1200), "importers": (15, 800),
    "config": (30, 1500), "gguf": (30, 1500), "gguf-mutations": (20, 800),
    "checkpoint": (20, 800),
}
assert sum(slow for _, slow in SIZES.values()) >= 10_000


def sizes(reader: str) -> list[Any]:
    fast, slow = SIZES[reader]
    return [pytest.param(fast, id="fast"),
            pytest.param(slow, id="slow", marks=pytest.mark.slow)]


def fuzz_settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None, derandomize=n < 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if not COUNTS:
        return
    for reader, n in COUNTS.items():
        add(f"fuzz.inputs.{reader}", n)
    add("fuzz.inputs.total", sum(n for reader, n in COUNTS.items()
                                  if not reader.startswith("derived")))
    COUNTS.clear()


def attempt(reader: str, call: Callable[[], Any]) -> Any:
    """Run a reader on one input: its result, or None after one of our errors. Anything else
    (KeyError, RecursionError...) fails the test; so does taking too long."""
    COUNTS[reader] += 1
    started = time.perf_counter()
    try:
        return call()
    except UserError as error:
        clear_message(error)
        return None
    finally:
        elapsed = time.perf_counter() - started
        assert elapsed < PER_INPUT_SECONDS, f"{reader} took {elapsed:.1f} s on one input"


def clear_message(error: UserError) -> None:
    text = str(error)
    assert error.message.strip(), "an empty error message"
    assert "\n" not in error.message, f"a multi-line error message: {text!r}"
    assert "Traceback" not in text
    assert len(error.message) < 2000, f"an overlong message ({len(error.message)} chars)"


# -- what a reader accepts must work -------------------------------------------------------


def sound_sampling(sampling: Sampling) -> None:
    """Every field has the type llama.cpp's sampler functions take (a float top_k fails in
    ctypes on every reply) and no NaN."""
    defaults = Sampling()
    for f in fields(Sampling):
        value, default = getattr(sampling, f.name), getattr(defaults, f.name)
        if isinstance(default, bool):
            assert isinstance(value, bool), (f.name, value)
        elif isinstance(default, int):
            assert isinstance(value, int) and not isinstance(value, bool), (f.name, value)
        elif isinstance(default, float):
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (f.name, value)
            assert not math.isnan(value), f.name
        elif isinstance(default, tuple):
            assert all(isinstance(s, str) for s in value), (f.name, value)
        else:
            assert all(isinstance(k, int) and isinstance(v, float) for k, v in value.items())


def playable(seed: Seed) -> None:
    """A seed the reader accepted starts a game that saves, loads back, and plays a turn."""
    values = {p.name: p.default or "Anna" for p in seed.placeholders}
    state = attempt("derived: seed to game", lambda: new_state(seed, values, random.Random(0)))
    if state is None:
        return
    sound_sampling(session_sampling(Sampling(), state.sampling))
    again = decode(encode(state, "fuzz"), "fuzz").state
    assert again == state
    plays(state)


def plays(state: Any) -> None:
    session = Session(state, FakeBackend([" The wind rises."], n_ctx=256),
                      session_sampling(Sampling(max_tokens=8), state.sampling))
    try:
        for _ in session.act("look around", "do"):
            pass
    except UserError as error:
        clear_message(error)


# -- strategies ----------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["{name}", "{{", "}}", "{x", "You are {name}.", "\x1b[31m", "[bold]", "\u202e", "\n> x",
     "<|endoftext|>", " ", "", "Anna:", "\n"])
TOML_SCALARS = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | TEXT)
TOML_VALUES = st.recursive(
    TOML_SCALARS, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(TEXT, inner, max_size=4), max_leaves=10)
JSON_SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(TEXT, inner, max_size=4), max_leaves=10)


def sometimes(good: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the right kind of value, sometimes anything."""
    return st.one_of(good, good, good, TOML_VALUES)


def toml_document(doc: dict[str, Any]) -> str:
    lines = []
    for key, value in doc.items():
        lines.append(f"{json.dumps(str(key), ensure_ascii=False)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


PLACEHOLDER = st.fixed_dictionaries({"name": sometimes(st.sampled_from(["name", "town", "x"])),
                                     "question": sometimes(TEXT)},
                                    optional={"default": sometimes(TEXT), "extra": TEXT})
WORLD = st.fixed_dictionaries({"content": sometimes(TEXT)},
                              optional={"keys": sometimes(st.lists(TEXT, max_size=3)),
                                        "secondary_keys": sometimes(st.lists(TEXT, max_size=2)),
                                        "always": sometimes(st.booleans()),
                                        "comment": sometimes(TEXT)})
SAMPLING_TABLE = st.dictionaries(
    st.sampled_from([f.name for f in fields(Sampling)] + ["preset", "bogus"]),
    st.integers(-5, 300) | st.floats(-2, 5) | st.booleans() | st.lists(TEXT, max_size=2)
    | st.dictionaries(st.sampled_from(["50256", "-1", "x", "99999999999"]),
                      st.floats() | st.integers(-100, 100), max_size=2) | TOML_VALUES,
    max_size=4)
CHAT = st.fixed_dictionaries({"character": sometimes(TEXT)},
                             optional={"player": sometimes(TEXT), "persona": sometimes(TEXT),
                                       "greeting": sometimes(TEXT),
                                       "example_dialogue": sometimes(TEXT),
                                       "others": sometimes(st.lists(TEXT, max_size=3))})
SEED_DOCS = st.fixed_dictionaries(
    {"format": sometimes(st.just(1)), "title": sometimes(TEXT),
     "mode": sometimes(st.sampled_from(["adventure", "story", "chat", "poem"]))},
    optional={"openings": sometimes(st.lists(TEXT, max_size=3)), "opening": sometimes(TEXT),
              "genre": sometimes(TEXT), "description": sometimes(TEXT),
              "placeholders": sometimes(st.lists(PLACEHOLDER, max_size=3)),
              "memory": sometimes(TEXT), "authors_note": sometimes(TEXT),
              "world": sometimes(st.lists(WORLD, max_size=3)),
              "sampling": sometimes(SAMPLING_TABLE), "chat": sometimes(CHAT),
              "unknown_field": TOML_VALUES})


def bundled_seed_texts() -> list[bytes]:
    return [p.read_bytes() for p in sorted(stories_dir().glob("*.toml"))]


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (kind, position, bytes) edits: 0 flips a byte, 1 deletes a run, 2 inserts, 3 cuts."""
    buf = bytearray(data)
    for kind, pos, extra in edits:
        if not buf:
            break
        pos %= len(buf)
        if kind == 0:
            buf[pos] ^= (extra[0] if extra else 0xFF) or 1
        elif kind == 1:
            del buf[pos:pos + 1 + len(extra) * 7]
        elif kind == 2:
            buf[pos:pos] = extra
        else:
            del buf[pos:]
    return bytes(buf)


EDITS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**31), st.binary(max_size=12)),
                 min_size=1, max_size=6)


# -- seeds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", sizes("seeds"))
def test_seed_documents(n: int) -> None:
    @fuzz_settings(n)
    @given(doc=SEED_DOCS)
    def check(doc: dict[str, Any]) -> None:
        text = toml_document(doc)
        seed = attempt("seeds", lambda: parse_seed(text, "fuzz", "fuzz.toml"))
        if seed is not None:
            playable(seed)

    check()


@pytest.mark.parametrize("n", sizes("seed-mutations"))
def test_mutated_seed_files(n: int, scratch: Path) -> None:
    originals = bundled_seed_texts()
    path = scratch / "mutated.toml"

    @fuzz_settings(n)
    @given(index=st.integers(0, len(originals) - 1), edits=EDITS)
    def check(index: int, edits: list[tuple[int, int, bytes]]) -> None:
        path.write_bytes(mutate(originals[index], edits))
        seed = attempt("seeds", lambda: load_seed(path))
        if seed is not None:
            playable(seed)

    check()


# -- saves ---------------------------------------------------------------------------------


def _good_save() -> dict[str, Any]:
    paths = AppPaths.from_env()
    states = []
    for story in ("knight", "tavern-keeper", "fairy-tale"):
        state = new_state(find_seed(paths, story), {"name": "Anna"}, random.Random(1))
        session = Session(state, FakeBackend([" It opens.", " Hm.", " Yes."]), Sampling())
        for action in ("open the door", "look"):
            for _ in session.act(action, "do"):
                pass
        for _ in session.retry():
            pass
        session.undo()
        states.append(state)
    return {s.mode: json.loads(encode(s, s.title)) for s in states}


GOOD_SAVES = _good_save()


def places(doc: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from places(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from places(value, (*path, i))


def put(doc: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(last, None)
    else:
        target[last] = value
    return doc


VERSIONS = st.sampled_from([1, 0, -1, 2, 99, 2**64, 1.0, "1", True, None, [1]])


@pytest.mark.parametrize("n", sizes("saves"))
def test_save_documents(n: int) -> None:
    @fuzz_settings(n)
    @given(mode=st.sampled_from(sorted(GOOD_SAVES)), version=VERSIONS, data=st.data(),
           changes=st.integers(0, 3))
    def check(mode: str, version: Any, data: st.DataObject, changes: int) -> None:
        doc = json.loads(json.dumps(GOOD_SAVES[mode]))
        if data.draw(st.booleans()):
            doc["version"] = json.loads(json.dumps(version))  # a copy: edits go inside it
        for _ in range(changes):
            spots = list(places(doc))
            spot = data.draw(st.sampled_from(spots))
            doc = put(doc, spot, data.draw(JSON_VALUES), data.draw(st.booleans()))
        raw = json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode()
        loaded = attempt("saves", lambda: decode(raw, "fuzz.json"))
        if loaded is not None:
            state = loaded.state
            sound_sampling(session_sampling(Sampling(), state.sampling))
            assert decode(encode(state, "again"), "again").state == state
            plays(state)

    check()


@pytest.mark.parametrize("n", sizes("save-mutations"))
def test_mutated_save_files(n: int) -> None:
    originals = [json.dumps(doc, indent=1).encode() for doc in GOOD_SAVES.values()]
    store = SaveStore(AppPaths.from_env())
    folder = Path(tempfile.mkdtemp())

    @fuzz_settings(n)
    @given(index=st.integers(0, len(originals) - 1), edits=EDITS)
    def check(index: int, edits: list[tuple[int, int, bytes]]) -> None:
        path = folder / "mutated.json"
        path.write_bytes(mutate(originals[index], edits))
        state = attempt("saves", lambda: store.load(path))
        if state is not None:
            plays(state)

    try:
        check()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- character cards -----------------------------------------------------------------------

CARD_FIELDS = st.fixed_dictionaries(
    {"name": sometimes(TEXT)},
    optional={"description": sometimes(TEXT), "personality": sometimes(TEXT),
              "scenario": sometimes(TEXT), "first_mes": sometimes(TEXT),
              "mes_example": sometimes(TEXT), "alternate_greetings": sometimes(st.lists(TEXT)),
              "system_prompt": TEXT, "tags": JSON_VALUES, "creator_notes": JSON_VALUES,
              "character_book": st.fixed_dictionaries(
                  {"entries": st.lists(st.fixed_dictionaries(
                      {"keys": sometimes(st.lists(TEXT, max_size=2)),
                       "content": sometimes(TEXT)},
                      optional={"enabled": JSON_VALUES, "constant": JSON_VALUES,
                                "secondary_keys": JSON_VALUES}), max_size=3)})
              | JSON_VALUES,
              "extensions": JSON_VALUES, "char_name": TEXT})
CARDS = st.one_of(
    CARD_FIELDS,
    st.builds(lambda d, spec: {"spec": spec, "spec_version": "2.0", "data": d}, CARD_FIELDS,
              st.sampled_from(["chara_card_v2", "chara_card_v3", "other", 3])),
    JSON_VALUES)


@pytest.mark.parametrize("n", sizes("cards"))
def test_character_cards(n: int, scratch: Path) -> None:
    @fuzz_settings(n)
    @given(card=CARDS, as_png=st.booleans(), keyword=st.sampled_from(["chara", "ccv3", "Chara"]),
           edits=st.none() | EDITS)
    def check(card: Any, as_png: bool, keyword: str,
              edits: list[tuple[int, int, bytes]] | None) -> None:
        raw = json.dumps(card, ensure_ascii=False).encode()
        if as_png:
            data = minimal_png(text_chunk(keyword, base64.b64encode(raw).decode()))
            path = scratch / "card.png"
        else:
            data, path = raw, scratch / "card.json"
        path.write_bytes(mutate(data, edits) if edits else data)
        result = attempt("cards", lambda: load_card_report(path))
        if result is not None:
            playable(result[0])

    check()


# -- importers (AI Dungeon 2, Clover Edition, KoboldAI) ------------------------------------


def _importers() -> Any:
    try:
        from gpt2_adventure.story import importers
    except ImportError:
        pytest.skip("the importers are not in this build yet")
    return importers


KOBOLD = st.fixed_dictionaries(
    {"gamestarted": JSON_VALUES, "prompt": sometimes(TEXT),
     "actions": sometimes(st.lists(TEXT, max_size=4))},
    optional={"memory": sometimes(TEXT), "authorsnote": sometimes(TEXT),
              "worldinfo": sometimes(st.lists(st.fixed_dictionaries(
                  {"key": sometimes(TEXT), "content": sometimes(TEXT)},
                  optional={"keysecondary": JSON_VALUES, "selective": JSON_VALUES,
                            "constant": JSON_VALUES}), max_size=3)),
              "actions_metadata": JSON_VALUES, "anotetemplate": JSON_VALUES})
AID_SAVE = st.fixed_dictionaries({"story_start": sometimes(TEXT)},
                                 optional={"actions": sometimes(st.lists(TEXT, max_size=3)),
                                           "results": sometimes(st.lists(TEXT, max_size=3)),
                                           "context": sometimes(TEXT)})
AID_SEEDS = st.fixed_dictionaries({"settings": st.dictionaries(
    TEXT, st.fixed_dictionaries({"description": sometimes(TEXT)}, optional={
        "characters": st.dictionaries(TEXT, st.fixed_dictionaries(
            {"prompts": sometimes(st.lists(TEXT, max_size=2))},
            optional={"item1": TEXT, "item2": TEXT}), max_size=2) | JSON_VALUES}),
    max_size=2) | JSON_VALUES})


def _peer_samples() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(PEERS.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".yaml", ".txt")]


@pytest.mark.parametrize("n", sizes("importers"))
def test_importers(n: int) -> None:
    importers = _importers()
    samples = _peer_samples() or [("story.json", b'{"gamestarted": true, "prompt": "Hi."}')]

    @fuzz_settings(n)
    @given(choice=st.integers(0, 3), doc=st.one_of(KOBOLD, AID_SAVE, AID_SEEDS, JSON_VALUES),
           sample=st.integers(0, len(samples) - 1), edits=EDITS,
           as_=st.sampled_from([None, "seed", "save"]),
           name=st.sampled_from(["story.json", "story_data.yaml", "save.json", "prompt.txt"]))
    def check(choice: int, doc: Any, sample: int, edits: list[tuple[int, int, bytes]],
              as_: str | None, name: str) -> None:
        if choice == 0:
            data = json.dumps(doc, ensure_ascii=False).encode()
        elif choice == 1:
            import yaml

            data = yaml.safe_dump(doc, allow_unicode=True).encode()
        else:
            sample_name, sample_data = samples[sample]
            name = sample_name
            data = mutate(sample_data, edits) if choice == 2 else sample_data[: edits[0][1]
                                                                              % 4000]
        attempt("importers", lambda: importers.convert_bytes(data, name, as_))

    check()


# -- the config file -----------------------------------------------------------------------

MODEL_TABLE = st.dictionaries(
    st.sampled_from(["name", "threads", "n_gpu_layers", "n_ctx", "n_batch", "flash_attn", "seed",
                     "save_state", "state_max_mb", "bogus"]),
    st.integers(-5, 5000) | st.integers() | st.booleans() | TEXT | TOML_VALUES, max_size=4)
UI_TABLE = st.dictionaries(st.sampled_from(["theme", "text_width", "bogus"]),
                           st.integers(-5, 500) | TEXT | TOML_VALUES, max_size=3)
CONFIG_DOCS = st.dictionaries(
    st.sampled_from(["model", "sampling", "ui", "backend", "other"]),
    st.one_of(MODEL_TABLE, SAMPLING_TABLE, UI_TABLE, TOML_VALUES), max_size=3)
ENVIRONS = st.dictionaries(
    st.sampled_from(["GPT2_ADVENTURE_MODEL", "GPT2_ADVENTURE_THREADS", "GPT2_ADVENTURE_N_CTX",
                     "GPT2_ADVENTURE_N_BATCH", "GPT2_ADVENTURE_SEED", "GPT2_ADVENTURE_PRESET",
                     "GPT2_ADVENTURE_N_GPU_LAYERS"]),
    st.sampled_from(["", "4", "-1", "0", "x", "1e3", "default", "greedy", "99999999999999999"])
    | st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
              max_size=12), max_size=3)


def config_text(doc: dict[str, Any]) -> str:
    lines = []
    for section, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in table.items()]
        else:
            lines.insert(0, f"{section} = {toml_value(table)}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("n", sizes("config"))
def test_config_files(n: int, scratch: Path) -> None:
    path = scratch / "config.toml"
    again = scratch / "again.toml"

    @fuzz_settings(n)
    @given(doc=CONFIG_DOCS, environ=ENVIRONS, edits=st.none() | EDITS)
    def check(doc: dict[str, Any], environ: dict[str, str],
              edits: list[tuple[int, int, bytes]] | None) -> None:
        raw = config_text(doc).encode()
        path.write_bytes(mutate(raw, edits) if edits else raw)
        result = attempt("config", lambda: load_settings(path, environ))
        if result is None:
            return
        sound_sampling(result.sampling)
        model = result.model
        assert model.threads is None or 1 <= model.threads <= 512
        assert model.n_ctx >= 16 and (model.n_batch is None or model.n_batch >= 1)
        # What the Settings screen writes, the next start reads back unchanged.
        again.write_text(settings_toml(result), encoding="utf-8")
        assert load_settings(again, {}) == result

    check()


def test_config_defaults_write_back_unchanged(scratch: Path) -> None:
    path = scratch / "defaults.toml"
    path.write_text(settings_toml(Settings()), encoding="utf-8")
    assert load_settings(path, {}) == Settings()


# -- GGUF headers --------------------------------------------------------------------------

GGUF_KEYS = [b"general.architecture", b"general.alignment", b"general.file_type",
             b"general.name", b"gpt2.context_length", b"gpt2.embedding_length",
             b"gpt2.block_count", b"gpt2.attention.head_count", b"tokenizer.ggml.model",
             b"tokenizer.ggml.tokens", b"tokenizer.ggml.pre", b"tokenizer.ggml.merges"]
TENSOR_NAMES = [b"token_embd.weight", b"position_embd.weight", b"output.weight",
                b"blk.0.attn_qkv.weight", b"output_norm.weight"]
DIM = st.integers(0, 64) | st.sampled_from([1024, 2**31, 2**63, 2**64 - 1])


def _scalar(vtype: int) -> st.SearchStrategy:
    fmt = gg.SCALAR_FORMATS[vtype]
    if fmt in "fd":
        return st.floats(width=32 if fmt == "f" else 64)
    if fmt == "?":
        return st.booleans()
    bits = struct.calcsize(fmt) * 8
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if fmt.islower() else (0, 2**bits - 1)
    return st.integers(low, high) | st.sampled_from([0, 1, 8, 16, 1024] if high > 1024 else [0])


@st.composite
def gguf_value(draw: st.DrawFn, vtype: int, depth: int = 0) -> Any:
    if vtype in gg.SCALAR_FORMATS:
        return draw(_scalar(vtype))
    if vtype == gg.STRING:
        return draw(st.sampled_from([b"gpt2", b"llama", b"", b"gpt-2"]) | st.binary(max_size=16))
    if vtype == gg.ARRAY:
        etype = draw(st.sampled_from([*gg.SCALAR_FORMATS, gg.STRING]
                                     + ([gg.ARRAY] if depth < 6 else []) + [13]))
        if etype == 13:
            return etype, draw(st.integers(0, 3)), []
        items = draw(st.lists(gguf_value(etype, depth + 1), max_size=4))
        count = draw(st.just(len(items)) | st.integers(0, 2**64 - 1))
        return etype, count, items
    return draw(st.binary(max_size=8))


@st.composite
def gguf_files(draw: st.DrawFn) -> bytes:
    kvs = []
    for _ in range(draw(st.integers(0, 8))):
        key = draw(st.sampled_from(GGUF_KEYS) | st.binary(max_size=12))
        vtype = draw(st.sampled_from([*gg.SCALAR_FORMATS, gg.STRING, gg.STRING, gg.ARRAY,
                                      13, 2**31]))
        kvs.append((key, vtype, draw(gguf_value(vtype))))
    tensors = [(draw(st.sampled_from(TENSOR_NAMES) | st.binary(max_size=10)),
                draw(st.lists(DIM, max_size=9)), draw(st.integers(0, 45) | st.just(2**32 - 1)),
                draw(st.integers(0, 4096) | st.integers(0, 2**64 - 1)))
               for _ in range(draw(st.integers(0, 4)))]
    lie = draw(st.booleans())
    return gg.build(kvs, tensors, bytes(draw(st.integers(0, 2048))),
                    version=draw(st.sampled_from([3, 3, 2, 1, 4, 2**32 - 1])),
                    n_tensors=draw(st.integers(0, 2**64 - 1)) if lie else None,
                    n_kv=draw(st.integers(0, 2**64 - 1)) if lie and draw(st.booleans())
                    else None)


def sane_model(info: Any) -> None:
    assert info.training_context >= 16
    assert info.architecture == "gpt2" and info.vocab_size > 0


@pytest.mark.parametrize("n", sizes("gguf"))
def test_gguf_headers(n: int, scratch: Path) -> None:
    path = scratch / "fuzz.gguf"

    @fuzz_settings(n)
    @given(data=gguf_files())
    def check(data: bytes) -> None:
        path.write_bytes(data)
        info = attempt("gguf", lambda: read_model_info(path))
        if info is not None:
            sane_model(info)

    check()


@pytest.mark.parametrize("n", sizes("gguf-mutations"))
def test_mutated_gguf_headers(n: int, scratch: Path) -> None:
    good = gg.tiny_gpt2()
    path = scratch / "mutated.gguf"
    path.write_bytes(good)
    sane_model(read_model_info(path))

    @fuzz_settings(n)
    @given(edits=EDITS, cut=st.none() | st.integers(0, len(good)))
    def check(edits: list[tuple[int, int, bytes]], cut: int | None) -> None:
        path.write_bytes(good[:cut] if cut is not None else mutate(good, edits))
        info = attempt("gguf", lambda: read_model_info(path))
        if info is not None:
            sane_model(info)

    check()


# -- Hugging Face checkpoints --------------------------------------------------------------

CONFIG_JSON = st.fixed_dictionaries(
    {"model_type": sometimes(st.just("gpt2"))},
    optional={k: st.integers(-2, 64) | JSON_VALUES
              for k in ("n_embd", "n_head", "n_layer", "n_positions", "vocab_size", "n_ctx",
                        "n_inner")}
    | {"layer_norm_epsilon": st.floats() | JSON_VALUES,
       "activation_function": st.sampled_from(["gelu_new", "relu"]) | JSON_VALUES,
       "scale_attn_weights": JSON_VALUES})
VOCAB = st.dictionaries(TEXT, st.integers(-1, 5) | JSON_VALUES, max_size=5) | JSON_VALUES
SAFETENSORS_HEADER = st.dictionaries(
    st.sampled_from(["wte.weight", "wpe.weight", "h.0.ln_1.weight", "__metadata__",
                     "transformer.wte.weight", "lm_head.weight"]) | TEXT,
    st.fixed_dictionaries({"dtype": st.sampled_from(["F32", "F16", "BF16", "I8"]) | JSON_VALUES,
                           "shape": st.lists(st.integers(-1, 64), max_size=3) | JSON_VALUES,
                           "data_offsets": st.lists(st.integers(-8, 4096) | JSON_VALUES,
                                                    min_size=2, max_size=2) | JSON_VALUES})
    | JSON_VALUES, max_size=4)


@pytest.mark.parametrize("n", sizes("checkpoint"))
def test_checkpoint_folders(n: int, scratch: Path) -> None:
    @fuzz_settings(n)
    @given(config=CONFIG_JSON | JSON_VALUES, vocab=VOCAB,
           merges=st.lists(TEXT, max_size=4), use_tokenizer_json=st.booleans(),
           added=JSON_VALUES, header=SAFETENSORS_HEADER, data=st.integers(0, 512),
           index=st.none() | st.dictionaries(st.just("weight_map"), st.dictionaries(
               TEXT, TEXT | JSON_VALUES, max_size=3) | JSON_VALUES) | JSON_VALUES)
    def check(config: Any, vocab: Any, merges: list[str], use_tokenizer_json: bool,
              added: Any, header: Any, data: int, index: Any) -> None:
        folder = Path(tempfile.mkdtemp(dir=scratch))
        try:
            (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
            if use_tokenizer_json:
                (folder / "tokenizer.json").write_text(json.dumps(
                    {"model": {"vocab": vocab, "merges": merges}, "added_tokens": added}))
            else:
                (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
                (folder / "merges.txt").write_text("\n".join(merges), encoding="utf-8")
            raw = json.dumps(header).encode()
            blob = struct.pack("<Q", len(raw)) + raw + bytes(data)
            if index is None:
                (folder / "model.safetensors").write_bytes(blob)
            else:
                (folder / "model.safetensors.index.json").write_text(json.dumps(index))
                (folder / "shard.safetensors").write_bytes(blob)
            attempt("checkpoint", lambda: load_checkpoint(folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    check()


# -- a 100 MB file and a deeply nested document, for every reader --------------------------


def refused_quickly(reader: str, call: Callable[[], Any], memory: bool = True) -> UserError:
    """The reader refuses with one of our errors in < 5 s, without holding the file in memory
    (``memory=False``: time only; tracemalloc makes a loop of millions of steps crawl)."""
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        call()
    except UserError as error:
        clear_message(error)
        caught = error
    else:
        raise AssertionError(f"{reader} accepted it")
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if memory else 0
        tracemalloc.stop()
    assert elapsed < BIG_SECONDS, f"{reader} took {elapsed:.1f} s"
    assert peak < BIG_PEAK_BYTES, f"{reader} allocated {peak / 1e6:.0f} MB"
    COUNTS["big-or-nested"] += 1
    return caught


def huge(path: Path, head: bytes) -> Path:
    """``head`` and then zeros up to 100 MB (a sparse file: nothing is written to disk)."""
    with path.open("wb") as out:
        out.write(head)
        out.truncate(HUGE)
    return path


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def test_a_100_mb_file_is_refused_quickly_by_every_reader(scratch: Path) -> None:
    folder = scratch / "huge"
    folder.mkdir()
    try:
        refused_quickly("seed", lambda: load_seed(huge(folder / "s.toml", b"format = 1\n#")))
        refused_quickly("save", lambda: SaveStore(AppPaths.from_env()).load(
            huge(folder / "s.json", b'{"format": "gpt2-adventure-save", "x": "')))
        refused_quickly("card json", lambda: load_card_report(
            huge(folder / "c.json", b'{"name": "x", "description": "')))
        png = minimal_png()[:33] + struct.pack(">I", 2**31 - 1) + b"tEXtchara\0"
        refused_quickly("card png", lambda: load_card_report(huge(folder / "c.png", png)))
        (folder / "cfg").mkdir()
        refused_quickly("config", lambda: load_settings(
            huge(folder / "cfg" / "config.toml", b"[model]\n#"), {}))
        strings = gg.build([(b"general.architecture", gg.STRING, b"gpt2"),
                            (b"tokenizer.ggml.tokens", gg.ARRAY, (gg.STRING, 12_000_000, []))],
                           [])
        refused_quickly("gguf", lambda: read_model_info(huge(folder / "m.gguf", strings)))
        # Just under the limit on strings: every one is walked, and still quickly.
        below = gg.build([(b"general.architecture", gg.STRING, b"gpt2"),
                          (b"tokenizer.ggml.tokens", gg.ARRAY, (gg.STRING, MAX_ITEMS, []))], [])
        refused_quickly("gguf", lambda: read_model_info(huge(folder / "m2.gguf", below)),
                        memory=False)
        (folder / "ck").mkdir()
        huge(folder / "ck" / "config.json", b'{"model_type": "gpt2", "x": "')
        refused_quickly("checkpoint", lambda: load_checkpoint(folder / "ck"))
        importers = _importers()
        refused_quickly("importer", lambda: importers.convert_file(
            huge(folder / "story.json", b'{"gamestarted": true, "prompt": "')))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_deeply_nested_document_is_refused_quickly_by_every_reader(scratch: Path) -> None:
    folder = scratch / "deep"
    folder.mkdir()
    nested_toml = b"x = " + b"[" * 200_000 + b"]" * 200_000 + b"\n"
    tables = b"x = " + b"{a=" * 50_000 + b"1" + b"}" * 50_000 + b"\n"
    for name, body in (("arrays", nested_toml), ("tables", tables)):
        (folder / f"{name}.toml").write_bytes(b"format = 1\n" + body)
        refused_quickly("seed", lambda n=name: load_seed(folder / f"{n}.toml"))
        (folder / name).mkdir()
        (folder / name / "config.toml").write_bytes(body)
        refused_quickly("config", lambda n=name: load_settings(folder / n / "config.toml", {}))
    refused_quickly("save", lambda: decode(deep_json(), "deep.json"))
    state = b'{"format": "gpt2-adventure-save", "version": 1, "state": ' + b'{"a": ' * 50_000 \
        + b"1" + b"}" * 50_001
    refused_quickly("save", lambda: decode(state, "deep.json"))
    (folder / "card.json").write_bytes(deep_json())
    refused_quickly("card json", lambda: load_card_report(folder / "card.json"))
    (folder / "card.png").write_bytes(minimal_png(text_chunk(
        "chara", base64.b64encode(deep_json()).decode())))
    refused_quickly("card png", lambda: load_card_report(folder / "card.png"))
    nested = struct.pack("<IQ", gg.ARRAY, 1) * 5000 + struct.pack("<IQ", 0, 0)
    deep_gguf = (b"GGUF" + struct.pack("<IQQ", 3, 0, 2)
                 + gg.string(b"general.architecture") + struct.pack("<I", gg.STRING)
                 + gg.string(b"gpt2") + gg.string(b"deep") + struct.pack("<I", gg.ARRAY)
                 + nested + bytes(64))
    (folder / "deep.gguf").write_bytes(deep_gguf)
    refused_quickly("gguf", lambda: read_model_info(folder / "deep.gguf"))
    (folder / "ck").mkdir()
    (folder / "ck" / "config.json").write_bytes(deep_json())
    refused_quickly("checkpoint", lambda: load_checkpoint(folder / "ck"))
    importers = _importers()
    refused_quickly("importer", lambda: importers.convert_bytes(deep_json(), "story.json"))
    refused_quickly("importer", lambda: importers.convert_bytes(  # pure-Python YAML: no
        b"settings: " + b"[" * 20_000 + b"]" * 20_000, "story_data.yaml"), memory=False)
    laughs = [b'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        laughs.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]".encode())
    laughs.append(b"settings: {fantasy: {description: x, characters: {k: {prompts: *a8}}}}")
    started = time.perf_counter()
    attempt("importers", lambda: importers.convert_bytes(b"\n".join(laughs), "story_data.yaml"))
    assert time.perf_counter() - started < BIG_SECONDS  # a billion laughs is not expanded


def test_a_fifo_never_blocks_a_reader(scratch: Path) -> None:
    """A FIFO named as a file blocks ``open()`` until someone writes: readers must refuse it."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    folder = scratch / "fifo"
    (folder / "cfg").mkdir(parents=True)
    readers = {
        "seed": ("s.toml", lambda p: load_seed(p)),
        "save": ("s.json", lambda p: SaveStore(AppPaths.from_env()).load(p)),
        "card": ("c.json", lambda p: load_card_report(p)),
        "gguf": ("m.gguf", lambda p: read_model_info(p)),
        "config": ("cfg/config.toml", lambda p: load_settings(p, {})),
    }
    blocked = []
    for reader, (name, call) in readers.items():
        path = folder / name
        os.mkfifo(path)
        outcome: list[object] = []

        def work(call: Callable[[Path], Any] = call, path: Path = path,
                 outcome: list[object] = outcome) -> None:
            try:
                outcome.append(call(path))
            except BaseException as error:  # noqa: BLE001 - examined below
                outcome.append(error)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(3)
        if thread.is_alive():  # blocked in open(): let it go by opening the writing end
            blocked.append(reader)
            os.close(os.open(path, os.O_WRONLY))
            thread.join(3)
        else:
            assert outcome and isinstance(outcome[0], UserError), (reader, outcome)
            clear_message(outcome[0])
    assert not blocked, f"these readers hang on a FIFO: {blocked}"


def test_readers_accept_what_the_game_writes() -> None:
    """The sanity half of the fuzzers: real files load (so the fuzzers test real readers)."""
    for text in bundled_seed_texts():
        assert parse_seed(text.decode("utf-8-sig"), "x") is not None
    for doc in GOOD_SAVES.values():
        assert decode(json.dumps(doc).encode(), "x").state.turns
    defaults = Settings()
    assert asdict(defaults.sampling) == asdict(Sampling())


# -- defects the fuzzers found outside the readers, now fixed ----------------------------------


def test_a_chat_save_without_its_characters_fails_cleanly() -> None:
    doc = json.loads(json.dumps(GOOD_SAVES["chat"]))
    doc["state"]["chat"] = None
    try:
        state = decode(json.dumps(doc).encode(), "chat.json").state
    except UserError:
        return  # refused with a clear message: fine
    session = Session(state, FakeBackend([" Hm."]), Sampling(max_tokens=8))
    try:
        for _ in session.act("hello", "say"):
            pass
    except UserError:
        pass


def test_save_sampling_of_the_wrong_type_is_dropped() -> None:
    for key, value in (("top_k", 1.5), ("max_tokens", 2.5), ("repeat_last_n", 64.0),
                       ("ignore_eos", 1)):
        doc = json.loads(json.dumps(GOOD_SAVES["adventure"]))
        doc["state"]["sampling"] = {key: value}
        state = decode(json.dumps(doc).encode(), "x.json").state
        sound_sampling(session_sampling(Sampling(), state.sampling))


def test_yaml_errors_are_one_line() -> None:
    importers = _importers()
    with pytest.raises(UserError) as caught:
        importers.convert_bytes(b"\x01", "story_data.yaml")
    clear_message(caught.value)


def test_reading_a_small_save_does_not_reserve_the_size_limit(tmp_path: Path) -> None:
    """read(n) allocates n bytes up front: a save is read sized by its file, not by the
    50 MB limit (which every load and every line of ``saves list`` used to reserve)."""
    path = tmp_path / "small.json"
    path.write_bytes(json.dumps(GOOD_SAVES["adventure"]).encode())
    store = SaveStore(AppPaths.from_env())
    tracemalloc.start()
    try:
        store.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024, f"{peak / 1e6:.0f} MB to read a {path.stat().st_size} B save"
