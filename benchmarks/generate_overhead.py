"""The app's generation path vs a bare llama-cpp-python loop, same model, same sampler.

    python benchmarks/generate_overhead.py [--model FILE] [--tokens 128] [--rounds 5] [--json]

Without --model it builds a GPT-2-124M-shaped Q8_0 file with random weights.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PROMPT, THREADS, app_rate, bare_rate, shaped_gguf  # noqa: E402
from gpt2_adventure.engine.llama.backend import LlamaBackend  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = args.model or shaped_gguf("gpt2", "q8_0")

    import llama_cpp

    backend = LlamaBackend(model, threads=args.threads, seed=1, log_file=model.parent / "llama.log")
    with contextlib.redirect_stderr(io.StringIO()):
        llm = llama_cpp.Llama(model_path=str(model), n_ctx=1024, n_threads=args.threads,
                              n_threads_batch=args.threads, seed=1, verbose=False)
    tokens = backend.tokenize(PROMPT)
    bare, app = [], []
    for _ in range(args.rounds):  # interleaved, so drift in machine load hits both alike
        bare.append(bare_rate(llm, tokens, args.tokens))
        app.append(app_rate(backend, tokens, args.tokens))
    result = {
        "model": str(model),
        "threads": args.threads,
        "tokens": args.tokens,
        "bare_tok_s": statistics.median(bare),
        "app_tok_s": statistics.median(app),
    }
    result["app_over_bare"] = result["app_tok_s"] / result["bare_tok_s"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"bare llama-cpp-python loop: {result['bare_tok_s']:.1f} tok/s")
        print(f"gpt2-adventure stream:      {result['app_tok_s']:.1f} tok/s")
        print(f"app / bare:                 {result['app_over_bare']:.3f}")


if __name__ == "__main__":
    main()
