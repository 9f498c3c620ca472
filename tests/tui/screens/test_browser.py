"""The seed browser's preview: the seed's words shown as written (never markup), the scene,
or the greeting of a chat that opens on it alone."""

from __future__ import annotations

from gpt2_adventure.story.model import NO_SCENE, ChatSpec, Seed
from gpt2_adventure.tui.screens.browser import preview_text


def test_a_chat_that_opens_on_its_greeting_previews_the_greeting() -> None:
    chat = ChatSpec(character="Mira", greeting="Oh! A [b]customer[/b], {{at}} last.")
    seed = Seed(id="mira", title="Mira", mode="chat", openings=(NO_SCENE,), chat=chat)
    shown = preview_text(seed).plain
    assert shown.endswith("\nOh! A [b]customer[/b], {at} last.")
    assert "You talk with Mira." in shown


def test_a_seed_with_a_scene_previews_the_scene() -> None:
    chat = ChatSpec(character="Mira", greeting="Hello.")
    seed = Seed(id="m", title="M", mode="chat", openings=("A map shop.",), chat=chat)
    assert preview_text(seed).plain.endswith("\nA map shop.")
