"""Recall through real llama.cpp on a tiny generated GPT-2: the recalled fact reaches the
prompt, and only the new part (the passage and the action) is evaluated."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.context import ContextBuilder
from gpt2_adventure.story.events import Done
from gpt2_adventure.story.recall.recall import Recall
from gpt2_adventure.story.session import Session
from tests.story.recall.stories import FACTS, planted_story
from tests.support.evaluated import prompt_evaluated


@pytest.fixture(scope="module")
def backend(tiny_gguf: Path) -> LlamaBackend:
    b = LlamaBackend(tiny_gguf, threads=2, seed=5)
    yield b
    b.close()


def test_recall_evaluates_only_the_passage_and_the_action(backend: LlamaBackend) -> None:
    builder = ContextBuilder(backend.tokenize, backend.n_ctx, recall=Recall())
    builder.auto_lore = False  # recall alone (tests/story/test_autolore_llama.py: with lore)
    session = Session(planted_story(150), backend, Sampling(max_tokens=16, temperature=0.9),
                      max_rerolls=0, builder=builder)
    names = list(FACTS)
    checked = with_recall = 0
    for turn in range(12):
        session.warm()  # as while the player types: the prompt up to the action is ready
        warm = set(builder.plan.recall)
        line = f"You ask about {names[turn % 3]}" if turn % 2 == 0 else f"You rest {turn}"
        events = list(session.act(line))
        assert isinstance(events[-1], Done) and not events[-1].cancelled
        prompt, stats = session.last_prompt, events[-1].stats
        assert prompt is not None and stats is not None
        assert stats.prompt_tokens + stats.generated_tokens <= backend.n_ctx
        shown = backend.detokenize(prompt.tokens)
        if turn % 2 == 0:
            assert FACTS[names[turn % 3]] in shown
        if prompt.trimmed:
            continue
        new_recall = sum(len(backend.tokenize("\n" + text + "\n"))
                         for _, _, _, text in set(builder.plan.recall) - warm)
        action = len(backend.tokenize(session.state.turns[-2].text))
        assert prompt_evaluated(session, stats) <= action + new_recall + 2
        checked += 1
        with_recall += new_recall > 0
    assert checked >= 8 and with_recall >= 3
