"""Models on a server over HTTP: OpenAI-compatible (llama.cpp's server, LM Studio, ...) or
KoboldAI (KoboldCpp). The modules build on each other in one direction:
settings <- http <- tokenizers <- base <- openai / kobold <- this factory (base's parts:
context, finish, replies)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gpt2_adventure.engine.remote.settings import BackendKind, BackendSettings, settings_problem
from gpt2_adventure.errors import ConfigError

if TYPE_CHECKING:
    from gpt2_adventure.engine.remote.base import RemoteBackend
    from gpt2_adventure.paths import AppPaths


def open_remote(settings: BackendSettings, paths: AppPaths) -> RemoteBackend:
    """Connect to the server ``settings`` names; raises RemoteError when it cannot."""
    problem = settings_problem(settings)
    if problem:
        raise ConfigError(f"[backend].{problem[0]} {problem[1]}")
    if settings.kind == "openai":
        from gpt2_adventure.engine.remote.openai import OpenAIBackend

        return OpenAIBackend(settings, paths)
    if settings.kind == "kobold":
        from gpt2_adventure.engine.remote.kobold import KoboldBackend

        return KoboldBackend(settings, paths)
    raise ConfigError("[backend].kind is 'local': there is no server to open",
                      hint="set kind = \"openai\" or \"kobold\" and a url")


def detect_kind(settings: BackendSettings) -> BackendKind:
    """Which API the server at ``settings.url`` speaks (KoboldCpp speaks both: "kobold")."""
    from gpt2_adventure.engine.remote.http import (
        KIND_HINT,
        RemoteError,
        make_client,
        request_json,
        try_json,
    )

    settings = replace(settings, kind="openai")
    with make_client(settings) as client:
        model = try_json(client, settings, "GET", "/api/v1/model")
        if isinstance(model, dict) and isinstance(model.get("result"), str):
            return "kobold"
        # Not optional: a server that is down or refuses the key should say so.
        listing = request_json(client, settings, "GET", "/v1/models", "an OpenAI-compatible")
        if isinstance(listing, dict) and isinstance(listing.get("data"), list):
            return "openai"
    raise RemoteError("the server speaks neither the OpenAI nor the KoboldAI API",
                      settings.base_url, hint=KIND_HINT)
