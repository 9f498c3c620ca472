"""The one line that says what an import found, for every kind of result."""

from __future__ import annotations

from gpt2_adventure.story.importers.imported import Conversion
from gpt2_adventure.story.importers.summary import what_found
from gpt2_adventure.story.model import ChatSpec, Seed, StoryState, Turn, WorldEntry

LORE = [WorldEntry(("a",), "A."), WorldEntry(("b",), "B.")]


def game(mode: str, turns: list[Turn], **fields: object) -> Conversion:
    state = StoryState(mode=mode, title="t", turns=[Turn("opening", "Go."), *turns],
                       **fields)  # type: ignore[arg-type]
    return Conversion(source="f", format="x", saves=[("t", state)])


def test_games() -> None:
    reply = Turn("model", " It creaks.", alternatives=[" It creaks.", " Nothing.", " A bang."])
    assert what_found("a KoboldAI story", game("story", [Turn("player", "\n> Go.\n"), reply],
                                               world=LORE)) == (
        "a KoboldAI story (2 turns, 2 alternatives, 2 world entries)")
    assert what_found("a NovelAI story", game("story", [])) == (
        "a NovelAI story (the opening only)")
    chat = ChatSpec(character="Ana", player="You", others=("Bo",))
    assert what_found("a SillyTavern group chat", game("chat", [reply], chat=chat)) == (
        "a SillyTavern group chat (1 message, 2 swipes) with Ana, Bo")


def test_seeds() -> None:
    seeds = [Seed(id=f"s{i}", title="T", mode="story", openings=("Go.",), world=tuple(LORE))
             for i in range(3)]
    assert what_found("AI Dungeon scenarios", Conversion("f", "x", seeds=seeds)) == (
        "AI Dungeon scenarios (3 seeds, 6 world entries)")
    card = Seed(id="mira", title="Mira", mode="chat", openings=("",), world=(LORE[0],),
                chat=ChatSpec(character="Mi{{r}}a", greeting="Hi.",
                              alternate_greetings=("Yo.",)))
    assert what_found("a character card", Conversion("f", "x", seeds=[card])) == (
        "a character card: Mi{r}a (2 greetings, 1 world entry)")
    assert what_found("nothing", Conversion("f", "x")) == "nothing"
