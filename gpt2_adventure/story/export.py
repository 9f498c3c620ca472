"""Transcripts: a game as Markdown or plain text, showing exactly the words that were written.

Story text is data. Control characters become visible escapes (``safe_text.printable``) in
both formats, and in Markdown every character that could start markup is backslash-escaped,
so ``**bold** [link](x) <script>`` shows as those characters, not as bold, a link or HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.model import StoryState, Turn

EntryKind = Literal["narration", "action", "chat"]


@dataclass(frozen=True)
class Entry:
    """One block of a transcript: narration, a player's action, or one chat message."""

    kind: EntryKind
    text: str
    speaker: str = ""


def transcript(state: StoryState) -> list[Entry]:
    """The story in order, as the reader should see it (chosen replies only).

    Consecutive narration turns are joined exactly as the model saw them (a reply often
    continues the sentence before it). In adventure mode each player turn is an action; in
    story mode the player's and the model's text are one piece of prose; in chat mode every
    ``Name: message`` line is its own entry.
    """
    entries: list[Entry] = []
    prose: list[str] = []

    def flush() -> None:
        text = "".join(prose).strip()
        prose.clear()
        if text:
            entries.append(Entry("narration", text))

    for turn in state.turns:
        if state.mode == "chat" and (turn.role != "opening" or turn.speaker):
            flush()
            entries.extend(_chat_entries(state, turn))
        elif turn.role == "player" and state.mode != "story":
            flush()
            action = _action_text(turn)
            if action:
                entries.append(Entry("action", action))
        else:
            prose.append(turn.text)
    flush()
    return entries


def _action_text(turn: Turn) -> str:
    text = turn.text.strip()
    if turn.kind in ("do", "say") and text.startswith(">"):  # "\n> You open the door.\n"
        text = text[1:].strip()
    return text


def _chat_entries(state: StoryState, turn: Turn) -> list[Entry]:
    chat = state.chat
    player = chat.player if chat else "You"
    default = turn.speaker or (player if turn.role == "player" else
                               chat.character if chat else "")
    known = sorted({s for s in (*(chat.speakers if chat else ()), player, default) if s},
                   key=len, reverse=True)
    entries: list[tuple[str, list[str]]] = []
    for line in turn.text.strip().split("\n"):
        speaker = next((s for s in known if line.startswith(s + ":")), None)
        if speaker is not None:
            entries.append((speaker, [line[len(speaker) + 1:].strip()]))
        elif entries:
            entries[-1][1].append(line)
        else:
            entries.append((default, [line]))
    return [Entry("chat", "\n".join(lines).strip(), speaker)
            for speaker, lines in entries if "".join(lines).strip()]


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


# Markdown

_MD_INLINE = re.compile(r"([\\`*_\[\]<|~$])")  # '>' only matters at a line start
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # "&amp;" would render as "&"
_MD_LINE_START = re.compile(r"^([#>+=-])")  # heading, quote, list, setext underline
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])")  # "1984. It was" would become a list


def markdown_escape(text: str) -> str:
    """Text that CommonMark/GFM render as exactly these words, line by line.

    Leading indentation is dropped (four spaces would make a code block).
    """
    lines = []
    for line in printable(text).split("\n"):
        line = _MD_INLINE.sub(r"\\\1", line.lstrip(" \t"))
        line = _MD_ENTITY.sub(r"\\&", line)
        line = _MD_ORDERED.sub(r"\1\\\2", _MD_LINE_START.sub(r"\\\1", line))
        lines.append(line)
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def export_markdown(state: StoryState) -> str:
    """The transcript as Markdown: a title, narration paragraphs, actions as blockquotes."""
    out = [f"# {markdown_escape(_one_line(state.title)) or 'Untitled'}"]
    for entry in transcript(state):
        paragraphs = [markdown_escape(p) for p in _paragraphs(entry.text)]
        if entry.kind == "action":
            out.append("\n>\n".join("\n".join(f"> {line}" for line in p.split("\n"))
                                    for p in paragraphs))
        elif entry.kind == "chat":
            name = markdown_escape(_one_line(entry.speaker)) or "?"
            out.append(f"**{name}:** " + "\n\n".join(paragraphs))
        else:
            out.extend(paragraphs)
    return "\n\n".join(out) + "\n"


# plain text

def export_text(state: StoryState) -> str:
    """The transcript as plain text: ``> `` before actions, ``Name: `` before chat lines."""
    title = printable(_one_line(state.title)) or "Untitled"
    out = [f"{title}\n{'=' * min(len(title), 79)}"]
    for entry in transcript(state):
        text = printable("\n\n".join(_paragraphs(entry.text)))
        if entry.kind == "action":
            out.append("\n".join(f"> {line}" if line else ">" for line in text.split("\n")))
        elif entry.kind == "chat":
            out.append(f"{printable(_one_line(entry.speaker)) or '?'}: {text}")
        else:
            out.append(text)
    return "\n\n".join(out) + "\n"
