"""Automatic lore in the prompt (story/context.py): world info after the player's entries,
under the same world share, shown as placed until the next trim (prefix-stable)."""

from __future__ import annotations

import dataclasses
import json

from gpt2_adventure.story.context import ContextBuilder, Plan
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from tests.support.fake_backend import FakeBackend
from tests.support.prefix import common_prefix


def walk(state: StoryState, steps: range) -> None:
    for i in steps:
        state.turns.append(Turn(role="player", text=f"\n> You walk {i}.\n"))
        state.turns.append(Turn(role="model", text=f" The road goes on {i}."))


def game(**fields: object) -> StoryState:
    state = StoryState(mode="adventure", title="t",  # type: ignore[arg-type]
                       turns=[Turn(role="opening", text="You stand in a field.")], **fields)
    walk(state, range(3))
    return state


def test_automatic_entries_wait_behind_the_players_when_the_world_share_is_short() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024, world_share=0.006)  # 6 tokens: one fits
    state = game(world=[WorldEntry(keys=("Larion",), content="PLAYER LORE")],
                 lore=[WorldEntry(keys=("Larion",), content="AUTO LORE")])
    state.turns.append(Turn(role="player", text="\n> You ask about Larion.\n"))
    prompt = builder.build(state, 20)
    shown = backend.detokenize(prompt.tokens)
    assert "PLAYER LORE" in shown and "AUTO LORE" not in shown
    assert prompt.world_left_out == 1 and prompt.active_world == [-1, 0]  # ~0 is lore 0
    state.world = []  # (the player's entry gone) the automatic one fits
    builder.reset()
    assert "AUTO LORE" in backend.detokenize(builder.build(state, 20).tokens)


def test_an_automatic_entry_is_shown_as_placed_until_the_next_trim() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    state = game(lore=[WorldEntry(keys=("Larion",), content="Larion has bridges.")])
    before = builder.build(state, 20).tokens
    state.turns.append(Turn(role="player", text="\n> You ask about Larion.\n"))
    first = builder.build(state, 20).tokens
    assert first[:len(before)] == before  # found mid-window: placed where the story is
    assert backend.detokenize(first).endswith("Larion has bridges.\n\n> You ask about Larion.\n")
    # The story writes of Larion again: the entry keeps up, the prompt keeps what it showed.
    state.turns.append(Turn(role="model", text=" Larion burns."))
    state.lore[0] = WorldEntry(keys=("Larion",), content="Larion has bridges. Larion burns.")
    state.world.append(WorldEntry(keys=("road",), content="ROADS"))  # shifts no lore index
    state.turns.append(Turn(role="player", text="\n> You run.\n"))
    later = builder.build(state, 20)
    assert later.tokens[:len(first)] == first
    assert backend.detokenize(later.tokens).count("Larion has bridges.") == 1
    assert "ROADS" in backend.detokenize(later.tokens)
    builder.reset()  # laid out afresh (as at a trim): the entry as it reads now
    assert "Larion has bridges. Larion burns." in backend.detokenize(
        builder.build(state, 20).tokens)


def test_automatic_entries_take_no_part_while_auto_lore_is_off() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    state = game(lore=[WorldEntry(keys=("Larion",), content="LARION LORE")])
    state.turns.append(Turn(role="player", text="\n> You ask about Larion.\n"))
    assert "LARION LORE" in backend.detokenize(builder.build(state, 20).tokens)
    builder.auto_lore = False
    assert "LARION LORE" not in backend.detokenize(builder.build(state, 20).tokens)


def test_the_placed_text_survives_a_stored_layout() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    state = game(lore=[WorldEntry(keys=("Larion",), content="OLD LORE")])
    state.turns.append(Turn(role="player", text="\n> You ask about Larion.\n"))
    first = builder.build(state, 20).tokens
    stored = json.loads(json.dumps(dataclasses.asdict(builder.plan)))  # as the model state
    state.lore[0] = WorldEntry(keys=("Larion",), content="NEW LORE")
    resumed = ContextBuilder(backend.tokenize, 1024)
    resumed.plan = Plan.from_dict(stored)
    assert resumed.build(state, 20).tokens == first


def test_an_automatic_entry_the_model_can_still_read_whole_is_left_out() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    state = game(lore=[WorldEntry(keys=("Larion",), content="Larion has bridges. Larion burns.")])
    state.turns += [Turn(role="model", text=" Larion has bridges. Larion burns."),
                    Turn(role="player", text="\n> You ask about Larion.\n")]
    assert backend.detokenize(builder.build(state, 20).tokens).count("Larion burns.") == 1
    state.lore[0] = WorldEntry(keys=("Larion",), content="Larion has bridges. Larion fell.")
    assert backend.detokenize(builder.build(state, 20).tokens).count("Larion has bridges") == 2


def test_the_window_laid_out_ahead_keeps_the_automatic_entries_text_it_was_laid_out_with(
) -> None:
    # The spare sequence evaluates the window after the next trim while the player reads;
    # an automatic entry's text changes whenever the story writes its name, and the trim
    # must lay its top block out as the spare holds it, or everything is evaluated again.
    backend = FakeBackend(n_ctx=512)
    builder = ContextBuilder(backend.tokenize, 512)
    state = game(authors_note="grim",
                 lore=[WorldEntry(keys=("Larion",), content="Larion has bridges.")])
    spare: list[int] | None = None
    checked = 0
    for i in range(120):
        state.turns.append(Turn(role="player", text=f"\n> You walk to Larion {i}.\n"))
        # The action wrote of Larion again: the entry keeps up (as AutoLore.update does).
        state.lore[0] = WorldEntry(keys=("Larion",), content=f"Larion has bridges. Hill {i}.")
        prompt = builder.build(state, 40)
        if prompt.trimmed and spare is not None:
            shared = common_prefix(spare, prompt.tokens)
            assert shared >= len(spare) - len(backend.tokenize("\n[Author's note: grim]\n")) - 2
            checked += 1
        state.turns.append(Turn(role="model", text=f" The road goes on past hill {i}."))
        spare = builder.next_window(state, 40)
    assert checked >= 5


def test_automatic_entries_fill_at_most_their_share_and_placed_ones_stay() -> None:
    backend = FakeBackend()
    one = len(backend.tokenize("\nLarion has bridges.\n"))
    builder = ContextBuilder(backend.tokenize, 1000, auto_lore_share=(one + 1) / 1000)
    state = game(world=[WorldEntry(keys=("Vharz",), content="PLAYER LORE")],
                 lore=[WorldEntry(keys=("Larion",), content="Larion has bridges."),
                       WorldEntry(keys=("Ostra",), content="Ostra has towers.")])
    state.turns.append(Turn(role="player", text="\n> You ask Vharz about Larion and Ostra.\n"))
    shown = backend.detokenize(builder.build(state, 20).tokens)
    assert "PLAYER LORE" in shown and "Larion has bridges." in shown  # the player's and one
    assert "Ostra has towers." not in shown
    builder.auto_lore_share = 0.0  # a placed entry stays as the model has it
    state.turns.append(Turn(role="model", text=" Larion and Ostra are near."))
    assert "Larion has bridges." in backend.detokenize(builder.build(state, 20).tokens)
    builder.reset()  # laid out afresh (as at a trim): no room for any
    assert "Larion has bridges." not in backend.detokenize(builder.build(state, 20).tokens)
