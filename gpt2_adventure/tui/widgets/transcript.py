"""The story as the player reads it: one widget per turn, the last one streaming."""

from __future__ import annotations

import time

from rich.text import Text
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widgets import Static

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.model import StoryState, Turn

FRAME_SECONDS = 0.1  # the streaming reply is redrawn at most this often
# Turns kept in the transcript; scrolling to its top brings in earlier ones. Every widget in
# it is arranged again whenever the streaming reply grows a line: with a 200-turn story all
# mounted, the TUI streamed at 0.66 of the bare backend's speed (benchmarks/tui.py).
SHOWN_TURNS = 40
VIEW_MARKER = "── GPT-2 no longer sees the story above this line ──"


def turn_text(turn: Turn, state: StoryState) -> Text:
    """A turn as styled, literal text (model and seed text are never markup)."""
    raw = printable(turn.text.strip("\n"))
    if turn.role == "player" and state.mode == "adventure" and turn.kind != "story":
        return Text(raw.strip(), style="bold cyan")
    if state.mode == "chat" and turn.speaker and raw.lstrip().startswith(turn.speaker + ":"):
        body = raw.lstrip()[len(turn.speaker) + 1:]
        player = state.chat is not None and turn.speaker == state.chat.player
        text = Text(turn.speaker + ":", style="bold cyan" if player else "bold magenta")
        text.append(body)
        return text
    if turn.role == "player":
        return Text(raw.strip(), style="italic cyan")
    return Text(raw.strip())


class TurnView(Static):
    DEFAULT_CSS = """
    TurnView { margin: 0 0 1 0; }
    TurnView.player { color: $text; }
    TurnView.streaming { color: $text-muted; }
    """


class EarlierTurns(Static):
    """Stands for the turns above the ones shown; a click (or scrolling up to it) shows them."""

    DEFAULT_CSS = """
    EarlierTurns { color: $text-muted; text-style: italic; margin: 0 0 1 0; }
    """

    def show_count(self, count: int) -> None:
        self.update(Text(f"▲ {count} earlier turn{'s' if count != 1 else ''} "
                         "(scroll up or click to show them)"))

    def on_click(self) -> None:
        if isinstance(self.parent, Transcript):
            self.parent.show_earlier()


class Transcript(VerticalScroll):
    """Scrolls with the story unless the player has scrolled up to read. Holds the last
    ``SHOWN_TURNS`` turns (more while the player reads back); ``first_shown`` is the index
    of the first turn it holds."""

    DEFAULT_CSS = """
    Transcript { padding: 0 1; }
    Transcript .view-marker { color: $warning; text-style: italic; margin: 0 0 1 0; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._live: TurnView | None = None
        self._live_text = ""
        self._flush_pending = False
        self._last_flush = 0.0
        self._state: StoryState | None = None
        self.first_visible = 0  # the first turn GPT-2 still sees (the game keeps it current)
        self.first_shown = 0

    def _views(self, state: StoryState, start: int, end: int) -> list[Static]:
        widgets: list[Static] = []
        for i in range(start, end):
            if i == self.first_visible and i > 0:
                widgets.append(Static(VIEW_MARKER, classes="view-marker"))
            turn = state.turns[i]
            widgets.append(TurnView(turn_text(turn, state), classes=turn.role))
        return widgets

    def show_story(self, state: StoryState, first_visible: int = 0) -> None:
        """Draw the story again (after a load, undo, edit...): its last turns."""
        self.remove_children()
        self._state, self.first_visible = state, first_visible
        self.first_shown = max(0, len(state.turns) - SHOWN_TURNS)
        widgets = self._views(state, self.first_shown, len(state.turns))
        if self.first_shown:
            earlier = EarlierTurns()
            earlier.show_count(self.first_shown)
            widgets.insert(0, earlier)
        self._live = None
        self.mount_all(widgets)
        self.call_after_refresh(self.scroll_end, animate=False)

    def show_earlier(self) -> None:
        """Bring in up to ``SHOWN_TURNS`` more turns above, keeping the view where it is."""
        state = self._state
        found = self.query(EarlierTurns)
        if state is None or not self.first_shown or not found:
            return
        earlier = found.first()
        start = max(0, self.first_shown - SHOWN_TURNS)
        widgets = self._views(state, start, self.first_shown)
        anchor = next(iter(self.query(TurnView)), None)
        self.first_shown = start
        self.mount_all(widgets, after=earlier)
        if start:
            earlier.show_count(start)
        else:
            earlier.remove()
        if anchor is not None:
            self.call_after_refresh(self._keep_in_view, anchor)

    def _keep_in_view(self, anchor: TurnView) -> None:
        if self.is_attached and anchor.is_attached:
            self.scroll_to_widget(anchor, animate=False, top=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value and self.first_shown:
            self.call_after_refresh(self.show_earlier)

    def mark_view(self, first_visible: int) -> None:
        """Put the "GPT-2 no longer sees above this line" marker before that turn (once the
        turns being mounted are in place), if the transcript holds it."""
        self.first_visible = first_visible
        self.call_after_refresh(self._place_marker)

    def _place_marker(self) -> None:
        if not self.is_attached:  # the game closed in the meantime
            return
        self.query(".view-marker").remove()
        views = [v for v in self.query(TurnView) if not v.has_class("streaming", "pending")]
        at = self.first_visible - self.first_shown
        if self.first_visible > 0 and 0 <= at < len(views) and views[at].is_mounted:
            self.mount(Static(VIEW_MARKER, classes="view-marker"), before=views[at])

    def add_turn(self, turn: Turn, state: StoryState) -> None:
        self._state = state
        self._follow(lambda: self.mount(TurnView(turn_text(turn, state), classes=turn.role)))
        self._trim()

    def _trim(self) -> None:
        """Let go of the oldest turns once well past ``SHOWN_TURNS`` (only while the player
        follows the end: the view must not move under someone reading back)."""
        views = list(self.query(TurnView))
        if len(views) <= SHOWN_TURNS + SHOWN_TURNS // 4 or self.scroll_y < self.max_scroll_y - 1:
            return
        drop = len(views) - SHOWN_TURNS
        for view in views[:drop]:
            view.remove()
        self.query(".view-marker").remove()  # the game marks its view again after a turn
        self.first_shown += drop
        found = self.query(EarlierTurns)
        earlier = found.first() if found else EarlierTurns()
        if not found:
            self.mount(earlier, before=0)
        earlier.show_count(self.first_shown)

    def start_reply(self, lead: str = "") -> None:
        self._live_text = lead
        self._live = TurnView(Text(lead), classes="model streaming")
        self._follow(lambda: self.mount(self._live))

    def stream(self, piece: str) -> None:
        """Add streamed text. The reply is redrawn at most ten times a second: each redraw
        takes CPU and the GIL from the model on a small machine (a redraw per token made
        generation 3.6x slower)."""
        if self._live is None:
            self.start_reply()
        self._live_text += piece
        if self._flush_pending:
            return
        wait = self._last_flush + FRAME_SECONDS - time.monotonic()
        if wait <= 0:
            self._flush()
        else:
            self._flush_pending = True
            self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        self._last_flush = time.monotonic()
        live = self._live
        if live is None:
            return
        # Most flushes add words to the reply's last line: repaint the reply alone, and lay
        # the screen out again (every turn in the transcript) only when its height changes.
        width, height = live.content_size
        live.update(Text(printable(self._live_text.lstrip())), layout=False)
        need = live.get_content_height(Size(0, 0), Size(0, 0), width) if width else 0
        if not width or need != height:
            self._follow(lambda: live.refresh(layout=True))

    def restart_reply(self, reason: str) -> None:
        self._live_text = ""
        if self._live is not None:
            self._live.update(Text(f"(re-rolling: the reply {reason})", style="dim italic"))

    def end_reply(self) -> None:
        if self._live is not None:
            self._live.remove()
        self._live = None
        self._live_text = ""

    def _follow(self, change: object) -> None:
        """Apply a change; keep the view at the bottom only if it was there already."""
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        change()  # type: ignore[operator]
        if at_bottom:
            self.call_after_refresh(self.scroll_end, animate=False)
