"""Time to first token and tokens/s: the local llama.cpp backend vs the same model through
llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (the remote backend, over HTTP).

    python benchmarks/remote_vs_local.py [--model FILE] [--tokens 64] [--rounds 3] [--json]

Without --model it builds a GPT-2-124M-shaped Q8_0 file with random weights. Every round
uses a new ~300-token prompt, so neither side reuses a cached prefix (a cold turn); the
"warm" figures repeat the last prompt plus one word, as a game turn does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import THREADS, shaped_gguf  # noqa: E402
from gpt2_adventure.engine.backend import GenerationStats  # noqa: E402
from gpt2_adventure.engine.llama.backend import LlamaBackend  # noqa: E402
from gpt2_adventure.engine.remote.openai import OpenAIBackend  # noqa: E402
from gpt2_adventure.engine.remote.settings import BackendSettings  # noqa: E402
from gpt2_adventure.engine.sampling import Sampling  # noqa: E402
from gpt2_adventure.paths import AppPaths  # noqa: E402
from tests.support.servers import LlamaServer  # noqa: E402

STORY = ("You are a knight living in the kingdom of Larion. You have a steel longsword and a "
         "wooden shield. You are on a quest to defeat the evil dragon of Larion. You've heard "
         "he lives up at the north of the kingdom. You set on the path to defeat him and walk "
         "into a dark forest. As you enter the forest you see a man in a hooded cloak. ")


def prompt(round_no: int) -> str:
    return f"Chapter {round_no + 1}. " + STORY * 4  # about 300 GPT-2 tokens


def run(backend: object, text: str, tokens: int) -> GenerationStats:
    sampling = Sampling(temperature=0.6, top_k=40, top_p=0.9, repeat_penalty=1.0,
                        max_tokens=tokens, ignore_eos=True)
    reply = backend.stream(text, sampling)  # type: ignore[attr-defined]
    for _ in reply:
        pass
    stats: GenerationStats = reply.stats
    return stats


def summary(cold: list[GenerationStats], warm: list[GenerationStats]) -> dict[str, float]:
    return {
        "ttft_cold_ms": 1000 * statistics.median(s.time_to_first_token for s in cold),
        "ttft_warm_ms": 1000 * statistics.median(s.time_to_first_token for s in warm),
        "tok_s": statistics.median(s.tokens_per_second for s in cold + warm),
        "prompt_tokens": cold[0].prompt_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    work = Path(tempfile.mkdtemp(prefix="remote-bench-"))
    paths = AppPaths(work / "config", work / "data", work / "cache")

    result: dict = {"model": str(model), "tokens": args.tokens, "threads": args.threads}
    local = LlamaBackend(model, threads=args.threads, seed=1, log_file=work / "llama.log")
    with LlamaServer(model, work / "server.log", threads=args.threads) as server:
        remote = OpenAIBackend(BackendSettings(kind="openai", url=server.url), paths)
        runs: dict[str, tuple[list[GenerationStats], list[GenerationStats]]] = {
            "local": ([], []), "server": ([], [])}
        for i in range(args.rounds):  # interleaved, so drift in machine load hits both alike
            for key, backend in (("local", local), ("server", remote)):
                runs[key][0].append(run(backend, prompt(i), args.tokens))
                runs[key][1].append(run(backend, prompt(i) + " You draw your sword.",
                                        args.tokens))
        remote.close()
    local.close()
    for key, (cold, warm) in runs.items():
        result[key] = summary(cold, warm)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"model {model.name}, {result['local']['prompt_tokens']}-token prompt, "
          f"{args.tokens} tokens, {args.threads} threads, median of {args.rounds} rounds")
    print(f"{'':24}{'TTFT cold':>12}{'TTFT warm':>12}{'tok/s':>9}")
    for label, key in (("local LlamaBackend", "local"),
                       ("llama-cpp-python server", "server")):
        r = result[key]
        print(f"{label:24}{r['ttft_cold_ms']:>9.1f} ms{r['ttft_warm_ms']:>9.1f} ms"
              f"{r['tok_s']:>9.1f}")


if __name__ == "__main__":
    main()
