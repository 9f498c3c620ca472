"""`gpt2-adventure config ...` and the settings every command starts from."""

from __future__ import annotations

import json

import typer

from gpt2_adventure.cli.help_format import Group
from gpt2_adventure.cli.options import JsonOpt
from gpt2_adventure.config import Settings, load_settings, settings_toml
from gpt2_adventure.paths import AppPaths

config_app = typer.Typer(cls=Group, help="Where the config file is and what it says.",
                         no_args_is_help=True)


def load_cli_settings() -> tuple[AppPaths, Settings]:
    paths = AppPaths.from_env()
    return paths, load_settings(paths.config_file)


@config_app.command("path")
def config_path() -> None:
    """Print the config file's path (and where data, saves, logs and models live)."""
    paths = AppPaths.from_env()
    typer.echo(f"config  {paths.config_file}")
    typer.echo(f"data    {paths.data_dir}")
    typer.echo(f"saves   {paths.saves_dir}")
    typer.echo(f"stories {paths.stories_dir}")
    typer.echo(f"logs    {paths.log_file}")
    typer.echo(f"models  {paths.models_dir}")


@config_app.command("show")
def config_show(
    as_json: JsonOpt = False,
) -> None:
    """Print the settings in effect (defaults < config file < environment), as TOML."""
    _, settings = load_cli_settings()
    data = settings.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(settings_toml(settings), nl=False)
