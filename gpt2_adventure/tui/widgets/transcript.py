"""The story as the player reads it: one scrolling view of lines, the last reply streaming.

A Line API widget: the story is kept as wrapped lines and only the lines on screen are
rendered. With a widget per turn, every turn was laid out again whenever the streaming reply
grew a line, and a 200-turn story streamed at 0.66 of the bare backend's speed."""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.model import StoryState, Turn
from gpt2_adventure.tui.textual_shim import set_virtual_size_quietly
from gpt2_adventure.tui.widgets.lore_marks import Mark, mark_label, marked, place_in

FRAME_SECONDS = 0.1  # the streaming reply is redrawn at most this often
VIEW_MARKER = "── GPT-2 no longer sees the story above this line ──"
STREAMING = "transcript--streaming"
MARKER = "transcript--marker"
Line = tuple[Text, str]  # a wrapped line and the component class that styles it ("" = none)
BLANK: Line = (Text(""), "")


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


@dataclass(eq=False)
class Block:
    """A turn (or the marker, or the reply being written) and its lines at the current width."""

    text: Text
    component: str = ""
    lines: list[Line] | None = None


class Transcript(ScrollView, can_focus=False):
    """Scrolls with the story unless the player has scrolled up to read (also while GPT-2
    writes). Lines: every turn's, then the player's line waiting for its reply, then the
    reply being written; a blank line after each."""

    ALLOW_SELECT = True
    COMPONENT_CLASSES = {STREAMING, MARKER}
    DEFAULT_CSS = """
    Transcript { padding: 0 1; overflow-x: hidden; overflow-y: auto;
                 scrollbar-gutter: stable; }
    Transcript > .transcript--streaming { color: $text-muted; }
    Transcript > .transcript--marker { color: $warning; text-style: italic; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._turns: list[Block] = []
        self._pending: Block | None = None  # the player's line, shown before the story has it
        self._live: Block | None = None
        self._live_text = ""
        self._live_marks: list[Mark] = []  # lore put in view mid-reply, by offset in it
        # Marks of the reply just ended, until the story shows it; then by turn (the turn,
        # its text when marked, the marks' places in its shown text).
        self._ended: tuple[str, list[Mark]] | None = None
        self._marks: dict[int, tuple[Turn, str, list[Mark]]] = {}
        self._marker = Block(Text(VIEW_MARKER), MARKER)
        self._body: list[Line] = []  # the turns' lines
        self._tail: list[Line] = []  # the pending line's and the live reply's
        self._width = 0
        self._strips: LRUCache[int, Strip] = LRUCache(1024)  # rendered body lines
        self._styles: dict[str, Style] = {}
        self._flush_pending = False
        self._last_flush = 0.0
        self.first_visible = 0  # the first turn GPT-2 still sees (the game keeps it current)
        # Where each block's lines start, in the body and in the tail (after the body).
        self._body_starts: list[tuple[int, Block]] = []
        self._tail_starts: list[tuple[int, Block]] = []
        # What the reader saw at the size the view was last laid out for (a resize is told
        # only after Textual has clamped the scroll position to the new size): the end, or
        # the block at the top of the view and how far into it.
        self._view_size = Size(0, 0)
        self._at_end = True
        self._top: tuple[Block, int] | None = None
        self._numbered = False  # turn numbers in a gutter (while /edit N or /pin N is typed)
        self._gutter = 0

    # -- what the game calls ------------------------------------------------------------------

    def show_story(self, state: StoryState, first_visible: int = 0) -> None:
        """Draw the whole story (a game opened or loaded), scrolled to its end; after a
        change within it, ``redraw_turns``."""
        alive = {id(turn) for turn in state.turns}
        self._marks = {key: kept for key, kept in self._marks.items() if key in alive}
        self._turns = [self._block(turn, state) for turn in state.turns]
        self._pending = self._live = None
        self._live_text = ""
        self._live_marks, self._ended = [], None
        self.first_visible = first_visible
        self._changed(body=True, tail=True, redraw=True)

    def redraw_turns(self, changed: range, state: StoryState) -> None:
        """Show the turns in ``changed`` as the story has them now, and no others (the game
        says which changed: a reply, a retry, an undo, an edit...). Turns come and go only
        at the story's end: what is shown past its end goes. A reply that just ended keeps
        the lore marks it was streamed with."""
        del self._turns[len(state.turns):]
        if changed.start > len(self._turns):
            raise ValueError(f"turns {changed} leave a gap after the {len(self._turns)} shown")
        if self._ended is not None:
            replies = [state.turns[i] for i in changed if state.turns[i].role == "model"]
            if replies:
                self._keep_marks(replies[-1], state, *self._ended)
            self._ended = None
        for index in changed:
            block = self._block(state.turns[index], state)
            if index < len(self._turns):
                self._turns[index] = block
            else:
                self._turns.append(block)
        self._changed(body=True)

    def _block(self, turn: Turn, state: StoryState) -> Block:
        text = turn_text(turn, state)
        kept = self._marks.get(id(turn))
        if kept is not None and kept[0] is turn and kept[1] == turn.text:
            text = marked(text, kept[2])
        return Block(text)

    def _keep_marks(self, turn: Turn, state: StoryState, streamed: str, marks: list[Mark]
                    ) -> None:
        """The marks of the reply just streamed, placed in ``turn`` as the story has it."""
        shown = turn_text(turn, state).plain
        placed = [(at, label) for offset, label in marks
                  if (at := place_in(shown, streamed, offset)) is not None]
        if placed:
            self._marks[id(turn)] = (turn, turn.text, placed)

    def mark_view(self, first_visible: int) -> None:
        """Put the "GPT-2 no longer sees above this line" marker before that turn."""
        if first_visible != self.first_visible:
            self.first_visible = first_visible
            self._changed(body=True)

    def show_numbers(self, on: bool) -> None:
        """Number the turns in a gutter beside the story (the N of /edit N and /pin N)."""
        if on != self._numbered:
            self._numbered = on
            self._rewrap()

    def show_pending(self, turn: Turn, state: StoryState) -> None:
        """The player's line, shown while its reply is written (the story adds it after)."""
        self._pending = Block(turn_text(turn, state))
        self._changed(tail=True)

    def start_reply(self, lead: str = "") -> None:
        self._live_text = lead
        self._live_marks, self._ended = [], None
        self._live = Block(Text(lead), STREAMING)
        self._changed(tail=True)

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
        body = self._live_text.lstrip()
        lead = len(printable(self._live_text[:len(self._live_text) - len(body)]))
        self._show_live(marked(Text(printable(body)),
                               [(at - lead, label) for at, label in self._live_marks]))

    def mark_lore(self, keys: tuple[str, ...]) -> None:
        """World info the reply named was put in view here (``story/midreply.py``): a
        small dim mark where the reply has got to, kept once the reply is in the story."""
        if self._live is None:
            self.start_reply()
        self._live_marks.append((len(printable(self._live_text)), mark_label(keys)))
        self._flush()

    def restart_reply(self, reason: str) -> None:
        self._live_text = ""
        self._live_marks = []
        self._show_live(Text(f"(re-rolling: the reply {reason})", style="dim italic"))

    def _show_live(self, text: Text) -> None:
        if self._live is not None:
            self._live.text, self._live.lines = text, None
            self._changed(tail=True)

    def end_reply(self) -> None:
        """The reply and the pending line go; the game shows the turns the story kept."""
        if self._live_marks:
            self._ended = (printable(self._live_text), self._live_marks)
        self._live = self._pending = None
        self._live_text, self._live_marks = "", []
        self._changed(tail=True)

    def turn_texts(self) -> list[str]:
        """The turns shown, as plain text (the reply being written and a pending line not
        included)."""
        return [block.text.plain for block in self._turns]

    def lines(self) -> list[str]:
        """Every line of the transcript as plain text, wrapped as shown."""
        return [text.plain for text, _ in self._body + self._tail]

    # -- lines ----------------------------------------------------------------------------------

    def _wrapped(self, block: Block) -> list[Line]:
        if block.lines is None:
            width = max(self._width - self._gutter, 1)
            wrapped = block.text.wrap(self.app.console, width, overflow="fold")
            for line in wrapped:
                line.rstrip()  # the space a line was broken at
            block.lines = [(line, block.component) for line in wrapped] or [BLANK]
        return block.lines

    def _in_gutter(self, lines: list[Line], number: int | None = None) -> list[Line]:
        """``lines`` moved right of the gutter, the first one numbered."""
        if not self._gutter:
            return lines
        out = []
        for i, (text, component) in enumerate(lines):
            label = f"{number:>{self._gutter - 1}} " if number is not None and i == 0 else ""
            line = Text()
            line.append(label.ljust(self._gutter), style="dim")
            line.append_text(text)  # its own style becomes a span: the number stays dim
            out.append((line, component))
        return out

    def _rewrap(self) -> None:
        """Wrap every block again (a new width, the gutter shown or gone), keeping the view."""
        at_end, top = self._at_end, self._top
        old_lines = len(top[0].lines or ()) if top is not None else 0
        self._gutter = len(str(len(self._turns))) + 1 if self._numbered else 0
        for block in (*self._turns, self._marker, self._pending, self._live):
            if block is not None:
                block.lines = None
        self._view_size = Size(0, 0)  # nothing to remember until the view is placed
        self._changed(body=True, tail=True, redraw=at_end)
        self._restore_view(at_end, top, old_lines)

    def _changed(self, body: bool = False, tail: bool = False, redraw: bool = False) -> None:
        """Rebuild the lines that changed and show them; the view stays at the end if it was
        there (or on a ``redraw``), and otherwise stays on what the player is reading.

        A reply that reaches the bottom of the view scrolls it by a third of its height, not
        a line at a time: the text stays put for several lines, easier to read as it comes,
        and scrolling repaints the whole view (~15 ms of the UI thread here, taken from
        GPT-2 on two cores) where a new word repaints a line."""
        follow = redraw or self.is_vertical_scroll_end
        before = len(self._body) + len(self._tail)
        start = len(self._body)
        if body and self._width:
            lines: list[Line] = []
            starts: list[tuple[int, Block]] = []
            for i, block in enumerate(self._turns):
                if i == self.first_visible and i > 0:
                    starts.append((len(lines), self._marker))
                    lines += [*self._in_gutter(self._wrapped(self._marker)), BLANK]
                if block.text.plain:  # a chat that opens on its greeting has no scene
                    starts.append((len(lines), block))
                    lines += [*self._in_gutter(self._wrapped(block), i + 1), BLANK]
            self._body, self._body_starts = lines, starts
            self._strips.clear()
            start = 0
        if (tail or body) and self._width:
            lines = []
            self._tail_starts = []
            for shown in (self._pending, self._live):
                if shown is not None:
                    self._tail_starts.append((len(self._body) + len(lines), shown))
                    lines += [*self._in_gutter(self._wrapped(shown)), BLANK]
            if not body:  # repaint from the first line that changed (new words: the last)
                same = 0
                for old, new in zip(self._tail, lines):
                    if old != new:
                        break
                    same += 1
                start += same
            self._tail = lines
        total = height = len(self._body) + len(self._tail)
        if follow and not redraw:
            room = self.size.height // 3
            if total <= self.virtual_size.height:  # it still fits in the room kept below
                height = min(self.virtual_size.height, total + room)
            elif self._live is not None:
                height = total + room
        if self.virtual_size != (size := Size(self._width, height)):
            set_virtual_size_quietly(self, size)  # no layout per streamed line
        if follow:  # forced: the scrollbar a longer story needs is only shown after layout
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        self.refresh_lines(start, max(total, before) - start)
        if self.size == self._view_size:
            self._remember_view()

    # -- the reader's place, kept through a resize ----------------------------------------------

    def _remember_view(self) -> None:
        self._view_size = self.size
        self._at_end = self.is_vertical_scroll_end
        top = int(self.scroll_y)
        starts = self._body_starts + self._tail_starts
        found = bisect_right(starts, top, key=lambda start: start[0]) - 1
        self._top = (starts[found][1], top - starts[found][0]) if found >= 0 else None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.size == self._view_size:  # the reader scrolled, or the story moved the view
            self._remember_view()

    def on_resize(self, event: Resize) -> None:
        """Wrap the story again for the new width; a view that was at the end stays at the
        end, and one scrolled up keeps the line the reader had at its top (as near as the
        new wrapping allows)."""
        width = self.scrollable_content_region.width  # what the scrollbar leaves
        if width != self._width:
            self._width = width
            self._rewrap()
        else:
            self._restore_view(self._at_end, self._top, 0)

    def _restore_view(self, at_end: bool, top: tuple[Block, int] | None, old_lines: int
                      ) -> None:
        """Back to the end, or to the line that was at the top (``old_lines``: the lines
        its block had before it was wrapped again; 0 if it was not)."""
        if at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        elif top is not None:
            block, offset = top
            start = next((at for at, b in self._body_starts + self._tail_starts if b is block),
                         None)
            if start is not None:
                new_lines = len(block.lines or ())
                if old_lines and new_lines != old_lines:  # the same share of the block
                    offset = offset * new_lines // old_lines
                self.scroll_to(y=start + min(offset, max(new_lines - 1, 0)), animate=False,
                               immediate=True, force=True)
        self._remember_view()

    # -- rendering --------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            style = self.rich_style
            if component:
                style += self.get_component_rich_style(component, partial=True)
            self._styles[component] = style
        return style

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self._width
        selection = self.text_selection
        if index >= len(self._body) + len(self._tail):
            return Strip.blank(width, self.rich_style)
        if selection is None and (cached := self._strips.get(index)) is not None:
            return cached
        text, component = (self._body[index] if index < len(self._body)
                           else self._tail[index - len(self._body)])
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            text = text.copy()
            text.stylize(self.screen.get_component_rich_style("screen--selection"),
                         start, len(text) if end == -1 else end)
        style = self._style(component)
        if text.style:  # a turn's own style (Rich leaves a text's base style to its caller)
            style += self.app.console.get_style(text.style)
        strip = Strip(text.render(self.app.console), text.cell_len).apply_style(style)
        strip = strip.crop_extend(0, width, self.rich_style).apply_offsets(0, index)
        if selection is None and index < len(self._body):
            self._strips[index] = strip
        return strip

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(self.lines())), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        self.refresh()
