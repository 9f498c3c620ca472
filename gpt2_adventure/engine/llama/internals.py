"""Everything that reaches past llama-cpp-python's high-level ``Llama`` API, in one place.

The game keeps the model's KV cache in a context of its own (``sequences.py``: several
sequences in one unified cache, which ``Llama`` cannot make), so ``Llama`` is used only for
the model and its tokenizer. Its own context would be memory nobody uses; ``Llama`` has no
public way to give it back, so ``drop_context`` closes it (``Llama.close`` later skips a
closed context). tests/engine/llama/test_sequences.py checks the backend on a real model.
"""

from __future__ import annotations

from typing import Any


def drop_context(llm: Any) -> None:
    """Free the context ``Llama`` made for itself (the model and tokenizer stay)."""
    llm._ctx.close()  # noqa: SLF001 - the one private touch (see the module's doc)
