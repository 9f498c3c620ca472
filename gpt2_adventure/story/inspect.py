"""What GPT-2 sees: the next reply's prompt as labelled parts, in prompt order (``/context``).

``ContextBuilder`` lays the prompt out as spans (``context.Span``); here the story's turns
that follow one another become one part, and each world entry and each recalled passage stays
a part of its own, marked: a recalled passage with the turn it comes from, an automatic lore
entry as automatic. The parts join to exactly the tokens the backend gets, and an action is
looked at without being taken (``Session.preview``: no turn added, nothing saved).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpt2_adventure.story.context import Prompt, Span
from gpt2_adventure.story.model import ActionKind, StoryState, WorldEntry
from gpt2_adventure.units import count

if TYPE_CHECKING:
    from gpt2_adventure.story.session import Session

# The parts, in the order the prompt has them (world info found mid-window, recalled passages
# and the author's note sit among the story's turns, where the story had got to).
LABELS = ("persona", "examples", "memory", "world", "recall", "story", "note", "tail")
KINDS: dict[str, ActionKind] = {"/do": "do", "/say": "say", "/story": "story"}
Detokenize = Callable[[Sequence[int]], str]


def world_entry(state: StoryState, index: int) -> tuple[WorldEntry | None, bool]:
    """The world entry the layout places as ``index``, and whether it is automatic lore (an
    entry the story made itself, not the player, a seed or a lorebook). Automatic entries
    (``story/autolore.py``) are kept in ``state.lore`` and the layout holds the i-th as
    ``~i``."""
    if index < 0:
        lore = state.lore
        return (lore[~index] if ~index < len(lore) else None), True
    return (state.world[index] if index < len(state.world) else None), False


@dataclass(frozen=True)
class Part:
    """One labelled part of the prompt: its exact text and tokens, and what marks it."""

    label: str  # one of LABELS
    text: str
    tokens: tuple[int, ...]
    marks: tuple[str, ...] = ()  # e.g. "recalled from turn 12", "automatic lore (Harrow)"
    recalled: bool = False  # a passage recalled from out of view
    automatic: bool = False  # an automatic lore entry

    def heading(self) -> str:
        """The label line: "world · automatic lore (Harrow) · 23 tokens"."""
        return " · ".join((self.label, *self.marks, count(len(self.tokens), "token")))

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "text": self.text, "tokens": len(self.tokens),
                "marks": list(self.marks)}


@dataclass(frozen=True)
class Seen:
    """The prompt of the next reply, part by part; ``action``: the one it would answer."""

    parts: tuple[Part, ...]
    n_ctx: int
    reply: int  # tokens kept free for the reply
    first_visible_turn: int
    action: str | None = None

    @property
    def tokens(self) -> list[int]:
        return [t for part in self.parts for t in part.tokens]

    def summary(self) -> str:
        used = len(self.tokens)
        what = f"the prompt for {self.action!r}" if self.action else "the next reply's prompt"
        out = (f"{what}: {used:,} of {count(self.n_ctx, 'token')}, "
               f"{self.reply:,} kept for the reply")
        if self.first_visible_turn:
            out += f"; {count(self.first_visible_turn, 'turn')} out of view"
        return out

    def lines(self) -> list[str]:
        """As text: the summary, then each part's label line and its text."""
        out = [self.summary()]
        for part in self.parts:
            out.append(f"── {part.heading()} ──")
            out += part.text.removesuffix("\n").split("\n")  # (as plain mode prints it)
        return out


def split_action(line: str) -> tuple[str, ActionKind]:
    """``/context`` and ``saves context --action`` take an action as typed: a Do, or one
    that starts with /do, /say or /story."""
    word, _, rest = line.strip().partition(" ")
    kind = KINDS.get(word.lower())
    return (rest.strip(), kind) if kind is not None else (line.strip(), "do")


def _part_marks(span: Span, state: StoryState) -> tuple[tuple[str, ...], bool, bool]:
    """(marks, recalled, automatic) of one span."""
    marks: list[str] = []
    recalled = automatic = False
    if span.part == "world" and span.source is not None:
        entry, automatic = world_entry(state, span.source)
        keys = ", ".join(key.strip() for key in entry.keys if key.strip()) if entry else ""
        what = "automatic lore" if automatic else f"entry {span.source + 1}"
        marks.append(what + (f" ({keys})" if keys else ""))
    elif span.part == "recall" and span.source is not None:
        recalled = True
        marks.append(f"recalled from turn {span.source + 1}")
    if span.text is None:
        marks.append("cut to fit")
    return tuple(marks), recalled, automatic


def _turns_mark(first: int, last: int) -> str:
    return f"turn {first + 1}" if first == last else f"turns {first + 1}-{last + 1}"


def prompt_parts(prompt: Prompt, state: StoryState, detokenize: Detokenize) -> list[Part]:
    """The labelled parts of ``prompt`` (built for ``state``) in prompt order: the story's
    turns that follow one another are one part; a span cut to fit is decoded."""
    parts: list[Part] = []
    story: list[Span] = []

    def flush() -> None:
        if not story:
            return
        tokens = tuple(t for span in story for t in span.tokens)
        text = "".join(span.text if span.text is not None else detokenize(span.tokens)
                       for span in story)
        numbers = [span.source for span in story if span.source is not None]
        marks: tuple[str, ...] = (_turns_mark(min(numbers), max(numbers)),) if numbers else ()
        if any(span.text is None for span in story):
            marks += ("cut to fit",)
        parts.append(Part("story", text, tokens, marks))
        story.clear()

    for span in prompt.spans:
        if span.part == "story":
            story.append(span)
            continue
        flush()
        marks, recalled, automatic = _part_marks(span, state)
        text = span.text if span.text is not None else detokenize(span.tokens)
        parts.append(Part(span.part, text, tuple(span.tokens), marks, recalled, automatic))
    flush()
    return parts


def next_prompt(session: Session, action: str | None = None) -> Seen:
    """The next reply's prompt in ``session``, or the one ``action`` (as typed, see
    ``split_action``) would get, built without taking it: the story stays as it is."""
    text, kind = split_action(action or "")
    prompt = session.preview(text, kind) if text else session.preview()
    parts = prompt_parts(prompt, session.state, session.backend.detokenize)
    return Seen(tuple(parts), session.backend.n_ctx, prompt.parts.get("reply", 0),
                prompt.first_visible_turn, action.strip() if text and action else None)
