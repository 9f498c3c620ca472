"""Options several commands take, declared once: their flags and help are the same
wherever they appear."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def _model_env() -> str:
    """The environment variable declared for [model].name (for --help)."""
    from gpt2_adventure.engine.settings import ModelSettings
    from gpt2_adventure.schema import find

    spec = find(ModelSettings, "name")
    return spec.env if spec and spec.env else ""


ModelOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045 (typer needs Optional here)
    "--model", "-m", help=f"Catalog name or path to a .gguf file (env {_model_env()}).")]
ThreadsOpt = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--threads", "-t", min=1, max=512, help="CPU threads (default: physical cores).")]
BackendUrlOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--backend-url", help="Play on a model server at this URL (see README: model servers).")]
BackendKindOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--backend-kind", help="The server's API: openai or kobold (default: ask the server).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
