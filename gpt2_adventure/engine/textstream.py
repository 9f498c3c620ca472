"""Turn a stream of token bytes into whole characters, and stop at stop strings.

GPT-2 tokens are byte-level: one token may carry half of a UTF-8 character (an emoji is
often split over two or three tokens), so text is decoded incrementally. Text that could
be the start of a stop string is held back until it is clear it is not one.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class TextAssembler:
    """Feed token bytes in, get printable pieces out; ``stopped`` turns true at a stop string."""

    def __init__(self, stop: Sequence[str] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in stop if s)
        self._held = ""  # decoded text not yet released (may begin a stop string)
        self.stopped = False
        self.text = ""  # everything released so far

    def feed(self, data: bytes) -> str:
        """Add bytes; return the text that is now safe to show (possibly "")."""
        if self.stopped:
            return ""
        return self._release(self._decoder.decode(data))

    def finish(self) -> str:
        """End of stream: flush what was held (an incomplete character becomes U+FFFD)."""
        if self.stopped:
            return ""
        tail = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        cut = self._find_stop(tail)
        if cut is not None:
            tail = tail[:cut]
            self.stopped = True
        self.text += tail
        return tail

    def _find_stop(self, text: str) -> int | None:
        hits = [i for i in (text.find(s) for s in self._stops) if i >= 0]
        return min(hits) if hits else None

    def _release(self, new: str) -> str:
        text = self._held + new
        cut = self._find_stop(text)
        if cut is not None:
            self.stopped = True
            self._held = ""
            out = text[:cut]
        else:
            keep = self._longest_stop_prefix_suffix(text)
            out, self._held = text[: len(text) - keep], text[len(text) - keep :]
        self.text += out
        return out

    def _longest_stop_prefix_suffix(self, text: str) -> int:
        """Length of the longest end of ``text`` that is a proper prefix of some stop string."""
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:n]):
                    best = n
                    break
        return best
