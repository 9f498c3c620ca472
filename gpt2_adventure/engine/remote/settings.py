"""The ``[backend]`` settings: play on this machine (``local``) or on a server over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gpt2_adventure import schema
from gpt2_adventure.errors import ConfigError
from gpt2_adventure.schema import setting

BackendKind = Literal["local", "openai", "kobold"]
BACKEND_KINDS: dict[str, BackendKind] = {"local": "local", "openai": "openai", "kobold": "kobold"}


@dataclass(frozen=True)
class BackendSettings:
    """Where the model runs. ``url`` is the server's base URL, e.g. ``http://127.0.0.1:8080``
    (a trailing ``/v1`` or ``/api`` is accepted and ignored)."""

    kind: BackendKind = setting("local", env="GPT2_ADVENTURE_BACKEND_KIND",
                                help="local = this machine; openai or kobold = a server's API")
    url: str = setting("", env="GPT2_ADVENTURE_BACKEND_URL", help="the server's base URL")
    api_key: str = setting("", env="GPT2_ADVENTURE_BACKEND_API_KEY", secret=True,
                           help='sent as "Authorization: Bearer <key>" (KoboldCpp\'s '
                                "--password too)")
    model: str = setting("", help='the model to ask for; "" = the first the server lists')
    connect_timeout: float = setting(5.0, above=0.0, help="seconds to wait for a connection")
    read_timeout: float = setting(60.0, above=0.0,
                                  help="the longest wait for the next byte (first token "
                                       "included), in seconds")
    retries: int = setting(2, low=0, help="connection attempts retried (never a request the "
                                          "server received)")
    verify_tls: bool = setting(True, help="check the server's HTTPS certificate")
    n_ctx: int = setting(0, low=16, special={0: "ask the server"},
                         help="context tokens; 0 = what the server reports, else 1024")

    @property
    def base_url(self) -> str:
        url = self.url.strip().rstrip("/")
        for suffix in ("/v1", "/api/v1", "/api"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url


def parse_backend_table(table: dict[str, Any], where: str,
                        base: BackendSettings | None = None) -> BackendSettings:
    """Validate a ``[backend]`` table (from config.toml) into settings, naming the bad key."""
    try:
        settings: BackendSettings = schema.update(base or BackendSettings(), table, "backend")
    except schema.SettingError as error:
        raise ConfigError(str(error), where, hint=error.hint) from None
    problem = settings_problem(settings)
    if problem:
        key, message = problem
        raise ConfigError(f"[backend].{key} {message}", where)
    return settings


def settings_problem(settings: BackendSettings) -> tuple[str, str] | None:
    """(key, what is wrong) for the first bad value, or None."""
    found = schema.problems(settings)
    if found and found[0][0] == "kind":
        return found[0]
    if settings.kind != "local":
        if not settings.url.strip():
            return "url", f"must be set when kind is {settings.kind!r}"
        if not settings.url.strip().lower().startswith(("http://", "https://")):
            return "url", f"must start with http:// or https://, got {settings.url!r}"
    return found[0] if found else None
