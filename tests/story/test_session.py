"""Sessions with a scripted backend: turns, re-rolls, cancellation, history, memory."""

from __future__ import annotations

import random

import pytest

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.context import Plan
from gpt2_adventure.story.events import Done, Piece, Restart, SessionError
from gpt2_adventure.story.model import WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend

LOOP = " You walk on. You walk on. You walk on. You walk on."


def make(story: str = "knight", replies: list[str] | None = None, **kw: object
         ) -> tuple[Session, FakeBackend]:
    backend = FakeBackend(list(replies or []))
    seed = find_seed(AppPaths.from_env(), story)
    state = new_state(seed, {"name": "Anna"}, random.Random(1))
    return Session(state, backend, Sampling(max_tokens=60), **kw), backend  # type: ignore[arg-type]


def play(events) -> tuple[list[object], Done]:  # noqa: ANN001
    seen = list(events)
    done = seen[-1]
    assert isinstance(done, Done)
    return seen, done


def shown(backend: FakeBackend, n: int = -1) -> str:
    return backend.detokenize(backend.prompts[n])


def test_new_game_fills_placeholders_and_opens_the_story() -> None:
    session, _ = make()
    state = session.state
    assert state.mode == "adventure" and state.seed_id == "knight"
    assert len(state.turns) == 1 and state.turns[0].role == "opening"
    everything = state.turns[0].text + state.memory + "".join(w.content for w in state.world)
    assert "{" not in everything and "Anna" in everything


def test_a_do_action_is_second_person_and_the_reply_joins_the_story() -> None:
    session, backend = make(replies=[" The door creaks open. A draft"])
    changes = []
    session.on_change = changes.append
    events, done = play(session.act("I open the door"))
    assert any(isinstance(e, Piece) for e in events)
    assert shown(backend).endswith("\n> You open the door.\n")
    assert done.text == " The door creaks open."
    assert [t.role for t in session.state.turns] == ["opening", "player", "model"]
    assert session.state.turns[-1].text == " The door creaks open."
    assert changes == [session.state]


def test_say_and_story_actions() -> None:
    session, backend = make(replies=[" He nods.", " It roars."])
    play(session.act("hello there", "say"))
    assert shown(backend).endswith('\n> You say "Hello there."\n')
    play(session.act("A dragon lands on the roof.", "story"))
    assert shown(backend).endswith("He nods.\nA dragon lands on the roof.")


def test_the_model_writing_the_players_turn_is_cut() -> None:
    session, _ = make(replies=[" The guard laughs.\n> You attack the guard."])
    _, done = play(session.act("wave"))
    assert done.text == " The guard laughs."


def test_a_loop_is_rerolled_with_a_stronger_penalty() -> None:
    session, backend = make(replies=[LOOP, " A bird sings somewhere."])
    events, done = play(session.act("walk"))
    assert any(isinstance(e, Restart) for e in events)
    assert done.text == " A bird sings somewhere." and done.rerolls == 1
    first, second = backend.samplings
    assert second.repeat_penalty > first.repeat_penalty
    assert set(backend.tokenize(" You walk on.")) & set(second.logit_bias)


def test_rerolls_are_bounded() -> None:
    session, backend = make(replies=[LOOP] * 10, max_rerolls=2)
    _, done = play(session.act("walk"))
    assert len(backend.prompts) == 3 and done.rerolls == 2
    assert session.state.turns[-1].role == "model"


def test_cancel_leaves_the_story_alone_until_the_player_keeps_it() -> None:
    session, backend = make(replies=[" One two three four five six seven."] * 2)
    backend.cancel_after = 3
    before = session.state.to_dict()
    _, done = play(session.act("wait", cancel=CancelToken()))
    assert done.cancelled and session.state.to_dict() == before
    assert session.pending is not None and session.pending.text.strip()
    session.keep_pending()
    assert [t.role for t in session.state.turns] == ["opening", "player", "model"]
    assert session.state.turns[-1].text == done.text

    _, again = play(session.act("wait more", cancel=CancelToken()))
    assert again.cancelled
    session.drop_pending()
    assert len(session.state.turns) == 3


def test_a_backend_failure_loses_nothing() -> None:
    session, backend = make()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("server went away")

    backend.stream = broken  # type: ignore[method-assign]
    before = session.state.to_dict()
    with pytest.raises(RuntimeError):
        list(session.act("open the door"))
    assert session.state.to_dict() == before


def test_retry_keeps_alternatives_to_flip_between() -> None:
    session, _ = make(replies=[" First.", " Second."])
    play(session.act("look"))
    play(session.retry())
    last = session.state.turns[-1]
    assert last.alternatives == [" First.", " Second."] and last.text == " Second."
    assert session.alternative() == " First."
    assert session.alternative(-1) == " Second."
    assert len(session.state.turns) == 3


def test_retry_needs_a_reply() -> None:
    session, _ = make()
    with pytest.raises(SessionError, match="no reply"):
        list(session.retry())


def test_undo_and_redo_whole_exchanges() -> None:
    session, _ = make(replies=[" One.", " Two."])
    play(session.act("a"))
    play(session.act("b"))
    step = session.undo()
    assert [t.role for t in step] == ["player", "model"] and len(session.state.turns) == 3
    session.undo()
    with pytest.raises(SessionError, match="nothing to undo"):
        session.undo()
    session.redo()
    session.redo()
    assert [t.text for t in session.state.turns[1:]] == ["\n> You a.\n", " One.",
                                                         "\n> You b.\n", " Two."]
    with pytest.raises(SessionError):
        session.redo()


def test_a_new_action_clears_redo() -> None:
    session, _ = make(replies=[" One.", " Two."])
    play(session.act("a"))
    session.undo()
    play(session.act("b"))
    with pytest.raises(SessionError):
        session.redo()


def test_continue_extends_the_last_reply() -> None:
    session, backend = make(replies=[" The hall is long.", " Torches burn."])
    play(session.act("enter"))
    play(session.continue_())
    assert session.state.turns[-1].text == " The hall is long. Torches burn."
    assert session.state.turns[-1].alternatives == [" The hall is long. Torches burn."]
    assert shown(backend).endswith("The hall is long.")


def test_edit_memory_note_and_world() -> None:
    session, backend = make(replies=[" Fine.", " Good."])
    play(session.act("rest"))
    session.edit(2, " The inn is warm and loud.")
    session.remember("Anna owes the innkeeper ten crowns.")
    session.pin(2)
    assert session.memory_lines()[-2:] == ["Anna owes the innkeeper ten crowns.",
                                           "The inn is warm and loud."]
    session.set_note("cheerful")
    index = session.add_world(WorldEntry(keys=("innkeeper",), content="The innkeeper is Bo."))
    play(session.act("talk to the innkeeper"))
    prompt = shown(backend)
    assert "ten crowns" in prompt and "[Author's note: cheerful]" in prompt
    assert "The innkeeper is Bo." in prompt
    session.remove_world(index)
    assert session.forget(len(session.memory_lines()) - 1) == "The inn is warm and loud."
    with pytest.raises(SessionError):
        session.forget(99)


def test_chat_cues_the_character_and_stops_at_the_players_line() -> None:
    session, backend = make("tavern-keeper", replies=[" Welcome, traveller!\nAnna: thanks"])
    assert session.state.chat is not None and session.state.chat.character == "Hobb"
    _, done = play(session.act("Hello! Any rooms free?"))
    assert shown(backend).endswith("\nAnna: Hello! Any rooms free?\nHobb:")
    assert session.state.turns[-1].text == "\nHobb: Welcome, traveller!"
    assert session.state.turns[-1].speaker == "Hobb"
    assert done.text.strip() == "Welcome, traveller!"


def test_chat_with_several_voices_lets_the_model_pick_the_speaker() -> None:
    session, backend = make("forum-thread",
                            replies=["\nquietlibrarian: Same thing happened to me."])
    play(session.act("Anyone else hear the humming on floor 3?"))
    assert shown(backend).endswith("on floor 3?\n")
    assert session.state.turns[-1].speaker == "quietlibrarian"


def test_story_mode_co_writes() -> None:
    session, backend = make("fairy-tale", replies=[" The queen smiled.", " Then night fell.",
                                                   " Owls called."])
    play(session.act("The bells rang"))
    assert shown(backend).endswith(" The bells rang")
    play(session.continue_())
    assert session.state.turns[-1].text == " The queen smiled. Then night fell."
    play(session.act(""))  # nothing typed: the model simply writes on
    assert [t.role for t in session.state.turns[-2:]] == ["model", "model"]


def test_autosave_after_each_turn_round_trips() -> None:
    store = SaveStore(AppPaths.from_env())
    session, _ = make(replies=[" One.", " Two."], on_change=store.autosave)
    play(session.act("a"))
    play(session.retry())
    loaded = store.load(f"autosave/{session.state.id}")
    assert loaded == session.state


def test_preview_does_not_move_the_layout() -> None:
    session, _ = make(replies=[" One."])
    play(session.act("a"))
    plan = session.builder.plan
    before = (plan.window_start, plan.note_at)
    prompt = session.preview()
    assert prompt.tokens and (session.builder.plan.window_start,
                              session.builder.plan.note_at) == before


def test_replace_state_starts_the_new_story_afresh() -> None:
    session, backend = make(replies=[" One two three four five six seven."] * 2)
    backend.cancel_after = 3
    play(session.act("wait", cancel=CancelToken()))
    session.builder.plan = Plan(window_start=1, note_at=1)
    assert session.pending is not None
    other, _ = make("tavern-keeper")
    session.replace_state(other.state)
    assert session.state is other.state
    assert session.pending is None  # the cancelled reply belonged to the other story
    assert session.builder.plan == Plan()  # laid out anew


def test_a_reply_owns_the_session_until_its_last_event() -> None:
    session, backend = make(replies=[" One two three.", " Four."])
    backend.prefilled = []
    assert not session.writing and session.warm_prompt()
    events = session.act("wait")
    first = next(events)
    assert isinstance(first, Piece) and session.writing
    assert session.warm_prompt() is None and session.warm() == 0  # no warm-up meanwhile
    with pytest.raises(SessionError, match="already being written"):
        next(session.retry())
    for event in events:
        if isinstance(event, Done):
            assert not session.writing  # idle when Done is seen (to warm up after it)
    assert session.warm_prompt()


def test_a_reply_stopped_early_lets_the_session_go() -> None:
    session, _ = make(replies=[" One two three."])
    events = session.act("wait")
    next(events)
    events.close()  # type: ignore[attr-defined]
    assert not session.writing and len(session.state.turns) == 1  # the action was taken back
    play(session.act("wait"))
