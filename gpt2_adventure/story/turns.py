"""How each mode talks to the model: what the player's input becomes in the story, the cue
after the story that asks for a reply, where a reply stops, and the turn a reply becomes.
Adventures write ``> You open the door.``; chats write ``Name: line``; stories are prose."""

from __future__ import annotations

from gpt2_adventure.story.events import SessionError
from gpt2_adventure.story.model import ActionKind, StoryState, Turn
from gpt2_adventure.story.person import format_do, format_say


def single_voice(state: StoryState) -> bool:
    """A chat with one character (a forum thread of several voices is not)."""
    chat = state.chat
    return chat is not None and not chat.others


def reply_cue(state: StoryState) -> str:
    """Text after the story that cues the reply (a chat speaker's name)."""
    if state.mode == "chat" and state.chat is not None:
        return f"\n{state.chat.character}:" if single_voice(state) else "\n"
    return ""


def stop_strings(state: StoryState) -> list[str]:
    """Where a reply ends: where the model starts writing the player's next move."""
    if state.mode == "adventure":
        return ["\n>", "\n\n\n"]
    if state.mode == "chat" and state.chat is not None:
        chat = state.chat
        names = [chat.player] + ([chat.character] if single_voice(state) else [])
        return [f"\n{name}:" for name in names] + ["\n\n\n"]
    return []


def player_turn(state: StoryState, text: str, kind: ActionKind) -> Turn | None:
    """The turn the player's input becomes (None for empty input), not yet in the story."""
    mode = state.mode
    if mode == "chat":
        if state.chat is None:
            raise SessionError("this chat has no character (the save lacks its chat part)")
        line = " ".join(text.split())
        if not line:
            return None
        return Turn(role="player", text=f"\n{state.chat.player}: {line}", kind="say",
                    raw=text, speaker=state.chat.player)
    if mode == "story" or kind == "story":
        if not text.strip():
            return None
        before = state.turns[-1].text if state.turns else ""
        joint = "" if (not before or before[-1:].isspace() or text[:1].isspace()) else " "
        if mode == "adventure":
            joint = "\n"
            text = text.strip()
        return Turn(role="player", text=joint + text, kind="story", raw=text)
    body = format_say(text) if kind == "say" else format_do(text)
    if not body:
        return None
    return Turn(role="player", text=f"\n> {body}\n", kind=kind, raw=text)


def reply_turn(state: StoryState, cleaned: str) -> tuple[str, str]:
    """(the turn's text, its speaker) for a cleaned reply."""
    chat = state.chat
    if state.mode != "chat" or chat is None:
        return cleaned, ""
    if single_voice(state):
        return f"\n{chat.character}: {cleaned.strip()}", chat.character
    body = cleaned.lstrip("\n")
    speaker = body.split(":", 1)[0].strip() if ":" in body.split("\n", 1)[0] else ""
    return "\n" + body, speaker
