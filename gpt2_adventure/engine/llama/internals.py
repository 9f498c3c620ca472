"""Everything that reaches past llama-cpp-python's high-level ``Llama`` API, in one place.

The backend keeps llama.cpp's KV cache between turns, trims it to a common prefix and saves
it beside a game. ``Llama`` offers none of that directly, so these helpers use llama.cpp's
public C API (``llama_get_memory``, ``llama_memory_seq_rm``, ``llama_state_seq_*``) on the
public ``Llama.ctx`` handle. The one thing the C API cannot do is tell ``Llama`` what its
cache holds: ``Llama.eval`` appends after ``n_tokens`` and records the ids in ``input_ids``,
and no public method sets them (``reset`` only empties them; ``load_state`` needs a whole
context's state and logits). So ``_record`` and ``_set_count`` write those two attributes,
and nothing else in the game does. tests/engine/llama/test_internals.py checks it all on a
real model.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

SEQ = 0  # the one sequence the game evaluates


def evaluated(llm: Any) -> list[int]:
    """The token ids llama.cpp holds KV cells for, in order."""
    return [int(t) for t in llm.input_ids[: llm.n_tokens]]


def evaluated_count(llm: Any) -> int:
    """How many positions are evaluated (the next token goes at this position)."""
    return int(llm.n_tokens)


def trim(llm: Any, keep: int) -> int:
    """Drop the KV cells from position ``keep`` on, so the next ``eval`` continues there;
    returns how many positions are kept (0 when llama.cpp cannot cut the cache there)."""
    import llama_cpp

    keep = max(0, min(keep, evaluated_count(llm)))
    memory = llama_cpp.llama_get_memory(llm.ctx)
    if not llama_cpp.llama_memory_seq_rm(memory, -1, keep, -1):
        # Only recurrent models refuse a partial cut; GPT-2 never does. Start over instead.
        llama_cpp.llama_memory_seq_rm(memory, -1, 0, -1)
        keep = 0
    _set_count(llm, keep)
    return keep


def export_sequence(llm: Any) -> bytes:
    """llama.cpp's state (KV cells) for the evaluated tokens, as opaque bytes."""
    import llama_cpp

    size = llama_cpp.llama_state_seq_get_size(llm.ctx, SEQ)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(llm.ctx, buffer, size, SEQ)
    return ctypes.string_at(buffer, written)


def import_sequence(llm: Any, tokens: Sequence[int], data: bytes) -> bool:
    """Replace the cache with ``data`` exported for ``tokens``; False (and an empty cache)
    when llama.cpp refuses it. The caller checks the tokens belong to this model."""
    import llama_cpp

    trim(llm, 0)
    # llama.cpp reads the bytes where they are: a 100 MB copy would hold the GIL (and stall
    # the TUI) while a game opens. ``data`` outlives the call, so the pointer stays valid.
    buffer = ctypes.cast(ctypes.c_char_p(bytes(data)), ctypes.POINTER(ctypes.c_uint8))
    if llama_cpp.llama_state_seq_set_data(llm.ctx, buffer, len(data), SEQ) != len(data):
        trim(llm, 0)
        return False
    _record(llm, tokens)
    return True


# The only writes to Llama's bookkeeping (no public setter: see the module's doc).

def _record(llm: Any, tokens: Sequence[int]) -> None:
    """Tell ``Llama`` which tokens its cache holds."""
    llm.input_ids[: len(tokens)] = [int(t) for t in tokens]
    _set_count(llm, len(tokens))


def _set_count(llm: Any, n: int) -> None:
    """Tell ``Llama`` its cache holds its first ``n`` recorded tokens."""
    llm.n_tokens = n
