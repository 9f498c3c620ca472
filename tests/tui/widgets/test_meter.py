"""The context meter draws every part of the prompt, recalled passages included."""

from __future__ import annotations

from gpt2_adventure.story.context import Prompt
from gpt2_adventure.tui.widgets.meter import PARTS, meter_text


def test_recalled_passages_show_in_the_meter() -> None:
    prompt = Prompt(tokens=[0] * 500, parts={"world": 20, "recall": 37, "story": 443,
                                             "reply": 60}, first_visible_turn=3)
    meter = meter_text(prompt, 1024).plain
    assert "recall 37" in meter and "world 20" in meter and "story 443" in meter


def test_every_part_the_prompt_counts_has_a_place_in_the_meter() -> None:
    # The parts a Prompt is documented to count (story/context.py) all draw.
    assert set(PARTS) >= {"persona", "examples", "pinned", "world", "recall", "story", "note",
                          "tail", "reply"}
