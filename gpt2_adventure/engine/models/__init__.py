"""Model files: the catalog, the local store, downloads, conversion from checkpoints, GGUF
headers and the bundled GPT-2 tokenizer."""
