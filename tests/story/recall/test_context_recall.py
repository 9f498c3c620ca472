"""Recall in the prompt: facts from far outside the window come back when named, never
what is in view, within every budget, and without breaking the prompt's stable prefix."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.story.context import ContextBuilder
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.story.recall.recall import Recall
from tests.story.recall.stories import FACTS, act, filler, planted_story
from tests.support.fake_backend import FakeBackend
from tests.support.prefix import common_prefix


def builder_for(backend: FakeBackend, **kw: object) -> ContextBuilder:
    return ContextBuilder(backend.tokenize, backend.n_ctx, recall=Recall(), **kw)  # type: ignore[arg-type]


def test_a_fact_far_out_of_view_comes_back_when_its_entity_is_named() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(120)
    act(state, "You ask the guard about Brannoc")
    prompt = builder.build(state, 40)
    shown = backend.detokenize(prompt.tokens)
    assert prompt.first_visible_turn > 200  # the fact was told at turn 2
    assert FACTS["Brannoc"] in shown
    assert FACTS["Ysolde"] not in shown and FACTS["Quillon"] not in shown
    assert prompt.parts["recall"] == len(backend.tokenize("\n" + FACTS["Brannoc"] + "\n"))
    assert [r.turn for r in prompt.recalled] == [2]
    # It goes where the story has got to: just before the player's newest line.
    assert shown.endswith(FACTS["Brannoc"] + "\n\n> You ask the guard about Brannoc\n")


def test_nothing_is_recalled_when_nothing_names_a_fact() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(120)
    act(state, "You walk along the river")
    prompt = builder.build(state, 40)
    shown = backend.detokenize(prompt.tokens)
    assert not any(fact in shown for fact in FACTS.values())
    assert all(r.turn < prompt.first_visible_turn for r in prompt.recalled)


def test_without_recall_or_with_it_off_the_fact_stays_out() -> None:
    backend = FakeBackend(n_ctx=512)
    state = planted_story(120)
    act(state, "You ask the guard about Brannoc")
    for builder in (ContextBuilder(backend.tokenize, 512), builder_for(backend)):
        builder.recall_on = builder.recall is None  # off where there is an index
        prompt = builder.build(state, 40)
        assert FACTS["Brannoc"] not in backend.detokenize(prompt.tokens)
        assert prompt.parts["recall"] == 0


def test_turning_recall_off_takes_the_passages_out_at_once() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(120)
    act(state, "You ask the guard about Brannoc")
    assert builder.build(state, 40).parts["recall"] > 0
    builder.recall_on = False
    assert builder.build(state, 40).parts["recall"] == 0


def test_recall_never_repeats_what_is_in_view() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(120)
    # The fact is told again in view: recalling it would only repeat it.
    state.turns.append(Turn(role="model", text=" " + FACTS["Brannoc"]))
    act(state, "You ask the guard about Brannoc")
    prompt = builder.build(state, 40)
    shown = backend.detokenize(prompt.tokens)
    assert shown.count(FACTS["Brannoc"]) == 1 and prompt.recalled == ()
    # Asked again a turn later: the passage recalled then is in view, and is not added twice.
    state.turns[-2].text = " The talk drifts."
    builder.reset()
    first = builder.build(state, 40)
    assert [r.text for r in first.recalled] == [FACTS["Brannoc"]]
    state.turns.append(Turn(role="model", text=" He says nothing more."))
    act(state, "You ask again about Brannoc and the key")
    again = builder.build(state, 40)
    assert backend.detokenize(again.tokens).count(FACTS["Brannoc"]) == 1


def test_the_recall_share_bounds_the_recalled_passages() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend, recall_share=0.05)  # 25 tokens
    state = planted_story(120)
    act(state, "You ask about Brannoc and Ysolde and Quillon")
    prompt = builder.build(state, 40)
    assert 0 < prompt.parts["recall"] <= 25
    assert len(prompt.recalled) == 1


@st.composite
def adventures(draw: st.DrawFn) -> tuple[int, int, int, list[str]]:
    n_ctx = draw(st.sampled_from([128, 256, 512, 1024]))
    reply = draw(st.integers(1, 200))
    seed = draw(st.integers(0, 1000))
    names = list(FACTS) + ["the river", "the key", "anvil", "crowns"]
    actions = draw(st.lists(st.sampled_from(names), min_size=5, max_size=40))
    return n_ctx, reply, seed, actions


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adventures())
def test_every_budget_holds_and_nothing_recalled_is_in_view(case) -> None:  # noqa: ANN001
    n_ctx, reply, seed, actions = case
    backend = FakeBackend(n_ctx=n_ctx)
    builder = builder_for(backend)
    state = planted_story(10, seed)
    rng = random.Random(seed)
    before: set[object] = set()
    for name in actions:
        act(state, f"You ask about {name}")
        prompt = builder.build(state, reply)
        assert prompt.used <= n_ctx
        assert prompt.parts["recall"] <= int(n_ctx * builder.recall_share)
        assert sum(v for k, v in prompt.parts.items() if k != "reply") == len(prompt.tokens)
        in_view = "".join(t.text for t in state.turns[prompt.first_visible_turn:])
        for passage in prompt.recalled:
            assert passage.turn < prompt.first_visible_turn
            if passage not in before:  # (one recalled earlier stays, even if told again)
                assert passage.text not in in_view
                assert name.split()[-1] in passage.text  # it holds what was asked about
        before = set(prompt.recalled)
        _, answer = filler(rng, len(state.turns))
        state.turns.append(Turn(role="model", text=answer))


def test_consecutive_prompts_stay_prefix_stable_and_only_the_new_part_changes() -> None:
    backend = FakeBackend(n_ctx=1024)
    builder = builder_for(backend)
    state = planted_story(150)
    rng = random.Random(7)
    previous: list[int] | None = None
    previous_recalled: set[object] = set()
    checked = recalled_turns = 0
    for i in range(60):
        name = list(FACTS)[i % 3] if i % 4 == 0 else None
        raw = f"You ask about {name}" if name else filler(rng, i)[0].strip("\n> ")
        act(state, raw)
        prompt = builder.build(state, 40)
        if previous is not None and not prompt.trimmed:
            shared = common_prefix(previous, prompt.tokens)
            assert shared == len(previous)  # all the model had seen is still the prefix
            new = len(prompt.tokens) - shared
            action = len(backend.tokenize(state.turns[-1].text))
            recalled = sum(len(backend.tokenize("\n" + r.text + "\n")) for r in prompt.recalled
                           if r not in previous_recalled)
            assert new == action + recalled  # only the action and what was recalled for it
            checked += 1
            recalled_turns += recalled > 0
        if name:
            assert FACTS[name] in backend.detokenize(prompt.tokens)
        previous_recalled = set(prompt.recalled)
        answer = filler(rng, i)[1]
        state.turns.append(Turn(role="model", text=answer))
        previous = prompt.tokens + backend.tokenize(answer)
    assert checked >= 40 and recalled_turns >= 5


def test_an_edited_source_turn_takes_its_passage_out() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(120)
    act(state, "You ask the guard about Brannoc")
    assert builder.build(state, 40).recalled
    state.turns[2].text = " Brannoc the smith lost the silver key in the river."
    prompt = builder.build(state, 40)
    shown = backend.detokenize(prompt.tokens)
    assert FACTS["Brannoc"] not in shown
    assert "lost the silver key in the river" in shown  # found again, as it now reads


def test_the_recalled_story_is_searched_in_a_chat_too() -> None:
    from gpt2_adventure.story.model import ChatSpec

    backend = FakeBackend(n_ctx=256)
    builder = builder_for(backend)
    state = StoryState(mode="chat", title="c", chat=ChatSpec(character="Mira"),
                       turns=[Turn(role="opening", text="A shop.")])
    state.turns.append(Turn(role="player", text="\nYou: Where is Tobias?\n",
                            raw="Where is Tobias?"))
    state.turns.append(Turn(role="model", text="Mira: Tobias sailed to Vennmark in spring.\n",
                            speaker="Mira"))
    for i in range(40):
        state.turns.append(Turn(role="player", text=f"\nYou: More tea {i}?\n", raw="tea"))
        state.turns.append(Turn(role="model", text=f"Mira: Yes, more tea {i}.\n", speaker="Mira"))
    state.turns.append(Turn(role="player", text="\nYou: Any word from Tobias?\n",
                            raw="Any word from Tobias?"))
    prompt = builder.build(state, 30, "Mira:")
    assert "Tobias sailed to Vennmark in spring." in backend.detokenize(prompt.tokens)


def test_a_name_in_the_last_reply_is_recalled_while_warming_and_the_action_goes_on_it() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(120)
    state.turns.append(Turn(role="model", text=" A woman calls herself Ysolde."))
    warm = builder.build(state, 40 + 48)  # the warm-up: no action yet
    shown = backend.detokenize(warm.tokens)
    assert shown.endswith("Ysolde.\n" + FACTS["Ysolde"] + "\n")
    act(state, "You follow her")
    prompt = builder.build(state, 40)
    assert prompt.tokens[:len(warm.tokens)] == warm.tokens
    assert backend.detokenize(prompt.tokens).count(FACTS["Ysolde"]) == 1


def _share_filled(backend: FakeBackend) -> tuple[ContextBuilder, StoryState]:
    """A game whose recall share (two passages) is full: Ysolde and Quillon were asked about."""
    builder = builder_for(backend, recall_share=0.05)  # 51 tokens
    state = planted_story(150)
    rng = random.Random(3)
    for name in ("Ysolde", "Quillon"):
        act(state, f"You ask about {name}")
        assert FACTS[name] in backend.detokenize(builder.build(state, 40).tokens)
        state.turns.append(Turn(role="model", text=filler(rng, 0)[1]))
    return builder, state


def test_a_name_whose_fact_finds_no_room_in_the_share_takes_the_last_passages_place() -> None:
    # The story in view stays whole (a trim would take the window laid out ahead for a later
    # one: a few turns); the passage recalled last gives way, and only what stood after it
    # changes.
    backend = FakeBackend(n_ctx=1024)
    builder, state = _share_filled(backend)
    start = builder.plan.window_start
    before = builder.build(state, 40).tokens
    act(state, "You ask about Brannoc")
    prompt = builder.build(state, 40)
    shown = backend.detokenize(prompt.tokens)
    assert not prompt.trimmed and builder.plan.window_start == start
    assert FACTS["Brannoc"] in shown and FACTS["Ysolde"] in shown
    assert FACTS["Quillon"] not in shown  # recalled last
    assert prompt.parts["recall"] <= int(1024 * builder.recall_share)
    quillon = backend.detokenize(before).index("\n" + FACTS["Quillon"])
    assert backend.detokenize(prompt.tokens[:common_prefix(before, prompt.tokens)]) \
        .startswith(backend.detokenize(before)[:quillon])


def test_with_a_trim_near_a_name_brings_it_on_rather_than_a_passage_giving_way() -> None:
    # Giving way evaluates again the story after the passage; a trim about to come keeps
    # nearly as much story and recalls anew.
    backend = FakeBackend(n_ctx=1024)
    builder, state = _share_filled(backend)
    rng = random.Random(7)
    for i in range(40):
        prompt = builder.build(state, 40)
        assert not prompt.trimmed and prompt.parts["recall"] > 0  # the share stays full
        if 1024 - 40 - len(prompt.tokens) < builder._exchange(state):
            break
        action, reply = filler(rng, i)
        state.turns.append(Turn(role="player", text=action, kind="do", raw=action.strip("\n> ")))
        state.turns.append(Turn(role="model", text=reply))
    start = builder.plan.window_start
    act(state, "You ask about Brannoc")
    prompt = builder.build(state, 40)
    assert prompt.trimmed and builder.plan.window_start > start
    assert FACTS["Brannoc"] in backend.detokenize(prompt.tokens)


def test_a_name_whose_fact_finds_no_room_in_a_full_context_makes_the_trim_come_now() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(150)
    rng = random.Random(5)
    fact = len(backend.tokenize("\n" + FACTS["Brannoc"] + "\n"))
    asked = len(backend.tokenize("\n> You ask about Brannoc\n"))
    for i in range(200):  # until the next action fits but its fact does not
        left = 512 - 40 - len(builder.build(state, 40).tokens)
        if asked <= left < asked + fact:
            break
        action, reply = filler(rng, i)
        state.turns.append(Turn(role="player", text=action, kind="do", raw=action.strip("\n> ")))
        state.turns.append(Turn(role="model", text=reply))
    else:
        raise AssertionError("the context never came near full")
    start = builder.plan.window_start
    act(state, "You ask about Brannoc")
    prompt = builder.build(state, 40)
    assert prompt.trimmed and builder.plan.window_start > start
    assert FACTS["Brannoc"] in backend.detokenize(prompt.tokens)
    assert len(prompt.tokens) <= 512 - 40


def test_without_a_name_a_full_share_waits_for_the_next_trim() -> None:
    backend = FakeBackend(n_ctx=1024)
    builder, state = _share_filled(backend)
    act(state, "You ask about the silver key and the anvil")
    prompt = builder.build(state, 40)
    assert not prompt.trimmed and FACTS["Brannoc"] not in backend.detokenize(prompt.tokens)


def test_the_window_laid_out_ahead_still_fits_the_trim_when_passages_are_recalled() -> None:
    from gpt2_adventure.story.context import note_text

    backend = FakeBackend(n_ctx=512)
    builder = builder_for(backend)
    state = planted_story(60)
    state.authors_note = "grim"
    rng = random.Random(4)
    spare: list[int] | None = None
    spares = recalled = 0
    for i in range(80):
        name = list(FACTS)[i % 3] if i % 3 == 0 else None
        act(state, f"You ask about {name}" if name else filler(rng, i)[0].strip("\n> "))
        prompt = builder.build(state, 40)
        recalled += bool(prompt.recalled)
        if prompt.trimmed and spare is not None:
            shared = common_prefix(spare, prompt.tokens)
            assert shared >= len(spare) - len(backend.tokenize(note_text("grim"))) - 2
            spares += 1
        state.turns.append(Turn(role="model", text=filler(rng, i)[1]))
        spare = builder.next_window(state, 40)
    assert spares >= 5 and recalled >= 20
