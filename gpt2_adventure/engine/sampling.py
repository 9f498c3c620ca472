"""Sampling settings and their named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen. ``0`` disables top_k; ``1.0`` disables the *_p filters."""

    temperature: float = 0.6
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.15
    repeat_last_n: int = 128
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    mirostat: int = 0  # 0 = off, 1 = Mirostat, 2 = Mirostat 2.0
    mirostat_tau: float = 5.0
    mirostat_eta: float = 0.1
    max_tokens: int = 60
    ignore_eos: bool = False
    banned_strings: tuple[str, ...] = ()
    logit_bias: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        out = []
        if self.temperature < 0:
            out.append(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            out.append(f"top_k must be >= 0, got {self.top_k}")
        for name in ("top_p", "min_p", "typical_p"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                out.append(f"{name} must be between 0 and 1, got {value}")
        if self.repeat_penalty <= 0:
            out.append(f"repeat_penalty must be > 0, got {self.repeat_penalty}")
        if self.repeat_last_n < 0:
            out.append(f"repeat_last_n must be >= 0, got {self.repeat_last_n}")
        if self.mirostat not in (0, 1, 2):
            out.append(f"mirostat must be 0, 1 or 2, got {self.mirostat}")
        if self.max_tokens < 1:
            out.append(f"max_tokens must be >= 1, got {self.max_tokens}")
        return out

    def with_changes(self, **changes: Any) -> Sampling:
        """A copy with the given fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["banned_strings"] = list(self.banned_strings)
        data["logit_bias"] = {str(k): v for k, v in self.logit_bias.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Sampling | None = None) -> Sampling:
        """Build from a mapping (a config table); unknown keys raise ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown sampling setting(s): {', '.join(unknown)}")
        values = dict(data)
        if "banned_strings" in values:
            values["banned_strings"] = tuple(str(s) for s in values["banned_strings"])
        if "logit_bias" in values:
            values["logit_bias"] = {int(k): float(v) for k, v in values["logit_bias"].items()}
        return replace(base or cls(), **values)


# AI Dungeon 2 (2019) shipped temperature 0.4, top_k 40, top_p 0.9 and 60-token replies.
PRESETS: dict[str, Sampling] = {
    "default": Sampling(),
    "aidungeon2": Sampling(temperature=0.4, top_k=40, top_p=0.9, repeat_penalty=1.0,
                           max_tokens=60),
    "clover": Sampling(temperature=0.2, top_k=0, top_p=0.9, repeat_penalty=1.1,
                       repeat_last_n=256, max_tokens=60),
    "creative": Sampling(temperature=1.0, top_k=0, top_p=0.95, min_p=0.05,
                         repeat_penalty=1.1, max_tokens=80),
    "focused": Sampling(temperature=0.25, top_k=20, top_p=0.8, repeat_penalty=1.2,
                        max_tokens=60),
    "mirostat": Sampling(mirostat=2, mirostat_tau=5.0, mirostat_eta=0.1, temperature=1.0,
                         top_k=0, top_p=1.0, repeat_penalty=1.1),
    "greedy": Sampling(temperature=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0),
}


def preset(name: str) -> Sampling:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown sampling preset {name!r}; choose one of: {', '.join(PRESETS)}"
        ) from None
