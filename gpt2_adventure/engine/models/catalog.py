"""The GPT-2 family we know how to fetch: where each GGUF lives and what it weighs.

The Hub cannot be reached from where this was written. File names follow the repos'
``<model>.<QUANT>.gguf`` scheme (mradermacher spells F16 in lower case: ``gpt2.f16.gguf``).
Sizes marked *listed* are those the repositories' public file listings show (Q8_0 and Q4_K_M
of every size, the rest where noted); the others are estimated from a listed size by bits
per weight, and `models list` marks them with "~". If a name is wrong, ``models pull``
fails with a 404 and ``models convert`` still works.

An entry either names its files (``files``: quant -> file name in ``gguf_repo``), or is made
here from one source: ``source_quant`` says which GGUF of ``gguf_repo`` to download (found by
listing the repository when pulled, as for ``models pull OWNER/REPO``), and every other quant
of ``sizes`` is requantized from it locally. Its ``sizes`` are then those of the files kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gpt2_adventure.errors import UserError

DEFAULT_MODEL = "gpt2"
DEFAULT_QUANT = "Q8_0"
TRAINING_CONTEXT = 1024  # learned absolute positions: every GPT-2 size stops here

# The quantizations every entry offers, best first (hub_files.QUANT_ORDER ranks installed files).
QUANTS = ("Q8_0", "Q6_K", "Q4_K_M", "F16")

# Bits per weight, to scale a known Q8_0 size (Q4_K_M mixes Q4_K with Q6_K tensors).
_BITS_PER_WEIGHT = {"Q8_0": 8.5, "Q6_K": 6.5625, "Q4_K_M": 5.0, "F16": 16.0}


@dataclass(frozen=True)
class Entry:
    """One downloadable model: its GGUF files and the checkpoint it came from."""

    name: str
    parameters: int
    description: str
    gguf_repo: str
    checkpoint_repo: str
    # quant -> file name in gguf_repo; empty when the entry is made from ``source_quant``
    files: Mapping[str, str] = field(hash=False)
    # quant -> bytes of the installed file (listed or estimated); its keys are the quants
    sizes: Mapping[str, int] = field(hash=False)
    listed: frozenset[str] = frozenset()  # quants whose size is the repository's listing
    context_length: int = TRAINING_CONTEXT
    # The quant of gguf_repo's one GGUF (found by listing it) that the others are made from
    # locally with llama.cpp's quantizer; None when ``files`` names a file for every quant.
    source_quant: str | None = None
    preset: str | None = None  # the sampling preset the model plays best with, if any

    @property
    def quants(self) -> tuple[str, ...]:
        return tuple(self.sizes)

    def normalize_quant(self, quant: str | None = None) -> str:
        """``None`` -> the default quant; any case -> the canonical spelling, else UserError."""
        if quant is None:
            return DEFAULT_QUANT
        for known in self.quants:
            if known.lower() == quant.strip().lower():
                return known
        raise UserError(f"{self.name} has no {quant} file; available: {', '.join(self.quants)}")

    def filename(self, quant: str | None = None) -> str:
        """The installed file's name (for ``files`` entries, the repository's too)."""
        quant = self.normalize_quant(quant)
        return self.files.get(quant) or f"{self.name}.{quant}.gguf"

    def size(self, quant: str | None = None) -> int:
        """Bytes of the installed file."""
        return self.sizes[self.normalize_quant(quant)]

    def download_size(self, quant: str | None = None) -> int:
        """Bytes to download for ``quant``: its file, or the source it is made from."""
        return self.sizes[self.source_quant or self.normalize_quant(quant)]

    def made_locally(self, quant: str | None = None) -> bool:
        """Is ``quant`` requantized here from the downloaded source?"""
        return self.source_quant is not None and self.normalize_quant(quant) != self.source_quant

    def size_is_listed(self, quant: str | None = None) -> bool:
        return self.normalize_quant(quant) in self.listed


def _entry(
    name: str,
    parameters: int,
    description: str,
    gguf_repo: str,
    checkpoint_repo: str,
    listed: dict[str, int],
    quants: tuple[str, ...] = QUANTS,
) -> Entry:
    """An entry whose unlisted sizes are estimated from its Q8_0 size by bits per weight."""
    files = {q: f"{name}.{'f16' if q == 'F16' else q}.gguf" for q in quants}
    q8_size, q8_bits = listed["Q8_0"], _BITS_PER_WEIGHT["Q8_0"]
    sizes = {
        q: listed[q] if q in listed else int(round(q8_size * _BITS_PER_WEIGHT[q] / q8_bits, -6))
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
        listed=frozenset(listed),
    )


# GGUFs made after llama.cpp added `tokenizer.ggml.pre` (older GPT-2 GGUFs lack it and load with
# a warning or not at all). The output head is stored untied, so files are ~1/3 above params.
# Q4_K_M keeps some tensors in Q6_K, and GPT-2's large embedding tables weigh more than the
# bits per weight suggest: its listed sizes are well above an estimate.
_ENTRIES: tuple[Entry, ...] = (
    _entry(
        "gpt2", 124_000_000, "GPT-2 small: fast on any CPU, the default",
        "mradermacher/gpt2-GGUF", "openai-community/gpt2",
        {"Q8_0": 177_669_376, "Q4_K_M": 113_000_000},
    ),
    _entry(
        "gpt2-medium", 355_000_000, "GPT-2 medium: better prose, ~3x slower",
        "mradermacher/gpt2-medium-GGUF", "openai-community/gpt2-medium",
        {"Q8_0": 437_487_744, "Q4_K_M": 271_000_000},
    ),
    _entry(
        "gpt2-large", 774_000_000, "GPT-2 large: needs a fast CPU",
        "mradermacher/gpt2-large-GGUF", "openai-community/gpt2-large",
        {"Q8_0": 898_165_824, "Q4_K_M": 549_000_000},
    ),
    _entry(
        "gpt2-xl", 1_558_000_000, "GPT-2 XL: the full 1.5B model, slow on a laptop",
        "mradermacher/gpt2-xl-GGUF", "openai-community/gpt2-xl",
        {"Q8_0": 1_749_953_760, "Q6_K": 1_630_000_000, "Q4_K_M": 1_190_000_000,
         "F16": 3_280_000_000},
    ),
    _entry(
        "distilgpt2", 82_000_000, "DistilGPT2: the smallest and fastest, weaker stories",
        "mradermacher/distilgpt2-GGUF", "distilbert/distilgpt2",
        {"Q8_0": 132_000_000, "Q6_K": 103_000_000, "Q4_K_M": 85_000_000, "F16": 244_000_000},
    ),
    # The 2019 AI Dungeon 2 model (a gpt2-xl fine-tune). Its GGUF repository holds one F16 file
    # (name found by listing it): downloading it (~3.2 GB) and requantizing here keeps a Q8_0
    # of gpt2-xl's size; the F32 safetensors checkpoint (--convert) is a 6.4 GB download.
    # Sizes are gpt2-xl's, estimated.
    Entry(
        name="aidungeon2",
        parameters=1_558_000_000,
        description="AI Dungeon 2 (2019): GPT-2 XL fine-tuned on text adventures",
        gguf_repo="lukasstraub2/gpt2-aidungeon2-gguf",
        checkpoint_repo="lukasstraub2/gpt2-aidungeon2",
        files=MappingProxyType({}),
        sizes=MappingProxyType({"Q8_0": 1_749_953_760, "Q6_K": 1_630_000_000,
                                "Q4_K_M": 1_190_000_000, "F16": 3_200_000_000}),
        source_quant="F16",
        preset="aidungeon2",
    ),
)


def catalog() -> list[Entry]:
    """Every known model: the default first, then by size, distilgpt2, then fine-tunes."""
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
            hint="or pull any GGUF repository of the Hub as OWNER/REPO, "
                 "or play a GGUF file you already have with --model PATH",
        )
    return entry
