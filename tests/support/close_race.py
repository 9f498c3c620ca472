"""Close a backend while another thread is inside it, many times over (run as a program, so
that a crash ends only this process and the test sees its exit code).

    python -m tests.support.close_race local|remote|tokenizer MODEL.gguf ROUNDS

Prints one line: ``rounds N errors NAME,NAME`` (the exceptions the worker met, by name).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

STORY = "The blacksmith hid the key under the anvil and said nothing. " * 60


def _local(model: Path, cache: Path) -> Any:
    from gpt2_adventure.engine.llama.backend import LlamaBackend

    return LlamaBackend(model, threads=1, sequences=3, seed=1)


def _remote(model: Path, cache: Path) -> tuple[Any, Any]:
    """A KoboldCpp-like server that does not tokenize, so the game's own tokenizer counts
    every prompt and reply (as when the SIGSEGV was seen)."""
    from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer
    from gpt2_adventure.engine.remote.kobold import KoboldBackend
    from gpt2_adventure.engine.remote.settings import BackendSettings
    from gpt2_adventure.paths import AppPaths
    from tests.support.servers import FakeServer

    server = FakeServer(LocalTokenizer(cache), "kobold", server_tokenizer=False,
                        reply=STORY[:400], delay=0.0).start()
    settings = BackendSettings(kind="kobold", url=server.url, read_timeout=10.0, retries=0)
    return KoboldBackend(settings, AppPaths(cache / "c", cache / "d", cache)), server


def main(kind: str, model: Path, rounds: int) -> None:
    from gpt2_adventure.engine.backend import AheadRequest
    from gpt2_adventure.engine.sampling import Sampling

    cache = Path(tempfile.mkdtemp())
    errors: set[str] = set()
    server = None
    for i in range(rounds):
        if kind == "tokenizer":
            from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer

            backend = LocalTokenizer(cache)
        elif kind == "local":
            backend = _local(model, cache)
        else:
            backend, server = _remote(model, cache)
        inside = threading.Event()

        def work(backend: Any = backend, inside: threading.Event = inside) -> None:
            inside.set()
            try:
                if kind == "tokenizer":
                    for _ in range(20):
                        backend.tokenize(STORY)
                    return
                prompt = backend.tokenize(STORY)[:300]
                sampling = Sampling(max_tokens=16, ignore_eos=True)
                for _ in range(3):  # what the warm-up does: tokenize, write ahead, count
                    list(backend.write_ahead(AheadRequest(prompt, [sampling, sampling])))
                    backend.tokenize(STORY)
            except Exception as error:  # noqa: BLE001 - reported by name
                errors.add(type(error).__name__)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        inside.wait()
        time.sleep(0.002 * (i % 10))  # close at a different moment each round
        backend.close()
        worker.join(60)
        assert not worker.is_alive(), "the worker never ended"
        if server is not None:
            server.stop()
    print("rounds", rounds, "errors", ",".join(sorted(errors)) or "-")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
