"""`gpt2-adventure backend ...`: check a model server before playing on it."""

from __future__ import annotations

import json
import statistics
import time
from typing import TYPE_CHECKING, Annotated, Any, Optional, cast

import typer

from gpt2_adventure.cli.help_format import Group
from gpt2_adventure.cli.options import JsonOpt
from gpt2_adventure.errors import UserError

if TYPE_CHECKING:
    from gpt2_adventure.engine.remote.settings import BackendKind, BackendSettings
    from gpt2_adventure.paths import AppPaths

backend_app = typer.Typer(
    cls=Group,
    help="Model servers: llama.cpp's llama-server, llama-cpp-python, KoboldCpp, vLLM, "
         "text-generation-webui.", no_args_is_help=True)


def _env(name: str) -> str:
    """The environment variable declared for a [backend] setting (for --help)."""
    from gpt2_adventure.engine.remote.settings import BackendSettings
    from gpt2_adventure.schema import find

    spec = find(BackendSettings, name)
    return spec.env if spec and spec.env else ""


@backend_app.callback()
def _group() -> None:
    """Play on a model server instead of this machine."""


def configured_backend(paths: AppPaths) -> BackendSettings:
    """The [backend] settings in effect: config.toml, then GPT2_ADVENTURE_BACKEND_*."""
    from gpt2_adventure.config import load_settings

    return load_settings(paths.config_file).backend


def check_server(settings: BackendSettings, paths: AppPaths, rounds: int = 3) -> dict[str, Any]:
    """Connect, then time the model-info request and a one-token completion."""
    from gpt2_adventure.engine.remote import open_remote
    from gpt2_adventure.engine.sampling import Sampling

    start = time.perf_counter()
    backend: Any = open_remote(settings, paths)
    connect = time.perf_counter() - start
    try:
        info = statistics.median(backend.ping() for _ in range(rounds))
        completions = []
        for _ in range(rounds):
            start = time.perf_counter()
            reply = backend.stream("Hello", Sampling(max_tokens=1, temperature=0.0))
            for _piece in reply:
                pass
            completions.append(time.perf_counter() - start)
            stats = reply.stats
        return {
            "kind": settings.kind, "url": settings.base_url, "server": backend.server,
            "model": backend.name, "model_id": backend.model_id,
            "n_ctx": backend.n_ctx, "n_ctx_source": backend.n_ctx_source,
            "tokenizer": backend.tokenizer_source,
            "samplers_lost": list(backend.samplers_lost),
            "connect_ms": round(connect * 1000, 1),
            "model_info_ms": round(info * 1000, 1),
            "completion_ms": round(statistics.median(completions) * 1000, 1),
            "first_token_ms": round(stats.time_to_first_token * 1000, 1),
        }
    finally:
        backend.close()


@backend_app.command("check")
def check(
    url: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--url", help="The server's base URL, e.g. http://127.0.0.1:8080 (default: url in "
                      f"\\[backend] of config.toml, or {_env('url')}).")] = None,
    kind: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--kind", help="openai or kobold (default: kind in \\[backend], else detected).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what a server reports (model, context size, tokenizer) and how fast it answers."""
    from gpt2_adventure.engine.loader import choose_server
    from gpt2_adventure.paths import AppPaths

    paths = AppPaths.from_env()
    if kind is not None and kind not in ("openai", "kobold"):
        raise UserError(f"--kind must be openai or kobold, got {kind!r}", "command line")
    # The merge `play` uses; a check needs a server, so a URL beside kind "local" is asked.
    settings = choose_server(configured_backend(paths), url,
                             cast("BackendKind | None", kind),  # one of the two: checked above
                             flags=("--url", "--kind"), need_server=True)
    report = check_server(settings, paths)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from gpt2_adventure.safe_text import printable

    rows = [
        ("server", f"{report['url']} ({report['kind']}: {report['server']})"),
        ("model", report["model_id"]),
        ("context", f"{report['n_ctx']} tokens ({report['n_ctx_source']})"),
        ("tokenizer", report["tokenizer"]),
        ("samplers", "DRY, XTC and top-n-sigma are sent when on" if not report["samplers_lost"]
         else f"no {', '.join(report['samplers_lost'])} on this server: set, they do nothing"),
        ("latency", f"model info {report['model_info_ms']} ms, 1-token completion "
                    f"{report['completion_ms']} ms (first token {report['first_token_ms']} ms)"),
    ]
    for label, value in rows:
        typer.echo(f"{label:<10} {printable(str(value))}")
