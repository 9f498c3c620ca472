"""Where the player types: the action mode (Do/Say/Story), the line, and inline help."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.commands import ALIASES, COMMANDS, completions, usage
from gpt2_adventure.story.model import ActionKind, StoryState

MODES: dict[str, tuple[ActionKind, ...]] = {"adventure": ("do", "say", "story"),
                                             "story": ("story",), "chat": ("say",)}
LABELS = {"do": "Do", "say": "Say", "story": "Story"}
PLACEHOLDERS = {"do": "What do you do? (/help for commands)",
                "say": "What do you say? (/help for commands)",
                "story": "Write the story on, or press Enter to let GPT-2 go on"}
# While the story stops mid-sentence (an opening ending "...you see"): first, how to go on.
MID_SENTENCE = {"do": "Enter alone: GPT-2 finishes the sentence · or type what you do",
                "say": "Enter alone: GPT-2 goes on · or type what you say",
                "story": "Enter alone: GPT-2 finishes the sentence · or write on"}
# The line under the input, by the story's mode (a chat and a story have one kind only).
HINTS = {"adventure": "Tab: Do / Say / Story · Enter alone: GPT-2 goes on · Esc: stop · F1: keys",
         "chat": "Enter: send · Enter alone: GPT-2 goes on · Esc: stop · F1: keys",
         "story": "Enter: add to the story · Enter alone: GPT-2 goes on · Esc: stop · F1: keys"}
SENTENCE_ENDS = ('.', '!', '?', '"', "'", '”', '’', ')', ']', '*', '…', ':', '-', '—', '~')


def numbered_by(line: str) -> str | None:
    """What a command being typed numbers: "turns" (/edit N, /pin N), "memory" (/forget N),
    "world" (/world remove N, /world keep N); None for anything else."""
    if not line.startswith("/"):
        return None
    word, _, rest = line[1:].partition(" ")
    name = ALIASES.get(word.lower(), word.lower())
    if name in ("edit", "pin"):
        return "turns"
    if name == "forget":
        return "memory"
    if name == "world" and rest.strip().lower().startswith(("rem", "keep")):
        return "world"
    return None


def stops_mid_sentence(text: str) -> bool:
    """Whether a turn's text ends where a sentence cannot ("...you see")."""
    text = text.rstrip()
    return bool(text) and not text.endswith(SENTENCE_ENDS)


class InputBar(Vertical):
    DEFAULT_CSS = """
    InputBar { height: auto; padding: 0 1; }
    InputBar Horizontal { height: 3; }
    InputBar #mode { width: 8; content-align: center middle; height: 3;
                     background: $accent; color: $text; text-style: bold; }
    InputBar Input { width: 1fr; }
    InputBar #help { color: $text-muted; height: 1; }
    InputBar #numbered { color: $text-muted; height: auto; max-height: 8; display: none; }
    InputBar.numbered #numbered { display: block; }
    """

    kind: reactive[ActionKind] = reactive[ActionKind]("do")

    class Numbering(Message):
        """The line now asks for numbered things ("turns", "memory", "world"), or none."""

        def __init__(self, what: str | None) -> None:
            super().__init__()
            self.what = what

    class Submitted(Message):
        def __init__(self, text: str, kind: ActionKind) -> None:
            super().__init__()
            self.text = text
            self.kind = kind

    def __init__(self, story_mode: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kinds = MODES.get(story_mode, ("do",))
        self.hint = HINTS.get(story_mode, HINTS["adventure"])
        self.mid_sentence = False
        self.numbering: str | None = None
        self.set_reactive(InputBar.kind, self.kinds[0])

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(LABELS[self.kind], id="mode")
            yield Input(placeholder=self._placeholder(), id="line",
                        suggester=SuggestFromList(["/" + c for c in COMMANDS],
                                                  case_sensitive=False))
        yield Label(self.hint, id="help", markup=False)
        yield Static("", id="numbered")

    def _placeholder(self) -> str:
        return (MID_SENTENCE if self.mid_sentence else PLACEHOLDERS)[self.kind]

    def watch_kind(self, kind: ActionKind) -> None:
        if self.is_mounted:
            self.query_one("#mode", Label).update(LABELS[kind])
            self.query_one("#line", Input).placeholder = self._placeholder()

    def follow_story(self, state: StoryState) -> None:
        """Say first that Enter alone lets GPT-2 go on while the story stops mid-sentence."""
        mid = bool(state.turns) and stops_mid_sentence(state.turns[-1].text)
        if mid != self.mid_sentence:
            self.mid_sentence = mid
            if self.is_mounted:
                self.query_one("#line", Input).placeholder = self._placeholder()

    def cycle(self) -> None:
        i = self.kinds.index(self.kind) if self.kind in self.kinds else -1
        self.kind = self.kinds[(i + 1) % len(self.kinds)]

    def complete(self) -> bool:
        """Complete the command being typed as its suggestion shows it (with a space after
        one that takes words); False when there is none to complete."""
        line = self.query_one("#line", Input)
        value = line.value
        if not value.startswith("/") or " " in value or line.cursor_position < len(value):
            return False
        matches = completions(value.lower())
        if not matches:
            return False
        name = matches[0]
        completed = name + (" " if COMMANDS[name[1:]][0] else "")
        if completed == value:
            return False
        line.value = completed
        line.cursor_position = len(completed)
        return True

    def show_numbered(self, lines: list[str]) -> None:
        """Numbered lines under the input (memory for /forget, world info for /world
        remove), one row each; none: the list goes."""
        text = Text("\n".join(printable(line) for line in lines), no_wrap=True,
                    overflow="ellipsis")
        self.query_one("#numbered", Static).update(text)
        self.set_class(bool(lines), "numbered")

    def on_input_changed(self, event: Input.Changed) -> None:
        value = event.value
        numbering = numbered_by(value)
        if numbering != self.numbering:
            self.numbering = numbering
            self.post_message(self.Numbering(numbering))
        help_label = self.query_one("#help", Label)
        if value.startswith("/"):
            word = value[1:].split(" ", 1)[0]
            matches = [c[1:] for c in completions("/" + word)] if " " not in value else []
            exact = word.lower() if word.lower() in COMMANDS else None
            if exact:
                help_label.update(usage(exact))
            elif matches:
                help_label.update("  ".join("/" + m for m in matches[:8]))
            else:
                help_label.update("unknown command · /help lists them")
        else:
            help_label.update(self.hint)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(event.value, self.kind))
        event.input.value = ""

    def focus_line(self) -> None:
        self.query_one("#line", Input).focus()
