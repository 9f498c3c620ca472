"""Byte counts as people read them."""

from __future__ import annotations

import pytest

from gpt2_adventure.units import size_text


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 bytes"), (100, "100 bytes"), (999, "999 bytes"),
    (1000, "1 kB"), (65_536, "66 kB"),
    (1_000_000, "1 MB"), (20_000_000, "20 MB"), (50 * 1024 * 1024, "52 MB"),
    (176_000_000, "176 MB"),  # gpt2 Q8_0
    (1_650_000_000, "1.6 GB"), (3_250_000_000, "3.2 GB"),  # gpt2-xl Q8_0, f16
])
def test_sizes_in_powers_of_1000(n: int, text: str) -> None:
    assert size_text(n) == text
