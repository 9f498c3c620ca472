"""The one line that says what an import found: ``a KoboldAI story (12 turns, 3
alternatives, 25 world entries)``, ``AI Dungeon scenarios (8 seeds)``, ``a character card
(SillyTavern, TavernAI): Mira (2 greetings, 14 world entries)``."""

from __future__ import annotations

from gpt2_adventure.story.importers.imported import Conversion
from gpt2_adventure.story.model import Seed, StoryState


def counted(n: int, one: str, many: str = "") -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def what_found(label: str, conversion: Conversion) -> str:
    """``label`` with what the file held, counted."""
    if conversion.saves:
        inside, who = _game(conversion.saves[0][1])
        return f"{label} ({inside}){who}"
    seeds = conversion.seeds
    if len(seeds) == 1 and seeds[0].chat is not None:
        return f"{label}: {_character(seeds[0])}"
    if seeds:
        world = sum(len(seed.world) for seed in seeds)
        extra = f", {counted(world, 'world entry', 'world entries')}" if world else ""
        return f"{label} ({counted(len(seeds), 'seed')}{extra})"
    return label


def _game(state: StoryState) -> tuple[str, str]:
    turns = [t for t in state.turns if t.role != "opening"]
    chat = state.chat if state.mode == "chat" else None
    parts = [counted(len(turns), "message" if chat else "turn") if turns
             else "no message" if chat else "the opening only"]
    alternatives = sum(max(len(t.alternatives) - 1, 0) for t in turns)
    if alternatives:
        parts.append(counted(alternatives, "swipe" if chat else "alternative"))
    if state.world:
        parts.append(counted(len(state.world), "world entry", "world entries"))
    who = f" with {', '.join(chat.speakers)}" if chat is not None else ""
    return ", ".join(parts), who


def _character(seed: Seed) -> str:
    assert seed.chat is not None
    greetings = len(seed.chat.alternate_greetings) + (1 if seed.chat.greeting else 0)
    parts = [counted(greetings, "greeting")] if greetings else []
    if seed.world:
        parts.append(counted(len(seed.world), "world entry", "world entries"))
    name = seed.chat.character.replace("{{", "{").replace("}}", "}")
    return f"{name} ({', '.join(parts)})" if parts else name
