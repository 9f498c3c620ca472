"""Lore in the same reply: what one insertion costs (``story/midreply.py``).

    python benchmarks/midreply.py [--model FILE] [--shape gpt2] [--rounds 5]
                                  [--prompt-tokens 700] [--json OUT]

GPT-2's positions are absolute, so when a reply names a world entry the prompt lacks, the
entry and the reply so far are evaluated again (the prompt before them stays in llama.cpp's
cache). On a 124M-shaped Q8_0 file with random weights unless --model is given, over a
story prompt of ~700 tokens, an entry of ~40 tokens and a 60-token reply, greedy; the key is
a token the reply writes 10, 30 or 50 tokens in (random weights write no words of their
own). Per position: ``evaluated`` (tokens the restart evaluated), ``restart_ms`` (from the
restart to its first token; ``_best``: the fastest round, the least disturbed by other work
on a shared machine), ``extra_ms`` (that less one ordinary step of writing) and the
whole reply's time with the insertion and without; ``next_turn_evaluated`` is what the next
turn evaluates (its action only: the entry stays where the cache has it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHAPES, THREADS, isolate, shaped_gguf, turn_prompt  # noqa: E402

PROMPT_TOKENS = 700
REPLY_TOKENS = 60
POSITIONS = (10, 30, 50)
LORE = ("The crow on the wall is the ghost of the old king of the valley. It knows where the "
        "crown was buried, and it speaks only to those who bring it silver.")


def _state(opening: str, world: list[Any]) -> Any:
    from gpt2_adventure.story.model import StoryState, Turn

    return StoryState(mode="story", title="bench", world=world,
                      turns=[Turn(role="opening", text=opening)])


def _sampling() -> Any:
    from gpt2_adventure.engine.sampling import Sampling

    # Greedy; penalties keep random weights from writing one token over and over.
    return Sampling(temperature=0.0, repeat_penalty=1.5, presence_penalty=4.0, ignore_eos=True,
                    max_tokens=REPLY_TOKENS, candidates=1)


def _reply(backend: Any, opening: str, world: list[Any]) -> tuple[Any, float]:
    """One greedy reply to the story, its prompt already evaluated (as the warm-up leaves
    it): its session and the seconds it took."""
    from gpt2_adventure.story.session import Session

    session = Session(_state(opening, world), backend, _sampling(), max_rerolls=0)
    backend.prefill(session.builder.build(session.state, REPLY_TOKENS).tokens)
    started = time.perf_counter()
    list(session.act(""))
    return session, time.perf_counter() - started


def _keys(backend: Any, opening: str) -> dict[int, str | None]:
    """For each position, a token the greedy reply writes there (or just after), fit to be
    a key: written once so far, not in the story."""
    session, _ = _reply(backend, opening, [])
    reply = backend.evaluated[len(session.last_prompt.tokens):]
    keys: dict[int, str | None] = {}
    for at in POSITIONS:
        keys[at] = None
        for end in range(at, min(at + 8, len(reply))):
            key = backend.detokenize(reply[end - 1:end]).strip()
            before = backend.detokenize(reply[:end]).lower()
            if len(key) >= 3 and key.isprintable() and before.count(key.lower()) == 1 \
                    and key.lower() not in opening.lower():
                keys[at] = key
                break
    return keys


def measure(model: Path, rounds: int, prompt_tokens: int = PROMPT_TOKENS) -> dict[str, Any]:
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.story.model import WorldEntry

    backend = LlamaBackend(model, threads=THREADS, seed=1)
    opening = backend.detokenize(turn_prompt(backend.tokenize, prompt_tokens))
    result: dict[str, Any] = {"prompt_tokens": len(backend.tokenize(opening)),
                              "entry_tokens": len(backend.tokenize("\n" + LORE + "\n")),
                              "reply_tokens": REPLY_TOKENS, "positions": {}}
    keys = _keys(backend, opening)
    for at in POSITIONS:
        key = keys[at]
        if key is None:
            result["positions"][str(at)] = None
            continue
        world = [WorldEntry(keys=(key,), content=LORE)]
        evaluated, restart, extra, with_, without, next_turn, steps = ([] for _ in range(7))
        for _ in range(rounds):  # interleaved: this machine's speed drifts over minutes
            plain_session, plain = _reply(backend, opening, [])
            stats = plain_session.mid_reply.stats  # one ordinary step of writing: the reply without
            step = stats.generation_seconds / max(1, stats.generated_tokens - 1)
            session, took = _reply(backend, opening, world)
            insertions = session.mid_reply.insertions
            if len(insertions) != 1:
                break
            evaluated.append(insertions[0].evaluated)
            restart.append(insertions[0].seconds)
            extra.append(insertions[0].seconds - step)
            steps.append(step)
            with_.append(took)
            without.append(plain)
            list(session.act("The crow flies down to you.", "story"))
            next_turn.append(session.mid_reply.stats.evaluated_tokens)
        if not evaluated:
            result["positions"][str(at)] = None
            continue
        result["positions"][str(at)] = {
            "reply_tokens_so_far": insertions[0].reply_tokens,
            "evaluated": statistics.median(evaluated),
            "restart_ms": 1000 * statistics.median(restart),
            "restart_ms_best": 1000 * min(restart),  # the least disturbed by other work
            "extra_ms": 1000 * statistics.median(extra),
            "step_ms": 1000 * statistics.median(steps),
            "step_ms_best": 1000 * min(steps),
            "reply_ms_with": 1000 * statistics.median(with_),
            "reply_ms_without": 1000 * statistics.median(without),
            "next_turn_evaluated": statistics.median(next_turn),
            "next_turn_action_tokens": len(backend.tokenize("\nThe crow flies down to you.")),
        }
    backend.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a GGUF (default: a random 124M shape)")
    parser.add_argument("--shape", default="gpt2", choices=sorted(SHAPES))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompt-tokens", type=int, default=PROMPT_TOKENS,
                        help="the story's length before the reply")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    isolate()
    model = args.model or shaped_gguf(args.shape)
    figures = measure(model, max(1, args.rounds), max(50, args.prompt_tokens))
    result = {"model": str(model), "threads": THREADS, **figures}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
