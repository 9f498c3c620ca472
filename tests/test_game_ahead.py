"""Replies written ahead through Game (a scripted backend): the warm-up writes them after the
next prompt, retry shows one at once, /pick and /alt reach them, acting stops the writing,
saves keep them, a change to the story drops them, and candidates = 1 changes nothing."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator

import pytest

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game, Reloaded, Stream
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.commands import Command
from gpt2_adventure.story.events import Done, Piece
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend
from tests.test_game import backend, info, play, saved

REPLIES = [" The door creaks open.", " A bat flies out.", " A voice calls your name.",
           " Nothing happens.", " The hall is cold."]


def open_game(candidates: int, replies: list[str] | None = None) -> Game:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    fake = FakeBackend(list(replies or REPLIES))
    fake.ahead = True
    session = Session(state, fake, Sampling(max_tokens=60, candidates=candidates))
    return Game(session, SaveStore(paths)).open()


@pytest.fixture
def game() -> Iterator[Game]:
    game = open_game(3)
    yield game
    game.close()


def act_and_wait(game: Game, line: str = "open the door") -> None:
    play(game.handle(line))
    warmup = game.warm_up()
    assert warmup is not None and warmup.ahead is not None
    ready: list[int] = []
    game.warm(warmup, on_ready=lambda: ready.append(1))
    assert len(ready) == warmup.ahead.count
    game.collect_ahead()


def test_the_warm_up_writes_candidates_minus_one_more(game: Game) -> None:
    act_and_wait(game)
    last = game.state.turns[-1]
    assert last.text == " The door creaks open."
    assert last.ahead == [" A bat flies out.", " A voice calls your name."]
    assert game.ready_note() == "2 more ready"
    assert saved(game).turns[-1].ahead == last.ahead  # the autosave keeps them
    # They answer the same prompt the shown reply answered.
    fake = backend(game)
    assert fake.prompts[-1] == fake.prompts[-2] == fake.prompts[-3]


def test_retry_shows_a_ready_one_without_asking_the_model(game: Game) -> None:
    act_and_wait(game)
    asked = len(backend(game).prompts)
    events = list(game.handle("/retry").events)  # type: ignore[union-attr]
    assert events == [Piece(" A bat flies out."), Done(" A bat flies out.", "ahead")]
    assert len(backend(game).prompts) == asked
    last = game.state.turns[-1]
    assert last.text == " A bat flies out." and last.alternatives[-1] == last.text
    assert last.ahead == [" A voice calls your name."]
    assert saved(game).turns[-1] == last


def test_the_next_warm_up_tops_the_ready_ones_up(game: Game) -> None:
    act_and_wait(game)
    play(game.handle("/retry"))
    warmup = game.warm_up()
    assert warmup is not None and warmup.ahead is not None and warmup.ahead.count == 1
    game.warm(warmup)
    game.collect_ahead()
    assert game.state.turns[-1].ahead == [" A voice calls your name.", " Nothing happens."]


def test_pick_and_alt_reach_the_ready_ones(game: Game) -> None:
    act_and_wait(game)
    outcome = game.run(Command("alt"))
    assert isinstance(outcome, Reloaded)
    # " The door creaks open." takes the action up (1.00); the others do not (0.80 each).
    assert outcome.lines == ["alternative 2 of 2 · score 0.80 (2nd of 3) · 1 more ready (/pick 3)"]
    assert game.state.turns[-1].text == " A bat flies out."
    outcome = game.run(Command("pick", "3"))
    assert isinstance(outcome, Reloaded) and \
        outcome.lines == ["alternative 3 of 3 · score 0.80 (2nd of 3)"]
    assert game.state.turns[-1].text == " A voice calls your name."
    game.run(Command("pick", "1"))
    assert game.state.turns[-1].text == " The door creaks open."
    with pytest.raises(Exception, match="no reply 4"):
        game.run(Command("pick", "4"))


def test_retry_shows_the_best_reply_written_ahead_first() -> None:
    game = open_game(3, [" The door creaks open.", " You stand",
                         " The heavy door swings open onto a dark hall."])
    try:
        act_and_wait(game)  # written in this order: a cut one, then a good one
        assert game.state.turns[-1].ahead[0] == " The heavy door swings open onto a dark hall."
        done = play(game.handle("/retry"))
        assert done.text == " The heavy door swings open onto a dark hall."
    finally:
        game.close()


def test_acting_stops_the_writing_and_the_turn_goes_on(game: Game) -> None:
    play(game.handle("open the door"))
    fake = backend(game)
    fake.hold_after = 1  # the reply being written ahead waits mid-way for its cancel
    warmup = game.warm_up()
    assert warmup is not None
    worker = threading.Thread(target=game.warm, args=(warmup,))
    worker.start()
    assert fake.holding.wait(10), "the writing ahead never started"
    fake.hold_after = None
    done = play(game.handle("go in"))  # cancels the writing first
    worker.join(10)
    assert not worker.is_alive()
    assert done.text == " A voice calls your name."  # the held one never became a reply
    assert game.collect_ahead() == 0 and game.state.turns[-1].ahead == []


def test_retry_takes_over_the_alternative_being_written_instead_of_starting_again(
        game: Game) -> None:
    play(game.handle("open the door"))
    fake = backend(game)
    fake.hold_after = 1  # the reply being written ahead waits mid-way
    warmup = game.warm_up()
    assert warmup is not None and warmup.ahead is not None and warmup.ahead.count == 2
    worker = threading.Thread(target=game.warm, args=(warmup,))
    worker.start()
    assert fake.holding.wait(10), "the writing ahead never started"
    asked = len(fake.prompts)
    stream = game.handle("/retry")  # not a new reply: it waits for the one being written
    assert isinstance(stream, Stream) and not warmup.cancel.cancelled
    fake.hold_after = None
    fake.release.set()
    events = list(stream.events)
    worker.join(10)
    assert not worker.is_alive() and warmup.done
    assert events == [Piece(" A bat flies out."), Done(" A bat flies out.", "ahead")]
    assert len(fake.prompts) == asked  # no reply was started for the retry
    last = game.state.turns[-1]
    assert last.text == " A bat flies out." and last.ahead == []  # the second never began


def test_stopping_a_retry_that_waits_stops_the_writing_ahead(game: Game) -> None:
    play(game.handle("open the door"))
    fake = backend(game)
    fake.hold_after = 1
    warmup = game.warm_up()
    assert warmup is not None
    worker = threading.Thread(target=game.warm, args=(warmup,))
    worker.start()
    assert fake.holding.wait(10), "the writing ahead never started"
    stream = game.handle("/retry")
    assert isinstance(stream, Stream)
    stream.cancel.cancel()  # Esc while it waits
    events = list(stream.events)
    worker.join(10)
    assert not worker.is_alive() and warmup.cancel.cancelled
    assert isinstance(events[-1], Done) and events[-1].cancelled
    assert game.state.turns[-1].text == " The door creaks open."  # the reply stays


def test_a_change_to_the_story_drops_them_but_not_the_last_replys_own_edit(game: Game) -> None:
    act_and_wait(game)
    game.handle(f"/edit {len(game.state.turns)} The door is open.")
    assert game.state.turns[-1].ahead  # its alternatives answer the same prompt
    game.handle("/remember The knight fears bats.")
    assert game.state.turns[-1].ahead == [] and game.ready_note() == ""
    assert saved(game).turns[-1].ahead == []


def test_a_loop_is_rolled_again_for_an_alternative_too() -> None:
    wind = " A cold wind blows through the hall."
    game = open_game(2, [wind, " The door creaks open.", wind, " A bat flies out."])
    try:
        play(game.handle("look around"))
        act_and_wait(game)
        assert game.state.turns[-1].ahead == [" A bat flies out."]
        assert backend(game).samplings[-1].repeat_penalty > Sampling().repeat_penalty
    finally:
        game.close()


def test_saves_keep_them_and_retry_after_a_load_shows_them(game: Game) -> None:
    act_and_wait(game)
    path = game.store.save(game.state, "ahead")
    loaded = game.store.load(path.stem)
    assert loaded.turns[-1].ahead == [" A bat flies out.", " A voice calls your name."]
    game.session.replace_state(loaded)
    events = list(game.handle("/retry").events)  # type: ignore[union-attr]
    assert events[-1] == Done(" A bat flies out.", "ahead")


def test_one_candidate_writes_nothing_ahead() -> None:
    game = open_game(1)
    try:
        play(game.handle("open the door"))
        warmup = game.warm_up()
        assert warmup is None or warmup.ahead is None
        assert len(backend(game).prompts) == 1
        done = play(game.handle("/retry"))
        assert done.text == " A bat flies out." and done.finish_reason != "ahead"
    finally:
        game.close()


def test_while_a_retry_takes_over_it_owns_the_story(game: Game) -> None:
    play(game.handle("open the door"))
    fake = backend(game)
    fake.hold_after = 1  # the reply being written ahead waits mid-way
    warmup = game.warm_up()
    assert warmup is not None
    # As the TUI does when one is ready (AheadReady), but from here: it must not take it in.
    taken: list[int] = []
    worker = threading.Thread(target=game.warm, args=(warmup,),
                              kwargs={"on_ready": lambda: taken.append(game.collect_ahead())})
    worker.start()
    assert fake.holding.wait(10), "the writing ahead never started"
    stream = game.handle("/retry")
    assert isinstance(stream, Stream)
    assert info(game.handle("look around"), error=True)  # handed out: no other line now
    events: list[object] = []
    runner = threading.Thread(target=lambda: events.extend(stream.events))
    runner.start()
    deadline = time.monotonic() + 10
    while not game.session.writing:
        assert time.monotonic() < deadline, "the retry never took the story over"
        time.sleep(0.005)
    assert info(game.handle("look around"), error=True)
    fake.hold_after = None
    fake.release.set()
    runner.join(10)
    worker.join(10)
    assert taken == [0]  # the retry took it in, as the story's owner
    assert events[-1] == Done(" A bat flies out.", "ahead")
    assert game.state.turns[-1].text == " A bat flies out."


def test_a_failing_warm_up_is_logged_and_told_once(caplog: pytest.LogCaptureFixture) -> None:
    game = open_game(2)
    told: list[str] = []
    game.warn = told.append
    fake = backend(game)
    fake.prefilled = []

    def broken(tokens: object, cancel: object = None) -> int:
        raise RuntimeError("the server went away")

    fake.prefill = broken  # type: ignore[method-assign]
    try:
        play(game.handle("open the door"))
        with caplog.at_level(logging.INFO, logger="gpt2_adventure.game"):
            for _ in range(2):
                warmup = game.warm_up()
                assert warmup is not None
                game.warm(warmup)
        assert len([r for r in caplog.records if r.exc_info]) == 2
        assert told == ["warming up failed (RuntimeError: the server went away); replies are "
                        "written as usual"]
    finally:
        game.close()


def test_a_reply_written_ahead_for_another_story_is_stale() -> None:
    game = open_game(2)
    try:
        play(game.handle("open the door"))
        job = game.session.ahead_job()
        assert job is not None
        other = open_game(2)
        state = other.state
        other.close()
        game.session.replace_state(state)  # a load
        play(game.handle("look around"))  # its own last reply, with its own alternatives
        game.session.write_ahead(job)  # a worker still writing for the story before
        assert game.collect_ahead() == 0 and game.state.turns[-1].ahead == []
    finally:
        game.close()
