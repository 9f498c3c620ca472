"""`/context [ACTION]`: the next reply's prompt part by part, in Game and in plain mode."""

from __future__ import annotations

import io
import random

from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game
from gpt2_adventure.game_commands.outcomes import ShowContext
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.plain import make_console, run_plain
from gpt2_adventure.story.model import Turn
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend

MARKUP = " [bold red]loud[/bold red] **strong** \x1b[31mred"


def open_game(replies: list[str]) -> tuple[Game, FakeBackend]:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    backend = FakeBackend(replies)
    return Game(Session(state, backend, Sampling(max_tokens=60)), SaveStore(paths)).open(), \
        backend


def test_context_with_an_action_sends_nothing_and_changes_nothing() -> None:
    game, backend = open_game([" The door creaks open."])
    saves: list[object] = []
    game.session.on_change = saves.append  # every autosave goes through here
    turns = [turn.to_dict() for turn in game.state.turns]
    outcome = game.handle("/context open the door")
    assert isinstance(outcome, ShowContext)
    assert [turn.to_dict() for turn in game.state.turns] == turns
    assert saves == [] and backend.prompts == []
    seen = outcome.seen
    labels = [p.label for p in seen.parts]
    assert labels[0] == "memory" and labels[-3:] == ["story", "note", "story"]
    assert set(labels[1:-3]) == {"world"}
    assert seen.parts[-1].text.endswith("\n> You open the door.\n")
    assert outcome.fallback.lines[0] == seen.summary()
    assert f"── {seen.parts[0].heading()} ──" in outcome.fallback.lines

    stream = game.handle("open the door")
    list(stream.events)  # type: ignore[union-attr]
    assert backend.prompts[-1] == seen.tokens  # the prompt it showed is the one sent
    game.close()


def test_plain_mode_prints_each_part_under_its_label_and_markup_literally() -> None:
    game, backend = open_game([" It creaks."])
    game.state.turns.append(Turn(role="model", text=MARKUP))
    out = io.StringIO()
    assert run_plain(game, io.StringIO("/context\n/context /say hi\n"), make_console(out)) == 0
    text = out.getvalue()
    seen = text.split("the next reply's prompt: ", 1)[1]
    assert seen.index("── memory · ") < seen.index("── world · ") < seen.index("── story · ") \
        < seen.index("── note · ")
    assert "[bold red]loud[/bold red] **strong** \\x1b[31mred" in seen
    assert "the prompt for '/say hi': " in text
    assert text.rstrip().endswith('> You say "Hi."')
    assert backend.prompts == [] and game.state.turns[-1].text == MARKUP
