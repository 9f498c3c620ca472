"""Seeds, sessions, context building and saves (pure Python; no textual, no llama_cpp)."""
