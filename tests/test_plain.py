"""Plain mode: the line REPL with a scripted backend, and the real play/chat/write commands."""

from __future__ import annotations

import _thread
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.game import Game, Stream
from gpt2_adventure.game_commands.outcomes import OpenSettings
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.plain import (
    PlainGame,
    WordWrap,
    make_console,
    pump,
    remainder,
    run_plain,
)
from gpt2_adventure.story.events import Done, Piece
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore, autosave_slot
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.cli.test_app import assert_clean_error
from tests.support.fake_backend import FakeBackend

LOOP = " You walk on. You walk on. You walk on. You walk on."


def make_game(story: str = "knight", replies: list[str] | None = None,
              backend: FakeBackend | None = None) -> Game:
    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, story), {"name": "Anna"}, random.Random(1))
    fake = backend or FakeBackend(list(replies or []))
    return Game(Session(state, fake, Sampling(max_tokens=60)), SaveStore(paths)).open()


class TtyInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def play(lines: str, replies: list[str] | None = None, story: str = "knight", *,
         game: Game | None = None, stdin: io.StringIO | None = None,
         console: Console | None = None) -> tuple[str, Game]:
    game = game or make_game(story, replies)
    out = io.StringIO()
    console = console or make_console(out)
    assert run_plain(game, stdin or io.StringIO(lines), console) == 0
    return (out.getvalue() if console.file is out else console.file.getvalue()), game


def test_three_turns_print_the_story_and_the_actions() -> None:
    out, game = play("open the door\n/say hello there\n/story A dragon lands.\n",
                     [" The door creaks open. A draft", " He nods.", " It roars."])
    assert out.startswith("The Dragon of the Anvil\n\nYou are Anna, a knight of Larion")
    assert "you see\n\n> You open the door.\n\nThe door creaks open.\n\n" in out
    assert '> You say "Hello there."\n\nHe nods.\n' in out
    assert "\nA dragon lands.\n\nIt roars.\n" in out
    assert "A draft" not in out  # the unfinished sentence the clean-up cut never showed
    assert "> open" not in out and "keep what" not in out  # no prompts without a terminal
    assert len(game.state.turns) == 7


def test_retry_and_undo_reprint_where_the_story_is() -> None:
    out, game = play("open the door\n/retry\n/undo\n", [" It creaks.", " It is locked."])
    assert "It creaks.\n\n(another reply:)\nIt is locked.\n" in out
    after = out.split("(undone)\n", 1)[1]
    assert "half buried in the ash, you see\n" in after and "It is locked" not in after
    assert len(game.state.turns) == 1


def test_a_loop_is_rewritten_after_a_note() -> None:
    out, game = play("walk\n", [LOOP, " You find a cave."])
    assert "(the reply repeats 'you walk on you'; writing it again)\nYou find a cave." in out
    assert game.state.turns[-1].text == " You find a cave."


def test_chat_shows_speakers() -> None:
    out, game = play("hello\n", [" Welcome, friend!\nAnna: hi"], story="tavern-keeper")
    assert "\nHobb: Come in, come in" in out
    assert "\nAnna: hello\nHobb: Welcome, friend!\n" in out
    assert game.state.turns[-1].text == "\nHobb: Welcome, friend!"


def test_story_mode_lines_continue_the_prose() -> None:
    out, game = play("ran into the woods\n\n", [" and found a house.", " Then she slept."],
                     story="fairy-tale")
    assert "only put on her cloak and ran into the woods and found a house.\n" in out
    assert out.endswith("Then she slept.\n")
    assert game.state.turns[-1].text == " Then she slept."


def test_slash_commands_print_info_and_errors() -> None:
    out, _ = play("/remember Dragons fear silver.\n/nope\n/help undo\n/note grim\n")
    assert "remembered: Dragons fear silver.\n" in out
    assert "error: unknown command /nope; did you mean /note? (/help lists them)\n" in out
    assert "/undo — take back the last action and its reply\n" in out
    assert "author's note: grim\n" in out


def test_an_export_into_a_missing_folder_is_one_error_and_play_goes_on(tmp_path: Path) -> None:
    target = tmp_path / "nodir" / "x.md"
    out, game = play(f"look\n/export md {target}\nopen the door\n", [" A door.", " It opens."])
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert errors == [f"error: the folder to export to does not exist ({target.parent})"]
    assert "It opens." in out and len(game.state.turns) == 5


def test_an_error_with_a_hint_is_one_error_line() -> None:
    out, _ = play("/load nosuch\n")
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no save named 'nosuch'" in errors[0]
    assert "\n/load alone lists the saves\n" in out  # the hint, plainly


def test_saving_over_another_games_save_is_refused_with_the_way_to_force_it() -> None:
    first, game = play("/save castle\n")
    assert "saved: " in first
    out, other = play("/save castle\n/save\n")
    assert "error: the save 'castle' holds another game ('The Dragon of the Anvil', 1 turn" \
        in out
    assert "/save --replace castle replaces it" in out
    store = SaveStore(AppPaths.from_env())
    assert store.load("castle").id == game.state.id
    assert store.load("The Dragon of the Anvil").id == other.state.id


def test_an_error_during_generation_is_shown_and_play_goes_on() -> None:
    out, game = play("/retry\nlook\n", [" A cave."])
    assert "error: there is no reply to retry\n" in out
    assert "A cave." in out and len(game.state.turns) == 3


def test_open_settings_prints_the_settings_listing() -> None:
    game = make_game()
    out = io.StringIO()
    outcome = game.handle("/settings")
    assert isinstance(outcome, OpenSettings)
    PlainGame(game, io.StringIO(""), make_console(out)).show(outcome)
    game.close()
    assert "temperature = " in out.getvalue() and "/settings NAME VALUE" in out.getvalue()


def test_what_a_screen_or_dialog_does_in_the_tui_is_said_on_a_line() -> None:
    out, game = play("look\n/load\n/edit\n/e\n/e 2 > You kick the door.\n", [" A door."])
    assert "load one with /load NAME:\nautosave/" in out  # the saves, to name one
    usage = "error: /edit [N] TEXT — replace turn N (default: the last reply) with TEXT\n"
    assert out.count(usage) == 2  # /e is /edit
    assert "(edited turn 2)" in out and game.state.turns[1].text == "\n> You kick the door.\n"


def test_quit_stops_reading() -> None:
    out, game = play("/quit\nopen the door\n")
    assert len(game.state.turns) == 1 and "door" not in out.split("you see", 1)[1]


def test_markup_and_escape_sequences_print_literally_without_colour() -> None:
    reply = " [bold]Hi[/bold] [@click=app.quit]x[/] \x1b[31mred\x1b]0;title\x07 :smile:."
    out, _ = play("look\n", [reply])
    assert "[bold]Hi[/bold] [@click=app.quit]x[/] \\x1b[31mred\\x1b]0;title\\x07 :smile:." in out
    assert "\x1b" not in out and "\x07" not in out


def test_colour_on_a_terminal_but_replies_stay_literal() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, color_system="standard",
                      highlight=False, markup=False, emoji=False)
    out, _ = play("look\n", [" [bold]Hi[/bold] \x1b[31mred."], console=console)
    joined = out.replace("\x1b[0m\x1b[1;36m", "")  # a word held back for wrapping: 2 runs
    assert "\x1b[1;36m> You look.\x1b[0m" in joined  # the action is styled
    assert "[bold]Hi[/bold] \\x1b[31mred." in out and "\x1b[31m" not in out


def test_word_wrap_breaks_between_words_however_the_text_arrives() -> None:
    text = ("The dragon lands on the anvil and roars; sparks fly from its scales.\n"
            "  An old man nods. Supercalifragilisticexpialidocious-words stay whole.")
    for size in (1, 3, 7, len(text)):
        wrap = WordWrap(lambda: 20)
        out = "".join(wrap.feed(text[i:i + size]) for i in range(0, len(text), size))
        out += wrap.flush()
        lines = out.split("\n")
        assert all(len(line) <= 20 for line in lines if " " in line), lines
        assert " ".join(out.split()) == " ".join(text.split())  # no word cut, none lost
        assert "  An old man" in out  # the text's own indentation stays
        assert not any(line.startswith(" ") for line in lines if "An old" not in line)


def test_plain_mode_wraps_at_word_boundaries_on_a_terminal_only() -> None:
    reply = " The door creaks open and a cold draft blows through the long dark hall."
    console = Console(file=io.StringIO(), force_terminal=True, width=24, highlight=False,
                      markup=False, emoji=False, no_color=True)
    out, _ = play("open the door\n", [reply], console=console)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert all(len(line) <= 24 for line in text.splitlines()), text
    assert " ".join(text.split()).count(" ".join(reply.split())) == 1  # every word whole
    piped, _ = play("open the door\n", [reply])  # a pipe: one line per paragraph
    assert reply.strip() + "\n" in piped


def test_end_of_input_autosaves_and_releases_the_game() -> None:
    _, game = play("open the door\n", [" It opens."])
    store = SaveStore(AppPaths.from_env())
    state = store.load(f"autosave/{autosave_slot(game.state.id)}")
    assert [t.text for t in state.turns][-1] == " It opens."
    with store.hold(game.state.id):  # closed: another window may open it now
        pass


def test_a_stopped_reply_is_dropped_without_a_terminal() -> None:
    game = make_game(replies=[" The door creaks open slowly."])
    game.session.backend.cancel_after = 4  # type: ignore[attr-defined]
    out, _ = play("open the door\n", game=game)
    assert "> You open the door.\n\nThe door\n(stopped; the unfinished reply was dropped)" in out
    assert len(game.state.turns) == 1 and game.session.pending is None


def test_a_stopped_reply_can_be_kept_on_a_terminal() -> None:
    game = make_game(replies=[" The door creaks open slowly."])
    game.session.backend.cancel_after = 4  # type: ignore[attr-defined]
    out, _ = play("", game=game, stdin=TtyInput("open the door\ny\n"))
    assert out.count("> ") >= 2  # prompts, on a terminal
    assert "keep what was written? [y/N] " in out and "(kept)" in out
    assert [t.text for t in game.state.turns][-1] == " The door"


class CtrlCBackend(FakeBackend):
    """Presses Ctrl+C once two pieces are written and the main thread shows the reply (so it
    waits on them), then writes nothing more until that became a cancel: no race with the
    main thread, however fast or slow the machine is."""

    def __init__(self, reply: str, screen: io.StringIO) -> None:
        super().__init__([reply], hold_after=2)
        self.screen = screen

    def _hold(self, cancel: CancelToken | None) -> None:
        deadline = time.monotonic() + 60
        while "> You wait." not in self.screen.getvalue() and time.monotonic() < deadline:
            time.sleep(0.005)
        _thread.interrupt_main()  # what Ctrl+C does: KeyboardInterrupt in the main thread
        super()._hold(cancel)


def test_ctrl_c_during_a_reply_stops_it() -> None:
    screen = io.StringIO()
    words = " ".join(f"word{i}" for i in range(100))  # no loop, whatever is caught of it
    backend = CtrlCBackend(f" It {words}.", screen)
    game = make_game(backend=backend)
    out, _ = play("wait\n", game=game, console=make_console(screen))
    stats = backend.streamed[-1]
    assert (stats.finish_reason, stats.generated_tokens) == (
        "cancelled", 2)  # stopped right there, not after the 100 words
    assert "(stopped; the unfinished reply was dropped)" in out
    assert len(game.state.turns) == 1 and len(backend.prompts) == 1


def test_remainder() -> None:
    assert remainder("He  nods.", " He nods. Then") == " Then"
    assert remainder("", " All of it.") == " All of it."
    assert remainder("He waves.", " He nods.") is None


# -- the real commands --------------------------------------------------------------------


def _registered() -> bool:
    from gpt2_adventure.cli import app

    return {"play", "chat", "write"} <= {c.name for c in app.registered_commands}


# Until cli.py registers the commands, run them through cli.main with them added.
_WRAPPER = """
from gpt2_adventure import cli
from gpt2_adventure.cli.play import chat_command, play_command, write_command
have = {c.name for c in cli.app.registered_commands}
for name, command in (("play", play_command), ("chat", chat_command), ("write", write_command)):
    if name not in have:
        cli.app.command(name)(command)
cli.main()
"""


def run(*args: str, stdin: str | None = "", timeout: float = 180,
        popen: bool = False) -> subprocess.CompletedProcess | subprocess.Popen:
    start = ["-m", "gpt2_adventure"] if _registered() else ["-c", _WRAPPER]
    command = [sys.executable, *start, *args]
    if popen:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    return subprocess.run(command, capture_output=True, text=True, input=stdin,
                          timeout=timeout, env=dict(os.environ))


def saves() -> dict[str, dict]:
    from tests.cli.test_app import run as run_cli

    result = run_cli("saves", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {s["name"]: s for s in json.loads(result.stdout)}


def test_play_plain_with_a_real_model(tiny_gguf: Path) -> None:
    result = run("play", "--plain", "--model", str(tiny_gguf), "--story", "knight",
                 "--name", "Anna", "--seed", "1",
                 stdin="look around\nopen the door\n/retry\n/undo\n/save mine\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("The Dragon of the Anvil\n") and "You are Anna, a knight" in out
    assert "> You look around." in out and "> You open the door." in out
    assert "(another reply:)" in out and "(undone)" in out and "saved: " in out
    assert "Traceback" not in result.stderr
    found = saves()
    assert "mine" in found and found["mine"]["turns"] == 3
    assert [s for s in found.values() if s["autosave"] and s["title"] == "The Dragon of the Anvil"]

    again = run("play", "--plain", "--continue", "--model", str(tiny_gguf), stdin="")
    assert again.returncode == 0, again.stderr
    assert "You are Anna" in again.stdout and "> You look around." in again.stdout


def test_chat_and_write_plain(tiny_gguf: Path) -> None:
    chat = run("chat", "--plain", "--story", "tavern-keeper", "--name", "Anna",
               "--model", str(tiny_gguf), stdin="hello\n")
    assert chat.returncode == 0, chat.stderr
    assert "The Crooked Lantern" in chat.stdout and "\nAnna: hello\nHobb: " in chat.stdout
    write = run("write", "--plain", "--model", str(tiny_gguf), stdin="\n")
    assert write.returncode == 0, write.stderr
    assert write.stdout.startswith("The Queen Under the Hill\n")


def test_placeholders_without_a_terminal_use_defaults(tmp_path: Path, tiny_gguf: Path) -> None:
    seed = tmp_path / "nameless.toml"
    seed.write_text('format = 1\ntitle = "Nameless"\nmode = "adventure"\n'
                    'openings = ["You are {name} of {town}."]\n'
                    '[[placeholders]]\nname = "name"\nquestion = "Name?"\n'
                    '[[placeholders]]\nname = "town"\nquestion = "Town?"\ndefault = "Ely"\n')
    result = run("play", "--story", str(seed), "--model", str(tiny_gguf))  # a pipe: plain
    assert result.returncode == 0, result.stderr
    assert "You are Adventurer of Ely." in result.stdout and "?" not in result.stdout


def test_export_into_a_missing_folder_with_a_real_model(tmp_path: Path, tiny_gguf: Path
                                                       ) -> None:
    target = tmp_path / "nodir" / "x.md"
    result = run("play", "--model", str(tiny_gguf), "--name", "A",
                 stdin=f"look\n/export md {target}\n/export md {tmp_path}\nlook\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "does not exist" in errors[0] and "folder" in errors[1]
    assert result.stdout.count("> You look.") == 2  # the game went on


def test_no_model_installed_is_a_clean_error() -> None:
    assert_clean_error(run("play", "--plain", "--story", "knight"),
                       "gpt2-adventure models pull gpt2")


def test_bad_story_or_save_fails_before_the_model_loads() -> None:
    result = run("play", "--plain", "--story", "no-such-story", "--model", "/nowhere.gguf")
    assert_clean_error(result, "unknown story 'no-such-story'")
    assert "nowhere" not in result.stderr
    assert_clean_error(run("play", "--plain", "--load", "nothing", "--model", "/nowhere.gguf"),
                       "no save named 'nothing'")
    assert_clean_error(run("play", "--plain", "--continue"), "no autosaved game")
    assert_clean_error(run("play", "--plain", "--load", "x", "--story", "knight"), "--story")
    assert_clean_error(run("chat", "--plain", "--story", "a", "--character", "b.json"),
                       "--character")


def test_a_game_open_elsewhere_is_refused(tiny_gguf: Path) -> None:
    model = ("--model", str(tiny_gguf))
    first = run("play", "--plain", "--name", "Anna", *model, stdin="/save shared\n")
    assert first.returncode == 0, first.stderr
    holder = run("play", "--plain", "--load", "shared", *model, popen=True)
    assert isinstance(holder, subprocess.Popen)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "The Dragon of the Anvil\n"  # it holds the game now
        assert_clean_error(run("play", "--plain", "--load", "shared", *model), "already open")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


@pytest.mark.parametrize("started", [True, False])
def test_ctrl_c_while_the_reply_thread_starts_stops_it(monkeypatch: pytest.MonkeyPatch,
                                                        started: bool) -> None:
    """A Ctrl+C landing inside Thread.start (after the thread began, or before) cancels the
    reply and lets it end; it does not escape as a KeyboardInterrupt."""
    cancel = CancelToken()

    def events() -> Iterator[Piece | Done]:
        for _ in range(10_000):
            if cancel.cancelled:
                break
            yield Piece("word ")
        yield Done("", "cancelled", cancelled=cancel.cancelled)

    real_start = threading.Thread.start

    def interrupted_start(thread: threading.Thread) -> None:
        if started:
            real_start(thread)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted_start)
    seen: list[object] = []
    pump(Stream(events(), cancel), seen.append)
    assert cancel.cancelled
    assert isinstance(seen[-1], Done) and seen[-1].cancelled


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_plain_mode_in_a_real_terminal_breaks_lines_between_words(tiny_gguf: Path) -> None:
    from tests.support.tmux import TMUX

    width, name = 44, f"gpt2adv-plain-{os.getpid()}"
    opening = new_state(find_seed(AppPaths.from_env(), "knight"), {"name": "Anna"},
                        random.Random(1)).turns[0].text
    env = {k: os.environ[k] for k in os.environ if k.startswith("GPT2_ADVENTURE_")}
    env |= {"TERM": "xterm-256color", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    command = (f"{sys.executable} -m gpt2_adventure play --plain --story knight --name Anna "
               f"--seed 1 --model {tiny_gguf}")
    subprocess.run([*TMUX, "new-session", "-d", "-s", name, "-x", str(width), "-y", "60",
                    *flags, command], check=True)
    try:
        deadline, screen = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "\n>\n" not in screen:
            time.sleep(0.2)
            screen = subprocess.run([*TMUX, "capture-pane", "-p", "-t", name],
                                    capture_output=True, text=True, check=True).stdout
        assert "\n>\n" in screen, screen
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", name], capture_output=True)
    shown = screen[screen.index("You are Anna"):screen.index("\n>\n")]
    lines = [line.rstrip() for line in shown.splitlines() if line.strip()]
    words = set(opening.split())
    assert len(lines) > 3 and all(len(line) <= width for line in lines)
    assert set(" ".join(lines).split()) <= words, shown  # no word cut in two
    assert " ".join(lines).split() == opening.split()
