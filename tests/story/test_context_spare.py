"""The window after the next trim, laid out ahead (``ContextBuilder.next_window``): what the
spare sequence evaluates over several turns stays the trim's prefix, so only its end is
evaluated again when the trim comes."""

from __future__ import annotations

from gpt2_adventure.story.context import ContextBuilder
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from tests.support.fake_backend import FakeBackend
from tests.support.prefix import common_prefix


def test_an_automatic_entry_reads_at_the_trim_as_when_the_trim_was_laid_out() -> None:
    """An automatic entry keeps up with the story (its text changes every few turns); on top
    of the window laid out ahead it stays as it read then, else everything after it in the
    spare sequence would be evaluated again at the trim."""
    backend = FakeBackend(n_ctx=512)
    builder = ContextBuilder(backend.tokenize, 512)
    state = StoryState(mode="adventure", title="t", turns=[Turn(role="opening", text="You ride.")],
                       lore=[WorldEntry(keys=("Larion",), content="Larion is a smith.")])
    spare: list[int] | None = None
    trims = kept = 0
    for i in range(80):
        state.turns.append(Turn(role="player", text=f"\n> You ask Larion about place {i}.\n"))
        prompt = builder.build(state, 40)
        if prompt.trimmed and spare is not None:
            assert common_prefix(spare, prompt.tokens) >= len(spare) - 2
            trims += 1
        state.turns.append(Turn(role="model", text=f" The road goes on past hill {i}."))
        state.lore[0] = WorldEntry(keys=("Larion",), content=f"Larion is a smith at {i}.")
        laid_out = builder.next_window(state, 40)
        if laid_out is not None and spare is not None and not prompt.trimmed:
            # A turn later: the spare sequence keeps what it holds and evaluates the rest.
            assert common_prefix(spare, laid_out) >= len(spare) - 2
            kept += 1
        spare = laid_out
    assert trims >= 3 and kept >= 10


def test_with_a_big_top_the_trim_laid_out_ahead_still_keeps_about_the_low_water_mark() -> None:
    """Memory and world info take most of the low-water mark: laid out at half the budget,
    the trim's first turn would be the newest then, and the trim would keep all the story
    since and come again two turns later. Its top is fixed (and evaluated) at once; its
    first turn once the story still to come fits."""
    backend = FakeBackend(n_ctx=512)
    builder = ContextBuilder(backend.tokenize, 512)
    lore = " ".join(f"word{i}" for i in range(40))
    state = StoryState(mode="adventure", title="t", memory=" ".join(["You are a knight."] * 12),
                       world=[WorldEntry(keys=(), content=lore, always=True)],
                       turns=[Turn(role="opening", text="You ride.")])
    spare: list[int] | None = None
    at: list[int] = []
    for i in range(120):
        state.turns.append(Turn(role="player", text=f"\n> You walk to place {i}.\n"))
        prompt = builder.build(state, 40)
        if prompt.trimmed:
            at.append(i)
            assert len(prompt.tokens) <= 0.5 * 512 + 40
            assert spare is not None and common_prefix(spare, prompt.tokens) >= len(spare) - 2
        state.turns.append(Turn(role="model", text=f" The road goes on past hill {i}."))
        laid_out = builder.next_window(state, 40)
        if laid_out is not None and spare is not None and not prompt.trimmed:
            assert common_prefix(spare, laid_out) >= len(spare) - 2  # only added to
        spare = laid_out
    assert len(at) >= 5
    assert min(b - a for a, b in zip(at, at[1:])) >= 4
