"""The context meter (how GPT-2's 1024 tokens are spent) and the status line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from gpt2_adventure import units
from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.context import Prompt

if TYPE_CHECKING:
    from gpt2_adventure.engine.tune import Step

# part -> (label, colour); in a chat the story is "chat" and world info "lore"
PARTS = {"persona": ("persona", "bright_magenta"), "examples": ("examples", "bright_red"),
         "pinned": ("memory", "magenta"), "world": ("world", "green"),
         "recall": ("recall", "bright_green"), "story": ("story", "blue"),
         "note": ("note", "yellow"), "tail": ("cue", "cyan"),
         "reply": ("reply", "white")}
CHAT_LABELS = {"world": "lore", "story": "chat"}


def meter_text(prompt: Prompt | None, n_ctx: int, width: int = 30) -> Text:
    if prompt is None or n_ctx <= 0:
        return Text("context: -", style="dim")
    text = Text("context ")
    used = 0
    for part, (_, colour) in PARTS.items():
        count = prompt.parts.get(part, 0)
        cells = round(count / n_ctx * width)
        used += cells
        text.append("█" * cells, style=colour)
    text.append("░" * max(0, width - used), style="dim")
    text.append(f" {prompt.used}/{n_ctx} ")
    for part, (label, colour) in PARTS.items():
        count = prompt.parts.get(part, 0)
        if count:
            label = CHAT_LABELS.get(part, label) if prompt.chat else label
            text.append(f"{label} {count} ", style=colour)
    if prompt.pinned_cut:
        text.append("· persona/memory cut to fit ", style="dim")
    if prompt.examples_left_out:
        left = prompt.examples_left_out
        text.append(f"· {left} example{'s' if left > 1 else ''} left out ", style="dim")
    if prompt.world_left_out:
        left, what = prompt.world_left_out, "lore" if prompt.chat else "world"
        text.append(f"· {left} {what} entr{'ies' if left > 1 else 'y'} left out ", style="dim")
    if prompt.first_visible_turn > 0:
        text.append(f"· {units.count(prompt.first_visible_turn, 'turn')} out of view", style="dim")
    return text


class ContextMeter(Static):
    DEFAULT_CSS = "ContextMeter { height: 1; padding: 0 1; }"

    def show(self, prompt: Prompt | None, n_ctx: int) -> None:
        self.update(meter_text(prompt, n_ctx))


class StatusBar(Static):
    DEFAULT_CSS = "StatusBar { height: 1; padding: 0 1; background: $panel; }"

    def show(self, *, model: str, device: str, tok_s: float | None, used: int | None,
             n_ctx: int | None, note: str = "") -> None:
        if not model:  # loading it, or none could be loaded: the note says which
            self.update(Text(printable(note) or "no model", style="italic"))
            return
        text = Text(printable(model), style="bold")
        text.append(f" · {device}")
        text.append(f" · {tok_s:.1f} tok/s" if tok_s else " · - tok/s")
        if used is not None and n_ctx:
            text.append(f" · context {used}/{n_ctx} ({used * 100 // n_ctx}%)")
        if note:
            text.append(f" · {printable(note)}", style="italic")
        self.update(text)


def tune_text(step: Step | None, width: int = 20) -> str:
    """The status line while tuning on first use runs: a bar, and how to skip it."""
    fraction = step.fraction if step is not None else 0.0
    filled = round(fraction * width)
    now = f" {step.what}" if step is not None else ""
    return (f"tuning the speed settings for this machine (once per model) "
            f"{'█' * filled}{'░' * (width - filled)} {fraction:.0%}{now} — Esc skips")
