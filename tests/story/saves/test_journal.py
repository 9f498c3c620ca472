"""The autosave's journal: flat cost per turn, every change recorded, crashes survived, and an
older gpt2-adventure refusing a live autosave instead of reading it without its last turns."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.long_story import add_turn, story, written_bytes
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from gpt2_adventure.story.saves import format as save_format
from gpt2_adventure.story.saves import store as store_module
from gpt2_adventure.story.saves.format import NewerSaveError
from gpt2_adventure.story.saves.journal import journal_path
from gpt2_adventure.story.saves.store import SaveStore, autosave_slot


@pytest.fixture
def store() -> SaveStore:
    return SaveStore(AppPaths.from_env())


def name_of(state: StoryState) -> str:
    return f"autosave/{autosave_slot(state.id)}"


def files(store: SaveStore, state: StoryState) -> tuple[Path, Path]:
    snapshot = store.autosave_dir / f"{autosave_slot(state.id)}.json"
    return snapshot, journal_path(snapshot)


def reloaded(state: StoryState) -> StoryState:
    """What a new process would load (the game was not closed: a crash)."""
    return SaveStore(AppPaths.from_env()).load(name_of(state))


def bytes_per_autosave(turns: int, rounds: int = 20) -> list[int]:
    store = SaveStore(AppPaths.from_env())
    state = story(turns)
    store.autosave(state)  # the game opens: its snapshot
    rng = random.Random(1)
    written = []
    for n in range(rounds):
        add_turn(state, rng, turns + n)
        before = written_bytes()
        store.autosave(state)
        written.append(written_bytes() - before)
    assert reloaded(state) == state
    return written


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts bytes in /proc")
def test_an_autosave_writes_as_much_at_ten_thousand_turns_as_at_ten() -> None:
    # Bytes written (not seconds: deterministic) per autosave: the same turn costs the same.
    short, long = bytes_per_autosave(10), bytes_per_autosave(10_000)
    assert min(short) > 0
    assert max(long) <= 1.2 * max(short), (short, long)
    assert sum(long) <= 1.2 * sum(short)


def test_a_ten_thousand_turn_story_round_trips(store: SaveStore) -> None:
    state = story(10_000)
    store.autosave(state)
    rng = random.Random(2)
    for n in range(30):
        add_turn(state, rng, n)
        store.autosave(state)
    assert len(state.turns) == 1 + 2 * 10_030
    assert reloaded(state) == state  # snapshot + journal replayed
    store.finish_autosave(state)
    snapshot, journal = files(store, state)
    assert not journal.exists()
    assert json.loads(snapshot.read_bytes())["version"] == save_format.WHOLE_VERSION
    assert reloaded(state) == state


def test_every_kind_of_change_is_recorded(store: SaveStore) -> None:
    state = story(40)
    store.autosave(state)
    snapshot, journal = files(store, state)
    lines = len(journal.read_bytes().splitlines())
    steps = []

    def step(what: str) -> None:
        store.autosave(state)
        steps.append(what)
        assert reloaded(state) == state, what

    last = state.turns[-1]
    last.alternatives.append(" Another reply.\n")
    last.choose(len(last.alternatives) - 1)
    step("a retry")
    last.ahead.append(" Written ahead.")
    step("a reply written ahead")
    last.text += " And more."
    step("more of the last reply")
    state.redo.append([state.turns.pop(), state.turns.pop()])
    step("undo")
    state.turns.extend(state.redo.pop())
    step("redo")
    store.touch(state, 3)
    state.turns[3].text = "\n> You rewrite the past.\n"
    step("an edit of an early turn")
    state.memory += "\nThe smith is a liar."
    state.authors_note = "Gloomy."
    step("memory and note")
    state.world.append(WorldEntry(keys=("key",), content="The key is iron."))
    step("a world entry added")
    state.world[0] = WorldEntry(keys=("smith",), content="The smith hid the key twice.")
    step("a world entry changed")
    state.sampling["temperature"] = 0.5
    state.values["name"] = "Anna"
    state.title = "Retitled"
    step("settings and title")
    state.turns[:] = state.turns[:5]
    step("many turns dropped")
    store.autosave(state)  # nothing changed: nothing written
    assert len(journal.read_bytes().splitlines()) == lines + len(steps)
    assert snapshot.exists()


def test_a_new_game_object_or_a_grown_journal_gets_a_new_snapshot(
        store: SaveStore, monkeypatch: pytest.MonkeyPatch) -> None:
    state = story(1)
    store.autosave(state)
    snapshot, journal = files(store, state)
    first = json.loads(snapshot.read_bytes())["journal"]
    monkeypatch.setattr(store_module, "JOURNAL_MIN_BYTES", 2000)
    rng = random.Random(3)
    bases = set()
    for n in range(12):
        add_turn(state, rng, n)
        store.autosave(state)
        bases.add(json.loads(snapshot.read_bytes())["journal"])
        record = 1500  # one turn's record, about
        assert journal.stat().st_size <= max(2000, snapshot.stat().st_size) + record
        assert reloaded(state) == state
    assert len(bases - {first}) >= 2  # compacted more than once
    loaded = reloaded(state)  # a load: another object, so a snapshot first
    store.autosave(loaded)
    assert json.loads(snapshot.read_bytes())["journal"] not in bases
    assert reloaded(state) == state


def test_an_edit_through_the_game_reaches_the_journal() -> None:
    from tests.test_game import open_game, play

    game = open_game(replies=[f" Reply {n}." for n in range(30)])
    for n in range(12):
        play(game.handle(f"look {n}"))
    game.edit(1, "You rewrite the first action.")
    assert "rewrite the first" in reloaded(game.state).turns[1].text  # no close: a crash
    game.close()
    assert reloaded(game.state) == game.state


# crash safety: what a power cut or a kill -9 can leave


def played(store: SaveStore, turns: int = 6) -> tuple[StoryState, list[StoryState]]:
    """A game autosaved after every turn, and the game as each autosave left it."""
    state = story(3)
    store.autosave(state)
    rng = random.Random(4)
    seen = []
    for n in range(turns):
        add_turn(state, rng, n)
        store.autosave(state)
        seen.append(StoryState.from_dict(state.to_dict()))
    return state, seen


def test_a_journal_torn_mid_record_loads_up_to_the_record_before(store: SaveStore) -> None:
    state, seen = played(store)
    _, journal = files(store, state)
    raw = journal.read_bytes()
    journal.write_bytes(raw[: raw.rstrip(b"\n").rfind(b"\n") + 40])  # the last one cut short
    doc = SaveStore(AppPaths.from_env()).load_document(name_of(state))
    assert doc.state == seen[-2]
    assert doc.journal is not None and doc.journal.torn and not doc.journal.damaged
    assert not [i for i in SaveStore(AppPaths.from_env()).list() if i.error]


def test_a_damaged_record_ends_the_replay_there(store: SaveStore) -> None:
    state, seen = played(store)
    _, journal = files(store, state)
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b"open the door", b"open the doom")  # fails its sum
    journal.write_bytes(b"".join(lines))
    damaged = journal.read_bytes()
    doc = SaveStore(AppPaths.from_env()).load_document(name_of(state))
    assert doc.state == seen[1]  # records 1 and 2 (lines 1, 2 after the header)
    assert doc.journal is not None and doc.journal.damaged
    reopened = SaveStore(AppPaths.from_env())
    reopened.autosave(doc.state)  # the game opens again: the damaged journal is kept aside
    [aside] = store.autosave_dir.glob("*.broken-*.journal")
    assert aside.read_bytes() == damaged
    assert reloaded(state) == doc.state


def test_a_journal_of_another_snapshot_is_ignored(store: SaveStore) -> None:
    # A crash after a new snapshot and before its journal: the old journal names the old one.
    state, _ = played(store)
    snapshot, journal = files(store, state)
    old_journal = journal.read_bytes()
    store.autosave(StoryState.from_dict(state.to_dict()))  # another object: a new snapshot
    journal.write_bytes(old_journal)
    doc = SaveStore(AppPaths.from_env()).load_document(name_of(state))
    assert doc.state == state and doc.journal is not None and doc.journal.other_base


def test_a_snapshot_without_its_journal_is_the_story_it_holds(store: SaveStore) -> None:
    state = story(4)
    store.autosave(state)
    _, journal = files(store, state)
    journal.unlink()
    assert reloaded(state) == state


def test_a_journal_without_its_snapshot_is_no_save(store: SaveStore) -> None:
    state, _ = played(store)
    snapshot, journal = files(store, state)
    snapshot.unlink()
    fresh = SaveStore(AppPaths.from_env())
    assert fresh.list() == [] and fresh.latest_autosave() is None
    with pytest.raises(UserError, match="no save named"):
        fresh.load(name_of(state))
    fresh.autosave(state)  # the game saved again: a snapshot, and the journal replaced
    assert reloaded(state) == state


def test_a_broken_snapshot_is_moved_aside_with_its_journal(store: SaveStore) -> None:
    state, _ = played(store)
    snapshot, journal = files(store, state)
    snapshot.write_text("{ not json")
    journal_bytes = journal.read_bytes()
    SaveStore(AppPaths.from_env()).autosave(state)
    [aside] = store.autosave_dir.glob("*.broken-*.json")
    assert journal_path(aside).read_bytes() == journal_bytes
    assert reloaded(state) == state


def test_deleting_an_autosave_deletes_its_journal(store: SaveStore) -> None:
    state, _ = played(store)
    snapshot, journal = files(store, state)
    store.delete(name_of(state))
    assert not snapshot.exists() and not journal.exists()


def test_a_failed_append_falls_back_to_a_snapshot(store: SaveStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    state, _ = played(store)
    snapshot, _ = files(store, state)
    base = json.loads(snapshot.read_bytes())["journal"]
    live = store._live[snapshot]

    def full_disk(record: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(live.journal, "append", full_disk)
    add_turn(state, random.Random(9), 99)
    store.autosave(state)
    assert json.loads(snapshot.read_bytes())["journal"] != base
    assert reloaded(state) == state


# versions


def test_an_older_build_refuses_a_live_autosave_and_reads_a_closed_one(
        store: SaveStore, monkeypatch: pytest.MonkeyPatch) -> None:
    state, _ = played(store)
    with monkeypatch.context() as older:
        older.setattr(save_format, "CURRENT_VERSION", 1)  # the build before journals
        older.setattr(save_format, "MIGRATIONS", {})
        with pytest.raises(NewerSaveError, match=r"newer gpt2-adventure \(save version 2, "
                                                 r"this one reads up to 1\)"):
            SaveStore(AppPaths.from_env()).load(name_of(state))
    store.finish_autosave(state)  # the game closed: whole again
    monkeypatch.setattr(save_format, "CURRENT_VERSION", 1)
    monkeypatch.setattr(save_format, "MIGRATIONS", {})
    assert reloaded(state) == state


def test_named_saves_stay_whole_version_one_files(store: SaveStore) -> None:
    state, _ = played(store)
    path = store.save(state, "castle")
    doc = json.loads(path.read_bytes())
    assert doc["version"] == 1 and "journal" not in doc
    assert not journal_path(path).exists()
    assert not (store.saves_dir / "castle.v1.json").exists()  # no backup of a same-version file


def test_a_version_one_file_never_reads_a_journal_beside_it(store: SaveStore) -> None:
    state, _ = played(store)
    snapshot, journal = files(store, state)
    stale = journal.read_bytes()
    store.finish_autosave(state)
    journal.write_bytes(stale)  # left beside the whole file (a crash before its removal)
    doc = json.loads(snapshot.read_bytes())
    doc["journal"] = json.loads(stale.split(b" ", 1)[1].split(b"\n")[0])["base"]
    snapshot.write_text(json.dumps(doc))  # even with a "journal" key, version 1 is whole
    assert reloaded(state) == state


def test_turns_beyond_the_window_changed_in_place_untold_are_the_known_limit(
        store: SaveStore) -> None:
    # Documented: only the last turns are compared by content; Game.edit tells the store.
    state = story(30)
    store.autosave(state)
    state.turns[2] = Turn(role="player", text="\n> A new turn object.\n", kind="do", raw="x")
    store.autosave(state)  # a replaced object is seen at any index
    assert reloaded(state) == state


def test_the_long_story_benchmark_runs() -> None:
    # Smoke run: it measures and loads back what it saved (not how fast: see the README).
    import subprocess

    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "benchmarks/long_story.py", "--turns", "10,200",
                             "--rounds", "5", "--json"], cwd=root, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    assert [row["turns"] for row in figures["rows"]] == [10, 200]
    assert figures["autosave_ratio"] > 0 and figures["autosave_ratio_cpu"] > 0
    assert all(row["autosave_ms"]["median"] > 0 for row in figures["rows"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0), flip=st.integers(min_value=0),
       junk=st.binary(max_size=200))
def test_any_damage_to_a_journal_loads_a_prefix_of_the_game_or_says_why(
        store: SaveStore, cut: int, flip: int, junk: bytes) -> None:
    state = story(2)  # a new game (its own id) each time
    store.autosave(state)
    for n in range(3):
        add_turn(state, random.Random(cut), n)
        store.autosave(state)
    _, journal = files(store, state)
    raw = bytearray(journal.read_bytes())
    raw[flip % len(raw)] ^= 0x20
    journal.write_bytes(bytes(raw[: cut % (len(raw) + 1)]) + junk)
    try:
        loaded = SaveStore(AppPaths.from_env()).load(name_of(state))
    except UserError:
        return
    assert loaded.turns == state.turns[: len(loaded.turns)]
    assert len(loaded.turns) >= 5  # the snapshot's turns at least


def test_every_command_that_changes_the_story_reaches_the_autosave_without_a_close() -> None:
    # A guard for changes.py's one blind spot (a turn before the last few changed in place
    # without SaveStore.touch): after each command, what a crash would leave loads as the game.
    from gpt2_adventure.game import Stream
    from tests.test_game import open_game

    game = open_game(replies=[f" Reply {n}." for n in range(80)])
    lines = [*(f"look {n}" for n in range(12)), "/retry", "/alt prev", "/alt next", "/pick 1",
             "/continue", "/undo", "/undo", "/redo", "/edit 2 You rewrite an early action.",
             "/edit 1 The opening, rewritten.", "/edit The last reply, rewritten.",
             "/remember The smith lies.", "/forget 1", "/pin 3", "/note grim",
             "/world add smith = The smith hid the key.", "/world remove 1",
             "/settings temperature 0.5", "/story The wind rises.", "/say hello", "/undo",
             "/do walk on"]
    for line in lines:
        outcome = game.handle(line)
        if isinstance(outcome, Stream):
            list(outcome.events)
        assert reloaded(game.state) == game.state, line
    game.close()
    assert reloaded(game.state) == game.state
