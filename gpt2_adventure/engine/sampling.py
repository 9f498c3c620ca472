"""Sampling settings and their named presets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gpt2_adventure import schema
from gpt2_adventure.schema import setting

MAX_CANDIDATES = 5  # replies per action, the shown one and the ones written ahead
# DRY's usual sequence breakers (llama.cpp's, KoboldCpp's and text-generation-webui's):
# a repeat that crosses a line end, a "Name:" or a quotation mark is not counted as one.
DRY_BREAKERS: tuple[str, ...] = ("\n", ":", "\"", "*")


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
    # DRY ("don't repeat yourself", p-e-w 2024): a token that would extend a repeat of earlier
    # text of dry_allowed_length tokens or more is penalised by multiplier * base ** (length -
    # allowed). It catches the loops GPT-2 falls into before they are written.
    dry_multiplier: float = setting(0.0, low=0.0, screen=True,
                                    help="DRY: penalise continuing a repeat of earlier text; "
                                         "0 = off, 0.8 is usual")
    dry_base: float = setting(1.75, low=1.0, help="DRY: how fast the penalty grows with the "
                                                  "repeat's length")
    dry_allowed_length: int = setting(2, low=1, help="DRY: repeats shorter than this many "
                                                     "tokens are free")
    dry_penalty_last_n: int = setting(0, low=0, help="DRY: how many recent tokens it "
                                                     "searches; 0 = the whole context")
    dry_sequence_breakers: tuple[str, ...] = setting(
        DRY_BREAKERS, help="DRY: texts a repeat never runs across")
    # XTC ("exclude top choices", p-e-w 2024): with this probability, every token above the
    # threshold but the least likely of them is dropped, for less predictable prose.
    xtc_probability: float = setting(0.0, low=0.0, high=1.0, screen=True,
                                     help="XTC: how often to drop the likeliest tokens; 0 = off")
    xtc_threshold: float = setting(0.1, low=0.0, high=1.0,
                                   help="XTC: tokens above this probability are dropped (all "
                                        "but the least likely of them); above 0.5 = off")
    top_n_sigma: float = setting(0.0, low=0.0, screen=True,
                                 help="keep tokens within n standard deviations of the top "
                                      "logit; 0 = off")
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
        built: Sampling = schema.update(base or cls(), data)
        return built


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
    # DRY first against loops (a repeat is made unlikely before it is written; the story
    # engine's re-roll still catches what gets through), so the per-token penalty can stay
    # light: a strong one also punishes "the", "you" and names the story needs.
    "dry": Sampling(temperature=0.7, top_k=0, top_p=0.95, min_p=0.05, repeat_penalty=1.05,
                    repeat_last_n=128, dry_multiplier=0.8, dry_base=1.75, dry_allowed_length=2,
                    max_tokens=60),
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


def banned_tokens(sampling: Sampling, tokenize: Callable[[str], Sequence[int]],
                  eos: int | None) -> list[int]:
    """The token ids a backend biases away for ``sampling``: ``eos`` (when known) if it is
    ignored, and each banned string that is one token on its own or after a space (the
    others no bias can ban: ``unbannable``)."""
    ids = [eos] if sampling.ignore_eos and eos is not None else []
    for text in sampling.banned_strings:
        for variant in (text, " " + text):
            tokens = tokenize(variant)
            if len(tokens) == 1:
                ids.append(tokens[0])
    return ids


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
