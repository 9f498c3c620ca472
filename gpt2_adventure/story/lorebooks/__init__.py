"""Lorebooks (world info) from SillyTavern, KoboldAI and character cards, in and out.

- ``read.py``: which kind a file is, by its content; its entries as ``WorldEntry``s with
  what had no equivalent (``Lorebook.dropped``), card macros filled when a character is known.
- ``sillytavern.py``: SillyTavern World Info JSON, read and written (``/export lorebook``).
- ``kobold.py``: KoboldAI Lite's exported world info, a KoboldAI story's ``worldinfo`` list.
- ``character_book.py``: a Character Card V2/V3 book, in a card (``cards/to_seed.py``) or alone.
- ``attach.py``: entries added to a story seed, a saved game or a seed in memory (``--into``,
  ``--lorebook``), atomically and without adding an entry twice.
"""

from gpt2_adventure.story.lorebooks.common import Lorebook
from gpt2_adventure.story.lorebooks.read import lorebook_kind, read_lorebook

__all__ = ["Lorebook", "lorebook_kind", "read_lorebook"]
