"""The `gpt2-adventure` command. Heavy modules are imported inside the commands that use them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gpt2_adventure import __version__
from gpt2_adventure.cli.backend import backend_app
from gpt2_adventure.cli.config import config_app, load_cli_settings
from gpt2_adventure.cli.help_format import Group
from gpt2_adventure.cli.imports import import_command
from gpt2_adventure.cli.models import models_app
from gpt2_adventure.cli.play import chat_command, play_command, write_command
from gpt2_adventure.cli.run import bench_command, generate_command
from gpt2_adventure.cli.saves import saves_app
from gpt2_adventure.cli.stories import stories_app
from gpt2_adventure.errors import UserError

app = typer.Typer(
    cls=Group,
    name="gpt2-adventure",
    help="Play an AI dungeon, co-write stories and chat with GPT-2, locally.",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("play")(play_command)
app.command("chat")(chat_command)
app.command("write")(write_command)
app.add_typer(config_app, name="config")
app.add_typer(models_app, name="models")
app.add_typer(stories_app, name="stories")
app.add_typer(saves_app, name="saves")
app.add_typer(backend_app, name="backend")
app.command("import")(import_command)
app.command("generate")(generate_command)
app.command("bench")(bench_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gpt2-adventure {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Play an AI dungeon, co-write stories and chat with GPT-2, locally.

    With no command, opens the title screen.
    """
    if ctx.invoked_subcommand is not None:
        return
    from gpt2_adventure.cli import play, terminal

    if not terminal.on_terminal():
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    from gpt2_adventure.launch import Launch

    paths, settings = load_cli_settings()
    problem = terminal.full_screen_problem()
    if problem is not None:  # no title screen to choose from: play, line by line
        print(f"note: {problem}; playing `gpt2-adventure play` in plain mode", file=sys.stderr)
        raise typer.Exit(play.run_plain_launch(Launch(paths=paths, settings=settings,
                                                      mode="play")))
    from gpt2_adventure.tui.app import run_tui

    raise typer.Exit(run_tui(Launch(paths=paths, settings=settings, mode="title")))


def report(error: UserError) -> None:
    """The one-line error format: ``error: <what> (<where>)`` and at most one hint line."""
    from gpt2_adventure.safe_text import printable

    print(f"error: {printable(str(error))}", file=sys.stderr)
    if error.hint:
        print(f"hint: {printable(error.hint)}", file=sys.stderr)


PROG = "gpt2-adventure"


def main(argv: list[str] | None = None) -> None:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and exit with its code."""
    from gpt2_adventure.cli.usage import NoArgsIsHelpError, UsageError, describe

    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    command = typer.main.get_command(app)
    try:
        # Not standalone: Typer's boxed usage errors become our one-line ones below.
        code = command.main(args, prog_name=PROG, standalone_mode=False)
    except UserError as error:
        if debug:
            raise
        report(error)
        sys.exit(error.exit_code)
    except NoArgsIsHelpError as error:  # a command group on its own: its help
        typer.echo(error.format_message())
        sys.exit(UserError.exit_code)
    except UsageError as error:
        if debug:
            raise
        text, hint = describe(error, args, command, PROG)
        report(UserError(text, hint=hint))
        sys.exit(UserError.exit_code)
    except typer.Abort:  # Ctrl+D or Ctrl+C at a question
        print("aborted", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main", "load_cli_settings"]
