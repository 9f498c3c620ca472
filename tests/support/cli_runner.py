"""Running a Typer app in-process as `main()` would: exit code, stdout and stderr."""

from __future__ import annotations

import contextlib
import io

import typer
from typer.testing import CliRunner

from gpt2_adventure.cli import report
from gpt2_adventure.errors import UserError


def run_cli(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr, a UserError rendered as `main()` renders it; any other
    exception is raised."""
    result = CliRunner().invoke(app, list(args))
    stderr = result.stderr
    if isinstance(result.exception, UserError):
        captured = io.StringIO()
        with contextlib.redirect_stderr(captured):
            report(result.exception)
        return result.exception.exit_code, result.stdout, stderr + captured.getvalue()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, stderr
