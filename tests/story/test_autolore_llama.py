"""Automatic lore through real llama.cpp on a tiny generated GPT-2: the fact an automatic
entry holds reaches the prompt when its name comes up, and only the entry and the action
are evaluated, though the entries keep changing as the story names them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.context import ContextBuilder
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.session import Session
from tests.story.recall.stories import FACTS, planted_story
from tests.support.evaluated import prompt_evaluated


@pytest.fixture(scope="module")
def backend(tiny_gguf: Path) -> LlamaBackend:
    b = LlamaBackend(tiny_gguf, threads=2, seed=5)
    yield b
    b.close()


def test_lore_evaluates_only_the_entry_and_the_action(backend: LlamaBackend) -> None:
    builder = ContextBuilder(backend.tokenize, backend.n_ctx)  # no recall: lore alone
    session = Session(planted_story(150), backend, Sampling(max_tokens=16, temperature=0.9),
                      max_rerolls=0, builder=builder)
    names = list(FACTS)
    checked = with_lore = 0
    previous: list[int] = []
    for turn in range(12):
        start = builder.plan.window_start
        ready = session.warm_prompt()  # as while the player types: up to the action
        assert ready is not None
        session.prefill(ready)
        if previous and builder.plan.window_start == start:  # no trim came
            # what the model saw last turn is where this one starts (an entry changed since
            # shows as it was placed), so the warm-up evaluated only the reply
            assert ready[:len(previous)] == previous
        warm = set(builder.plan.late_world)
        name = names[turn // 2 % 3]
        line = (f"You ask {name} about the silver key, {turn} times" if turn % 2 == 0
                else f"You rest {turn}")
        before = {e.keys[0]: e.content for e in session.state.lore}
        events = list(session.act(line))
        assert isinstance(events[-1], Done) and not events[-1].cancelled
        prompt, stats = session.last_prompt, events[-1].stats
        assert prompt is not None and stats is not None
        assert stats.prompt_tokens + stats.generated_tokens <= backend.n_ctx
        if turn % 2 == 0:
            assert FACTS[name] in backend.detokenize(prompt.tokens)
            # the entry keeps up with the story (the action told of the name)
            assert session.state.lore[names.index(name)].content != before[name]
        previous = prompt.tokens
        if prompt.trimmed:
            continue
        new = sum(len(backend.tokenize("\n" + builder.plan.world_text[i] + "\n"))
                  for i, _ in set(builder.plan.late_world) - warm)
        action = len(backend.tokenize(session.state.turns[-2].text))
        assert prompt_evaluated(session, stats) <= action + new + 2
        checked += 1
        with_lore += new > 0
    assert checked >= 8 and with_lore >= 2
