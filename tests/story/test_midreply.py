"""Lore in the same reply, with a scripted backend: when it is inserted, where, how often,
within which budget, and what the next prompt and the reply's stats make of it."""

from __future__ import annotations

import random
from collections.abc import Callable

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done, LoreInserted, Piece
from gpt2_adventure.story.model import Turn, WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend


def on_own_lines(entry: WorldEntry) -> str:
    """An entry as the prompt holds it among the turns: on lines of its own."""
    return "\n" + entry.content.strip() + "\n"

SMITH = WorldEntry(keys=("blacksmith",), content="Bram the blacksmith hid the silver key.")
WITCH = WorldEntry(keys=("witch",), content="The witch of the fen owes Bram a favour.")
OWL = WorldEntry(keys=("owl",), content="The owl carries letters for the witch.")


def script(first: str, then: dict[str, str]) -> Callable[[str], str]:
    """``first`` for a prompt without any of ``then``'s entries; with them, how the reply goes
    on once the entry in view last is inserted."""
    def reply(prompt: str) -> str:
        shown = [content for content in then if content in prompt]
        return then[max(shown, key=prompt.rfind)] if shown else first
    return reply


def make(world: list[WorldEntry], reply: Callable[[str], str], story: str = "knight",
         max_tokens: int = 60, n_ctx: int = 1024) -> tuple[Session, FakeBackend]:
    backend = FakeBackend(reply, n_ctx=n_ctx)
    state = new_state(find_seed(AppPaths.from_env(), story), {"name": "Anna"},
                      random.Random(1))
    state.world = list(world)
    session = Session(state, backend, Sampling(max_tokens=max_tokens), max_rerolls=0)
    return session, backend


def run(session: Session, action: str = "I look around") -> tuple[list[object], Done]:
    events = list(session.act(action))
    done = events[-1]
    assert isinstance(done, Done)
    return events, done


def test_an_entry_the_reply_names_goes_in_where_the_reply_began() -> None:
    session, backend = make([SMITH], script(
        " You meet the blacksmith at his forge.",
        {SMITH.content: " and he hides something behind his back."}))
    events, done = run(session)
    marks = [e for e in events if isinstance(e, LoreInserted)]
    assert marks == [LoreInserted(("blacksmith",), len(" You meet the blacksmith"))]
    assert len(backend.prompts) == 2
    first, second = backend.prompts
    so_far = backend.tokenize(" You meet the blacksmith")
    entry = backend.tokenize(on_own_lines(SMITH))
    assert second == first + entry + so_far  # adventure mode: no cue after the action
    # The player sees one reply, without the entry's text.
    assert done.text == " You meet the blacksmith and he hides something behind his back."
    assert "".join(e.text for e in events if isinstance(e, Piece)) == done.text
    assert session.state.turns[-1].text == done.text
    assert SMITH.content not in done.text


def test_no_key_no_insertion() -> None:
    session, backend = make([SMITH], script(" You see a quiet road.", {}))
    events, _ = run(session)
    assert not any(isinstance(e, LoreInserted) for e in events)
    assert len(backend.prompts) == 1


def test_an_entry_already_in_the_prompt_is_not_inserted_again() -> None:
    session, backend = make([SMITH], script(
        " The blacksmith nods.", {}))
    events, done = run(session, "I ask the blacksmith about the key")
    assert SMITH.content in backend.detokenize(backend.prompts[0])  # found by the action
    assert not any(isinstance(e, LoreInserted) for e in events)
    assert len(backend.prompts) == 1 and done.text == " The blacksmith nods."


def test_at_most_two_insertions_a_reply() -> None:
    session, backend = make([SMITH, WITCH, OWL], script(
        " The blacksmith",
        {SMITH.content: " talks of the witch",
         WITCH.content: " and of her owl, which flies off."}))
    # Each continuation answers the newest entry in view; the owl is named after two
    # insertions and waits for the next turn.
    events, done = run(session)
    assert [e.keys for e in events if isinstance(e, LoreInserted)] == [("blacksmith",),
                                                                      ("witch",)]
    assert len(backend.prompts) == 3
    assert done.text == " The blacksmith talks of the witch and of her owl, which flies off."
    last = backend.detokenize(backend.prompts[-1])
    assert last.index(SMITH.content) < last.index(WITCH.content) < last.index(" The blacksmith")
    assert OWL.content not in last


def test_an_entry_that_does_not_fit_is_left_out_and_the_reply_is_not_cut() -> None:
    big = WorldEntry(keys=("blacksmith",), content=" ".join(["iron"] * 300))
    session, backend = make([big], script(" You meet the blacksmith at his forge.",
                                          {big.content: " He waves."}))
    events, done = run(session)
    assert not any(isinstance(e, LoreInserted) for e in events)
    assert len(backend.prompts) == 1
    assert done.text == " You meet the blacksmith at his forge."


def test_the_context_budget_holds_after_insertion() -> None:
    # A context just big enough for the prompt and the reply: the entry would push the
    # reply's last tokens past its end, so it is left out.
    reply = script(" You meet the blacksmith.", {SMITH.content: " He waves."})
    probe, _ = make([SMITH], reply)
    run(probe)
    prompt = probe.last_prompt
    assert prompt is not None
    entry = len(probe.backend.tokenize(on_own_lines(SMITH)))
    for n_ctx, inserted in ((prompt.used + entry - 1, False), (prompt.used + entry, True)):
        session, backend = make([SMITH], reply, n_ctx=n_ctx)
        session.builder.world_share = 0.9  # only the context bounds it here
        events, _ = run(session)
        assert any(isinstance(e, LoreInserted) for e in events) == inserted
        assert all(len(p) + 60 <= n_ctx for p in backend.prompts[:1])
        if inserted:
            prompt2 = backend.prompts[-1]
            written = len(backend.tokenize(" You meet the blacksmith"))
            assert len(prompt2) - written + 60 <= n_ctx  # the whole reply still fits


def test_no_room_left_in_the_reply_no_insertion() -> None:
    # The key is the reply's last token (8 with the scripted tokenizer): nothing to go on.
    session, backend = make([SMITH], script(" You meet the blacksmith", {}), max_tokens=8)
    events, done = run(session)
    assert done.text == " You meet the blacksmith"
    assert not any(isinstance(e, LoreInserted) for e in events)
    assert len(backend.prompts) == 1


def test_the_setting_turns_it_off() -> None:
    session, backend = make([SMITH], script(" You meet the blacksmith.",
                                            {SMITH.content: " He waves."}))
    session.builder.lore_mid_reply = False
    events, _ = run(session)
    assert not any(isinstance(e, LoreInserted) for e in events)
    assert len(backend.prompts) == 1


def test_the_next_prompt_keeps_the_entry_where_the_cache_has_it() -> None:
    session, backend = make([SMITH], script(
        " You meet the blacksmith.", {SMITH.content: " He waves."}))
    run(session)
    evaluated = backend.prompts[-1]  # the prompt the reply was finished on
    run(session, "I wave back")
    nxt = backend.prompts[-1]
    reply = backend.tokenize(session.state.turns[-3].text)
    # Everything the cache holds (prompt, entry, reply so far, the rest of the reply) is
    # where it was: only the player's new line is new.
    assert nxt[:len(evaluated)] == evaluated
    assert nxt[len(evaluated) - len(backend.tokenize(" You meet the blacksmith")):][
        :len(reply)] == reply


def test_a_chat_reply_gets_the_entry_before_its_speaker_cue() -> None:
    session, backend = make([SMITH], script(
        " Ah, the blacksmith", {SMITH.content: " came by this morning."}),
        story="tavern-keeper")
    events, done = run(session, "Who made this sword?")
    assert any(isinstance(e, LoreInserted) for e in events)
    prompt = backend.detokenize(backend.prompts[-1])
    cue = f"\n{session.state.chat.character}:"  # type: ignore[union-attr]
    assert prompt.endswith(on_own_lines(SMITH) + cue + " Ah, the blacksmith")


def test_the_reply_stats_count_every_stream() -> None:
    session, backend = make([SMITH], script(
        " You meet the blacksmith.", {SMITH.content: " He waves at you."}))
    _, done = run(session)
    stats = done.stats
    assert stats is not None
    first, second = backend.prompts
    written = backend.tokenize(done.text)
    assert stats.prompt_tokens == len(first)
    assert stats.evaluated_tokens == len(first) + len(second)  # the fake evaluates it all
    assert stats.generated_tokens == len(written)
    assert session.mid_reply.insertions[0].reply_tokens == len(
        backend.tokenize(" You meet the blacksmith"))


def _brannoc(session: Session, in_view: bool) -> None:
    """Turns that make Brannoc an automatic entry, then turns that do not name him (so the
    prompt has no entry for him); ``in_view``: his sentences stay in the window."""
    state = session.state
    state.turns += [Turn(role="player", text="\n> You meet Brannoc.\n"),
                    Turn(role="model", text=" Brannoc the smith hid the silver key beneath "
                                            "the old anvil. You follow Brannoc to the mill.")]
    if not in_view:
        session.builder.plan.window_start = len(state.turns)
    for i in range(4):
        state.turns += [Turn(role="player", text=f"\n> You walk {i}.\n"),
                        Turn(role="model", text=f" The road goes on {i}.")]
    session.configure(auto_lore=True)  # (the story changed under the session: count it)
    assert [e.keys for e in state.lore if e.content] == [("Brannoc",)]


def test_an_automatic_entry_named_mid_reply_goes_in_within_its_share() -> None:
    for share, inserted in ((0.1, True), (0.0, False)):
        session, backend = make([], lambda _prompt: " Brannoc waves from the bridge.")
        _brannoc(session, in_view=False)
        session.configure(auto_lore_share=share)
        events, _ = run(session)
        assert any(isinstance(e, LoreInserted) for e in events) is inserted
        assert ("hid the silver key" in backend.detokenize(backend.prompts[-1])) is inserted


def test_an_automatic_entry_whose_sentences_are_in_view_is_not_inserted() -> None:
    session, backend = make([], lambda _prompt: " Brannoc waves from the bridge.")
    _brannoc(session, in_view=True)
    events, _ = run(session)
    assert not any(isinstance(e, LoreInserted) for e in events) and len(backend.prompts) == 1
