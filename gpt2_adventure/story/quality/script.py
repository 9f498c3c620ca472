"""The player's lines of a scripted game, per mode: the same for every preset, so presets are
compared on the same games."""

from __future__ import annotations

from gpt2_adventure.story.model import ActionKind, Mode

ACTIONS: dict[Mode, tuple[ActionKind, tuple[str, ...]]] = {
    "adventure": ("do", (
        "look around", "open the door", "pick up the lantern", "ask the stranger about the map",
        "walk north along the road", "search the room for a key", "draw my sword",
        "climb the stairs", "read the letter", "run for the exit")),
    "chat": ("say", (
        "Hello. Who are you?", "Tell me about this place.", "What happened here last night?",
        "Why should I trust you?", "Where is the key hidden?", "Do you have any family?",
        "What do you want from me?", "Tell me a secret.", "What is that noise outside?",
        "Goodbye, and thank you.")),
    "story": ("story", (
        "She opened the door and stepped into the rain.",
        "A letter lay on the table, unopened.", "Somewhere below, a dog began to bark.",
        "He counted the coins twice.", "The lights of the harbour went out one by one.",
        "Nobody answered the knock.", "The old map was wrong about the river.",
        "By morning the snow had covered the tracks.", "The captain laughed for the first time.",
        "At last the bell stopped ringing.")),
}


def action(mode: Mode, turn: int) -> tuple[str, ActionKind]:
    """The player's line on ``turn`` (0-based) of a game in ``mode``, and its kind."""
    kind, lines = ACTIONS[mode]
    return lines[turn % len(lines)], kind
