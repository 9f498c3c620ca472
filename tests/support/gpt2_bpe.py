"""A reference GPT-2 byte-level BPE tokenizer (as in OpenAI's encoder.py), for cross-checks."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import regex

from gpt2_adventure.resources import gpt2_tokenizer_dir

GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """Map every byte to a printable character; printable Latin-1 bytes map to themselves."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


class GPT2BPE:
    def __init__(self, folder: Path | None = None):
        folder = folder or gpt2_tokenizer_dir()
        self.encoder: dict[str, int] = json.loads((folder / "vocab.json").read_text("utf-8"))
        lines = (folder / "merges.txt").read_text("utf-8").splitlines()
        merges = [tuple(ln.split(" ")) for ln in lines if ln and not ln.startswith("#version")]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.bpe = lru_cache(maxsize=100_000)(self._bpe)

    def _bpe(self, word: str) -> tuple[str, ...]:
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), float("inf")), i)
                     for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False))]
            rank, at = min(pairs)
            if rank == float("inf"):
                break
            first, second = parts[at], parts[at + 1]
            merged: list[str] = []
            i = 0
            while i < len(parts):  # merge every occurrence of the best pair, left to right
                if i < len(parts) - 1 and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return tuple(parts)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in GPT2_PATTERN.findall(text):
            word = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(word))
        return ids
