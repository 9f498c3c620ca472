"""Closing a game while something runs on it (issue 23): a reply being written is over (kept
whole, or undone) before the game is saved, and a warm-up is out of the backend before
``close`` returns (the backend is closed next)."""

from __future__ import annotations

import threading

from gpt2_adventure.game import Stream
from gpt2_adventure.story.events import Event
from tests.support.fake_backend import FakeBackend
from tests.test_game import open_game, saved
from tests.test_game_ahead import open_game as open_ahead_game

LONG = " The door creaks open and a long corridor stretches before you, lit by torches."


def run_on_thread(stream: Stream) -> tuple[threading.Thread, list[Event]]:
    events: list[Event] = []
    thread = threading.Thread(target=lambda: events.extend(stream.events), daemon=True)
    thread.start()
    return thread, events


def test_closing_in_mid_reply_saves_neither_the_action_nor_a_half_reply() -> None:
    game = open_game(replies=[LONG])
    fake = game.session.backend
    assert isinstance(fake, FakeBackend)
    fake.hold_after, fake.stop_seconds = 4, 0.3
    before = len(game.state.turns)
    outcome = game.handle("open the door")
    assert isinstance(outcome, Stream)
    thread, _ = run_on_thread(outcome)
    assert fake.holding.wait(10)
    game.close()  # as Ctrl+Q does, on another thread than the reply's
    thread.join(10)
    assert [t.raw for t in saved(game).turns if t.role == "player"] == \
        [t.raw for t in game.state.turns[:before] if t.role == "player"]
    assert len(saved(game).turns) == before == len(game.state.turns)


def test_a_reply_that_ends_as_the_game_closes_is_saved_whole() -> None:
    game = open_game(replies=[LONG])
    fake = game.session.backend
    assert isinstance(fake, FakeBackend)
    fake.hold_after = 4
    outcome = game.handle("open the door")
    assert isinstance(outcome, Stream)
    thread, _ = run_on_thread(outcome)
    assert fake.holding.wait(10)
    fake.release.set()  # it finishes just as the player quits
    game.close()
    thread.join(10)
    turns = saved(game).turns
    if turns[-1].role == "model":  # both, or neither
        assert turns[-2].raw == "open the door" and turns[-1].text.strip()
    else:
        assert all(t.raw != "open the door" for t in turns)


def test_close_waits_for_the_warm_up_to_leave_the_backend() -> None:
    game = open_ahead_game(3, [" The door creaks open.", LONG, LONG])
    fake = game.session.backend
    assert isinstance(fake, FakeBackend)
    fake.stop_seconds = 0.3
    list(game.handle("open the door").events)  # type: ignore[union-attr]
    fake.hold_after = 3
    warmup = game.warm_up()
    assert warmup is not None
    thread = threading.Thread(target=game.warm, args=(warmup,), daemon=True)
    thread.start()
    assert fake.holding.wait(10)  # writing a reply ahead
    left = fake.left
    game.close()
    assert fake.left == left + 1
    assert warmup.done
    thread.join(10)


def test_a_warm_up_stopped_before_it_began_never_touches_the_backend() -> None:
    game = open_ahead_game(3)
    fake = game.session.backend
    assert isinstance(fake, FakeBackend)
    fake.prefilled = []
    list(game.handle("open the door").events)  # type: ignore[union-attr]
    prompts = len(fake.prompts)
    warmup = game.warm_up()
    assert warmup is not None
    game.close()  # before its worker began
    assert game.warm(warmup) == 0
    assert fake.prefilled == [] and len(fake.prompts) == prompts and warmup.done
