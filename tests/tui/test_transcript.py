"""The transcript: the whole story as lines, only those on screen rendered, the reply streaming."""

from __future__ import annotations

import sys

from rich.text import Text
from textual.geometry import Offset
from textual.selection import Selection
from textual.widgets import Input

from gpt2_adventure.story.model import Turn
from gpt2_adventure.tui.screens.game import GameScreen
from gpt2_adventure.tui.widgets import transcript as transcript_module
from gpt2_adventure.tui.widgets.transcript import VIEW_MARKER, Transcript
from tests.tui.helpers import playing, screen_text, send, settle


def long_story(screen: GameScreen, turns: int) -> None:
    assert screen.game is not None
    for i in range(turns // 2):
        screen.game.state.turns.append(Turn(role="player", text=f"\n> You walk {i}.\n"))
        screen.game.state.turns.append(Turn(role="model", text=f" The road goes on, step {i}."))
    screen._redraw()  # noqa: SLF001


def on_screen(transcript: Transcript) -> list[str]:
    """The transcript's rows as rendered now (its scrollbar not included)."""
    return [transcript.render_line(y).text for y in range(transcript.size.height)]


async def test_a_long_story_is_held_whole_and_scrolls_from_its_end_to_its_start() -> None:
    async with playing((100, 30)) as (app, pilot, screen):
        long_story(screen, 200)
        await settle(pilot)
        turns = screen.game.state.turns  # type: ignore[union-attr]
        transcript = screen.query_one(Transcript)
        assert transcript.turn_texts() == [t.text.strip() for t in turns]
        assert transcript.scroll_y == transcript.max_scroll_y > 0
        assert "The road goes on, step 99." in screen_text(app)
        assert "You are Anna, a knight" not in screen_text(app)  # the opening, far above

        # "GPT-2 no longer sees above this line": once, right before that turn.
        lines = transcript.lines()
        first_visible = transcript.first_visible
        assert first_visible > 0 and lines.count(VIEW_MARKER) == 1
        after = lines[lines.index(VIEW_MARKER) + 2]  # the marker, a blank line, the turn
        assert after == turns[first_visible].text.strip()

        end = transcript.scroll_y
        await pilot.press("pageup")  # the input line has focus; the story scrolls anyway
        await settle(pilot)
        assert end - transcript.size.height <= transcript.scroll_y < end
        await pilot.press("pagedown")
        await settle(pilot)
        assert transcript.scroll_y == end

        transcript.scroll_home(animate=False)
        await settle(pilot)
        assert transcript.scroll_y == 0
        assert "You are Anna, a knight" in screen_text(app)
        assert "step 99." not in screen_text(app)


async def test_streaming_wraps_only_the_reply_and_follows_the_end(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(transcript_module, "FRAME_SECONDS", 0)  # a frame per piece
    async with playing((100, 30)) as (app, pilot, screen):
        long_story(screen, 200)
        await settle(pilot)
        transcript = screen.query_one(Transcript)
        wraps = 0
        wrap = Text.wrap

        def counting(self: Text, *args: object, **kwargs: object) -> object:
            nonlocal wraps
            # Only the transcript's wrapping counts: another widget (the status bar once the
            # game has opened on its worker) may wrap its own text meanwhile.
            if sys._getframe(1).f_globals.get("__name__") == transcript_module.__name__:
                wraps += 1
            return wrap(self, *args, **kwargs)  # type: ignore[arg-type]

        Text.wrap = counting  # type: ignore[method-assign]
        try:
            transcript.start_reply()
            for word in ("The", " fog", " lifts", " and", " a", " tower", " rises.") * 12:
                transcript.stream(word)
            await settle(pilot)
        finally:
            Text.wrap = wrap  # type: ignore[method-assign]
        assert wraps == 1 + 84  # the empty reply, then one per frame: no turn wrapped again
        assert transcript.scroll_y == transcript.max_scroll_y
        assert transcript.lines()[-2].endswith("a tower rises.")
        assert "a tower rises." in screen_text(app)
        transcript.end_reply()


async def test_a_long_reply_scrolls_the_view_a_third_at_a_time(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(transcript_module, "FRAME_SECONDS", 0)
    async with playing((100, 30)) as (app, pilot, screen):
        long_story(screen, 40)
        await settle(pilot)
        transcript = screen.query_one(Transcript)
        height = transcript.size.height
        positions = []
        transcript.start_reply()
        for i in range(400):  # ~50 lines of reply, a word at a time
            transcript.stream(f" word{i}")
            positions.append(transcript.scroll_y)
            last = transcript.lines()[-2]  # the reply's last line (a blank line follows)
            top = int(transcript.scroll_y)
            assert last in transcript.lines()[top:top + height], f"word{i} is off screen"
        steps = [b - a for a, b in zip(positions, positions[1:]) if b != a]
        assert len(steps) >= 4
        assert all(step >= height // 3 for step in steps), steps
        assert transcript.scroll_y == transcript.max_scroll_y
        transcript.end_reply()


async def test_every_frame_shows_the_reply_as_it_is_now(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(transcript_module, "FRAME_SECONDS", 0)
    async with playing((100, 30)) as (app, pilot, screen):
        transcript = screen.query_one(Transcript)
        transcript.start_reply()
        text = ""
        for word in ("Snow", " falls", " on", " the", " tower", " and", " the", " crows",
                     " fly", " south,", " far", " beyond", " the", " grey", " hills.") * 3:
            transcript.stream(word)
            text += word
            await pilot.pause()
            rows = [row.strip() for row in screen_text(app).splitlines()]
            shown = " ".join(row for row in rows if row)
            assert " ".join(text.split()[-6:]) in shown, text  # repainted up to the last word
        transcript.end_reply()


async def test_the_view_stays_put_while_the_player_reads_back(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(transcript_module, "FRAME_SECONDS", 0)
    async with playing((100, 30)) as (app, pilot, screen):
        long_story(screen, 100)
        await settle(pilot)
        transcript = screen.query_one(Transcript)
        transcript.scroll_to(y=20, animate=False)
        await settle(pilot)
        shown = on_screen(transcript)
        transcript.start_reply()
        for _ in range(30):
            transcript.stream(" and on, and on, and on")
        await settle(pilot)
        assert transcript.scroll_y == 20
        assert on_screen(transcript) == shown
        transcript.end_reply()
        transcript.scroll_end(animate=False, immediate=True)
        await send(pilot, screen, "look around")
        assert transcript.scroll_y == transcript.max_scroll_y  # back at the end: follows


async def test_a_narrower_terminal_wraps_the_story_again() -> None:
    async with playing((120, 30)) as (app, pilot, screen):
        await send(pilot, screen, "open the door")
        long_story(screen, 30)  # taller than the view: the scrollbar takes its columns
        await settle(pilot)
        transcript = screen.query_one(Transcript)
        wide = transcript.lines()
        await pilot.resize_terminal(60, 30)
        await settle(pilot)
        narrow = transcript.lines()
        assert len(narrow) > len(wide)
        width = transcript.scrollable_content_region.width  # the scrollbar's columns excluded
        assert transcript.show_vertical_scrollbar
        assert max(map(len, narrow)) <= width < max(map(len, wide))
        assert " ".join(narrow).split() == " ".join(wide).split()
        assert transcript.scroll_y == transcript.max_scroll_y


async def test_selected_text_is_the_story_as_shown() -> None:
    async with playing((100, 30)) as (app, pilot, screen):
        await send(pilot, screen, "open the door")
        transcript = screen.query_one(Transcript)
        lines = transcript.lines()
        row = lines.index("> You open the door.")
        picked = transcript.get_selection(Selection(Offset(2, row), Offset(6, row + 2)))
        assert picked == ("You open the door.\n\nThe do", "\n")


async def test_the_player_selects_story_text_with_the_mouse_and_copies_it() -> None:
    async with playing((100, 30)) as (app, pilot, screen):
        await send(pilot, screen, "open the door")
        transcript = screen.query_one(Transcript)
        row = transcript.lines().index("> You open the door.") - int(transcript.scroll_y)
        await pilot.mouse_down(transcript, offset=(3, row))
        await pilot.hover(transcript, offset=(10, row))
        await pilot.mouse_up(transcript, offset=(10, row))
        assert screen.get_selected_text() == "You open"
        assert isinstance(app.focused, Input)  # the story never takes focus from the line
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert app.clipboard == "You open"


async def test_a_reply_rolled_again_says_so_then_streams_anew(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(transcript_module, "FRAME_SECONDS", 0)
    async with playing((100, 30)) as (app, pilot, screen):
        transcript = screen.query_one(Transcript)
        transcript.start_reply()
        transcript.stream("The the the the")
        transcript.restart_reply("repeated itself")
        await settle(pilot)
        assert transcript.lines()[-2] == "(re-rolling: the reply repeated itself)"
        assert "(re-rolling: the reply repeated itself)" in screen_text(app)
        transcript.stream("A raven lands.")
        await settle(pilot)
        assert transcript.lines()[-2] == "A raven lands."
        assert "re-rolling" not in screen_text(app) and "The the" not in screen_text(app)
        transcript.end_reply()


RESIZES = [[(120, 40), (60, 20)], [(100, 30), (100, 18)], [(100, 30), (100, 44), (70, 22)],
           [(60, 20), (120, 40), (80, 24)]]


async def test_a_view_at_the_end_stays_at_the_end_through_resizes() -> None:
    for sizes in RESIZES:
        async with playing((80, 24)) as (app, pilot, screen):
            long_story(screen, 12)  # taller than some of the windows, not all
            await settle(pilot)
            transcript = screen.query_one(Transcript)
            for size in sizes:
                await pilot.resize_terminal(*size)
                await settle(pilot)
                assert transcript.scroll_y == transcript.max_scroll_y, (sizes, size)
            # The next reply streams in view.
            await send(pilot, screen, "look around")
            assert transcript.scroll_y == transcript.max_scroll_y
            assert "> You look around." in [row.rstrip() for row in on_screen(transcript)]


async def test_a_view_scrolled_up_stays_on_what_the_reader_reads_through_resizes() -> None:
    async with playing((100, 30)) as (app, pilot, screen):
        long_story(screen, 100)
        await settle(pilot)
        transcript = screen.query_one(Transcript)
        row = transcript.lines().index("> You walk 20.")
        transcript.scroll_to(y=row, animate=False, immediate=True)
        await settle(pilot)
        for size in [(60, 20), (140, 44), (100, 30), (100, 16)]:
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert on_screen(transcript)[0].rstrip() == "> You walk 20.", size
