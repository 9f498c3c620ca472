"""The GPT-2 tokenizer on this machine, for servers that do not tokenize for us.

llama.cpp itself does the work (so the counts match a llama.cpp server exactly): the
shipped vocab.json/merges.txt are written once into a vocabulary-only GGUF in the cache
folder, which ``Llama(vocab_only=True)`` loads in a tenth of a second.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gpt2_adventure.engine.lifetime import Lifetime
from gpt2_adventure.engine.llama.logs import prints_to, route_llama_logs
from gpt2_adventure.fileio import atomic_path
from gpt2_adventure.resources import gpt2_tokenizer_dir

VOCAB_FILE = "gpt2-vocab-v1.gguf"  # bump the suffix if the file's content ever changes
_write_lock = threading.Lock()


def write_vocab_gguf(out: Path) -> Path:
    """Write GPT-2's vocabulary as a weightless GGUF at ``out`` (atomically)."""
    import gguf

    folder = gpt2_tokenizer_dir()
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    merges = [m for m in (folder / "merges.txt").read_text(encoding="utf-8").splitlines()[1:]
              if m]
    out.parent.mkdir(parents=True, exist_ok=True)
    # A plain shared cache file (0644), written whole or not at all.
    with atomic_path(out, mode=0o644, temp_prefix=f"{out.name}.") as tmp:
        writer = gguf.GGUFWriter(tmp, "gpt2")
        writer.add_name("gpt2-tokenizer")
        # llama.cpp reads the model's hyper-parameters even for a vocabulary-only load.
        writer.add_context_length(1024)
        writer.add_embedding_length(768)
        writer.add_feed_forward_length(3072)
        writer.add_block_count(12)
        writer.add_head_count(12)
        writer.add_layer_norm_eps(1e-5)
        writer.add_file_type(0)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("gpt-2")
        writer.add_token_list(tokens)
        writer.add_token_types([3 if t == "<|endoftext|>" else 1 for t in tokens])
        writer.add_token_merges(merges)
        writer.add_bos_token_id(vocab["<|endoftext|>"])
        writer.add_eos_token_id(vocab["<|endoftext|>"])
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return out


def vocab_gguf(cache_dir: Path) -> Path:
    """The cached vocabulary file, written on first use."""
    path = cache_dir / "tokenizers" / VOCAB_FILE
    with _write_lock:
        if not path.is_file():
            write_vocab_gguf(path)
    return path


class LocalTokenizer:
    """GPT-2's byte-level BPE through llama.cpp: "Hello world" -> [15496, 995]."""

    source = "local GPT-2 tokenizer"

    def __init__(self, cache_dir: Path, log_file: Path | None = None) -> None:
        path = vocab_gguf(cache_dir)
        route_llama_logs(log_file)
        import llama_cpp

        # verbose=True plus redirected Python streams, as LlamaBackend does: verbose=False
        # would redirect the process's file descriptors while loading and blank a TUI.
        with prints_to(io.StringIO()):
            self._llm: Any = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=True)
        self._llm.verbose = False
        self.eos = int(self._llm.token_eos())
        self._lifetime = Lifetime("GPT-2 tokenizer")  # the warm-up may be inside it at close

    def tokenize(self, text: str) -> list[int]:
        with self._lifetime.call():
            # special=False: "<|endoftext|>" typed by a player stays plain text.
            return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def detokenize(self, tokens: Sequence[int]) -> str:
        with self._lifetime.call():
            return bytes(self._llm.detokenize(list(tokens))).decode("utf-8", errors="replace")

    def close(self) -> None:
        """Free the vocabulary once the calls inside it are done; later calls raise
        ``ClosedError``."""
        self._lifetime.end(self._llm.close)
