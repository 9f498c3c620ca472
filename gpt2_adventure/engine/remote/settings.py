"""The ``[backend]`` settings: play on this machine (``local``) or on a server over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from gpt2_adventure.errors import ConfigError

BackendKind = Literal["local", "openai", "kobold"]
KINDS: tuple[str, ...] = ("local", "openai", "kobold")


@dataclass(frozen=True)
class BackendSettings:
    """Where the model runs. ``url`` is the server's base URL, e.g. ``http://127.0.0.1:8080``
    (a trailing ``/v1`` or ``/api`` is accepted and ignored)."""

    kind: BackendKind = "local"
    url: str = ""
    api_key: str = ""  # sent as "Authorization: Bearer <key>" (KoboldCpp's --password too)
    model: str = ""  # "" = the first model the server lists
    connect_timeout: float = 5.0
    read_timeout: float = 60.0  # the longest wait for the next byte (first token included)
    retries: int = 2  # connection attempts retried (never a request the server received)
    verify_tls: bool = True
    n_ctx: int = 0  # 0 = what the server reports, else 1024 (GPT-2's training context)

    @property
    def base_url(self) -> str:
        url = self.url.strip().rstrip("/")
        for suffix in ("/v1", "/api/v1", "/api"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url


_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,), "url": (str,), "api_key": (str,), "model": (str,),
    "connect_timeout": (int, float), "read_timeout": (int, float), "retries": (int,),
    "verify_tls": (bool,), "n_ctx": (int,),
}
_TYPE_NAMES = {(str,): "text", (int, float): "a number", (int,): "an integer",
               (bool,): "true or false"}


def parse_backend_table(table: dict[str, Any], where: str,
                        base: BackendSettings | None = None) -> BackendSettings:
    """Validate a ``[backend]`` table (from config.toml) into settings, naming the bad key."""
    known = [f.name for f in fields(BackendSettings)]
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"unknown setting [backend].{key}", where,
                              hint=f"known settings: {', '.join(known)}")
        expected = _TYPES[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            raise ConfigError(f"[backend].{key} must be {_TYPE_NAMES[expected]}, got {value!r}",
                              where)
        values[key] = float(value) if expected == (int, float) else value
    merged = {f.name: getattr(base or BackendSettings(), f.name) for f in fields(BackendSettings)}
    merged.update(values)
    settings = BackendSettings(**merged)
    problem = settings_problem(settings)
    if problem:
        key, message = problem
        raise ConfigError(f"[backend].{key} {message}", where)
    return settings


def settings_problem(settings: BackendSettings) -> tuple[str, str] | None:
    """(key, what is wrong) for the first bad value, or None."""
    if settings.kind not in KINDS:
        return "kind", f"must be one of {', '.join(KINDS)}, got {settings.kind!r}"
    if settings.kind != "local":
        if not settings.url.strip():
            return "url", f"must be set when kind is {settings.kind!r}"
        if not settings.url.strip().lower().startswith(("http://", "https://")):
            return "url", f"must start with http:// or https://, got {settings.url!r}"
    for key in ("connect_timeout", "read_timeout"):
        if getattr(settings, key) <= 0:
            return key, f"must be > 0, got {getattr(settings, key)}"
    if settings.retries < 0:
        return "retries", f"must be >= 0, got {settings.retries}"
    if settings.n_ctx != 0 and settings.n_ctx < 16:
        return "n_ctx", f"must be 0 (ask the server) or >= 16, got {settings.n_ctx}"
    return None
