"""Automatic lore (story/autolore.py): which words are names, what their entries hold, and
that counting turn by turn gives what counting the whole story at once gives."""

from __future__ import annotations

import random

from gpt2_adventure.story.autolore import TAIL, AutoLore, Tally, entry_for, numbered, qualifies
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn, WorldEntry


def story(*texts: str, mode: str = "adventure") -> StoryState:
    turns = [Turn(role="opening", text=texts[0])]
    turns += [Turn(role="model" if i % 2 else "player", text=text)
              for i, text in enumerate(texts[1:], start=1)]
    return StoryState(mode=mode, title="t", turns=turns)  # type: ignore[arg-type]


def entries(state: StoryState) -> dict[str, str]:
    """The automatic entries ``state`` holds, by name."""
    return {entry.keys[0]: entry.content for entry, place in numbered(state)
            if place is not None}


def lore(state: StoryState) -> dict[str, str]:
    """The automatic entries of ``state``, counted afresh."""
    AutoLore().update(state)
    return entries(state)


def test_a_name_written_twice_becomes_an_entry_keyed_by_it() -> None:
    state = story("You arrive in the town at dusk.",
                  "\n> You talk to Brannoc.\n",
                  " Brannoc the smith hid the silver key beneath the old anvil.")
    assert lore(state) == {
        "Brannoc": "Brannoc the smith hid the silver key beneath the old anvil."}


def test_a_name_written_once_is_not_one_yet() -> None:
    assert lore(story("You meet Brannoc the smith by the old forge.", " It rains.")) == {}


def test_a_word_only_ever_at_the_start_of_a_sentence_is_not_a_name() -> None:
    state = story("Suddenly the door opens wide and cold air comes in.",
                  " Suddenly a crow calls from the roof of the barn.",
                  " Suddenly everything is quiet in the dark hall.")
    assert lore(state) == {}


def test_common_words_are_not_names() -> None:
    state = story("You bow to the Lord of the keep on Monday morning.",
                  " The Lord smiles; on Monday the market opens. You greet the Guard.",
                  " The Guard nods. The guard at the gate and another guard wave, "
                  "and a guard yawns.")
    assert lore(state) == {}  # a title, a day, and a word the story writes in lower case


def test_the_entry_holds_the_first_and_the_latest_sentence_that_tell_of_the_name() -> None:
    state = story("You arrive in the town at dusk.",
                  "\n> You talk to Ysolde.\n",
                  " Ysolde keeps a map of the sunken catacombs sewn into her cloak.",
                  "\n> You ask Ysolde.\n",
                  " Ysolde says the catacombs flooded after the great storm. She sighs.",
                  "\n> You thank Ysolde.\n")
    assert lore(state)["Ysolde"] == (
        "Ysolde keeps a map of the sunken catacombs sewn into her cloak. "
        "Ysolde says the catacombs flooded after the great storm.")


def test_no_entry_for_a_name_the_game_has_an_entry_for_or_a_chat_speaker() -> None:
    state = story("Mira pours ale for Tom while Brannoc watches Tom drink.",
                  " Brannoc laughs at Tom and Mira hides a smile from Brannoc.",
                  mode="chat")
    state.chat = ChatSpec(character="Mira", player="Tom")
    state.world = [WorldEntry(keys=("BRANNOC", "smith"), content="A smith.")]
    assert lore(state) == {}
    state.world = []
    assert list(lore(state)) == ["Brannoc"]


def test_a_dropped_name_gets_no_entry() -> None:
    state = story("You see Brannoc.", " Brannoc the smith hid the key under the old anvil.")
    state.dropped_lore = ["brannoc"]
    assert lore(state) == {}


def test_long_sentences_are_cut_at_a_word() -> None:
    long = "Brannoc " + " ".join(["hammers the glowing iron"] * 20) + "."
    entry = lore(story("You see Brannoc.", " " + long))["Brannoc"]
    assert entry.endswith("…") and len(entry) <= 201 and entry.startswith("Brannoc hammers")


def random_story(rng: random.Random, turns: int) -> list[str]:
    names = ["Aldric", "Mirela", "Tobin", "Sarn", "Velka", "Guard", "Orrin"]
    places = ["gate", "inn", "well", "mill", "bridge"]
    out = []
    for _ in range(turns):
        name = rng.choice(names)
        out.append(rng.choice([
            f" You see {name} by the {rng.choice(places)}.",
            f" {name} walks to the {rng.choice(places)} and waits for the cart.",
            f" The old {name.lower()} sits by the {rng.choice(places)} mending nets.",
            f" Rain falls on the {rng.choice(places)}.",
            f"\n> You ask {name} about the {rng.choice(places)}.\n"]))
    return out


def reference(state: StoryState) -> dict[str, str]:
    """The entries of ``state`` counted in one run over all its turns."""
    tally = Tally()
    for turn in state.turns:
        tally.add(turn.text)
    return {seen.name: entry_for(seen).content for key, seen in tally.names.items()
            if qualifies(seen, tally.written[key])}


def test_counting_turn_by_turn_gives_what_counting_the_whole_story_gives() -> None:
    rng = random.Random(3)
    state = story("You wake up in a small village.")
    tracker = AutoLore()
    for i, text in enumerate(random_story(rng, 80)):
        state.turns.append(Turn(role="model", text=text))
        if i % 9 == 8 and i > 20:  # an undo now and then, deeper than the last turns
            del state.turns[-TAIL - 2:]
            tracker.update(state)
            state.turns += [Turn(role="model", text=t) for t in random_story(rng, TAIL + 2)]
        if i % 13 == 12:  # the last reply retried
            state.turns[-1] = Turn(role="model", text=" You see Velka by the mill.")
        tracker.update(state)
        assert entries(state) == reference(state), i
    assert len(entries(state)) >= 4


def test_an_edit_of_an_older_turn_is_counted_again() -> None:
    state = story("You arrive at the gate.", " You see Orrin by the well.",
                  " Orrin draws water from the deep well for the horses.",
                  *[" Rain falls."] * (TAIL + 2))
    tracker = AutoLore()
    tracker.update(state)
    assert [e.keys for e in state.lore] == [("Orrin",)]
    tracker.changed_at(1)
    state.turns[1].text = " You see a heron by the well."
    state.turns[2].text = " It draws water."
    tracker.changed_at(2)
    tracker.update(state)
    assert numbered(state) == []  # its place stays, empty


def test_an_entry_keeps_its_place_as_names_come_and_go() -> None:
    state = story("You see Orrin by the well.", " Orrin draws water from the well.")
    tracker = AutoLore()
    tracker.update(state)
    state.turns += [Turn(role="model", text=" You see Velka at the inn."),
                    Turn(role="model", text=" Velka sings old songs at the inn.")]
    tracker.update(state)
    assert [e.keys for e in state.lore] == [("Orrin",), ("Velka",)]
    state.world.append(WorldEntry(keys=("orrin",), content="Orrin is the miller."))
    assert tracker.update(state)
    assert [e.keys for e in state.lore] == [(), ("Velka",)]  # the player's entry wins
    assert not tracker.update(state)  # nothing new: nothing changed


def test_turned_off_there_are_none() -> None:
    state = story("You see Orrin by the well.", " Orrin draws water from the well.")
    tracker = AutoLore()
    tracker.update(state)
    assert numbered(state)
    tracker.update(state, on=False)
    assert numbered(state) == []
