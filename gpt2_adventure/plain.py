"""Plain mode: the game as a line REPL on stdin/stdout, for screen readers, pipes and scripts.

Every line goes to ``Game.handle``; this module only prints. Story text is data: it is printed
through ``printable`` inside Rich ``Text`` objects, so markup and escape sequences in a reply
show literally. Colour only when the console is a terminal.
"""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from gpt2_adventure.engine.pump import Ended, Pump
from gpt2_adventure.errors import UserError
from gpt2_adventure.game import Game
from gpt2_adventure.game_commands.outcomes import (
    AskEdit,
    AskReplace,
    Info,
    OpenLoad,
    OpenSettings,
    Outcome,
    Quit,
    Reloaded,
    ShowContext,
    Stream,
)
from gpt2_adventure.safe_text import is_terminal, printable
from gpt2_adventure.story.events import Done, Event, Piece, Restart
from gpt2_adventure.story.model import StoryState, Turn

ACTION, PROSE, NOTE, ERROR, TITLE = "bold cyan", "cyan", "dim", "bold red", "bold"
RECENT_TURNS = 3  # how much of the story to show again after /undo, /alt, /load...
RECENT_CHARS = 1200
# A sentence end already followed by whitespace: text up to it will not be cut by the clean-up.
_SENTENCE_END = re.compile(r"""[.!?…]["')\]]*(?=\s)""")
HINTS = {
    "adventure": "Type what you do (/say, /story for the other kinds).",
    "story": "Type text to add to the story.",
    "chat": "Type a message.",
}


def make_console(file: TextIO | None = None) -> Console:
    """A console that colours only a terminal and never interprets markup or emoji."""
    file = file or sys.stdout
    tty = is_terminal(file)
    return Console(file=file, force_terminal=tty, no_color=None if tty else True,
                   highlight=False, markup=False, emoji=False, soft_wrap=True)




class WordWrap:
    """Breaks text written a piece at a time between words, so that no word crosses the edge
    of a terminal ``width()`` columns wide. The word being written, and the spaces before it,
    are held back until what follows shows where the word ends (or until ``flush``)."""

    def __init__(self, width: Callable[[], int]) -> None:
        self.width = width
        self.column = 0  # where the cursor is on its line (= width: at the edge)
        self.spaces = ""  # held back: dropped if the next word starts a new line
        self.word = ""  # held back

    def feed(self, text: str) -> str:
        """What to print of ``text`` now (line breaks added, the unfinished word kept)."""
        out: list[str] = []
        for char in text:
            if char == "\n":
                out.append(self._place())
                out.append("\n")
                self.column, self.spaces = 0, ""  # spaces at a line's end show nothing
            elif char in " \t":
                out.append(self._place())
                self.spaces += char
            else:
                self.word += char
        return "".join(out)

    def flush(self) -> str:
        """The word held back, on this line if it fits, else on the next."""
        return self._place(keep_spaces=True)

    def _place(self, keep_spaces: bool = False) -> str:
        width = max(self.width(), 1)
        spaces, word = self.spaces, self.word
        if not word and not keep_spaces:
            return ""
        self.spaces = self.word = ""
        gap = len(spaces.expandtabs(8)) if spaces else 0
        size = cell_len(word)
        if self.column and self.column + gap + size > width and word:
            text, self.column = "\n" + word, size  # a wrapped line starts with the word
        else:
            text = spaces + word
            self.column += gap + size
        if self.column > width:  # a word longer than a line: the terminal breaks it
            self.column = (self.column - 1) % width + 1
        return text


class View:
    """Writes story text and notes, remembering where the cursor is (line start, blank line).
    On a terminal, lines break between words at its width; piped output is left unwrapped."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tail = "\n\n"  # the last two characters written
        self.wrap = WordWrap(self._width) if console.is_terminal else None
        self._held_style = ""  # the style of the word ``wrap`` holds back

    @property
    def at_line_start(self) -> bool:
        return self.tail.endswith("\n")

    def _width(self) -> int:
        """The terminal's width now (it may be resized); rich's own is fixed by $COLUMNS."""
        try:
            return os.get_terminal_size(self.console.file.fileno()).columns
        except (OSError, ValueError, AttributeError):  # not a real terminal (a test's)
            return self.console.width

    def write(self, text: str, style: str = "") -> None:
        if not text:
            return
        shown = printable(text)
        if self.wrap is not None:
            if style != self._held_style:
                self.flush()
            shown = self.wrap.feed(shown)
            self._held_style = style
        self._print(shown, style)
        self.tail = (self.tail + text)[-2:]

    def flush(self) -> None:
        """Show the word held back for wrapping (before a prompt, at the end)."""
        if self.wrap is not None:
            self._print(self.wrap.flush(), self._held_style)

    def _print(self, shown: str, style: str) -> None:
        if shown:
            self.console.print(Text(shown, style=style), end="", soft_wrap=True)
        self.console.file.flush()

    def flow(self, text: str, style: str = "") -> None:
        """Story text; leading whitespace is dropped at the start of a line."""
        self.write(text.lstrip() if self.at_line_start else text, style)

    def newline(self) -> None:
        if not self.at_line_start:
            self.write("\n")

    def blank(self) -> None:
        self.newline()
        if self.tail != "\n\n":
            self.write("\n")

    def line(self, text: str, style: str = "") -> None:
        self.newline()
        self.write(text + "\n", style)

    def turn(self, state: StoryState, turn: Turn) -> None:
        if turn.role != "player":
            self.flow(turn.text)
        elif state.mode == "story":
            self.flow(turn.text, PROSE)  # the player's prose joins the story's
        elif state.mode == "chat":
            self.line(turn.text.strip(), ACTION)
        else:
            self.blank()
            self.write(turn.text.strip(), ACTION if turn.kind in ("do", "say") else PROSE)
            self.blank()


def remainder(shown: str, final: str) -> str | None:
    """What of ``final`` is not yet on screen, if ``shown`` is its start up to whitespace."""
    pos = 0
    for char in "".join(shown.split()):
        while pos < len(final) and final[pos].isspace():
            pos += 1
        if pos >= len(final) or final[pos] != char:
            return None
        pos += 1
    return final[pos:]


class ReplyPrinter:
    """Streams one reply, holding back the unfinished sentence the clean-up may cut off."""

    def __init__(self, view: View, whole_sentences: bool, strip_lead: bool) -> None:
        self.view = view
        self.whole = whole_sentences
        self.raw = ""
        self.shown = 0  # characters of ``raw`` on screen
        self.strip_lead = strip_lead  # drop the reply's leading whitespace (line start, "Name:")

    def feed(self, piece: str) -> None:
        self.raw += piece
        if self.whole:
            ends = list(_SENTENCE_END.finditer(self.raw, self.shown))
            end = ends[-1].end() if ends else self.shown
        else:
            end = len(self.raw.rstrip())  # trailing whitespace is trimmed at the end
        if end > self.shown:
            self._emit(self.raw[self.shown:end])
            self.shown = end

    def _emit(self, text: str) -> None:
        if self.strip_lead:
            text = text.lstrip()
            self.strip_lead = not text
        self.view.write(text)

    def finish(self, final: str) -> None:
        """Show the rest of the reply as it joined the story (or as it stopped)."""
        rest = remainder(self.raw[: self.shown], final)
        if rest is None:  # the clean-up changed text already shown: show the kept version
            self.view.line("(as kept:)", NOTE)
            self.view.flow(final)
        else:
            self._emit(rest)


class PlainGame:
    def __init__(self, game: Game, stdin: TextIO, console: Console) -> None:
        self.game = game
        self.stdin = stdin
        self.view = View(console)
        self.interactive = is_terminal(stdin)

    @property
    def state(self) -> StoryState:
        return self.game.state

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        self.intro()
        self.warm()
        while (line := self.read("> ")) is not None:
            outcome = self.game.handle(line, "do")  # stops the warm-up first
            if isinstance(outcome, Quit):
                break
            self.show(outcome)
            self.warm()
        if self.interactive:
            self.view.line("(the game is saved)", NOTE)
        self.view.flush()

    def warm(self) -> None:
        """Between lines of input, as in the TUI: evaluate the next prompt, then write
        replies ahead, on a thread; the next line stops it (``Game.handle``)."""
        warmup = self.game.warm_up()
        if warmup is not None:
            threading.Thread(target=self.game.warm, args=(warmup,), name="plain-warm",
                             daemon=True).start()

    def intro(self) -> None:
        self.view.line(self.state.title, TITLE)
        if self.interactive:
            self.view.line(f"{HINTS.get(self.state.mode, '')} Enter alone: the story goes on. "
                           "/help: commands. Ctrl+D: save and quit.", NOTE)
        self.view.blank()
        for turn in self.state.turns:
            self.view.turn(self.state, turn)

    def read(self, prompt: str) -> str | None:
        """One line of input; None at end of input (or Ctrl+C at the prompt)."""
        self.view.flush()
        if not self.interactive:
            line = self.stdin.readline()
            return line.rstrip("\r\n") if line else None
        self.view.newline()
        try:
            if self.stdin is sys.stdin:
                text = input(prompt)  # line editing and history, where readline exists
            else:
                self.view.write(prompt)
                text = self.stdin.readline()
                if not text:
                    raise EOFError
        except (EOFError, KeyboardInterrupt):
            self.view.write("\n")
            return None
        self.view.tail = "\n"  # the terminal echoed the line and its Enter
        if self.view.wrap is not None:
            self.view.wrap.column = 0
        return text.rstrip("\r\n")

    def show(self, outcome: Outcome) -> None:
        if isinstance(outcome, Info):
            for i, line in enumerate(outcome.lines):
                if outcome.error and i == 0:  # one error line; what follows is its hint
                    self.view.line(f"error: {line}", ERROR)
                elif line:
                    self.view.line(line, NOTE if outcome.error else "")
        elif isinstance(outcome, Reloaded):
            for line in outcome.lines:
                self.view.line(f"({line})", NOTE)
            self.recent()
        elif isinstance(outcome, (OpenSettings, OpenLoad, AskEdit, AskReplace)):
            self.show(outcome.fallback)  # no screens or dialogs on a line
        elif isinstance(outcome, ShowContext):  # /context: each part under a label line
            self.view.line(outcome.seen.summary(), NOTE)
            for part in outcome.seen.parts:
                self.view.line(f"── {part.heading()} ──", TITLE)
                self.view.write(part.text)  # exactly as GPT-2 reads it
            self.view.newline()
        elif isinstance(outcome, Stream):
            self.stream(outcome)

    def recent(self) -> None:
        """The end of the story again, after it was rewritten or replaced."""
        turns = self.state.turns[-RECENT_TURNS:]
        self.view.blank()
        if len(self.state.turns) > len(turns):
            self.view.line("…", NOTE)
        for turn in turns:
            if len(turn.text) > RECENT_CHARS:
                cut = turn.text[-RECENT_CHARS:]
                turn = Turn(role=turn.role, text="… " + cut[cut.find(" ") + 1:], kind=turn.kind)
            self.view.turn(self.state, turn)
        self.view.newline()

    # -- a reply being written ------------------------------------------------------------

    def stream(self, stream: Stream) -> None:
        last: list[Turn | None] = []  # the story's last turn as the first event found it
        printer: ReplyPrinter | None = None
        done: Done | None = None

        def events() -> Iterator[Event]:
            for event in stream.events:
                if not last:  # on the model's thread, while the generator waits here
                    last.append(self.state.turns[-1] if self.state.turns else None)
                yield event

        def handle(event: Event) -> None:
            nonlocal printer, done
            if printer is None:
                self._echo(stream)
            if printer is None or isinstance(event, Restart):
                if isinstance(event, Restart):
                    self.view.line(f"(the reply {event.reason}; writing it again)", NOTE)
                printer = self._start_reply(last[0])
            if isinstance(event, Piece):
                printer.feed(event.text)
            elif isinstance(event, Done):
                printer.finish(event.text)
                done = event

        try:
            pump(Stream(events(), stream.cancel), handle)
        except UserError as error:
            self.view.line(f"error: {error}", ERROR)
        except Exception as error:  # the model failed: say so, the story is unchanged
            self.view.line(f"error: generation failed: {type(error).__name__}: {error}", ERROR)
        self.view.newline()
        if done is not None and done.cancelled:
            self._settle_cancelled()
        if self.state.mode == "adventure":
            self.view.blank()

    def _echo(self, stream: Stream) -> None:
        """Show the player's turn the reply answers (or say this is a retry), as the stream
        says: nothing is compared with the story as it was."""
        if stream.writes == "alternative":
            self.view.line("(another reply:)", NOTE)
        elif stream.action is not None:
            self.view.turn(self.state, stream.action)

    def _start_reply(self, last: Turn | None) -> ReplyPrinter:
        chat = self.state.chat
        named = chat is not None and not chat.others and (last is None or last.role != "model")
        if chat is not None and named:  # one voice: the prompt ends with "Name:", so the
            self.view.newline()  # reply lacks it; show it
            self.view.write(f"{chat.character}: ")
        return ReplyPrinter(self.view, whole_sentences=self.state.mode != "story",
                            strip_lead=named or self.view.at_line_start)

    def _settle_cancelled(self) -> None:
        session = self.game.session
        if session.pending is None or not session.pending.text.strip():
            session.drop_pending()
            self.view.line("(stopped; nothing was added to the story)", NOTE)
            return
        answer = self.read("keep what was written? [y/N] ") if self.interactive else None
        if answer is not None and answer.strip().lower() in ("y", "yes"):
            session.keep_pending()
            self.view.line("(kept)", NOTE)
        else:
            session.drop_pending()
            self.view.line("(stopped; the unfinished reply was dropped)", NOTE)


def pump(stream: Stream, handle: Callable[[Event], None]) -> None:
    """Run the stream on a thread and hand its events to ``handle`` here.

    The model runs off the main thread so that Ctrl+C (always delivered to the main thread)
    can set the cancel token; the generation then ends with a cancelled ``Done``.
    """
    reader: Pump[Event] = Pump(stream.events, "plain-generation")
    try:
        reader.start()
    except KeyboardInterrupt:  # Ctrl+C as the reply begins: stop it like any other
        stream.cancel.cancel()
        if not reader.started:  # it never began: run it here (it ends at once, cancelled)
            reader.run_here()
    while True:
        try:
            try:
                item = reader.next(timeout=0.1)  # a timeout keeps Ctrl+C responsive everywhere
            except queue.Empty:
                continue
            if isinstance(item, Ended):
                break
            handle(item)
        except KeyboardInterrupt:
            stream.cancel.cancel()
    reader.join()


def run_plain(game: Game, stdin: TextIO | None = None, console: Console | None = None) -> int:
    """Play ``game`` line by line until /quit or end of input; the game is saved on the way out."""
    plain = PlainGame(game, stdin or sys.stdin, console or make_console())
    try:
        plain.run()
    finally:
        game.close()
    return 0
