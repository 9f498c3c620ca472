"""Recall's search engine, measured: SQLite FTS5 (what the game uses) against bm25s and a
plain in-memory BM25, on one long made-up story.

    python benchmarks/recall.py [--turns 10000] [--json OUT]

For each engine: the time to index the whole story (``build_s``), to add one turn as the
story grows (``append_ms_p50``/``_p95``: a turn is an action and a reply, so two turns are
added each time), and to find the passages for an action that names a planted entity at the
end of the story (``query_ms_p50``/``_p95``), with the share of those queries whose best
three passages hold the planted fact (``hit_rate``). For FTS5 also: reopening the index
file and checking it against the save (``reopen_s``), its size, and ``recall_find_ms_p95``:
``Recall.find`` as the prompt builder calls it (the story compared with the index, the new
turn indexed, the query) at the end of the story. bm25s is measured only when it can be
imported (``pip install bm25s``); it has no way to add a document, so its append is a
rebuild of the index.

``prompts``: recall in the prompt itself, with the real GPT-2 tokenizer and a 1024-token
context: a scripted adventure of 300 turns with the 20 facts planted in its first 40, then
120 more exchanges where every third action names a planted entity (260+ turns after it was
told). ``fact_in_prompt`` is the share of those prompts that hold the fact (the window alone
gives 0), ``precision`` the share of passages recalled for them that name the entity, and
``evaluated_over_new_tokens`` (with recall, and ``..._without``) how many prompt tokens differ
from the previous prompt and its reply (what llama.cpp evaluates: only what follows the
common prefix), trims included, per new token of the story (the action and the reply before
it), as ``benchmarks/run.py`` counts it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gpt2_adventure.story.model import StoryState, Turn  # noqa: E402
from gpt2_adventure.story.recall.index import RecallIndex  # noqa: E402
from gpt2_adventure.story.recall.passages import sentences  # noqa: E402
from gpt2_adventure.story.recall.query import STOP_WORDS, Query, build_query  # noqa: E402
from gpt2_adventure.story.recall.recall import Recall  # noqa: E402
from tests.support.prefix import common_prefix  # noqa: E402

SYLLABLES = ("ka", "lo", "mir", "den", "tha", "ru", "vos", "el", "an", "gri", "pe", "dor",
             "si", "wen", "ul", "bra", "fen", "ot", "ly", "mar")
FILLER = ("the", "a", "of", "and", "to", "in", "you", "it", "with", "on", "at", "is")
FACTS = 20
APPENDS = 200
QUERIES = 200


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


class StoryMaker:
    """Sentences of words drawn with Zipf weights (a few words everywhere, most rare)."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]

    def sentence(self, length: int) -> str:
        picks = self.rng.choices(self.words, self.weights, k=length)
        mixed = [w if self.rng.random() > 0.35 else f"{self.rng.choice(FILLER)} {w}"
                 for w in picks]
        text = " ".join(mixed)
        return text[0].upper() + text[1:] + "."

    def exchange(self) -> tuple[str, str]:
        action = f"\n> You {self.sentence(self.rng.randint(3, 6)).lower()}\n"
        reply = " " + " ".join(self.sentence(self.rng.randint(8, 14))
                               for _ in range(self.rng.randint(2, 4)))
        return action, reply


def planted_story(turns: int, seed: int = 1) -> tuple[StoryState, list[tuple[str, str]]]:
    """A story of about ``turns`` turns with FACTS entities, each named once in the first 50
    turns with a distinctive fact; returns the story and (entity, fact) pairs."""
    maker = StoryMaker(seed)
    state = StoryState(mode="adventure", title="bench",
                       turns=[Turn(role="opening", text=" " + maker.sentence(20))])
    facts = []
    for i in range(FACTS):
        name = f"Zor{maker.rng.choice(SYLLABLES)}{i}ith"
        fact = f"{name} keeps the brass{i} lantern{i} hidden in a well."
        facts.append((name, fact))
        action, reply = maker.exchange()
        state.turns += [Turn(role="player", text=action),
                        Turn(role="model", text=f" {fact}{reply}")]
    while len(state.turns) < turns:
        action, reply = maker.exchange()
        state.turns += [Turn(role="player", text=action), Turn(role="model", text=reply)]
    return state, facts


# -- the plain in-memory BM25 ------------------------------------------------------------


class PlainBM25:
    """BM25 (k1 1.2, b 0.75, as FTS5) over an inverted index in dicts: what recall would
    be without an engine. Lower-cased words; no stemming."""

    K1, B = 1.2, 0.75

    def __init__(self) -> None:
        self.postings: dict[str, dict[int, int]] = defaultdict(dict)
        self.lengths: dict[int, int] = {}
        self.texts: dict[int, str] = {}
        self.total = 0

    @staticmethod
    def terms(text: str) -> list[str]:
        return [w.strip(".,!?;:\"'").lower() for w in text.split() if w.strip(".,!?;:\"'")]

    def add(self, key: int, text: str) -> None:
        words = self.terms(text)
        for term, count in Counter(words).items():
            self.postings[term][key] = count
        self.lengths[key] = len(words)
        self.texts[key] = text
        self.total += len(words)

    def search(self, terms: Sequence[str], before: int, limit: int) -> list[tuple[int, str]]:
        n = len(self.lengths)
        if not n:
            return []
        average = self.total / n
        scores: dict[int, float] = defaultdict(float)
        for term in terms:
            posting = self.postings.get(term, {})
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for key, tf in posting.items():
                if key < before:
                    norm = tf + self.K1 * (1 - self.B + self.B * self.lengths[key] / average)
                    scores[key] += idf * tf * (self.K1 + 1) / norm
        best = sorted(scores, key=scores.__getitem__, reverse=True)[:limit]
        return [(key, self.texts[key]) for key in best]


# -- measuring ------------------------------------------------------------------------------


def rows_of(texts: Sequence[str]) -> list[tuple[int, str]]:
    """(turn * 1024 + sentence, sentence) for every sentence, as the index stores them."""
    return [(i * 1024 + j, s) for i, text in enumerate(texts)
            for j, s in enumerate(sentences(text))]


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def probe_queries(facts: list[tuple[str, str]], rng: random.Random) -> list[tuple[Query, str]]:
    out = []
    for _ in range(QUERIES):
        name, fact = rng.choice(facts)
        out.append((build_query(f"You ask about {name}", []), fact))
    return out


def fts5(state: StoryState, facts: list[tuple[str, str]], folder: Path) -> dict[str, Any]:
    texts = [t.text for t in state.turns]
    grow = len(texts) - 2 * APPENDS
    path = folder / "bench.recall.sqlite"
    index = RecallIndex(state.id, path)
    build, _ = timed(lambda: index.sync(texts[:grow]))
    appends = []
    for end in range(grow + 2, len(texts) + 1, 2):
        seconds, _ = timed(lambda end=end: index.sync(texts[:end]))
        appends.append(seconds * 1000)
    rng = random.Random(2)
    queries, hits = [], 0
    for query, fact in probe_queries(facts, rng):
        seconds, found = timed(lambda query=query: index.search(query, len(texts), 3))
        queries.append(seconds * 1000)
        hits += any(fact in p.text for p in found)
    index.close()
    reopen, _ = timed(lambda: RecallIndex(state.id, path).sync(texts))
    recall = Recall(folder)
    recall.find(state, Query(), 0)  # opened and checked once, as when the game opens
    finds = []
    for query, _ in probe_queries(facts, rng)[:50]:
        state.turns.append(Turn(role="player", text="\n> You wait.\n"))
        seconds, _ = timed(lambda query=query: recall.find(state, query, len(state.turns) - 40))
        finds.append(seconds * 1000)
    del state.turns[len(texts):]
    recall.close()
    return {"build_s": build, "append_ms_p50": statistics.median(appends),
            "append_ms_p95": p95(appends), "query_ms_p50": statistics.median(queries),
            "query_ms_p95": p95(queries), "hit_rate": hits / QUERIES, "reopen_s": reopen,
            "file_mb": path.stat().st_size / 1e6,
            "recall_find_ms_p50": statistics.median(finds), "recall_find_ms_p95": p95(finds)}


def plain(state: StoryState, facts: list[tuple[str, str]]) -> dict[str, Any]:
    texts = [t.text for t in state.turns]
    rows = rows_of(texts)
    grow = len(texts) - 2 * APPENDS
    index = PlainBM25()
    build, _ = timed(lambda: [index.add(k, s) for k, s in rows if k < grow * 1024])
    appends = []
    for end in range(grow, len(texts), 2):
        new = rows_of(texts[end:end + 2])
        seconds, _ = timed(lambda new=new, end=end: [index.add(k + end * 1024, s)
                                                     for k, s in new])
        appends.append(seconds * 1000)
    queries, hits = [], 0
    for query, fact in probe_queries(facts, random.Random(2)):
        terms = [*query.strong, *query.weak]
        seconds, found = timed(lambda terms=terms: index.search(terms, len(texts) * 1024, 3))
        queries.append(seconds * 1000)
        hits += any(fact in text for _, text in found)
    return {"build_s": build, "append_ms_p50": statistics.median(appends),
            "append_ms_p95": p95(appends), "query_ms_p50": statistics.median(queries),
            "query_ms_p95": p95(queries), "hit_rate": hits / QUERIES}


def bm25s_engine(state: StoryState, facts: list[tuple[str, str]]) -> dict[str, Any] | None:
    try:
        import bm25s
    except ImportError:
        return None
    texts = [t.text for t in state.turns]
    rows = rows_of(texts)
    keys = [k for k, _ in rows]
    corpus = [s for _, s in rows]

    def build_index(count: int) -> Any:
        tokens = bm25s.tokenize(corpus[:count], stopwords=sorted(STOP_WORDS),
                                show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        return retriever

    build, retriever = timed(lambda: build_index(len(corpus)))
    # No way to add a document: a new turn means indexing the story again.
    appends = [timed(lambda: build_index(len(corpus)))[0] * 1000 for _ in range(5)]
    queries, hits = [], 0
    for query, fact in probe_queries(facts, random.Random(2)):
        terms = " ".join([*query.strong, *query.weak])

        def search(terms: str = terms) -> list[str]:
            found, _ = retriever.retrieve(bm25s.tokenize([terms], show_progress=False),
                                          k=12, show_progress=False)
            # bm25s cannot bound by turn: take more and drop those in view afterwards.
            return [corpus[i] for i in found[0] if keys[i] < len(texts) * 1024][:3]

        seconds, found = timed(search)
        queries.append(seconds * 1000)
        hits += any(fact in text for text in found)
    return {"build_s": build, "append_ms_p50": statistics.median(appends),
            "append_ms_p95": p95(appends), "query_ms_p50": statistics.median(queries),
            "query_ms_p95": p95(queries), "hit_rate": hits / QUERIES,
            "version": bm25s.__version__}


def prompts(recall_on: bool, seed: int = 4) -> dict[str, float]:
    """The scripted adventure described above, through ``ContextBuilder``."""
    from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer
    from gpt2_adventure.story.context import ContextBuilder

    with tempfile.TemporaryDirectory(prefix="gpt2adv-vocab-") as cache:
        tokenizer = LocalTokenizer(Path(cache))
        state, facts = planted_story(2 * FACTS + 2, seed)
        maker = StoryMaker(seed + 5)
        while len(state.turns) < 300:
            action, reply = maker.exchange()
            state.turns += [Turn(role="player", text=action), Turn(role="model", text=reply)]
        builder = ContextBuilder(tokenizer.tokenize, 1024, recall=Recall())
        builder.recall_on = recall_on
        rng = random.Random(seed)
        found = probes = passages = about = changed = typed = reply_tokens = 0
        previous: list[int] | None = None
        for i in range(120):
            name = fact = None
            if i % 3 == 0:
                name, fact = rng.choice(facts)
                raw = f"You ask about {name}"
            else:
                raw = maker.exchange()[0].strip("\n> ")
            state.turns.append(Turn(role="player", text=f"\n> {raw}\n", raw=raw))
            placed = set(builder.plan.recall)
            prompt = builder.build(state, 60)
            if fact is not None and name is not None:
                probes += 1
                found += fact in tokenizer.detokenize(prompt.tokens)
                new = [p for p in builder.plan.recall if p not in placed]
                passages += len(new)
                about += sum(name in text for *_, text in new)
            if previous is not None:
                changed += len(prompt.tokens) - common_prefix(previous, prompt.tokens)
                typed += len(tokenizer.tokenize(state.turns[-1].text)) + reply_tokens
            reply = maker.exchange()[1]
            state.turns.append(Turn(role="model", text=reply))
            reply_tokens = len(tokenizer.tokenize(reply))
            previous = prompt.tokens + tokenizer.tokenize(reply)
        tokenizer.close()
    return {"fact_in_prompt": found / probes, "precision": about / max(1, passages),
            "evaluated_over_new_tokens": changed / typed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-prompts", action="store_true",
                        help="skip the scripted adventure (it needs llama-cpp-python)")
    args = parser.parse_args(argv)
    state, facts = planted_story(max(args.turns, 2 * APPENDS + 2 * FACTS + 10))
    print(f"a story of {len(state.turns)} turns, "
          f"{sum(len(sentences(t.text)) for t in state.turns)} sentences")
    with tempfile.TemporaryDirectory(prefix="gpt2adv-recall-") as folder:
        result: dict[str, Any] = {"turns": len(state.turns),
                                  "fts5": fts5(state, facts, Path(folder))}
    result["plain"] = plain(state, facts)
    result["bm25s"] = bm25s_engine(state, facts)
    for name in ("fts5", "bm25s", "plain"):
        figures = result[name]
        if figures is None:
            print(f"{name:6} not installed: skipped")
            continue
        print(f"{name:6} build {figures['build_s']:.2f} s · append p50 "
              f"{figures['append_ms_p50']:.2f} ms p95 {figures['append_ms_p95']:.2f} ms · query "
              f"p50 {figures['query_ms_p50']:.2f} ms p95 {figures['query_ms_p95']:.2f} ms · "
              f"hits {figures['hit_rate']:.2f}")
    if not args.no_prompts:
        with_recall, without = prompts(True), prompts(False)
        result["prompts"] = {**with_recall,
                             "evaluated_over_new_tokens_without":
                                 without["evaluated_over_new_tokens"],
                             "fact_in_prompt_without": without["fact_in_prompt"]}
        figures = result["prompts"]
        print(f"prompts fact in prompt {figures['fact_in_prompt']:.2f} (without recall "
              f"{figures['fact_in_prompt_without']:.2f}) · precision {figures['precision']:.2f}"
              f" · evaluated per new token {figures['evaluated_over_new_tokens']:.2f} "
              f"(without recall {figures['evaluated_over_new_tokens_without']:.2f})")
    fts = result["fts5"]
    print(f"fts5   reopen {fts['reopen_s']:.2f} s · file {fts['file_mb']:.1f} MB · "
          f"Recall.find p50 {fts['recall_find_ms_p50']:.2f} ms p95 "
          f"{fts['recall_find_ms_p95']:.2f} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
