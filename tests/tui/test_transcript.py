"""The transcript holds the story's last turns; earlier ones come back on scrolling up."""

from __future__ import annotations

from gpt2_adventure.story.model import Turn
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets.transcript import (
    SHOWN_TURNS,
    EarlierTurns,
    Transcript,
    TurnView,
)
from tests.tui.helpers import make_app
from tests.tui.test_game_flows import send, settle, wait_idle


def long_story(screen: GameScreen, turns: int) -> None:
    assert screen.game is not None
    for i in range(turns // 2):
        screen.game.state.turns.append(Turn(role="player", text=f"\n> You walk {i}.\n"))
        screen.game.state.turns.append(Turn(role="model", text=f" The road goes on, step {i}."))
    screen._redraw()  # noqa: SLF001


def views(screen: GameScreen) -> list[str]:
    return [str(v.render()) for v in screen.query_one(Transcript).query(TurnView)]


async def test_a_long_story_shows_its_last_turns_and_brings_back_earlier_ones() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        long_story(screen, 200)
        await settle(pilot)
        turns = screen.game.state.turns  # type: ignore[union-attr]
        transcript = screen.query_one(Transcript)
        held = views(screen)
        assert len(held) == SHOWN_TURNS
        assert transcript.first_shown == len(turns) - SHOWN_TURNS
        assert held[-1] == turns[-1].text.strip()
        label = transcript.query_one(EarlierTurns)
        assert f"{transcript.first_shown} earlier turns" in str(label.render())

        transcript.scroll_home(animate=False)  # reading back to the top brings in more
        await settle(pilot, 12)
        assert transcript.first_shown == len(turns) - 2 * SHOWN_TURNS
        assert views(screen)[:2] == [t.text.strip() for t in
                                     turns[transcript.first_shown:transcript.first_shown + 2]]
        assert transcript.scroll_y > 0  # the view stayed on what the player was reading
        # The "GPT-2 no longer sees above this line" marker: once, before that turn, if held.
        first_visible = transcript.first_visible  # as the game last laid the prompt out
        markers = list(transcript.query(".view-marker"))
        assert transcript.first_shown < first_visible
        assert len(markers) == 1
        children = list(transcript.children)
        following = children[children.index(markers[0]) + 1]
        assert str(following.render()) == turns[first_visible].text.strip()

        while transcript.first_shown:
            transcript.query_one(EarlierTurns).on_click()
            await settle(pilot)
        assert views(screen) == [t.text.strip() for t in turns]
        assert not transcript.query(EarlierTurns)


async def test_turns_added_at_the_end_let_go_of_the_oldest() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await wait_idle(pilot, screen)
        long_story(screen, SHOWN_TURNS)
        await settle(pilot)
        transcript = screen.query_one(Transcript)
        assert transcript.first_shown <= 1 and not views(screen)[0].startswith("▲")
        for i in range(SHOWN_TURNS // 8 + 1):
            await send(pilot, screen, f"look around {i}")
        turns = screen.game.state.turns  # type: ignore[union-attr]
        held = views(screen)
        assert transcript.first_shown > 0
        assert len(held) == len(turns) - transcript.first_shown <= SHOWN_TURNS + SHOWN_TURNS // 4
        assert held == [t.text.strip() for t in turns[transcript.first_shown:]]
        assert transcript.query(EarlierTurns)
