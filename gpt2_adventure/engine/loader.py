"""Open the model a command asked for: on this machine through llama.cpp, or on a server.

It sits above ``llama/`` and ``remote/`` (it picks one of them), so it lives at the engine's
top rather than in ``models/``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gpt2_adventure.engine.backend import Backend
from gpt2_adventure.engine.remote.settings import BackendKind, BackendSettings, settings_problem
from gpt2_adventure.engine.sampling import MAX_CANDIDATES
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths

if TYPE_CHECKING:
    from gpt2_adventure.engine.tuning import Speed


def choose_server(settings: BackendSettings, url: str | None = None,
                  kind: BackendKind | None = None, *,
                  flags: tuple[str, str] = ("--backend-url", "--backend-kind"),
                  need_server: bool = False) -> BackendSettings:
    """The [backend] settings with a command's URL and kind flags (named in ``flags``) over
    them: the one merge of the commands that play (through ``cli/run.with_backend_flags``)
    and of ``backend check``.

    A URL flag replaces [backend].url and a kind flag [backend].kind; a URL flag without a
    kind flag asks the server which API it speaks (the configured kind may be another
    server's). With ``need_server`` (a command that only talks to servers), a kind left
    "local" beside a URL asks the server too, and no URL at all is an error. Before any
    request the URL is checked, and a wrong one named where it came from (the flag or
    [backend].url); a server kind with no URL is an error naming the URL flag."""
    url_flag, kind_flag = flags
    chosen = replace(settings, url=url) if url else settings
    if kind:
        chosen = replace(chosen, kind=kind)
    ask = bool(url and not kind) or (need_server and chosen.kind == "local")
    if chosen.kind == "local" and not ask:
        return chosen
    if not chosen.url.strip():
        raise UserError(f"{kind_flag} {kind} needs a server URL" if kind
                        else "no server URL is set",
                        "command line" if kind else None,
                        hint=f"pass {url_flag} URL, or set url in [backend] of config.toml")
    problem = settings_problem(replace(chosen, kind="openai"))  # the URL as a server's
    if problem is not None and problem[0] == "url":
        raise UserError(f"{url_flag if url else '[backend].url'} {problem[1]}",
                        "command line" if url else None)
    if ask:
        from gpt2_adventure.engine.remote import detect_kind

        return replace(chosen, kind=detect_kind(chosen))
    return chosen


# What a game's local model holds at once: the main sequence, up to MAX_CANDIDATES - 1 replies
# written ahead, and the spare (the window after the next trim).
GAME_SEQUENCES = MAX_CANDIDATES + 1


def load_backend(
    paths: AppPaths,
    model_settings: ModelSettings,
    server: BackendSettings,
    *,
    model: str | None = None,
    threads: int | None = None,
    seed: int | None = None,
    sequences: int = 1,
) -> Backend:
    """``model`` (a flag) beats model_settings.name (file/env); both may be a name or a path.
    With a ``server`` kind other than "local", the model runs on that server instead.
    ``sequences``: replies a local model can hold at once (a game that writes replies
    ahead asks for ``GAME_SEQUENCES``, so that changing ``candidates`` needs no reload)."""
    if server.kind != "local":
        from gpt2_adventure.engine.remote import open_remote

        return open_remote(server, paths)
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.models.store import resolve_model

    path = resolve_model(paths, model or model_settings.name,
                         where=None if model else model_settings.name_from)
    speed = speed_in_use(paths, model_settings, path, threads)
    return LlamaBackend(
        path,
        n_ctx=model_settings.n_ctx,
        threads=speed.threads,
        n_gpu_layers=model_settings.n_gpu_layers,
        n_batch=speed.n_batch,
        seed=seed if seed is not None else model_settings.seed,
        log_file=paths.log_file,
        flash_attn=speed.flash_attn,
        sequences=sequences,
        batched=speed.batched,
    )


def speed_in_use(paths: AppPaths, model_settings: ModelSettings, path: Path,
                 threads: int | None = None) -> Speed:
    """The speed settings the local model at ``path`` opens with, and where each comes from:
    the player's (``threads``: the --threads flag), else ``bench --tune``'s, else the
    built-in default."""
    from gpt2_adventure.engine.tuning import choose_speed, load_tuning

    return choose_speed(model_settings, load_tuning(paths.tuning_file, path), threads)
