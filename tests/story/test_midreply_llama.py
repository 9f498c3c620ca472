"""Lore in the same reply through real llama.cpp on a tiny generated GPT-2: the reply goes
on as a fresh evaluation of the changed prompt writes it, and only the entry and the reply
so far are evaluated again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.events import Done, LoreInserted
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from gpt2_adventure.story.session import Session
from tests.support.logits import greedy_paths_agree


def on_own_lines(entry: WorldEntry) -> str:
    """An entry as the prompt holds it among the turns: on lines of its own."""
    return "\n" + entry.content.strip() + "\n"

# Greedy, with penalties strong enough that the random tiny model does not write one token
# over and over; they see the prompt (entry and reply so far included), as a fresh
# evaluation's do.
GREEDY = Sampling(temperature=0.0, repeat_penalty=1.5, presence_penalty=4.0, ignore_eos=True,
                  max_tokens=24)
OPENING = "You stand at the gate of a ruined castle. A crow watches you from the wall."
LORE = "The crow is the ghost of the old king, and it knows where the crown is hidden."


@pytest.fixture(scope="module")
def backend(tiny_gguf: Path) -> Iterator[LlamaBackend]:
    b = LlamaBackend(tiny_gguf, threads=2, seed=5)
    yield b
    b.close()


def story(world: list[WorldEntry]) -> StoryState:
    # Story mode: no stop strings and no clean-up to whole sentences, so the reply's tokens
    # are all there is to compare.
    return StoryState(mode="story", title="t", world=world,
                      turns=[Turn(role="opening", text=OPENING)])


def written_key(backend: LlamaBackend) -> tuple[str, int]:
    """A key the greedy reply to the story writes a few tokens in (random weights write no
    words of their own), and how many of the reply's tokens come before it."""
    session = Session(story([]), backend, GREEDY, max_rerolls=0)
    list(session.act(""))
    prompt = session.last_prompt
    assert prompt is not None
    reply = backend.evaluated[len(prompt.tokens):]
    for start in range(3, 10):
        key = backend.detokenize(reply[start:start + 1]).strip()
        before = backend.detokenize(reply[:start + 1])
        if len(key) >= 3 and key.isprintable() and before.lower().count(key.lower()) == 1 \
                and key.lower() not in OPENING.lower():
            return key, start + 1
    pytest.skip("the tiny model's reply has no token fit to be a key")


def test_the_reply_goes_on_as_a_fresh_evaluation_of_the_changed_prompt(
        backend: LlamaBackend, tiny_gguf: Path) -> None:
    key, at = written_key(backend)
    entry = WorldEntry(keys=(key,), content=LORE)
    backend.reset_cache()
    session = Session(story([entry]), backend, GREEDY, max_rerolls=0)
    events = list(session.act(""))
    done = events[-1]
    assert isinstance(done, Done) and not done.cancelled
    assert [e.keys for e in events if isinstance(e, LoreInserted)] == [(key,)]
    prompt = session.last_prompt
    assert prompt is not None
    insertion = session.mid_reply.insertions[0]
    assert insertion.reply_tokens == at
    entry_tokens = backend.tokenize(on_own_lines(entry))
    # The cache holds the changed prompt (the reply so far after the entry), then the rest.
    evaluated = backend.evaluated
    changed = evaluated[:len(prompt.tokens) + len(entry_tokens) + at]
    assert changed[:len(prompt.tokens)] == prompt.tokens
    assert changed[len(prompt.tokens):][:len(entry_tokens)] == entry_tokens
    went_on = evaluated[len(changed):]
    assert len(went_on) == GREEDY.max_tokens - at - 1  # the last token is never evaluated

    # Only the entry and the reply so far were evaluated again.
    assert insertion.evaluated == len(entry_tokens) + at
    stats = done.stats
    assert stats is not None
    assert stats.generated_tokens == GREEDY.max_tokens

    # A fresh evaluation of the changed prompt, from an empty cache.
    backend.reset_cache()
    "".join(backend.stream(changed, replace(GREEDY, max_tokens=GREEDY.max_tokens - at)))
    fresh = backend.evaluated[len(changed):]
    assert greedy_paths_agree(tiny_gguf, changed, went_on, fresh) == ""
    # ... and the entry made a difference: without it the reply goes on otherwise.
    plain = changed[:len(prompt.tokens)] + changed[len(prompt.tokens) + len(entry_tokens):]
    backend.reset_cache()
    "".join(backend.stream(plain, replace(GREEDY, max_tokens=GREEDY.max_tokens - at)))
    assert backend.evaluated[len(plain):] != went_on


def test_the_next_turn_evaluates_only_its_action(backend: LlamaBackend) -> None:
    key, _ = written_key(backend)
    session = Session(story([WorldEntry(keys=(key,), content=LORE)]), backend, GREEDY,
                      max_rerolls=0)
    events = list(session.act(""))
    assert any(isinstance(e, LoreInserted) for e in events)
    done = list(session.act("The gate opens.", "story"))[-1]
    assert isinstance(done, Done)
    stats = done.stats
    assert stats is not None
    action = backend.tokenize(session.state.turns[-2].text)
    assert stats.evaluated_tokens <= len(action) + 2
