"""The context builder: never past the context, turns in order, trims in chunks, stable prefix."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.story.context import ContextBuilder, note_text, triggered_world
from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from tests.support.fake_backend import FakeBackend
from tests.support.prefix import common_prefix

WORDS = st.sampled_from(["the", "dragon", "cave", "sword", "Anna", "door", "gold", "runs",
                         "dark", ".", ",", "!", "\n", "castle", "a", "you", "é", "🐉"])


def text(min_words: int, max_words: int) -> st.SearchStrategy[str]:
    return st.lists(WORDS, min_size=min_words, max_size=max_words).map(" ".join)


@st.composite
def sessions(draw: st.DrawFn) -> tuple[StoryState, list[tuple[str, str]], int, int]:
    world = [WorldEntry(keys=(draw(WORDS),), content=draw(text(1, 80)),
                        always=draw(st.booleans()))
             for _ in range(draw(st.integers(0, 6)))]
    state = StoryState(mode="adventure", title="t", memory=draw(text(0, 400)),
                       authors_note=draw(text(0, 30)), world=world,
                       turns=[Turn(role="opening", text=draw(text(1, 300)))])
    turns = draw(st.lists(st.tuples(text(0, 60), text(0, 200)), min_size=1, max_size=40))
    n_ctx = draw(st.sampled_from([128, 256, 1024]))
    reply = draw(st.integers(1, 200))
    return state, turns, n_ctx, reply


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_prompt_plus_reply_never_exceeds_the_context(case) -> None:  # noqa: ANN001
    state, exchanges, n_ctx, reply = case
    backend = FakeBackend(n_ctx=n_ctx)
    builder = ContextBuilder(backend.tokenize, n_ctx)
    first_visible = 0
    for action, answer in exchanges:
        state.turns.append(Turn(role="player", text=f"\n> {action}\n"))
        prompt = builder.build(state, reply)
        assert len(prompt.tokens) + min(reply, n_ctx // 2) <= n_ctx
        assert prompt.used <= n_ctx
        # the window only moves forward in an append-only story, and never hides the action
        assert first_visible <= prompt.first_visible_turn < len(state.turns)
        first_visible = prompt.first_visible_turn
        state.turns.append(Turn(role="model", text=" " + answer))


def test_story_turns_stay_in_order_and_the_newest_are_kept() -> None:
    backend = FakeBackend(n_ctx=256)
    builder = ContextBuilder(backend.tokenize, 256)
    state = StoryState(mode="adventure", title="t", turns=[Turn(role="opening", text="Start.")])
    for i in range(60):
        state.turns.append(Turn(role="player", text=f"\n> act{i} .\n"))
        prompt = builder.build(state, 40)
        shown = backend.detokenize(prompt.tokens)
        numbers = [int(w[3:]) for w in shown.split() if w.startswith("act")]
        assert numbers == sorted(numbers) and numbers[-1] == i
        assert numbers == list(range(numbers[0], i + 1))  # contiguous: nothing skipped
        state.turns.append(Turn(role="model", text=f" reply{i} goes on and on ."))


def _play(builder: ContextBuilder, backend: FakeBackend, state: StoryState, turns: int,
          reply: int = 12) -> tuple[list[float], list[int]]:
    shares: list[float] = []
    trims: list[int] = []
    previous: list[int] | None = None
    for i in range(turns):
        state.turns.append(Turn(role="player", text=f"\n> You walk north {i} .\n"))
        prompt = builder.build(state, reply)
        if prompt.trimmed:
            trims.append(i)
        if previous is not None:
            shares.append(common_prefix(previous, prompt.tokens) / len(prompt.tokens))
        answer = f" The road goes on {i} , and the wind is cold here ."
        state.turns.append(Turn(role="model", text=answer))
        previous = prompt.tokens + backend.tokenize(answer)
    return shares, trims


def test_trimming_happens_in_chunks_and_the_prefix_is_reused() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = ContextBuilder(backend.tokenize, 512)
    state = StoryState(mode="adventure", title="t", memory="You are a knight.",
                       authors_note="grim", turns=[Turn(role="opening", text="You ride.")])
    shares, trims = _play(builder, backend, state, 200)
    # ~37 tokens a turn; each trim frees over half of the 512-token context: ~7 turns' worth
    assert len(trims) > 5
    assert min(b - a for a, b in zip(trims, trims[1:])) >= 6
    assert sum(shares) / len(shares) >= 0.8


def test_turns_that_fell_out_of_view_are_reported() -> None:
    backend = FakeBackend(n_ctx=128)
    builder = ContextBuilder(backend.tokenize, 128)
    state = StoryState(mode="adventure", title="t", turns=[Turn(role="opening", text="Go.")])
    _play(builder, backend, state, 30)
    prompt = builder.build(state, 12)
    assert prompt.first_visible_turn > 0
    hidden = "".join(t.text for t in state.turns[: prompt.first_visible_turn])
    assert hidden not in backend.detokenize(prompt.tokens)
    assert sum(v for k, v in prompt.parts.items() if k != "reply") == len(prompt.tokens)


def test_memory_stays_on_top_and_the_note_near_the_end() -> None:
    backend = FakeBackend(n_ctx=1024)
    builder = ContextBuilder(backend.tokenize, 1024)
    state = StoryState(mode="adventure", title="t", memory="MEMO", authors_note="NOTE",
                       turns=[Turn(role="opening", text="Begin.")])
    _play(builder, backend, state, 3)
    state.turns.append(Turn(role="player", text="\n> LAST\n"))
    shown = backend.detokenize(builder.build(state, 20).tokens)
    assert shown.startswith("MEMO\n")
    assert shown.index("NOTE") > shown.index("Begin")
    assert shown.endswith("> LAST\n")
    assert shown.count("[Author's note: NOTE]") == 1


def test_world_info_appears_when_its_key_is_mentioned() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    world = [WorldEntry(keys=("Larion",), content="Larion is a city of bridges."),
             WorldEntry(keys=("dragon",), secondary_keys=("cave",), content="DRAGON LORE"),
             WorldEntry(keys=(), content="ALWAYS", always=True)]
    state = StoryState(mode="adventure", title="t", world=world,
                       turns=[Turn(role="opening", text="You stand in a field.")])
    state.turns.append(Turn(role="player", text="\n> You look for the dragon.\n"))
    shown = backend.detokenize(builder.build(state, 20).tokens)
    assert "ALWAYS" in shown and "DRAGON LORE" not in shown and "bridges" not in shown
    state.turns.append(Turn(role="model", text=" Smoke rises from a cave near Larion."))
    state.turns.append(Turn(role="player", text="\n> You go there.\n"))
    shown = backend.detokenize(builder.build(state, 20).tokens)
    assert "DRAGON LORE" in shown and "bridges" in shown



def test_world_info_found_mid_window_goes_before_the_new_line_and_stays() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    world = [WorldEntry(keys=("Larion",), content="LARION LORE")]
    state = StoryState(mode="adventure", title="t", world=world, authors_note="NOTE",
                       turns=[Turn(role="opening", text="You stand in a field.")])
    for i in range(4):
        state.turns.append(Turn(role="player", text=f"\n> You walk {i}.\n"))
        state.turns.append(Turn(role="model", text=f" The road goes on {i}."))
    before = builder.build(state, 20).tokens
    state.turns.append(Turn(role="player", text="\n> You ask about Larion.\n"))
    prompt = builder.build(state, 20)
    shown = backend.detokenize(prompt.tokens)
    assert shown.endswith("on 3.\nLARION LORE\n\n> You ask about Larion.\n")
    # Everything the model had already seen is still the prompt's prefix.
    assert prompt.tokens[:len(before)] == before
    assert prompt.active_world == [0]
    state.turns.append(Turn(role="model", text=" Nobody answers."))
    state.turns.append(Turn(role="player", text="\n> You wait.\n"))
    later = builder.build(state, 20).tokens
    assert later[:len(prompt.tokens)] == prompt.tokens
    assert backend.detokenize(later).count("LARION LORE") == 1


def test_world_info_found_by_a_reply_waits_at_the_end_for_the_next_line() -> None:
    backend = FakeBackend()
    builder = ContextBuilder(backend.tokenize, 1024)
    world = [WorldEntry(keys=("Larion",), content="LARION LORE")]
    state = StoryState(mode="adventure", title="t", world=world,
                       turns=[Turn(role="opening", text="You stand in a field.")])
    before = builder.build(state, 20).tokens
    state.turns.append(Turn(role="model", text=" A sign points to Larion."))
    warm = builder.build(state, 20).tokens
    assert backend.detokenize(warm).endswith("Larion.\nLARION LORE\n")
    assert warm[:len(before)] == before
    state.turns.append(Turn(role="player", text="\n> You follow it.\n"))
    assert builder.build(state, 20).tokens[:len(warm)] == warm

def test_triggers_ignore_case_and_need_a_secondary_key_when_given() -> None:
    world = [WorldEntry(keys=("Dragon",), secondary_keys=("red",), content="x")]
    assert triggered_world(world, "a DRAGON flies") == []
    assert triggered_world(world, "a red dragon flies") == [0]


def test_note_text_wraps_bare_notes() -> None:
    assert note_text("dark and tense") == "[Author's note: dark and tense]"
    assert note_text("[Style: terse]") == "[Style: terse]"
    assert note_text("  ") == ""


def test_huge_memory_and_action_still_fit() -> None:
    backend = FakeBackend(n_ctx=128)
    builder = ContextBuilder(backend.tokenize, 128)
    state = StoryState(mode="adventure", title="t", memory="fact " * 500,
                       authors_note="note " * 100,
                       turns=[Turn(role="opening", text="o"),
                              Turn(role="player", text="\n> " + "word " * 400 + "\n")])
    prompt = builder.build(state, 30)
    assert len(prompt.tokens) <= 128 - 30 and prompt.pinned_cut


def test_a_long_persona_is_cut_at_a_line_or_mid_line_and_ends_with_a_line_break() -> None:
    from gpt2_adventure.story.model import ChatSpec

    backend = FakeBackend(n_ctx=200)
    builder = ContextBuilder(backend.tokenize, 200)  # persona and memory: 60 tokens
    lines = "\n".join(f"Line {i} of the persona goes on ." for i in range(20))
    for persona, whole_lines in ((lines, True), ("one endless line " * 40, False)):
        state = StoryState(mode="chat", title="t", memory="Remember this .",
                           chat=ChatSpec(character="Mira", persona=persona),
                           turns=[Turn(role="opening", text="A shop .")])
        prompt = builder.build(state, 20)
        top = backend.detokenize(prompt.tokens[:prompt.parts["persona"]])
        assert prompt.pinned_cut and top.endswith("\n")
        assert prompt.parts["persona"] + prompt.parts["pinned"] <= 60
        if whole_lines:
            assert top.rstrip("\n").endswith("goes on .") and prompt.parts["persona"] >= 45
        else:
            assert prompt.parts["persona"] == 60 and prompt.parts["pinned"] == 0
        assert backend.detokenize(prompt.tokens).endswith("A shop .")


def test_the_next_trim_is_laid_out_ahead_and_taken_when_it_comes() -> None:
    backend = FakeBackend(n_ctx=512)
    builder = ContextBuilder(backend.tokenize, 512)
    state = StoryState(mode="adventure", title="t", memory="You are a knight.",
                       authors_note="grim", turns=[Turn(role="opening", text="You ride.")])
    spare: list[int] | None = None
    laid: int | None = None
    spares = 0
    trims = 0
    at: list[int] = []
    for i in range(120):
        state.turns.append(Turn(role="player", text=f"\n> You walk to place {i}.\n"))
        before = builder.plan.window_start
        prompt = builder.build(state, 40)
        if prompt.trimmed:
            trims += 1
            at.append(i)
            # Laid out for the story still to come: after it the prompt is back near the
            # low-water mark, so trims stay as rare as without laying them out ahead.
            assert len(prompt.tokens) <= builder.low_water * 512 + 40
            if spare is not None:
                # The trim kept what was laid out ahead, its first turn fixed before it
                # came: only its end differs.
                shared = common_prefix(spare, prompt.tokens)
                assert builder.plan.window_start > before
                assert laid is not None and builder.plan.window_start == laid
                assert shared >= len(spare) - len(backend.tokenize(note_text("grim"))) - 2
                spares += 1
        state.turns.append(Turn(role="model", text=f" The road goes on past hill {i}."))
        spare = builder.next_window(state, 40)
        laid = builder.plan.next_start
    assert trims >= 5 and spares == trims
    assert min(b - a for a, b in zip(at, at[1:])) >= 5
