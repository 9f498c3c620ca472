"""Byte counts and other counts as people read them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gpt2_adventure.units import count, size_text


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 bytes"), (100, "100 bytes"), (999, "999 bytes"),
    (1000, "1 kB"), (65_536, "66 kB"),
    (1_000_000, "1 MB"), (20_000_000, "20 MB"), (50 * 1024 * 1024, "52 MB"),
    (176_000_000, "176 MB"),  # gpt2 Q8_0
    (1_650_000_000, "1.6 GB"), (3_250_000_000, "3.2 GB"),  # gpt2-xl Q8_0, f16
])
def test_sizes_in_powers_of_1000(n: int, text: str) -> None:
    assert size_text(n) == text


@pytest.mark.parametrize(("n", "one", "many", "text"), [
    (0, "turn", None, "0 turns"), (1, "turn", None, "1 turn"), (2, "round", None, "2 rounds"),
    (1, "entry", "entries", "1 entry"), (3, "entry", "entries", "3 entries"),
    (1234, "token", None, "1,234 tokens"),
])
def test_counts_agree_with_their_noun(n: int, one: str, many: str | None, text: str) -> None:
    assert count(n, one, many) == text


def test_one_byte_is_a_byte() -> None:
    assert size_text(1) == "1 byte"


# Nouns the package prints after a count that can be 1; "{n} turns" reads "1 turns".
_COUNTED = re.compile(r"\{[^{}]+\} (turns|rounds|entries|replies|actions|layers|heads|threads|"
                      r"alternatives|settings|examples|lines|saves|greetings)\b")


def test_printed_counts_agree_with_their_noun() -> None:
    """Every message that puts a count before one of these nouns words it with ``count``."""
    package = Path(__file__).resolve().parent.parent / "gpt2_adventure"
    found = [f"{path.relative_to(package)}:{number}: {line.strip()}"
             for path in sorted(package.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _COUNTED.search(line)]
    assert found == []
