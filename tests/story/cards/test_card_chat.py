"""A chat from a character card, every card path: the first message is shown once and GPT-2
sees it once (the prompt's tokens are inspected, with GPT-2's own tokenizer), the scenario is
the scene above it, alternate greetings are its alternatives, and the prompt fits 1,024."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.cards.reader import load_card, load_card_report
from gpt2_adventure.story.model import Seed
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.session import Session
from gpt2_adventure.tui.widgets.transcript import turn_text
from tests.support.fake_backend import FakeBackend
from tests.support.gpt2_bpe import GPT2BPE
from tests.support.png_cards import encode_card, itxt_chunk, minimal_png, text_chunk, ztxt_chunk

# A card written the way SillyTavern's default character is: Windows line ends, a long
# multi-paragraph description, {{char}}/{{user}} macros, <START> examples, alternate
# greetings, an embedded character book, a separate lorebook named in extensions.world.
DESCRIPTION = ("{{char}} is a guardian of the Moonwood, a glade hidden deep in an old "
               "forest.\r\n\r\nShe has silver hair, amber eyes and a cloak of woven leaves. "
               "{{char}} heals the wounded with light magic and speaks softly but firmly.\r\n"
               "She found {{user}} hurt at the edge of the wood and carried {{user}} to her "
               "cottage. ") * 2
FIRST = ("*You wake in a small cottage that smells of herbs. A woman with silver hair sits "
         "beside the bed, her hand glowing faintly over your bandages.*\r\n\r\n\"Easy now, "
         "{{user}}. You were hurt badly, but the worst is behind you. I am {{char}}. Rest, "
         "and tell me what brought you so deep into the Moonwood.\"")
SCENARIO = "{{user}} wakes in {{char}}'s cottage in the Moonwood after being attacked."
ALTERNATES = ["*{{char}} looks up from her mortar and pestle.* \"Oh! You are awake.\"",
              "\"Shh. Someone is outside, {{user}}. Stay very still.\""]
EXAMPLES = ("<START>\r\n{{user}}: Who are you?\r\n{{char}}: *smiles* A friend of the "
            "forest.\r\n<START>\r\n{{user}}: Where am I?\r\n{{char}}: Somewhere safe, for "
            "now.")
BOOK = {"name": "Moonwood", "entries": [
    {"keys": ["Moonwood", "glade"], "content": "The Moonwood is a forest of silver trees "
     "that {{char}} has guarded for a hundred years.", "enabled": True, "insertion_order": 0,
     "id": 0, "comment": "the wood", "selective": False, "secondary_keys": [],
     "constant": False, "position": "before_char", "extensions": {}},
    {"keys": ["shadow"], "content": "Shadow creatures fear light.", "enabled": True,
     "insertion_order": 1, "id": 1, "selective": True, "secondary_keys": ["light", "fear"],
     "constant": False, "extensions": {"selectiveLogic": 0}},
    {"keys": [], "content": "{{char}} never lies.", "enabled": True, "insertion_order": 2,
     "id": 2, "constant": True, "extensions": {}},
    {"keys": ["old"], "content": "Disabled lore.", "enabled": False, "insertion_order": 3,
     "id": 3, "extensions": {}}]}
FIELDS: dict[str, Any] = {
    "name": "Seraphina", "description": DESCRIPTION, "personality": "kind, protective, wise",
    "scenario": SCENARIO, "first_mes": FIRST, "mes_example": EXAMPLES,
    "creator_notes": "A gentle guardian.", "system_prompt": "", "post_history_instructions": "",
    "alternate_greetings": ALTERNATES, "tags": ["fantasy", "healer"], "creator": "tests",
    "character_version": "1.0", "character_book": BOOK,
    "extensions": {"talkativeness": "0.5", "fav": False, "world": "Eldoria",
                   "depth_prompt": {"prompt": "", "depth": 4, "role": "system"}}}
V1_FIELDS = {k: FIELDS[k] for k in ("name", "description", "personality", "scenario",
                                    "first_mes", "mes_example")}
V2 = {"spec": "chara_card_v2", "spec_version": "2.0", "data": FIELDS, **V1_FIELDS}
V3 = {"spec": "chara_card_v3", "spec_version": "3.0",
      "data": {**FIELDS, "nickname": "", "group_only_greetings": [], "assets": [],
               "creator_notes_multilingual": {}, "source": []}}
PYGMALION = {"char_name": "Seraphina", "char_persona": DESCRIPTION,
             "world_scenario": SCENARIO, "char_greeting": FIRST,
             "example_dialogue": EXAMPLES}

Write = Callable[[Path], Path]


def _json(card: dict[str, Any]) -> Write:
    def write(folder: Path) -> Path:
        path = folder / "card.json"
        path.write_text(json.dumps(card), "utf-8")
        return path
    return write


def _png(*chunks: bytes) -> Write:
    def write(folder: Path) -> Path:
        path = folder / "card.png"
        path.write_bytes(minimal_png(*chunks))
        return path
    return write


PATHS: dict[str, Write] = {
    "v1-json": _json(V1_FIELDS),
    "v1-pygmalion-json": _json(PYGMALION),
    "v2-json": _json(V2),
    "v3-json": _json(V3),
    "v2-png-tEXt": _png(text_chunk("chara", encode_card(V2))),
    "v2-png-zTXt": _png(ztxt_chunk("chara", encode_card(V2))),
    "v3-png-ccv3-and-chara": _png(text_chunk("chara", encode_card(V2)),
                                  itxt_chunk("ccv3", encode_card(V3))),
}
FULL = ("v2-json", "v3-json", "v2-png-tEXt", "v2-png-zTXt", "v3-png-ccv3-and-chara")
GREETING = ("\"Easy now, User. You were hurt badly, but the worst is behind you. I am "
            "Seraphina.")


class BPEBackend(FakeBackend):
    """The scripted backend, but tokenizing with GPT-2's real byte-level BPE."""

    def __init__(self, replies: Sequence[str]) -> None:
        super().__init__(list(replies))
        self.bpe = GPT2BPE()
        self.decoder = {v: k for k, v in self.bpe.encoder.items()}
        self.byte_decoder = {v: k for k, v in self.bpe.byte_encoder.items()}

    def tokenize(self, text: str) -> list[int]:
        return self.bpe.encode(text)

    def detokenize(self, tokens: Sequence[int]) -> str:
        chars = "".join(self.decoder[t] for t in tokens)
        return bytes(self.byte_decoder[c] for c in chars).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def bpe_backend() -> BPEBackend:
    return BPEBackend([])


def occurrences(tokens: list[int], part: list[int]) -> int:
    return sum(tokens[i:i + len(part)] == part for i in range(len(tokens) - len(part) + 1))


def chat(seed: Seed, backend: BPEBackend) -> Session:
    return Session(new_state(seed, {}, random.Random(0)), backend, Sampling(max_tokens=80))


@pytest.mark.parametrize("path", list(PATHS))
def test_the_first_message_is_shown_once_and_in_the_prompt_once(
        path: str, tmp_path: Path, bpe_backend: BPEBackend) -> None:
    seed = load_card(PATHS[path](tmp_path))
    session = chat(seed, bpe_backend)
    state = session.state
    shown = [turn_text(turn, state).plain for turn in state.turns]
    assert sum(GREETING in text for text in shown) == 1, shown
    assert shown[0] == "You wake in Seraphina's cottage in the Moonwood after being attacked."
    assert "\r" not in "".join(shown)

    prompt = session.preview()
    greeting_turn = state.turns[1]
    assert greeting_turn.speaker == "Seraphina" and GREETING in greeting_turn.text
    # The greeting's tokens, exactly as the prompt builder tokenized its turn, appear once...
    assert occurrences(prompt.tokens, bpe_backend.tokenize(greeting_turn.text)) == 1
    text = bpe_backend.detokenize(prompt.tokens)
    # ...and so do its words, and the scene above it (no copy in the persona or memory).
    assert text.count("the worst is behind you") == 1
    assert text.count("after being attacked") == 1
    assert "\r" not in text and "{{" not in text and "<START>" not in text
    assert text.endswith("deep into the Moonwood.\"\nSeraphina:")  # the cue for the reply
    assert prompt.used <= 1024 and prompt.chat

    # The next prompt, after the player's line and a reply, still holds it once.
    bpe_backend._script = [" *She nods.* Then rest."]
    list(session.act("Thank you. Where am I?", "say"))
    again = session.preview()
    assert occurrences(again.tokens, bpe_backend.tokenize(greeting_turn.text)) == 1
    assert bpe_backend.detokenize(again.tokens).count("the worst is behind you") == 1


@pytest.mark.parametrize("path", FULL)
def test_alternate_greetings_are_alternatives_of_the_first_message(
        path: str, tmp_path: Path, bpe_backend: BPEBackend) -> None:
    session = chat(load_card(PATHS[path](tmp_path)), bpe_backend)
    greeting = session.state.turns[-1]
    assert len(greeting.alternatives) == 3 and greeting.chosen == 0
    assert session.alternative().strip() == (
        "Seraphina: *Seraphina looks up from her mortar and pestle.* \"Oh! You are awake.\"")
    assert session.alternative().strip() == (
        "Seraphina: \"Shh. Someone is outside, User. Stay very still.\"")
    assert GREETING in session.alternative()  # and round again
    prompt_text = bpe_backend.detokenize(session.preview().tokens)
    assert "mortar" not in prompt_text and "Someone is outside" not in prompt_text


def test_the_card_prompt_is_budgeted_and_the_meter_shows_each_part(
        tmp_path: Path, bpe_backend: BPEBackend) -> None:
    from gpt2_adventure.tui.widgets.meter import meter_text

    seed, _ = load_card_report(PATHS["v2-png-tEXt"](tmp_path))
    session = chat(seed, bpe_backend)
    list(session.act("Tell me about the Moonwood and the shadow that fears the light.", "say"))
    prompt = session.preview()
    parts = prompt.parts
    assert sum(v for k, v in parts.items() if k != "reply") == len(prompt.tokens)
    assert 0 < parts["persona"] <= 1024 * 0.3 and 0 < parts["examples"] <= 1024 * 0.15
    assert parts["world"] > 0 and parts["story"] > 0
    meter = meter_text(prompt, 1024).plain
    shown = {"persona": "persona", "examples": "examples", "world": "lore", "story": "chat",
             "reply": "reply"}
    for part, label in shown.items():
        assert f"{label} {parts[part]} " in meter, (label, meter)
    assert "world " not in meter and "story " not in meter  # a chat's own words


def test_a_persona_and_examples_too_long_for_gpt2_are_cut_to_their_share(
        tmp_path: Path, bpe_backend: BPEBackend) -> None:
    from gpt2_adventure.tui.widgets.meter import meter_text

    long_examples = "\r\n".join(f"<START>\r\n{{{{user}}}}: Question {i}?\r\n{{{{char}}}}: "
                                + "An answer that goes on and on. " * 6 for i in range(12))
    card = {**V2, "data": {**FIELDS, "description": DESCRIPTION * 8,
                           "mes_example": long_examples}}
    seed = load_card(_json(card)(tmp_path))
    session = chat(seed, bpe_backend)
    for i in range(3):
        bpe_backend._script = [" *She listens.* I see."]
        list(session.act(f"Line {i}", "say"))
    prompt = session.preview()
    assert prompt.pinned_cut and 1024 * 0.3 * 0.75 <= prompt.parts["persona"] <= 1024 * 0.3
    persona = bpe_backend.detokenize(prompt.tokens[:prompt.parts["persona"]])
    # cut after a whole line of the description (each of its lines ends a sentence)
    assert persona.endswith("\n") and persona.rstrip("\n ").endswith(".")
    assert 0 < prompt.parts["examples"] <= int(1024 * 0.15)
    assert prompt.examples_left_out > 0
    text = bpe_backend.detokenize(prompt.tokens)
    assert "Question 0?" in text and "Question 11?" not in text  # the first ones, whole
    assert prompt.used <= 1024 and text.count("the worst is behind you") == 1
    meter = meter_text(prompt, 1024).plain
    assert "persona/memory cut to fit" in meter
    assert f"{prompt.examples_left_out} examples left out" in meter


def test_a_lore_entry_too_long_for_its_share_does_not_keep_the_others_out(
        tmp_path: Path, bpe_backend: BPEBackend) -> None:
    from gpt2_adventure.tui.widgets.meter import meter_text

    huge = {"keys": ["forest"], "content": "The forest is old and deep. " * 60,
            "enabled": True, "insertion_order": 0}
    book = {**BOOK, "entries": [huge, *BOOK["entries"]]}
    seed, notes = load_card_report(_json({**V2, "data": {**FIELDS, "character_book": book}})(
        tmp_path))
    assert any("too long for GPT-2" in n and 'entries[0] "forest"' in n for n in notes), notes
    session = chat(seed, bpe_backend)
    bpe_backend._script = [" *She smiles.*"]
    list(session.act("Is the forest of the Moonwood safe from the shadow and its fear of light?",
                     "say"))
    prompt = session.preview()
    text = bpe_backend.detokenize(prompt.tokens)
    assert "The forest is old and deep." not in text  # 360 tokens: more than the lore share
    assert "silver trees" in text and "Shadow creatures fear light." in text  # still shown
    assert prompt.world_left_out == 1 and prompt.parts["world"] <= 1024 * 0.25
    assert "1 lore entry left out" in meter_text(prompt, 1024).plain
