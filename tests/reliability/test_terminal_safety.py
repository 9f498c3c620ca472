"""Terminal safety: hostile text is shown, never obeyed.

Model output, seed text, card text, save names and file names carrying ANSI/OSC escape
sequences, C0/C1 controls, bidi overrides, invisible characters and Rich/Textual markup must
reach the screen as visible, literal text: in the TUI (Pilot, and a real terminal in tmux), in
plain mode (the real command's stdout/stderr) and in exports.

Zero-width characters: shown as escapes (``\\u200b``) when they can hide or disguise text
(zero-width space, word joiner, BOM, tags...), kept when writing systems need them (the
zero-width joiner and non-joiner: Persian, the Indic scripts, emoji sequences).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from gpt2_adventure.paths import AppPaths
from gpt2_adventure.plain import make_console, run_plain
from gpt2_adventure.safe_text import printable
from gpt2_adventure.story.export import export_markdown, export_text
from gpt2_adventure.story.model import ChatSpec, StoryState, Turn, WorldEntry
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.to_toml import toml_string
from gpt2_adventure.story.session import Session
from tests.support.fake_backend import FakeBackend
from tests.support.reliability_proc import ROOT, child_env, run, write_config
from tests.support.tmux import TMUX

EVIL = ("\x1b[2J\x1b[31mRED \x1b]0;PWNED\x07 \x1b]52;c;UFdORUQ=\x07 "
        "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \x1bP+q\x1b\\ \x9b31m "
        "\x07\x08\r\x00 abc\u202edcba \u2066iso\u2069 pass\u200bword \ufeff\u2060 \U000e0041 "
        "[bold]bold[/bold] [@click=app.quit]quit[/] [link=https://evil.example]l[/link] :smile:")
# What must never reach a terminal raw: everything printable() turns into an escape.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028-\u202e"
                    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")
# Pieces of EVIL that must be seen as text.
LITERAL = ("\\x1b[2J", "\\x1b]0;PWNED\\x07", "\\x9b31m", "\\u202e", "\\u200b",
           "[bold]bold[/bold]", "[@click=app.quit]quit[/]", "[link=https://evil.example]",
           ":smile:")
# A reply short enough for the scripted backend's 60-piece replies.
EVIL_REPLY = (" [bold]bold[/bold] [@click=app.quit]quit[/] [link=https://evil.example]l[/link] "
              ":smile: \x1b]0;PWNED\x07 \x9b31m abc\u202edcba pass\u200bword \x1b[2J.")
# Raw sequences that, found in what is sent to a terminal, would be obeyed.
OBEYED = ("\x1b]0;PWNED", "\x1b]52;", "\x1b]8;;http://evil", "\x1bP+q", "\x9b31m", "\x1b[2J",
          "\u202e", "\u200b", "\u2066")


def assert_safe(text: str, where: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"{where}: a raw {found.group()!r} at {found.start()}: " \
        f"{text[max(0, found.start() - 40):found.start() + 40]!r}"


def assert_literal(text: str, where: str, pieces: tuple[str, ...] = LITERAL) -> None:
    missing = [p for p in pieces if p not in text]
    assert not missing, f"{where}: {missing} not shown literally in {text[:600]!r}"


def evil_seed(folder: Path, *, placeholder: bool = False) -> Path:
    """A seed whose every text carries EVIL (TOML escapes keep the file itself valid)."""
    lines = [
        "format = 1",
        f"title = {toml_string('Evil ' + EVIL)}",
        f"description = {toml_string(EVIL)}",
        f"genre = {toml_string(EVIL)}",
        'mode = "adventure"',
        f"openings = [{toml_string('You are {name}. ' + EVIL + ' You see')}]",
        f"memory = {toml_string(EVIL)}",
        f"authors_note = {toml_string(EVIL)}",
        "[[world]]",
        'keys = ["hall"]',
        f"content = {toml_string(EVIL)}",
        "[[placeholders]]",
        'name = "name"',
        f"question = {toml_string('Who? ' + EVIL)}",
    ]
    if placeholder:
        lines[5] = f"openings = [{toml_string('You are {name} of {town}. ' + EVIL)}]"
        lines += ["[[placeholders]]", 'name = "town"', f"question = {toml_string(EVIL)}",
                  f"default = {toml_string('Ely' + EVIL)}"]
    path = folder / "evil.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def evil_card(folder: Path) -> Path:
    path = folder / "evil-card.json"
    path.write_text(json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Evil\x1b]0;PWNED\x07", "description": EVIL, "personality": EVIL,
        "scenario": EVIL, "first_mes": "Hello. " + EVIL, "mes_example": ""}}), encoding="utf-8")
    return path


# -- the rule itself ----------------------------------------------------------------------


def test_printable_shows_what_hides_and_keeps_what_scripts_need() -> None:
    for char in ("\u200b", "\u2060", "\ufeff", "\u180e", "\u061c", "\u2028", "\u2029",
                 "\u2062", "\u206a", "\ufff9", "\U000e0041", "\u202e", "\u2066", "\x1b", "\x9b"):
        shown = printable(f"a{char}b")
        assert char not in shown and shown.startswith("a\\") and shown.endswith("b"), char
    assert printable("\U000e0041") == "\\U000e0041"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ: one emoji, not three
    persian = "می\u200cخواهم"  # ZWNJ: required spelling
    for kept in (family, persian, "नमस्\u200dते", "\t tab\nline", "Ça va? 漢字 🐉 ש"):
        assert printable(kept) == kept


# -- exports ------------------------------------------------------------------------------


def evil_state(mode: str = "adventure") -> StoryState:
    chat = ChatSpec(character="Evil\x1b[31m", player="Anna\u202e", others=("Bo\u200b",)) \
        if mode == "chat" else None
    return StoryState(
        mode=mode, title="Evil " + EVIL, memory=EVIL, authors_note=EVIL, chat=chat,
        world=[WorldEntry(keys=("x",), content=EVIL)],
        turns=[Turn("opening", "It begins. " + EVIL),
               Turn("player", "\n> You " + EVIL + "\n", kind="do", raw=EVIL,
                    speaker="Anna\u202e" if chat else ""),
               Turn("model", " " + EVIL + " It ends.", speaker="Evil\x1b[31m" if chat else "",
                    alternatives=[" " + EVIL + " It ends."])])


@pytest.mark.parametrize("mode", ["adventure", "story", "chat"])
def test_exports_show_hostile_text_literally(mode: str) -> None:
    state = evil_state(mode)
    for name, text in (("md", export_markdown(state)), ("txt", export_text(state))):
        assert_safe(text, f"{mode} {name} export")
        assert_literal(text.replace("\\[", "[").replace("\\]", "]").replace("\\_", "_")
                       .replace("\\:", ":").replace("\\\\", "\\"), f"{mode} {name} export",
                       ("x1b[2J", "x1b]0;PWNED", "u202e", "u200b", "bold]bold["))


# -- plain mode ---------------------------------------------------------------------------


def _plain_game(replies: list[str], story: str = "knight") -> tuple[object, Session]:
    from gpt2_adventure.game import Game
    from gpt2_adventure.story.seeds.library import find_seed

    paths = AppPaths.from_env()
    state = new_state(find_seed(paths, story), {"name": "Anna"}, random.Random(1))
    session = Session(state, FakeBackend(replies), __import__(
        "gpt2_adventure.engine.sampling", fromlist=["Sampling"]).Sampling(max_tokens=200))
    return Game(session, SaveStore(paths)).open(), session


@pytest.mark.parametrize("colour", [False, True])
def test_plain_mode_prints_model_output_literally(colour: bool) -> None:
    game, _ = _plain_game([" " + EVIL + ".", " Fine."])
    out = __import__("io").StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", highlight=False,
                      markup=False, emoji=False, soft_wrap=True) if colour else make_console(out)
    lines = f"look\n/remember {EVIL}\n/memory\n/note {EVIL}\n/note\n/world add a = {EVIL}\n" \
            f"/world\n/edit 2 {EVIL}\n"
    run_plain(game, __import__("io").StringIO(lines), console)  # type: ignore[arg-type]
    text = out.getvalue()
    if colour:  # our own colours are the only escape sequences allowed
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert_safe(text, "plain mode")
    assert_literal(text, "plain mode")


def test_the_real_command_never_prints_hostile_text_raw(tmp_path: Path, tiny_gguf: Path) -> None:
    """Seed text, the player's name, save and file names, through the real command: its
    stdout and stderr carry no raw control, bidi or invisible character."""
    write_config()
    seed = evil_seed(tmp_path)
    paths = AppPaths.from_env()
    out_md, out_txt = tmp_path / "out.md", tmp_path / "out.txt"
    lines = ["look", "/memory", "/world", "/note", f"/save evil{EVIL[:12]}",
             f"/load no{EVIL[:12]}such", f"/export md {out_md}", f"/export txt {out_txt}",
             "/save plain-evil", "/help"]
    result = run("play", "--plain", "--story", str(seed), "--name", "Anna\x1b[31m\u202e",
                 "--model", str(tiny_gguf), stdin="".join(line + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
    outputs = {"play stdout": result.stdout, "play stderr": result.stderr}
    assert_literal(result.stdout, "play", ("\\x1b]0;PWNED\\x07", "[bold]bold[/bold]",
                                           "\\u202e", "\\u200b"))
    for path in (out_md, out_txt):
        outputs[path.name] = path.read_text(encoding="utf-8")

    # A save file with a hostile name and title, dropped into the saves folder by hand.
    store = SaveStore(paths)
    evil_name = "ev\x1b]0;PWNED\x07il\u202e"
    shutil.copyfile(store.locate("plain-evil"), store.saves_dir / f"{evil_name}.json")
    (paths.stories_dir).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed, paths.stories_dir / "st\x1b[2Jory\u200b.toml")
    model_copy = tmp_path / "m\x1b]0;PWNED\x07\u202e.gguf"
    os.symlink(tiny_gguf, model_copy)
    for args in (("saves", "list"), ("saves", "show", "plain-evil"),
                 ("saves", "show", evil_name), ("stories", "list"),
                 ("stories", "show", str(seed)), ("stories", "validate", str(seed)),
                 ("models", "info", str(model_copy)),
                 ("saves", "export", "plain-evil", "--format", "md")):
        cli = run(*args)
        assert cli.returncode in (0, 2), (args, cli.stderr)
        outputs[" ".join(args)[:40] + " stdout"] = cli.stdout
        outputs[" ".join(args)[:40] + " stderr"] = cli.stderr
    for where, text in outputs.items():
        assert_safe(text, where)


def test_json_listings_never_print_hostile_text_raw(tmp_path: Path) -> None:
    paths = AppPaths.from_env()
    SaveStore(paths).save(evil_state(), "evil")
    paths.stories_dir.mkdir(parents=True, exist_ok=True)
    seed = evil_seed(tmp_path)
    shutil.copyfile(seed, paths.stories_dir / "evil.toml")
    for args in (("saves", "list", "--json"), ("stories", "list", "--json"),
                 ("stories", "show", "evil", "--json")):
        cli = run(*args)
        assert cli.returncode == 0, cli.stderr
        json.loads(cli.stdout)
        assert_safe(cli.stdout, " ".join(args))


# -- the TUI (Pilot) ----------------------------------------------------------------------


async def _settle(pilot, screen=None, rounds: int = 200) -> None:  # noqa: ANN001
    for _ in range(rounds):
        await pilot.pause(0.01)
        if screen is None or (getattr(screen, "stream", None) is None
                              and getattr(screen, "game", 1) is not None):
            break
    for _ in range(5):
        await pilot.pause()


def _screen_output(app) -> str:  # noqa: ANN001
    """What the app would send to the terminal for a full redraw of the current screen."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def _visible_text(app) -> str:  # noqa: ANN001
    """The screen's cells, every Static's rendering and every line of the transcript."""
    from textual.widgets import Static

    from gpt2_adventure.tui.widgets.transcript import Transcript
    from tests.tui.helpers import screen_text

    parts = [screen_text(app)]
    for widget in app.screen.query(Static):
        parts.append(str(widget.render()))
    for transcript in app.screen.query(Transcript):
        parts.extend(transcript.lines())
    return "\n".join(parts)


def assert_screen_safe(app, where: str) -> None:  # noqa: ANN001
    raw = _screen_output(app)
    obeyed = [seq for seq in OBEYED if seq in raw]
    assert not obeyed, f"{where}: the terminal would receive {obeyed}"
    assert_safe(_visible_text(app), where)


async def test_tui_shows_model_and_seed_text_literally(tmp_path: Path) -> None:
    from textual.widgets import Input

    from gpt2_adventure.tui.screens.game import GameScreen
    from gpt2_adventure.tui.widgets.transcript import Transcript
    from tests.tui.helpers import make_app

    app = make_app(story=str(evil_seed(tmp_path)), backend=FakeBackend([EVIL_REPLY] * 4))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, GameScreen)
        await _settle(pilot, screen)
        line = screen.query_one("#line", Input)
        line.value = "look"
        line.focus()
        await pilot.press("enter")
        await _settle(pilot, screen)
        views = screen.query_one(Transcript).turn_texts()
        assert len(views) >= 3
        for text in views:
            assert_safe(text, "a turn in the transcript")
        assert_literal(views[0], "the opening", ("\\x1b]0;PWNED\\x07", "[bold]bold[/bold]"))
        assert_literal(views[-1], "the reply", ("[bold]bold[/bold]", "[@click=app.quit]quit[/]",
                                                ":smile:", "\\x1b]0;PWNED\\x07", "\\x9b31m",
                                                "\\u202e"))
        assert_screen_safe(app, "the game screen")
        assert app.is_running  # [@click=app.quit] did not quit


async def _game_with_evil_story(tmp_path: Path, pilot_size: tuple[int, int] = (120, 40)):  # noqa: ANN202
    from tests.tui.helpers import make_app

    return make_app(story=str(evil_seed(tmp_path)), backend=FakeBackend([EVIL_REPLY] * 4))


async def test_tui_side_panel_shows_story_text_literally(tmp_path: Path) -> None:
    app = await _game_with_evil_story(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        screen.action_toggle_panel()
        await _settle(pilot)
        assert_screen_safe(app, "the side panel")


async def test_tui_edit_dialog_shows_story_text_literally(tmp_path: Path) -> None:
    from textual.widgets import Input

    app = await _game_with_evil_story(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        line = screen.query_one("#line", Input)
        line.value = "/edit"
        line.focus()
        await pilot.press("enter")
        await _settle(pilot)
        assert type(app.screen).__name__ == "EditTurn"
        assert_screen_safe(app, "the edit dialog")


async def test_tui_questions_show_seed_text_literally(tmp_path: Path) -> None:
    from tests.tui.helpers import make_app

    app = make_app(story=str(evil_seed(tmp_path, placeholder=True)), backend=FakeBackend([]))
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        assert type(app.screen).__name__ == "Questions"
        assert_screen_safe(app, "the questions")
        assert "\\x1b]0;PWNED\\x07" in _visible_text(app)


async def test_tui_chat_card_text_is_literal(tmp_path: Path) -> None:
    from tests.tui.helpers import make_app

    app = make_app(mode="chat", story=None, character=evil_card(tmp_path),
                   backend=FakeBackend([EVIL_REPLY] * 3))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        assert type(screen).__name__ == "GameScreen", type(screen)
        card = str(screen.query_one("#card").render())
        assert "Evil\\x1b]0;PWNED\\x07" in card
        assert_screen_safe(app, "the chat screen")


async def test_tui_load_screen_shows_hostile_save_names_literally() -> None:
    from tests.tui.helpers import make_app

    paths = AppPaths.from_env()
    store = SaveStore(paths)
    state = evil_state()
    store.save(state, "plain")
    shutil.copyfile(store.locate("plain"), store.saves_dir / "ev\x1b]0;PWNED\x07il\u202e.json")
    (store.saves_dir / "bro\x1b[2Jken\u200b.json").write_text("{", encoding="utf-8")
    app = make_app(mode="title")
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        app.open_load()
        await _settle(pilot)
        from textual.widgets import OptionList

        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert len(shown) == 3
        for text in shown:
            assert_safe(text, "a save in the load screen")
        assert any("ev\\x1b]0;PWNED\\x07il\\u202e" in text for text in shown)
        assert_screen_safe(app, "the load screen")


async def test_tui_notifications_show_story_text_literally(tmp_path: Path) -> None:
    from textual.widgets import Input

    from tests.tui.helpers import make_app

    app = make_app(story=str(evil_seed(tmp_path)), backend=FakeBackend([" Fine."] * 3))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = app.screen
        await _settle(pilot, screen)
        line = screen.query_one("#line", Input)
        for command in ("/memory", "/note", f"/remember {EVIL}"):
            line.value = command
            line.focus()
            await pilot.press("enter")
            await _settle(pilot, screen)
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert toasts, "no notification was shown"
        for text in toasts:
            assert_safe(text, "a notification")
        assert_screen_safe(app, "the game screen with notifications")


# -- a real terminal (tmux) ---------------------------------------------------------------


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def cmd(self, *args: str) -> str:
        return subprocess.run([*TMUX, *args], capture_output=True, text=True,
                              check=True).stdout

    def screen(self, escapes: bool = False) -> str:
        return self.cmd("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.name)

    def title(self) -> str:
        return self.cmd("display-message", "-p", "-t", self.name, "#{pane_title}").strip()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def type(self, text: str) -> None:
        self.cmd("send-keys", "-t", self.name, "-l", text)

    def keys(self, *keys: str) -> None:
        self.cmd("send-keys", "-t", self.name, *keys)


def _tmux_game(seed: Path, model: Path) -> Tmux:
    name = f"gpt2rel-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in child_env().items() if k.startswith(("GPT2_ADVENTURE_", "PYTHON"))}
    env |= {"TERM": "xterm-256color", "GPT2_ADVENTURE_THREADS": "1"}
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    command = f"{sys.executable} -m gpt2_adventure play --story {seed} --name Anna " \
              f"--model {model}"
    subprocess.run([*TMUX, "new-session", "-d", "-s", name, "-x", "150", "-y", "45", *flags,
                    "-c", str(ROOT), command], check=True)
    term = Tmux(name)
    term.cmd("select-pane", "-t", name, "-T", "clean-title")
    return term


needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@needs_tmux
def test_a_real_terminal_is_not_driven_by_story_text(tmp_path: Path, tiny_gguf: Path) -> None:
    write_config()
    term = _tmux_game(evil_seed(tmp_path), tiny_gguf)
    try:
        screen = term.wait_for("PWNED")
        term.wait_for("context")  # the model is loaded and the screen has settled
        screen = term.screen()
        assert "\\x1b]0;PWNED\\x07" in screen and "[bold]bold[/bold]" in screen
        assert "PWNED" not in term.title(), "an OSC sequence from the story set the title"
        raw = term.screen(escapes=True)
        assert "\x1b]" not in raw and "\x1bP" not in raw
        assert "You are Anna." in screen  # not wiped by \x1b[2J
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", term.name], capture_output=True)


@pytest.mark.slow
@needs_tmux
def test_a_real_terminal_is_not_driven_by_a_notification(tmp_path: Path,
                                                           tiny_gguf: Path) -> None:
    write_config()
    term = _tmux_game(evil_seed(tmp_path), tiny_gguf)
    try:
        term.wait_for("context")
        term.type("/memory")
        term.keys("Enter")
        term.wait_for("1. \\x1b[2J")  # the notification is on screen (not a guess at when)
        assert "PWNED" not in term.title(), "a notification's text set the terminal title"
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", term.name], capture_output=True)
