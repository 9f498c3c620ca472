"""`gpt2-adventure config ...` and the settings every command starts from."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gpt2_adventure.config import Settings, load_settings
from gpt2_adventure.paths import AppPaths

config_app = typer.Typer(help="Where the config file is and what it says.", no_args_is_help=True)


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the settings in effect (defaults < config file < environment), as TOML."""
    _, settings = load_cli_settings()
    data = settings.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for section, table in data.items():
        typer.echo(f"[{section}]")
        for key, value in table.items():
            typer.echo(f"{key} = {_toml_value(value)}")
        typer.echo("")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) \
            else ("nan" if value != value else ("inf" if value > 0 else "-inf"))
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
