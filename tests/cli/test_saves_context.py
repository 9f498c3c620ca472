"""`saves context NAME [--action TEXT] [--json]`: a save's next prompt, part by part, with the
model's tokenizer (a tiny GGUF with the real GPT-2 vocabulary)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.model import Turn
from gpt2_adventure.story.saves.store import SaveStore
from tests.cli.test_app import assert_clean_error, run
from tests.story.recall.stories import FACTS, planted_story

runner = CliRunner()
MARKUP = " [bold red]loud[/bold red] \x1b[31mred"


def save_story(name: str = "long") -> Path:
    state = planted_story(150)
    state.turns.append(Turn(role="model", text=MARKUP))
    store = SaveStore(AppPaths.from_env())
    store.save(state, name)
    return store.locate(name)


def test_json_parts_join_to_the_prompt_and_the_save_is_left_alone(tiny_gguf: Path) -> None:
    from gpt2_adventure.cli.saves import saves_app

    path = save_story()
    before = path.read_bytes()
    result = runner.invoke(saves_app, ["context", "long", "--model", str(tiny_gguf), "--json",
                                       "--action", "ask the guard about Brannoc"])
    assert result.exit_code == 0, result.output
    parts = json.loads(result.output)
    assert all(set(part) == {"label", "text", "tokens", "marks"} for part in parts)
    # Brannoc is a name the story wrote twice: his automatic entry shows the fact (and recall
    # does not repeat it)
    shown = [part for part in parts if FACTS["Brannoc"] in part["text"]]
    assert [(part["label"], part["marks"]) for part in shown] == [
        ("world", ["automatic lore (Brannoc)"])]
    assert parts[-1]["label"] == "story"
    assert parts[-1]["text"].endswith("\n> You ask the guard about Brannoc.\n")
    backend = LlamaBackend(tiny_gguf, n_ctx=1024)
    try:  # each count is its text's, and the whole fits the context with the reply's room
        assert all(part["tokens"] == len(backend.tokenize(part["text"])) for part in parts)
    finally:
        backend.close()
    assert sum(part["tokens"] for part in parts) <= 1024 - 60
    assert path.read_bytes() == before


def test_text_output_labels_each_part_and_shows_markup_literally(tiny_gguf: Path) -> None:
    from gpt2_adventure.cli.saves import saves_app

    save_story()
    result = runner.invoke(saves_app, ["context", "long", "--model", str(tiny_gguf)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("the next reply's prompt: ") and "turns out of view" in lines[0]
    assert lines[1].startswith("── story · turns ") and lines[1].endswith(" tokens ──")
    assert lines[-1].endswith(" lies ahead. [bold red]loud[/bold red] \\x1b[31mred")


def test_a_bad_name_is_one_error_line_and_exit_2() -> None:
    assert_clean_error(run("saves", "context", "nowhere"), "no save named 'nowhere'")


def test_no_model_is_one_error_and_exit_2() -> None:
    save_story()
    assert_clean_error(run("saves", "context", "long"), "gpt2-adventure models pull gpt2")
