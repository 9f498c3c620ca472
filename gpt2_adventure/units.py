"""Quantities as people read them."""

from __future__ import annotations


def size_text(n: int | float) -> str:
    """A byte count in powers of 1000, as disks and downloads are sold: 100 bytes, 64 kB,
    177 MB, 1.6 GB (whole kB and MB; a tenth of a GB, where a whole one is too coarse)."""
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} kB" if n >= 1000 else count(round(n), "byte")


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` things, the noun agreeing: "1 turn", "2 turns", "0 turns", "1 entry" / "3
    entries" (``many`` for a plural that is not one + "s")."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
