"""`gpt2-adventure play`, `chat` and `write`: straight into a game, full-screen or plain."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional

import typer

from gpt2_adventure.cli import terminal
from gpt2_adventure.cli.options import BackendKindOpt, BackendUrlOpt, ModelOpt, ThreadsOpt
from gpt2_adventure.cli.run import with_backend_flags
from gpt2_adventure.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from gpt2_adventure.config import Settings
    from gpt2_adventure.engine.backend import Backend
    from gpt2_adventure.launch import Launch
    from gpt2_adventure.story.model import Placeholder, StoryState

StoryOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional here)
    "--story", "-s", help="A story: a name from `gpt2-adventure stories list` or a .toml file.")]
NameOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--name", "-n", help="Your name in the story (fills {name}; no question asked).")]
RngSeedOpt = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--seed", help="Fix the random seed (which opening, and the model's sampling).")]
LoadOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--load", "-l", help="Resume a save: a name from `gpt2-adventure saves list`, or a file.")]
PlainOpt = Annotated[bool, typer.Option(
    "--plain", help="A line-by-line game on stdin/stdout (screen readers, pipes, scripts); "
                    "the default when stdin or stdout is not a terminal.")]
ContinueOpt = Annotated[bool, typer.Option("--continue", help="Resume the latest autosave.")]
CharacterOpt = Annotated[Optional[Path], typer.Option(  # noqa: UP045
    "--character", "-c", help="Chat with a character card (.json or .png).")]
LorebookOpt = Annotated[Optional[Path], typer.Option(  # noqa: UP045
    "--lorebook", help="Add a lorebook's world info to the chat: SillyTavern World Info, "
                       "KoboldAI world info or a V2/V3 character book (.json).")]
# Checked as [sampling].candidates is (a one-line error), not by typer's min/max.
CandidatesOpt = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--candidates", help="Replies per action, 1-5: the extra ones are written while you read, "
                         "so retry shows one at once; 1 = off "
                         "(default: candidates in \\[sampling]).")]

Mode = Literal["play", "chat", "write"]
DEFAULT_NAME = "Adventurer"  # {name} without a default, in a game nobody can be asked about


def _story_command(mode: Mode, help_text: str) -> Callable[..., None]:
    """`play` and `write`: the same options, a game of their own mode (typer reads the
    options from the signature and the help from the docstring)."""
    def command(story: StoryOpt = None, model: ModelOpt = None, name: NameOpt = None,
                rng_seed: RngSeedOpt = None, load: LoadOpt = None, threads: ThreadsOpt = None,
                plain: PlainOpt = False, continue_: ContinueOpt = False,
                backend_url: BackendUrlOpt = None, backend_kind: BackendKindOpt = None,
                candidates: CandidatesOpt = None) -> None:
        _start(mode, story=story, model=model, name=name, rng_seed=rng_seed, load=load,
               threads=threads, plain=plain, continue_=continue_,
               backend=(backend_url, backend_kind), candidates=candidates)
    command.__name__ = command.__qualname__ = f"{mode}_command"
    command.__doc__ = help_text
    return command


play_command = _story_command("play", "Play a text adventure (default story: knight).")
write_command = _story_command("write", "Write a story together with GPT-2, turn by turn "
                                        "(default story: fairy-tale).")


def chat_command(story: StoryOpt = None, character: CharacterOpt = None,
                 lorebook: LorebookOpt = None,
                 model: ModelOpt = None, name: NameOpt = None, rng_seed: RngSeedOpt = None,
                 load: LoadOpt = None, threads: ThreadsOpt = None,
                 plain: PlainOpt = False, backend_url: BackendUrlOpt = None,
                 backend_kind: BackendKindOpt = None, candidates: CandidatesOpt = None) -> None:
    """Chat with a character (default: tavern-keeper), or one from a character card."""
    _start("chat", story=story, character=character, model=model, name=name, rng_seed=rng_seed,
           load=load, threads=threads, plain=plain, backend=(backend_url, backend_kind),
           candidates=candidates, lorebook=lorebook)


def _start(mode: Mode, *, story: str | None, model: str | None, name: str | None,
           rng_seed: int | None, load: str | None, threads: int | None, plain: bool,
           continue_: bool = False, character: Path | None = None,
           backend: tuple[str | None, str | None] = (None, None),
           candidates: int | None = None, lorebook: Path | None = None) -> None:
    from gpt2_adventure.cli.config import load_cli_settings
    from gpt2_adventure.launch import Launch

    if story and character:
        raise UserError("choose --story or --character, not both")
    if (load or continue_) and (story or character):
        raise UserError("a loaded game has its own story; drop --story/--character")
    if load and continue_:
        raise UserError("choose --load SAVE or --continue, not both")
    if load and lorebook:
        raise UserError("a loaded game has its own world info; drop --lorebook",
                        hint="add a lorebook in the game with: /world import FILE")
    paths, settings = load_cli_settings()
    settings = with_candidates(with_backend_flags(settings, *backend), candidates)
    launch = Launch(paths, settings, mode=mode, story=story, character=character, load=load,
                    name=name, model=model, rng_seed=rng_seed, threads=threads,
                    lorebook=lorebook)
    if continue_:
        launch.load = _latest_autosave(launch)
    if plain or not terminal.on_terminal():
        code = run_plain_launch(launch)
    elif (problem := terminal.full_screen_problem()) is not None:
        print(f"note: {problem}; playing in plain mode", file=sys.stderr)
        code = run_plain_launch(launch)
    else:
        code = _run_tui(launch)
    if code:
        raise typer.Exit(code)


def with_candidates(settings: Settings, candidates: int | None) -> Settings:
    """The settings with --candidates applied; a value out of 1..5 is a UserError."""
    if candidates is None:
        return settings
    from dataclasses import replace

    from gpt2_adventure.engine.sampling import Sampling
    from gpt2_adventure.schema import SettingError, checked

    try:
        value = checked(Sampling, "candidates", candidates, label="--candidates")
    except SettingError as error:
        raise UserError(str(error), "command line") from None
    return replace(settings, sampling=settings.sampling.with_changes(candidates=value))


def _latest_autosave(launch: Launch) -> str:
    from gpt2_adventure.story.saves.store import SaveStore

    latest = SaveStore(launch.paths).latest_autosave()
    if latest is None:
        raise UserError("there is no autosaved game to continue",
                        hint="start one with: gpt2-adventure play")
    return latest[0]


def _run_tui(launch: Launch) -> int:
    try:
        from gpt2_adventure.tui.app import run_tui
    except ModuleNotFoundError as error:  # a build without the TUI (or textual): still playable
        if error.name not in ("textual", "gpt2_adventure.tui.app"):
            raise
        print("note: the full-screen interface is not available here; playing in plain mode",
              file=sys.stderr)
        return run_plain_launch(launch)
    return run_tui(launch)


# -- plain mode --------------------------------------------------------------------------


def run_plain_launch(launch: Launch) -> int:
    """Resolve the save or the story first (a bad one fails before a model loads), then play."""
    from gpt2_adventure.launch import load_state, open_game, player_sampling
    from gpt2_adventure.plain import make_console, run_plain
    from gpt2_adventure.safe_text import printable

    interactive = sys.stdin.isatty()  # someone at the keyboard can answer questions
    console = make_console(sys.stdout)
    state = _resume(launch, load_state(launch)) if launch.load else _new(launch, interactive,
                                                                         console)
    backend = _load_model(launch, interactive, console)
    try:
        def warn(message: str) -> None:
            print(f"warning: {printable(message)}", file=sys.stderr)

        start = player_sampling(launch.settings, launch.paths, backend)
        game = open_game(launch, backend, state, start.sampling, warn=warn, fixed=start.fixed)
        return run_plain(game, sys.stdin, console)
    finally:
        backend.close()


def _resume(launch: Launch, state: StoryState) -> StoryState:
    """Refuse a game open elsewhere now, not after the model has loaded."""
    from gpt2_adventure.story.saves.store import SaveStore

    SaveStore(launch.paths).hold(state.id).acquire().release()
    return state


def _new(launch: Launch, interactive: bool, console: Console) -> StoryState:
    from gpt2_adventure.launch import pick_seed, start_state

    notes: list[str] = []
    seed = pick_seed(launch, notes)
    if notes:
        from gpt2_adventure.safe_text import printable

        for note in notes:  # what reading the card or lorebook left out
            print(f"note: {printable(note)}", file=sys.stderr)

    def ask(placeholder: Placeholder) -> str:
        if interactive:
            from rich.prompt import Prompt
            from rich.text import Text

            from gpt2_adventure.safe_text import printable

            question = Text(printable(placeholder.question))  # seed text: data, not markup
            try:
                if placeholder.default:
                    return Prompt.ask(question, default=placeholder.default, console=console)
                return Prompt.ask(question, console=console)
            except EOFError:
                return ""  # Ctrl+D: take the default
        # stdin carries the actions: never read answers from it
        return DEFAULT_NAME if placeholder.name == "name" and not placeholder.default else ""

    return start_state(launch, seed, ask)


def _load_model(launch: Launch, interactive: bool, console: Console) -> Backend:
    from gpt2_adventure.cli.tune_progress import PlainTuneProgress
    from gpt2_adventure.launch import load_model

    missing = _missing_model(launch)
    pulled = missing is not None and interactive and _offer_pull(launch, console, missing)
    if interactive and (missing is None or pulled):  # else load_backend fails at once
        console.print("loading the model…", style="dim")
    tuning = PlainTuneProgress()  # a model with no tuning stored is tuned first
    return load_model(launch, tuning.watch, tuning.finished)


def _missing_model(launch: Launch) -> str | None:
    """The spec to pull (``name[:QUANT]`` or ``owner/repo[:QUANT]``) when the model asked for
    is a catalog model or a Hub repository's, and is not installed."""
    from gpt2_adventure.engine.models import catalog, hub_files, store

    if launch.settings.backend.kind != "local":
        return None  # a server runs the model: nothing to download here
    spec = (launch.model or (launch.settings.model.name or "").strip()  # file < environment
            or catalog.DEFAULT_MODEL).strip()
    if Path(spec).exists():
        return None
    try:
        repo_spec = hub_files.split_repo_spec(spec)
        if repo_spec is not None:
            installed = store.model_path(launch.paths, *repo_spec) is not None
            return None if installed else spec
        name, _, quant = spec.partition(":")
        entry = catalog.find(name)
        if entry is None:
            return None
        entry.normalize_quant(quant or None)
        if store.model_path(launch.paths, entry.name, quant or None) is not None:
            return None
    except UserError:
        return None  # load_backend says what is wrong with it
    return f"{entry.name}:{quant}" if quant else entry.name


def _offer_pull(launch: Launch, console: Console, spec: str) -> bool:
    """Ask to download the missing model; True once it is installed."""
    from rich.text import Text

    from gpt2_adventure.cli.transfer_bar import TransferBar
    from gpt2_adventure.engine.models import catalog, store
    from gpt2_adventure.engine.models.download import parse_spec, pull
    from gpt2_adventure.safe_text import printable
    from gpt2_adventure.units import size_text

    wanted = parse_spec(spec)
    entry = None if wanted.is_repo else catalog.find(wanted.name)
    size = f" (~{size_text(entry.download_size(wanted.quant))})" if entry else ""
    first = "No model installed." if not store.installed(launch.paths) else \
        f"Model {wanted.name} is not installed."
    try:
        answer = console.input(Text(printable(f"{first} Download {wanted.name}{size} now? "
                                              "[Y/n] ")))
    except EOFError:
        answer = "n"
    if answer.strip().lower() not in ("", "y", "yes"):
        return False  # load_backend then fails with the store's error and its hint
    with TransferBar(f"pulling {wanted.name}", console, report_style="dim") as bar:
        pull(launch.paths, str(wanted), progress=bar.update, report=bar.report)
    return True
