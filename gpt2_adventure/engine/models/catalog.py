"""The GPT-2 family we know how to fetch: where each GGUF lives and what it weighs.

File names and sizes could not be checked against the Hub from here (no network when this
was written). The names follow the repos' ``<model>.<QUANT>.gguf`` scheme (mradermacher
spells F16 in lower case: ``gpt2-medium.f16.gguf``); the Q8_0 sizes are the ones a public
third-party listing of these exact files reports, the others are scaled by bits per weight.
If a name is wrong, ``models pull`` fails with a 404 and ``models convert`` still works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gpt2_adventure.errors import UserError

DEFAULT_MODEL = "gpt2"
DEFAULT_QUANT = "Q8_0"
TRAINING_CONTEXT = 1024  # learned absolute positions: every GPT-2 size stops here

# Preference order when a model is installed in several quantizations.
QUANTS = ("Q8_0", "Q6_K", "Q4_K_M", "F16")

# Bits per weight, to scale a known Q8_0 size (Q4_K_M mixes Q4_K with Q6_K tensors).
_BITS_PER_WEIGHT = {"Q8_0": 8.5, "Q6_K": 6.5625, "Q4_K_M": 5.0, "F16": 16.0}


@dataclass(frozen=True)
class Entry:
    """One downloadable model: its GGUF files and the official checkpoint it came from."""

    name: str
    parameters: int
    description: str
    gguf_repo: str
    checkpoint_repo: str
    files: Mapping[str, str] = field(hash=False)  # quant -> file name in gguf_repo
    sizes: Mapping[str, int] = field(hash=False)  # quant -> approximate bytes
    context_length: int = TRAINING_CONTEXT

    @property
    def quants(self) -> tuple[str, ...]:
        return tuple(self.files)

    def normalize_quant(self, quant: str | None = None) -> str:
        """``None`` -> the default quant; any case -> the canonical spelling, else UserError."""
        if quant is None:
            return DEFAULT_QUANT
        for known in self.quants:
            if known.lower() == quant.strip().lower():
                return known
        raise UserError(f"{self.name} has no {quant} file; available: {', '.join(self.quants)}")

    def filename(self, quant: str | None = None) -> str:
        return self.files[self.normalize_quant(quant)]

    def size(self, quant: str | None = None) -> int:
        return self.sizes[self.normalize_quant(quant)]


def _entry(
    name: str,
    parameters: int,
    description: str,
    gguf_repo: str,
    checkpoint_repo: str,
    q8_size: int,
    quants: tuple[str, ...] = QUANTS,
) -> Entry:
    files = {q: f"{name}.{'f16' if q == 'F16' else q}.gguf" for q in quants}
    q8_bits = _BITS_PER_WEIGHT["Q8_0"]
    sizes = {
        q: q8_size if q == "Q8_0" else int(round(q8_size * _BITS_PER_WEIGHT[q] / q8_bits, -6))
        for q in quants
    }
    return Entry(
        name=name,
        parameters=parameters,
        description=description,
        gguf_repo=gguf_repo,
        checkpoint_repo=checkpoint_repo,
        files=MappingProxyType(files),
        sizes=MappingProxyType(sizes),
    )


# GGUFs made after llama.cpp added `tokenizer.ggml.pre` (older GPT-2 GGUFs lack it and load with
# a warning or not at all). The output head is stored untied, so files are ~1/3 above params.
_ENTRIES: tuple[Entry, ...] = (
    _entry(
        "gpt2", 124_000_000, "GPT-2 small: fast on any CPU, the default",
        "mradermacher/gpt2-GGUF", "openai-community/gpt2", 177_669_376,
    ),
    _entry(
        "gpt2-medium", 355_000_000, "GPT-2 medium: better prose, ~3x slower",
        "mradermacher/gpt2-medium-GGUF", "openai-community/gpt2-medium", 437_487_744,
    ),
    _entry(
        "gpt2-large", 774_000_000, "GPT-2 large: needs a fast CPU",
        "mradermacher/gpt2-large-GGUF", "openai-community/gpt2-large", 898_165_824,
    ),
    # No F16 listed: not seen for gpt2-xl (3 GB); convert from the checkpoint if you want it.
    _entry(
        "gpt2-xl", 1_558_000_000, "GPT-2 XL: the full 1.5B model, slow on a laptop",
        "mradermacher/gpt2-xl-GGUF", "openai-community/gpt2-xl", 1_749_953_760,
        quants=("Q8_0", "Q6_K", "Q4_K_M"),
    ),
    # No mradermacher repo known for distilgpt2; QuantFactory uses the same naming, without F16.
    _entry(
        "distilgpt2", 82_000_000, "DistilGPT2: the smallest and fastest, weaker stories",
        "QuantFactory/distilgpt2-GGUF", "distilbert/distilgpt2", 132_303_872,
        quants=("Q8_0", "Q6_K", "Q4_K_M"),
    ),
)


def catalog() -> list[Entry]:
    """Every known model: the default first, then by size, then distilgpt2."""
    return list(_ENTRIES)


def names() -> list[str]:
    return [entry.name for entry in _ENTRIES]


def find(name: str) -> Entry | None:
    """The entry called ``name`` (any case), or None."""
    wanted = name.strip().lower()
    return next((entry for entry in _ENTRIES if entry.name == wanted), None)


def lookup(name: str) -> Entry:
    """The entry called ``name`` (any case); an unknown name is a UserError listing valid ones."""
    entry = find(name)
    if entry is None:
        raise UserError(
            f"unknown model {name!r}; valid names: {', '.join(names())}",
            hint="or play a GGUF file you already have with --model PATH",
        )
    return entry
