"""Saves: round trips, autosave slots, atomic writes, broken files, versions, names, limits."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn, WorldEntry
from gpt2_adventure.story.saves import format as save_format
from gpt2_adventure.story.saves.store import NameTaken, SaveInUseError, SaveStore, check_name


@pytest.fixture
def store() -> SaveStore:
    return SaveStore(AppPaths.from_env())


def rich_state() -> StoryState:
    """A game touching every field, with text that is easy to mangle."""
    return StoryState(
        mode="adventure", title="Élodie's  tale 🐉\tof \x1b[31mred",
        seed_id="knight", memory="You are Élodie.\n  Indented.\r\n", authors_note="Dark.",
        world=[WorldEntry(keys=("dragon", "wyrm"), content="Dragons hoard \u202egold",
                          secondary_keys=("cave",), always=True, comment="x")],
        turns=[
            Turn("opening", "  You stand\u00a0at the gate.\n\n"),
            Turn("player", "\n> You open the door.\n", kind="do", raw="i open the door"),
            Turn("model", " It creaks. 日本語", alternatives=[" It groans.", " It creaks. 日本語"],
                 chosen=1, ahead=[" It sighs.\n\u202e", ""]),
            Turn("player", '\n> You say "hi\x00"\n', kind="say", raw="hi\x00"),
        ],
        redo=[[Turn("model", " undone reply", alternatives=[" undone reply"])]],
        sampling={"temperature": 0.7, "banned_strings": ["\n>"], "logit_bias": {"50256": -5.0},
                  "ignore_eos": True},
        values={"name": "Élodie"}, model="gpt2 Q8_0",
    )


def write_doc(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def good_doc(state: StoryState | None = None, version: int = 1) -> dict[str, Any]:
    return {"format": "gpt2-adventure-save", "version": version,
            "saved_at": "2024-05-01T10:00:00+00:00", "app_version": "0.1.0", "name": "x",
            "state": (state or rich_state()).to_dict()}


# round trips and the document


def test_round_trip_keeps_everything(store: SaveStore) -> None:
    state = rich_state()
    path = store.save(state, "Élodie's tale")
    assert path == store.saves_dir / "Élodie's tale.json"
    assert store.load("Élodie's tale").to_dict() == state.to_dict()
    assert store.load(path).to_dict() == state.to_dict()  # an explicit path works too
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "gpt2-adventure-save" and doc["version"] == 1
    assert doc["name"] == "Élodie's tale" and doc["app_version"]
    assert doc["saved_at"].endswith("+00:00")


def test_replies_written_ahead_are_kept_and_written_only_when_there_are_some(
        store: SaveStore) -> None:
    state = rich_state()
    path = store.save(state, "ahead")
    turns = json.loads(path.read_text(encoding="utf-8"))["state"]["turns"]
    assert turns[2]["ahead"] == [" It sighs.\n\u202e", ""]
    assert [t for t in turns if "ahead" in t] == [turns[2]]  # none: no key
    loaded = store.load("ahead").turns[2]
    assert (loaded.ahead, loaded.alternatives, loaded.text) == (
        [" It sighs.\n\u202e", ""], [" It groans.", " It creaks. 日本語"], " It creaks. 日本語")


def test_a_save_from_before_replies_were_written_ahead_loads(store: SaveStore) -> None:
    doc = good_doc()
    for turn in doc["state"]["turns"]:
        turn.pop("ahead", None)
    assert doc["version"] == save_format.WHOLE_VERSION == 1  # an optional key: no new version
    write_doc(store.saves_dir / "old.json", doc)
    loaded = store.load("old")
    assert [t.ahead for t in loaded.turns] == [[], [], [], []]
    assert loaded.turns[2].alternatives == [" It groans.", " It creaks. 日本語"]


def test_state_fields_are_all_checked() -> None:
    assert set(StoryState(mode="story", title="t").to_dict()) == save_format.STATE_FIELDS


def test_lone_surrogates_cannot_break_a_save(store: SaveStore) -> None:
    state = StoryState(mode="story", title="half \ud83d a smile")
    store.save(state, "s")
    assert store.load("s").title == "half \ufffd a smile"


texts = st.text(max_size=40)
turns = st.builds(
    Turn, role=st.sampled_from(["opening", "player", "model"]), text=texts,
    kind=st.sampled_from([None, "do", "say", "story"]), raw=texts, speaker=texts,
    alternatives=st.lists(texts, max_size=3), chosen=st.just(0),
    ahead=st.lists(texts, max_size=2))
states = st.builds(
    StoryState, mode=st.sampled_from(["adventure", "story", "chat"]), title=texts,
    id=st.from_regex(r"[0-9a-f]{32}", fullmatch=True), seed_id=texts, memory=texts,
    authors_note=texts,
    world=st.lists(st.builds(WorldEntry, keys=st.lists(texts, max_size=3).map(tuple),
                             content=texts, always=st.booleans()), max_size=2),
    turns=st.lists(turns, max_size=6), redo=st.lists(st.lists(turns, max_size=2), max_size=2),
    chat=st.none() | st.builds(ChatSpec, character=texts, persona=texts, player=texts,
                               others=st.lists(texts, max_size=2).map(tuple)),
    sampling=st.dictionaries(texts, st.integers() | st.floats(allow_nan=False,
                                                               allow_infinity=False)
                             | st.booleans() | texts, max_size=3),
    values=st.dictionaries(texts, texts, max_size=3), model=texts)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=states)
def test_any_state_round_trips_exactly(store: SaveStore, state: StoryState) -> None:
    store.autosave(state)
    assert store.load(f"autosave/{state.id}").to_dict() == state.to_dict()


# autosaves


def next_millisecond() -> None:
    """Until the clock, read as saves record it (to the millisecond), has moved on: what is
    saved next is newer, on a clock of any resolution."""
    start = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    while datetime.now(timezone.utc).isoformat(timespec="milliseconds") == start:
        time.sleep(0.001)


def test_one_autosave_slot_per_game_and_the_latest_wins(store: SaveStore) -> None:
    assert store.latest_autosave() is None
    first, second = StoryState(mode="adventure", title="one"), StoryState(mode="chat",
                                                                          title="two")
    store.autosave(first)
    next_millisecond()
    store.autosave(second)
    name, latest = store.latest_autosave()  # type: ignore[misc]
    assert (name, latest.title) == (f"autosave/{second.id}", "two")
    next_millisecond()
    first.turns.append(Turn("model", "more"))
    store.autosave(first)  # same game: same slot, rewritten
    assert len(list(store.autosave_dir.glob("*.json"))) == 2
    name, latest = store.latest_autosave()  # type: ignore[misc]
    assert latest.id == first.id and len(latest.turns) == 1
    assert store.load(f"autosave/{first.id[:8]}").title == "one"  # a unique prefix will do


def test_latest_autosave_skips_broken_files(store: SaveStore) -> None:
    good = StoryState(mode="story", title="good")
    store.autosave(good)
    next_millisecond()
    (store.autosave_dir / "zzz.json").write_text("{not json")
    assert store.latest_autosave()[1].title == "good"  # type: ignore[index]


def test_odd_game_ids_get_a_safe_slot(store: SaveStore) -> None:
    state = StoryState(mode="story", title="t", id="../../etc/passwd")
    path = store.autosave(state)
    assert path.parent == store.autosave_dir and ".." not in path.name
    assert store.latest_autosave()[1].id == "../../etc/passwd"  # type: ignore[index]


# atomic writes and leftovers


def test_a_crash_during_the_write_keeps_the_previous_save(store: SaveStore,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    good = rich_state()
    store.save(good, "castle")
    changed = rich_state()
    changed.title, changed.id = "changed", good.id

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(UserError, match="No space left"):
        store.save(changed, "castle")
    monkeypatch.undo()
    assert store.load("castle").to_dict() == good.to_dict()
    assert [p.name for p in store.saves_dir.iterdir() if p.is_file()] == ["castle.json"]


def test_an_interrupt_during_the_write_keeps_the_previous_save(store: SaveStore,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    store.autosave(good := rich_state())
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        store.autosave(StoryState(mode="story", title="new", id=good.id))
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert store.load(f"autosave/{good.id}").title == good.title


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftover_temp_files_are_ignored_then_cleaned(store: SaveStore) -> None:
    store.save(rich_state(), "castle")
    crashed = store.saves_dir / f".save-{dead_pid()}-abc.tmp"
    crashed.write_text('{"half": ')
    ours_live = store.saves_dir / f".save-{os.getpid()}-def.tmp"  # another thread's write
    ours_live.write_text("{")
    ours_old = store.saves_dir / f".save-{os.getpid()}-old.tmp"
    ours_old.write_text("{")
    hour_ago = time.time() - 7200
    os.utime(ours_old, (hour_ago, hour_ago))
    assert [info.name for info in store.list()] == ["castle"]
    assert store.load("castle").title == rich_state().title
    store.save(rich_state(), "other")
    assert not crashed.exists() and not ours_old.exists() and ours_live.exists()


KEEP_SAVING = """
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.saves.store import SaveStore

store = SaveStore(AppPaths.from_env())
state = StoryState(mode="adventure", title="t", id="game")
print("ready", flush=True)
while True:
    state.turns.append(Turn("model", "x" * 3000 + f"|{len(state.turns)}"))
    store.autosave(state)
    store.save(state, "named")
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_mid_save_every_save_still_loads(store: SaveStore) -> None:
    rng = random.Random(8)
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-c", KEEP_SAVING], stdout=subprocess.PIPE,
                                 cwd=Path(__file__).parents[3])
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.02, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait()
        for ref, path in (("autosave/game", store.autosave_dir / "game.json"),
                          ("named", store.saves_dir / "named.json")):
            if path.exists():  # absent only if killed before the first write
                state = store.load(ref)
                assert [t.text.split("|")[1] for t in state.turns] == [
                    str(i) for i in range(len(state.turns))]
        assert all(info.error is None for info in store.list())
    store.save(StoryState(mode="story", title="after"), "after")
    store.autosave(StoryState(mode="story", title="after"))
    assert not list(store.saves_dir.rglob(".save-*.tmp"))


# broken files, versions, migrations


def test_a_broken_save_is_reported_with_line_and_column(store: SaveStore) -> None:
    path = store.saves_dir / "castle.json"
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "format": "gpt2-adventure-save",\n  "version": 1,,\n}')
    with pytest.raises(UserError) as caught:
        store.load("castle")
    assert "not valid JSON" in caught.value.message and caught.value.where == f"{path}:3:16"
    [info] = store.list()
    assert info.name == "castle" and info.error and "not valid JSON" in info.error


@pytest.mark.parametrize("autosave", [False, True])
def test_a_broken_save_is_never_overwritten(store: SaveStore, autosave: bool) -> None:
    state = rich_state()
    path = (store.autosave_dir / f"{state.id}.json" if autosave
            else store.saves_dir / "castle.json")
    path.parent.mkdir(parents=True)
    garbage = b'{"format": "gpt2-adventure-save", "version": 1, "state": {"mode": "adv'
    path.write_bytes(garbage)
    written = store.autosave(state) if autosave else store.save(state, "castle")
    assert written == path and store.load(path).to_dict() == state.to_dict()
    [aside] = path.parent.glob(f"{path.stem}.broken-*.json")
    if not autosave:
        path.write_bytes(garbage)
        assert "did not load" in store.save_named(state, "castle").lines()[1]
    assert aside.read_bytes() == garbage
    assert any(i.path == aside and i.error for i in store.list())


def test_a_file_changed_behind_our_back_is_checked_again(store: SaveStore) -> None:
    path = store.save(rich_state(), "castle")
    path.write_text("garbage, much longer than nothing")
    store.save(rich_state(), "castle")
    assert len(list(store.saves_dir.glob("castle.broken-*.json"))) == 1


def test_a_newer_save_is_refused_and_kept(store: SaveStore) -> None:
    path = write_doc(store.saves_dir / "future.json", good_doc(version=7))
    original = path.read_bytes()
    with pytest.raises(UserError) as caught:
        store.load("future")
    assert ("made by a newer gpt2-adventure (save version 7, this one reads up to 2)"
            in caught.value.message)
    assert caught.value.where == str(path)
    saved = store.save_named(rich_state(), "future")
    [aside] = store.saves_dir.glob("future.newer-*.json")  # not called broken: it is not
    assert aside.read_bytes() == original
    assert not list(store.saves_dir.glob("future.broken-*.json"))
    assert saved.kept_aside == aside
    assert saved.lines() == [f"saved: {saved.path}", "the save that was there was made by a "
                             f"newer gpt2-adventure; it is kept as {aside.name}"]


def test_migrations_run_in_order(store: SaveStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def one_to_two(doc: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        doc["state"] = doc.pop("story")  # pretend version 1 called it "story"
        return doc

    def two_to_three(doc: dict[str, Any]) -> dict[str, Any]:
        calls.append(2)
        assert "state" in doc  # step 1 ran first
        doc["state"]["title"] = doc["state"]["title"].upper()
        return doc

    monkeypatch.setattr(save_format, "CURRENT_VERSION", 3)
    monkeypatch.setattr(save_format, "WHOLE_VERSION", 3)  # a whole save's layout changed
    monkeypatch.setitem(save_format.MIGRATIONS, 1, one_to_two)
    monkeypatch.setitem(save_format.MIGRATIONS, 2, two_to_three)
    old = good_doc(StoryState(mode="story", title="old tale"))
    old["story"] = old.pop("state")
    path = write_doc(store.saves_dir / "old.json", old)
    doc = store.load_document("old")
    assert calls == [1, 2] and doc.state.title == "OLD TALE" and doc.version == 1
    saved = store.save(doc.state, "old")  # the version-1 file is kept before it is replaced
    assert json.loads(saved.read_text())["version"] == 3
    backup = store.saves_dir / "old.v1.json"
    assert json.loads(backup.read_text()) == old
    assert path.exists()


def test_a_missing_or_failing_migration_is_a_clear_error(store: SaveStore,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(save_format, "CURRENT_VERSION", 3)
    monkeypatch.setitem(save_format.MIGRATIONS, 1, lambda doc: doc["nope"])
    write_doc(store.saves_dir / "old.json", good_doc())
    with pytest.raises(UserError, match="cannot upgrade this save from version 1: KeyError"):
        store.load("old")
    monkeypatch.setitem(save_format.MIGRATIONS, 1, lambda doc: doc)
    with pytest.raises(UserError, match="cannot upgrade a version-2 save"):
        store.load("old")


# names and paths


@pytest.mark.parametrize("name", [
    "../x", "a/b", "a\\b", "", "   ", "CON", "con", "Con.backup", "LPT1", "nul", "x" * 101,
    "é" * 99, ".hidden", "a..b", "trailing.", "castle.json", "tab\there", "bidi\u202eevil",
    "nul\x00byte", "colon:", "star*", "new\nline", "zero\u200bwidth",
])
def test_bad_names_are_refused(store: SaveStore, name: str) -> None:
    with pytest.raises(UserError):
        store.save(rich_state(), name)
    assert not store.saves_dir.exists() or not any(store.saves_dir.rglob("*.json"))


@pytest.mark.parametrize("name", ["Castle 2", "Élodie's tale", "日本語のセーブ", "v1.2",
                                  "a-b_c", "x" * 100, "Ноябрь", "नमस्ते", "CONSOLE"])
def test_good_names_are_kept(store: SaveStore, name: str) -> None:
    store.save(rich_state(), name)
    assert store.load(name).title == rich_state().title
    assert [info.name for info in store.list()] == [name]
    assert check_name(f"  {name} ") == name


def test_delete_takes_names_not_paths(store: SaveStore, tmp_path: Path) -> None:
    outside = write_doc(tmp_path / "outside.json", good_doc())
    for ref in (str(outside), "../outside", "../../outside.json"):
        with pytest.raises(UserError):
            store.delete(ref)
    assert outside.exists()
    store.save(rich_state(), "castle")
    assert store.delete("castle") == store.saves_dir / "castle.json"
    with pytest.raises(UserError, match="no save named 'castle'"):
        store.delete("castle")


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_links_out_of_the_saves_folder_are_not_followed(store: SaveStore, tmp_path: Path
                                                        ) -> None:
    outside = write_doc(tmp_path / "secret.json", good_doc())
    original = outside.read_bytes()
    store.saves_dir.mkdir(parents=True)
    link = store.saves_dir / "evil.json"
    link.symlink_to(outside)
    with pytest.raises(UserError, match="outside the saves folder"):
        store.load("evil")
    [info] = store.list()
    assert info.error and "outside the saves folder" in info.error
    store.save(rich_state(), "evil")  # replaces the link (kept aside), never the target
    assert outside.read_bytes() == original and not (store.saves_dir / "evil.json").is_symlink()
    [aside] = store.saves_dir.glob("evil.link-*.json")
    assert aside.is_symlink()
    assert store.delete(aside.stem) == aside and outside.exists()


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_an_autosave_folder_linked_elsewhere_is_refused(store: SaveStore, tmp_path: Path
                                                       ) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store.saves_dir.mkdir(parents=True)
    store.autosave_dir.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UserError, match="outside the saves folder"):
        store.autosave(rich_state())
    assert not any(elsewhere.iterdir())


# hostile and malformed files


def test_size_limit(store: SaveStore) -> None:
    path = store.saves_dir / "huge.json"
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        f.truncate(save_format.MAX_SAVE_BYTES + 1)  # sparse: costs no disk
    started = time.monotonic()
    with pytest.raises(UserError, match="too large"):
        store.load("huge")
    assert time.monotonic() - started < 1


def test_deep_nesting_is_refused(store: SaveStore) -> None:
    depth = 100_000
    path = store.saves_dir / "deep.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"format": "gpt2-adventure-save", "version": 1, "state": '
                    + "[" * depth + "]" * depth + "}")
    with pytest.raises(UserError, match="nested too deeply"):
        store.load("deep")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_does_not_hang(store: SaveStore) -> None:
    store.saves_dir.mkdir(parents=True)
    os.mkfifo(store.saves_dir / "pipe.json")
    with pytest.raises(UserError, match="not a regular file"):
        store.load("pipe")


def test_other_unreadable_files(store: SaveStore, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a folder, not a save file"):
        store.load(tmp_path)
    with pytest.raises(UserError, match="not found"):
        store.load(tmp_path / "missing.json")
    with pytest.raises(UserError, match="no save named 'missing'"):
        store.load("missing")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"title": "caf\xe9"}')
    with pytest.raises(UserError, match="not UTF-8"):
        store.load(bad)


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    target: Any = doc
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("state.turns.0.text", 5, "state.turns[0].text should be text, not a number"),
    ("state.turns.0.role", "narrator", "state.turns[0].role should be one of"),
    ("state.turns.1.kind", "dance", "state.turns[1].kind should be one of"),
    ("state.turns.2.chosen", 5, "state.turns[2].chosen is 5 but the turn has 2 alternatives"),
    ("state.turns.2.chosen", True, "state.turns[2].chosen should be a whole number"),
    ("state.turns.2.alternatives", "abc", "state.turns[2].alternatives should be a list"),
    ("state.turns.2.ahead", "abc", "state.turns[2].ahead should be a list of text, not text"),
    ("state.turns.2.ahead", {"a": "b"}, "state.turns[2].ahead should be a list of text"),
    ("state.turns.2.ahead.1", 7, "state.turns[2].ahead[1] should be text, not a number"),
    ("state.turns.0.text", _DELETE, "state.turns[0].text is missing"),
    ("state.turns", {"a": 1}, "state.turns should be a list, not an object"),
    ("state.redo.0", "x", "state.redo[0] should be a list"),
    ("state.mode", "rpg", "state.mode should be one of adventure, story, chat"),
    ("state.mode", None, "state.mode should be one of adventure, story, chat, not null"),
    ("state.title", _DELETE, "state.title is missing"),
    ("state.title", ["t"], "state.title should be text, not a list"),
    ("state.world.0.keys", "dragon", "state.world[0].keys should be a list of text"),
    ("state.world.0.always", "yes", "state.world[0].always should be true or false"),
    ("state.world.0.content", _DELETE, "state.world[0].content is missing"),
    ("state.chat", {"persona": "x"}, "state.chat.character is missing"),
    ("state.sampling", {"temperature": {"a": [1]}}, "state.sampling.temperature.a should be"),
    ("state.values", {"name": 3}, "state.values.name should be text"),
    ("state", [], "state should be an object, not a list"),
    ("state", _DELETE, "state is missing"),
    ("version", "1", '"version" should be a whole number'),
    ("version", True, '"version" should be a whole number'),
    ("version", 0, '"version" should be a whole number'),
    ("format", "kobold", "not a gpt2-adventure save"),
])
def test_wrong_fields_name_the_field(store: SaveStore, field: str, value: Any, words: str
                                     ) -> None:
    doc = good_doc()
    _set(doc, field, value)
    path = write_doc(store.saves_dir / "bad.json", doc)
    with pytest.raises(UserError) as caught:
        store.load("bad")
    assert words in caught.value.message and caught.value.where == str(path)


@pytest.mark.parametrize("text", ["[]", "null", '"save"', "1e999999", "NaN",
                                  '{"format": "gpt2-adventure-save", "version": 1e400}',
                                  "1" * 5000, '{"a": "\\ud800"', ""])
def test_odd_json_is_a_user_error(store: SaveStore, text: str) -> None:
    path = store.saves_dir / "odd.json"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(UserError):
        store.load("odd")


def test_an_infinite_number_is_refused(store: SaveStore) -> None:
    doc = json.dumps(good_doc()).replace('"temperature": 0.7', '"temperature": 1e999')
    (store.saves_dir / "inf.json").parent.mkdir(parents=True)
    (store.saves_dir / "inf.json").write_text(doc)
    with pytest.raises(UserError, match="state.sampling.temperature is too large a number"):
        store.load("inf")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=10)


def _places(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    inner = (obj.items() if isinstance(obj, dict) else enumerate(obj)
             if isinstance(obj, list) else ())
    return [prefix, *(p for key, value in inner for p in _places(value, (*prefix, key)))]


@settings(max_examples=300, deadline=None)
@given(place=st.sampled_from(_places(good_doc())[1:]), value=json_values)
def test_any_value_anywhere_loads_or_is_a_user_error(place: tuple[Any, ...], value: Any
                                                     ) -> None:
    doc = good_doc()
    target = doc
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    try:
        raw = json.dumps(doc).encode()
    except ValueError:
        return
    try:
        loaded = save_format.decode(raw, "fuzz.json")
    except UserError:
        return
    again = save_format.decode(save_format.encode(loaded.state, "x"), "x")  # and saves again
    assert again.state.to_dict() == loaded.state.to_dict()


# two windows, one game


def test_a_game_open_twice_is_refused(store: SaveStore) -> None:
    state = rich_state()
    with store.hold(state.id):
        with pytest.raises(SaveInUseError, match="already open"):
            store.hold(state.id).acquire()
        with store.hold("another game"):
            pass
    with store.hold(state.id):  # released on exit
        pass
    assert store.list() == []  # lock files are not saves


def test_a_folder_in_place_of_a_save_is_a_clean_error() -> None:
    paths = AppPaths.from_env()
    (paths.saves_dir / "castle.json").mkdir(parents=True)
    with pytest.raises(UserError, match="folder"):
        SaveStore(paths).load("castle")


# a save name belongs to one game


def test_a_name_holding_another_games_save_is_refused(store: SaveStore) -> None:
    first, second = rich_state(), rich_state()
    path = store.save(first, "castle")
    original = path.read_bytes()
    with pytest.raises(NameTaken) as caught:
        store.save(second, "castle")
    assert path.read_bytes() == original  # the first game's save is still there
    taken = caught.value
    assert taken.name == "castle" and taken.free == "castle 2"
    assert taken.other.game_id == first.id and taken.other.turns == 4
    assert "holds another game" in taken.message and "4 turns" in taken.message
    assert "/save --replace castle" in (taken.hint or "")
    store.save(first, "castle")  # the same game: replaced without a word
    assert store.save(second, "castle 2") == store.saves_dir / "castle 2.json"
    assert store.free_name("castle", second.id) == "castle 2"  # its own, not a third
    assert store.free_name("castle", rich_state().id) == "castle 3"
    store.save(second, "castle", replace=True)
    assert store.load("castle").id == second.id


def test_a_game_knows_its_named_saves(store: SaveStore) -> None:
    game, other = rich_state(), rich_state()
    store.save(game, "one")
    next_millisecond()
    store.save(other, "two")
    next_millisecond()
    store.save(game, "three")
    assert store.names_of(game.id) == ["three", "one"]
    assert store.names_of("nobody") == []


def test_a_save_without_a_game_id_is_the_same_game_each_time_it_loads(
        store: SaveStore) -> None:
    doc = good_doc()
    del doc["state"]["id"]
    write_doc(store.saves_dir / "old.json", doc)
    first, again = store.load("old"), store.load("old")
    assert first.id == again.id and first.id.startswith("legacy")
    store.save(first, "old")  # loaded from it: the same game, so saved over it
    assert json.loads((store.saves_dir / "old.json").read_text())["state"]["id"] == first.id
    write_doc(store.saves_dir / "older.json", doc | {"saved_at": "2020-01-01T00:00:00Z"})
    with pytest.raises(NameTaken):  # another game's file, though it has no id either
        store.save(rich_state(), "older")


def test_a_numbered_name_stays_within_the_limits(store: SaveStore) -> None:
    long = "x" * 100
    game = rich_state()
    store.save(game, long)
    free = store.free_name(long, rich_state().id)
    assert free == "x" * 98 + " 2" and check_name(free) == free


def test_deleting_an_autosave_deletes_its_caches(store: SaveStore) -> None:
    """The recall index and the stored model state are caches of the autosave: deleting it
    leaves neither behind (they would be orphans nobody ever cleans). A named save's
    deletion leaves the autosave's caches alone."""
    from gpt2_adventure.engine.llama.state_cache import StateCache
    from gpt2_adventure.story.recall.recall import Recall

    state = rich_state()
    autosave = store.autosave(state)
    store.finish_autosave(state)
    index = Recall(store.autosave_dir).path_for(state.id)
    assert index is not None
    model_state = StateCache(store.autosave_dir, "fingerprint").path(state.id)
    caches = [index, index.with_name(index.name + "-wal"), model_state]
    for cache in caches:
        cache.write_bytes(b"cache")
    store.save(state, "named")
    store.delete("named")
    assert all(cache.exists() for cache in caches)
    assert store.delete(f"autosave/{state.id}") == autosave
    assert not autosave.exists()
    assert [cache.name for cache in caches if cache.exists()] == []
