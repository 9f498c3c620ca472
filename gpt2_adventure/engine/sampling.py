"""Sampling settings and their named presets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gpt2_adventure import schema
from gpt2_adventure.schema import setting

MAX_CANDIDATES = 5  # replies per action, the shown one and the ones written ahead


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen. ``0`` disables top_k; ``1.0`` disables the *_p filters."""

    temperature: float = setting(0.6, low=0.0, screen=True,
                                 help="randomness; 0 always takes the likeliest token")
    top_k: int = setting(40, low=0, screen=True, help="keep the k likeliest tokens; 0 = all")
    top_p: float = setting(0.9, low=0.0, high=1.0, screen=True,
                           help="keep the likeliest tokens up to this share; 1 = all")
    min_p: float = setting(0.0, low=0.0, high=1.0, screen=True,
                           help="drop tokens below this share of the likeliest one's")
    typical_p: float = setting(1.0, low=0.0, high=1.0, screen=True,
                               help="locally typical sampling; 1 = off")
    repeat_penalty: float = setting(1.15, above=0.0, screen=True,
                                    help="make recent tokens less likely; 1 = off")
    repeat_last_n: int = setting(128, low=0, screen=True,
                                 help="how many recent tokens the penalties look at")
    frequency_penalty: float = setting(0.0, help="penalty per repeat of a recent token")
    presence_penalty: float = setting(0.0, help="penalty for any recent token")
    mirostat: int = setting(0, choices=(0, 1, 2), help="0 = off, 1 = Mirostat, 2 = Mirostat 2.0")
    mirostat_tau: float = setting(5.0, help="Mirostat's target surprise")
    mirostat_eta: float = setting(0.1, help="Mirostat's learning rate")
    max_tokens: int = setting(60, low=1, screen=True, help="the longest reply, in tokens")
    candidates: int = setting(2, low=1, high=MAX_CANDIDATES, screen=True,
                              help="replies per action: the extra ones are written while you "
                                   "read, so retry shows one at once; 1 = off")
    ignore_eos: bool = setting(False, help="keep writing past the end-of-text token")
    banned_strings: tuple[str, ...] = setting((), help="texts the model may never write")
    logit_bias: dict[int, float] = setting(factory=dict,
                                           help="token id = bias added to its logit")

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        return [f"{name} {problem}" for name, problem in schema.problems(self)]

    def with_changes(self, **changes: Any) -> Sampling:
        """A copy with the given fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {spec.name: schema.plain(spec, value) for spec, value in schema.rows(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Sampling | None = None) -> Sampling:
        """Build from a mapping (a config table), each value checked; an unknown key or a bad
        value raises ValueError (``schema.SettingError``)."""
        return schema.update(base or cls(), data)


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


# What a preset does not choose: how many replies to write is the player's (and the
# machine's) choice, not a sampling style, so picking a preset leaves it as it is.
NOT_IN_PRESETS = frozenset({"candidates"})


def preset(name: str) -> Sampling:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown sampling preset {name!r}; choose one of: {', '.join(PRESETS)}"
        ) from None


def unbannable(banned: Iterable[str], tokenize: Callable[[str], Sequence[int]]
               ) -> list[tuple[str, int]]:
    """The banned strings a logit bias cannot ban, each with the fewest tokens it takes.

    A ban is a bias against one token id, so it works only for a text that is a single token
    on its own or after a space (`` dragon``), the way the backends apply it. Banning the
    first token of a longer word instead would also ban every other word that starts with it
    (`` Gand`` of ``Gandalf`` is in ``Gandhi``), so such a word is refused rather than
    silently ignored.
    """
    out: list[tuple[str, int]] = []
    for text in banned:
        counts = [len(tokenize(variant)) for variant in (text, " " + text)]
        if 1 not in counts:
            out.append((text, min(counts)))
    return out
