"""What GPT-2 sees: the prompt's labelled parts join to exactly the tokens the backend gets."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.context import ContextBuilder, Prompt, Span
from gpt2_adventure.story.inspect import LABELS, next_prompt, prompt_parts, split_action
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn, WorldEntry
from gpt2_adventure.story.recall.recall import Recall
from gpt2_adventure.story.session import Session
from tests.story.recall.stories import FACTS, planted_story
from tests.story.test_context import sessions
from tests.support.fake_backend import FakeBackend


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_the_parts_join_to_exactly_the_prompt(case) -> None:  # noqa: ANN001
    state, exchanges, n_ctx, reply = case
    backend = FakeBackend(n_ctx=n_ctx)
    builder = ContextBuilder(backend.tokenize, n_ctx)
    for action, answer in exchanges:
        state.turns.append(Turn(role="player", text=f"\n> {action}\n"))
        prompt = builder.build(state, reply, tail="\nAnna:")
        parts = prompt_parts(prompt, state, backend.detokenize)
        assert [t for part in parts for t in part.tokens] == prompt.tokens
        assert len(prompt.tokens) + prompt.parts["reply"] <= n_ctx
        assert all(part.label in LABELS and part.tokens for part in parts)
        for label in LABELS:  # each part's count is the meter's
            key = "pinned" if label == "memory" else label
            assert sum(len(p.tokens) for p in parts if p.label == label) == prompt.parts[key]
        # the text each part shows is what its tokens spell
        for part in parts:
            assert backend.detokenize(part.tokens) == part.text
        state.turns.append(Turn(role="model", text=" " + answer))


def test_a_cut_persona_and_memory_still_join_and_are_marked() -> None:
    backend = FakeBackend(n_ctx=128)
    builder = ContextBuilder(backend.tokenize, 128)
    state = StoryState(mode="chat", title="t", memory="the sky is green . " * 30,
                       chat=ChatSpec(character="Bo", persona="Bo is tall .\n" * 30,
                                     example_dialogue="Bo: hi\nYou: yo\n\nBo: bye"),
                       turns=[Turn(role="opening", text="Bo waves .")])
    prompt = builder.build(state, 20)
    parts = prompt_parts(prompt, state, backend.detokenize)
    assert prompt.pinned_cut
    assert [t for part in parts for t in part.tokens] == prompt.tokens
    assert [p.label for p in parts][:2] == ["persona", "examples"]
    assert any("cut to fit" in p.marks for p in parts)


def make_session(state: StoryState, backend: FakeBackend, *, recall: bool = False) -> Session:
    builder = ContextBuilder(backend.tokenize, backend.n_ctx,
                             recall=Recall() if recall else None)
    return Session(state, backend, Sampling(max_tokens=40), builder=builder)


def test_an_action_is_looked_at_without_being_taken_and_its_prompt_is_the_one_sent() -> None:
    backend = FakeBackend([" The smith looks up ."], n_ctx=512)
    state = planted_story(120)
    state.world.append(WorldEntry(keys=("anvil",), content="The anvil is older than Harrow."))
    session = make_session(state, backend, recall=True)
    # The recalled passage is what is looked at here (an automatic entry for Brannoc would
    # show the fact instead, and recall never repeats what an entry shows).
    session.configure(auto_lore=False)
    saved: list[StoryState] = []
    session.on_change = saved.append
    before = [turn.to_dict() for turn in state.turns]
    plan = asdict(session.builder.plan)

    seen = next_prompt(session, "ask the guard about Brannoc")

    assert [turn.to_dict() for turn in state.turns] == before  # no turn added
    assert saved == [] and backend.prompts == []  # nothing saved, nothing sent
    assert asdict(session.builder.plan) == plan
    assert seen.action == "ask the guard about Brannoc"
    recalled = [p for p in seen.parts if p.recalled]
    assert [p.text for p in recalled] == ["\n" + FACTS["Brannoc"] + "\n"]
    assert recalled[0].marks == ("recalled from turn 3",)
    assert seen.parts[-1].label == "story"
    assert seen.parts[-1].text.endswith("\n> You ask the guard about Brannoc.\n")

    list(session.act("ask the guard about Brannoc"))
    assert backend.prompts[-1] == seen.tokens  # exactly what the backend got
    assert len(seen.tokens) + seen.reply <= seen.n_ctx


def test_without_an_action_it_is_the_next_reply_s_prompt() -> None:
    backend = FakeBackend([" Hello there ."], n_ctx=256)
    state = StoryState(mode="chat", title="t", memory="Bo runs the inn .",
                       chat=ChatSpec(character="Bo", persona="Bo is kind ."),
                       turns=[Turn(role="opening", text="Bo: Welcome !")])
    state.authors_note = "Bo is tired ."
    session = make_session(state, backend)
    session.state.turns.append(Turn(role="player", text="\nYou: hi", kind="say", raw="hi"))
    seen = next_prompt(session)
    labels = [p.label for p in seen.parts]
    assert labels[:2] == ["persona", "memory"] and labels[-1] == "tail"
    assert "note" in labels and seen.parts[-1].text == "\nBo:"
    list(session.continue_())
    assert backend.prompts[-1] == seen.tokens


def test_world_entries_are_named_and_automatic_lore_is_marked() -> None:
    backend = FakeBackend(n_ctx=512)
    state = StoryState(mode="adventure", title="t",
                       world=[WorldEntry(keys=("Mira",), content="Mira is a thief ."),
                              WorldEntry(keys=("Harrow", "town"), content="Harrow is old .")],
                       turns=[Turn(role="opening", text="Mira walks to Harrow .")])
    seen = next_prompt(make_session(state, backend))
    world = [p for p in seen.parts if p.label == "world"]
    assert [p.marks for p in world] == [("entry 1 (Mira)",), ("entry 2 (Harrow, town)",)]
    size = len(backend.tokenize("Harrow is old .\n"))
    assert world[1].heading() == f"world · entry 2 (Harrow, town) · {size} tokens"
    assert not any(p.automatic for p in world)


def test_automatic_lore_is_marked() -> None:
    # Automatic entries (story/autolore.py) are kept in state.lore; the layout holds the
    # i-th as ~i.
    backend = FakeBackend(n_ctx=512)
    state = StoryState(mode="adventure", title="t",
                       turns=[Turn(role="opening", text="Mira walks to Harrow .")])
    lore = [WorldEntry(keys=("Brannoc",), content="Brannoc is a smith ."),
            WorldEntry(keys=("Harrow",), content="Harrow is a river town .")]
    setattr(state, "lore", lore)  # noqa: B010 (a field only the automatic lore's branch has)
    text = "Harrow is a river town .\n"
    opening = state.turns[0].text
    spans = (Span("world", backend.tokenize(text), text, ~1),
             Span("story", backend.tokenize(opening), opening, 0))
    prompt = Prompt(tokens=[t for span in spans for t in span.tokens], parts={},
                    first_visible_turn=0, spans=spans)
    world, story = prompt_parts(prompt, state, backend.detokenize)
    assert world.automatic and not world.recalled and not story.automatic
    assert world.marks == ("automatic lore (Harrow)",)
    assert world.heading().startswith("world · automatic lore (Harrow) · ")


def test_an_action_may_say_its_kind() -> None:
    assert split_action("/say hello there") == ("hello there", "say")
    assert split_action("/STORY The rain stops.") == ("The rain stops.", "story")
    assert split_action(" open the door ") == ("open the door", "do")
    assert split_action("/sayhello") == ("/sayhello", "do")


def test_a_said_action_s_prompt_is_the_one_sent() -> None:
    backend = FakeBackend([" The guard nods ."], n_ctx=256)
    rng = random.Random(3)
    state = StoryState(mode="adventure", title="t",
                       turns=[Turn(role="opening", text="A guard stands there .")])
    for i in range(rng.randint(1, 5)):
        state.turns += [Turn(role="player", text=f"\n> You wait {i} .\n", kind="do"),
                        Turn(role="model", text=" Time passes .")]
    session = make_session(state, backend)
    seen = next_prompt(session, "/say hello")
    lines = seen.lines()
    assert lines[0].startswith("the prompt for '/say hello': ")
    assert any(line.startswith("── story · turns 1-") for line in lines)
    list(session.act("hello", "say"))
    assert backend.prompts[-1] == seen.tokens


def test_with_real_llama_cpp_the_parts_are_the_tokens_it_evaluates(tiny_gguf: Path) -> None:
    from gpt2_adventure.engine.llama.backend import LlamaBackend

    backend = LlamaBackend(tiny_gguf, threads=2, seed=5)
    try:
        state = StoryState(mode="chat", title="t", memory="Bo runs the inn.",
                           chat=ChatSpec(character="Bo", persona="Bo is kind. Café, naïve."),
                           turns=[Turn(role="opening", text="\nBo: Welcome, é traveller!")])
        session = Session(state, backend, Sampling(max_tokens=16, temperature=0.9))
        sent: list[list[int]] = []
        stream = backend.stream

        def recording(tokens, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            sent.append(list(tokens))
            return stream(tokens, *args, **kwargs)

        backend.stream = recording  # type: ignore[method-assign]
        for turn in range(6):  # the replies' tokens are the model's own from now on
            seen = next_prompt(session, f"tell me about room {turn} 🐉")
            first = len(sent)
            list(session.act(f"tell me about room {turn} 🐉", "say"))
            # the reply's first stream is the prompt (a reroll, or lore put in mid-reply,
            # streams again from a changed one)
            assert sent[first] == seen.tokens
            assert all(backend.detokenize(part.tokens) == part.text for part in seen.parts)
    finally:
        backend.close()
