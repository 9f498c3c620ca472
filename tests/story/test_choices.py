"""The last reply's choices (story/choices.py) on their own: the replies written ahead belong
to one reply, carry the backend's handle on their cache to the one shown, go stale when the
story changes, and ``Turn.text`` is the chosen alternative however it is changed."""

from __future__ import annotations

from gpt2_adventure.engine.backend import Handle
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.choices import Choices
from gpt2_adventure.story.model import StoryState, Turn

SAMPLING = Sampling(max_tokens=60, candidates=3)


def story() -> StoryState:
    return StoryState(mode="adventure", title="t", turns=[
        Turn(role="opening", text="You stand at a door."),
        Turn(role="player", text="\n> You open the door.\n", kind="do", raw="open the door"),
        Turn(role="model", text=" It creaks.", alternatives=[" It creaks."])])


def started() -> tuple[Choices, StoryState, list[tuple[str, Handle]]]:
    used: list[tuple[str, Handle]] = []
    choices = Choices(use=lambda text, handle: used.append((text, handle)))
    state = story()
    choices.start(state.turns[-1], [1, 2, 3])
    return choices, state, used


def test_a_job_asks_for_the_rest_of_the_candidates_and_keeps_the_held_ones() -> None:
    choices, state, _ = started()
    job = choices.job(state, SAMPLING, ["\n>"])
    assert job is not None and job.count == 2 and job.prompt == [1, 2, 3] and job.keep == ()
    held = Handle(1, object())
    choices.post(job.generation, " A bat flies out.", held)
    assert choices.collect(state) == 1
    again = choices.job(state, SAMPLING, ["\n>"])
    assert again is not None and again.count == 1 and again.keep == (held,)


def test_the_shown_one_hands_its_handle_to_the_backend_and_becomes_the_text() -> None:
    choices, state, used = started()
    generation = choices.generation
    held, other = Handle(1, object()), Handle(2, object())
    choices.post(generation, " A bat flies out.", held)
    choices.post(generation, " A voice calls.", other)
    choices.collect(state)
    last = state.turns[-1]
    assert last.ahead == [" A bat flies out.", " A voice calls."]
    assert choices.pick(state.turns, 3) == " A voice calls."
    assert used == [(" A voice calls.", other)]  # the one shown, with its own handle
    assert last.text == " A voice calls." and last.alternatives[-1] == last.text
    assert choices.show(state.turns) == " A bat flies out."
    assert used[-1] == (" A bat flies out.", held)
    assert last.ahead == []


def test_late_replies_to_a_changed_story_are_thrown_away() -> None:
    choices, state, _ = started()
    generation = choices.generation
    choices.post(generation, " Ready.", None)
    choices.collect(state)
    choices.drop(state.turns)  # e.g. a memory line added: they answer the story as it was
    assert state.turns[-1].ahead == []
    choices.post(generation, " Late.", Handle(1, object()))
    assert choices.collect(state) == 0 and choices.job(state, SAMPLING, []) is None
    choices.start(state.turns[-1], [1])
    choices.forget()  # another story loaded: the count goes on
    assert choices.generation > generation + 1


def test_a_reply_read_from_a_save_shows_its_ready_ones_without_a_cache() -> None:
    used: list[tuple[str, Handle]] = []
    choices = Choices(use=lambda text, handle: used.append((text, handle)))
    state = story()
    state.turns[-1].ahead.append(" Saved ahead.")
    assert choices.ready(state.turns) == 1
    assert choices.flip(state.turns) == " Saved ahead."  # nothing to flip to: a ready one
    assert used == [] and state.turns[-1].alternatives == [" It creaks.", " Saved ahead."]
    assert choices.flip(state.turns) == " It creaks."
    assert choices.summary(state.turns).startswith("alternative 1 of 2")


def test_turn_text_is_the_chosen_alternative() -> None:
    turn = Turn(role="model", text=" B.", alternatives=[" A.", " B."], chosen=1)
    turn.choose(0)
    assert turn.text == " A."
    turn.text += " More."  # continued, or edited: the chosen alternative changes with it
    assert turn.alternatives == [" A. More.", " B."]
    player = Turn(role="player", text="\n> You wait.\n", kind="do", raw="wait")
    player.text = "\n> You run.\n"  # no alternatives: its own text
    assert player.text == "\n> You run.\n" and player.alternatives == []


def test_a_saved_turn_keeps_the_text_it_showed_and_saves_as_before() -> None:
    data = {"role": "model", "text": " Shown.", "alternatives": [" Other.", " Old."],
            "chosen": 1}
    turn = Turn.from_dict(data)
    assert turn.text == " Shown." and turn.alternatives == [" Other.", " Shown."]
    assert turn.to_dict() == {**data, "alternatives": [" Other.", " Shown."]}
    same = Turn.from_dict(turn.to_dict())
    assert same == turn and same.to_dict()["text"] == " Shown."


LOOP = " You stand at a door. You stand at a door. You stand at a door."
GOOD = " The heavy door swings open onto a dark hall."


def test_the_best_reply_written_ahead_comes_first_and_alt_tells_its_score() -> None:
    choices, state, _ = started()
    generation = choices.generation
    # In the order written: a loop repeating the opening, a cut one, a good one.
    for text in (LOOP, " The door", GOOD):
        choices.post(generation, text, None)
    assert choices.collect(state) == 3
    last = state.turns[-1]
    assert last.ahead == [GOOD, " The door", LOOP]  # scored 1.00, 0.70, 0.43
    assert choices.show(state.turns) == GOOD  # what retry shows
    # " It creaks." takes nothing of "open the door" up and is short: 0.75.
    assert choices.summary(state.turns) == \
        "alternative 2 of 2 · score 1.00 (best of 4) · 2 more ready (/pick 3)"
    choices.flip(state.turns)
    assert choices.summary(state.turns) == \
        "alternative 1 of 2 · score 0.75 (2nd of 4) · 2 more ready (/pick 3)"
