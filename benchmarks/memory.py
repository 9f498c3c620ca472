"""Long adventures that remember (issue 24): is a fact told hundreds of turns ago in the
prompt when the player names it again, what does recall cost, and do a long story's index,
recall and autosave stay flat in its length?

    python benchmarks/memory.py [--quick] [--model FILE] [--turns 10000] [--exchanges N]
                                [--json OUT]

The scripted adventure (``adventure``): an opening and exchanges (an action and a reply of
made-up words drawn with Zipf weights: a few words everywhere, most rare) until the story
holds 640 turns (a turn is an action or a reply, as the save and the index count them);
20 of the first 24 replies (turns 2-48) each tell one distinctive fact about an entity the
story never names again ("Vosmirel buried the silver key beneath the old anvil."). Then 120
exchanges in which every third action names one of those entities in a few ways a player
would ("ask about Vosmirel", "go looking for Vosmirel", ...): a probe, 550 or more turns
after its fact.

``prompts``: the adventure through ``ContextBuilder`` as the game lays prompts out, with the
real GPT-2 tokenizer, a 1024-token context and the scripted replies. ``fact_in_prompt``: the
share of probes whose prompt holds the fact (``fact_in_prompt_without``: recall off; the
window alone gives 0); ``precision``: the share of the passages newly recalled at probes
that name the probed entity; ``evaluated_over_new_tokens`` (``..._without``): prompt tokens
differing from the previous prompt and its reply (what llama.cpp evaluates: only what follows
the common prefix), trims included, per new token of the story (the action and the reply
before it); ``misses``: each probe without its fact, and why.

``model``: the adventure's probing exchanges played on a real model (the GPT-2-124M shape,
random weights and the real vocabulary, unless --model), its replies written by it, with
recall and without, two games on two backends loaded as the game loads them (the spare
sequence included; one reply a turn), in interleaved turns, each as the TUI plays it: the
warm-up run to its end while the player reads (the next prompt, then the window after the
next trim in the spare), then the action (``common.measure_game_turn``).
``ttft_over_without_recall``: the median time to the first token with recall over the median
without (all turns but the first, which evaluates the whole story; ``..._at_probes``: probe
turns only; every turn's time is in the JSON); ``evaluated_over_new_tokens``
(``..._without_recall``): tokens evaluated in the main sequence, warm-ups included, per new
token, as ``benchmarks/run.py`` counts them (``evaluated_with_spare_...``: the spare's
background evaluation added); ``trims_...``: prompts that moved the window; and
``fact_in_prompt`` and ``precision`` for these prompts (the model's replies are noise).

``fts5``, ``plain``, ``bm25s``: the search engine on a --turns story (default 10,000: an
imported KoboldAI story can be that long), SQLite FTS5 (what the game uses) against a plain
in-memory BM25 and bm25s (only when installed; it cannot add a document, so its append is a
rebuild): the time to index the whole story (``build_s``), to add an exchange as the story
grows (``append_ms_p50``/``_p95``), to search for an action that names a planted entity
(``query_ms_p50``/``_p95``) with the share of those searches whose best three passages hold
the fact (``hit_rate``); for FTS5 also reopening the index file and checking it against the
save (``reopen_s``), its size, and ``recall_find_ms_p50``/``_p95``: ``Recall.find`` as the
prompt builder calls it per reply (the story checked against the index, the new turn indexed,
the search); ``append_cpu_ms_...`` and ``recall_find_cpu_ms_...``: the same in CPU time, so
that a p95 that is the busy machine's (a time slice lost to another process is 4 ms here)
shows as such. ``autosave``:
``benchmarks/long_story.py``'s figures at 10 and --turns turns.

Headline keys (issue 24's aims): ``fact_recall_in_prompt`` (>= 0.95) and ``recall_precision``
(>= 0.6) from ``prompts``; ``ttft_over_without_recall`` (<= 1.15) and
``evaluated_over_new_tokens`` (with recall, <= 1.5: ``model``'s
``evaluated_with_spare_over_new_tokens``, everything llama.cpp evaluated) from ``model``;
``index_ms_per_turn_p95``
(<= 5 ms: FTS5's ``append_ms_p95``, a turn of play being an action and its reply),
``recall_query_ms_at_10k_turns`` (<= 10 ms: ``recall_find_ms_p50``; its p95 beside it) and
``autosave_ms_10k_over_10_turns`` (<= 1.2). With --turns below 10,000 (--quick) the last
three are measured at that length (``index_turns`` says which).
"""

from __future__ import annotations

import argparse
import copy
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    THREADS,
    TurnFigures,
    evaluated_over_new,
    isolate,
    measure_game_turn,
    new_session,
    p95,
    shaped_gguf,
    timed,
    write_json,
)
from benchmarks.long_story import measure as measure_autosave  # noqa: E402
from gpt2_adventure.story.model import StoryState, Turn  # noqa: E402
from gpt2_adventure.story.recall.index import RecallIndex  # noqa: E402
from gpt2_adventure.story.recall.passages import sentences  # noqa: E402
from gpt2_adventure.story.recall.query import STOP_WORDS, Query, build_query  # noqa: E402
from gpt2_adventure.story.recall.recall import Recall  # noqa: E402
from gpt2_adventure.story.turns import player_turn  # noqa: E402
from tests.support.prefix import common_prefix  # noqa: E402

SYLLABLES = ("ka", "lo", "mir", "den", "tha", "ru", "vos", "el", "an", "gri", "pe", "dor",
             "si", "wen", "ul", "bra", "fen", "ot", "ly", "mar")
FILLER = ("the", "a", "of", "and", "to", "in", "you", "it", "with", "on", "at", "is")
FACTS = 20
PLANTED_TURNS = 640  # the story before the probing exchanges
EXCHANGES = 120  # probing exchanges; every third action names an entity
PROBE_EVERY = 3
APPENDS = 200
QUERIES = 200
SHORTEST = 10  # turns of the short story the long one's autosave is compared with

OBJECTS = ("the silver key", "a brass lantern", "the queen's ring", "an iron crown",
           "the map of the marsh", "a bone flute", "the copper bell", "a glass eye",
           "the green banner", "a jade dagger", "the tin soldier", "a velvet purse",
           "the oak shield", "a pearl necklace", "the black candle", "a bronze mirror",
           "the wooden idol", "a golden feather", "the salt jar", "a scarlet cloak")
PLACES = ("beneath the old anvil", "behind the waterfall", "under the chapel floor",
          "inside a hollow willow", "at the bottom of the well", "in the bell tower",
          "under a mossy stone", "inside the ship's hull", "behind the tavern hearth",
          "in the abbey crypt", "beneath the drawbridge", "inside a fox den",
          "in the lighthouse lamp", "under the miller's wheel", "behind a tapestry",
          "in the frozen lake", "beneath the gallows", "inside a beehive",
          "in the ruined tower", "under the market stall")
VERBS = ("buried", "hid", "left", "locked away", "sealed")
PROBES = ("ask about {}", "ask the innkeeper about {}", "go looking for {}",
          "try to remember what {} did", "ask where {} is")


# -- the scripted adventure --------------------------------------------------------------


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

    def action(self) -> str:
        """What a player types (``format_do`` makes it "You ...")."""
        return self.sentence(self.rng.randint(3, 6)).lower().rstrip(".")

    def reply(self) -> str:
        return " " + " ".join(self.sentence(self.rng.randint(8, 14))
                              for _ in range(self.rng.randint(2, 4)))

    def names(self, count: int) -> list[str]:
        """Names of three syllables the story's words never are."""
        known = set(self.words)
        names: list[str] = []
        while len(names) < count:
            word = "".join(self.rng.choice(SYLLABLES) for _ in range(3))
            if word not in known and word.capitalize() not in names:
                names.append(word.capitalize())
        return names


@dataclass(frozen=True)
class Fact:
    entity: str
    text: str  # the sentence that tells it, as the story holds it
    turn: int  # the turn (index in the story) that tells it


@dataclass(frozen=True)
class Exchange:
    action: str  # as typed
    reply: str  # the scripted reply (the model part lets the model write its own)
    probe: Fact | None  # the fact the action asks about, if it is a probe


@dataclass
class Adventure:
    state: StoryState  # the story before the probing exchanges
    facts: list[Fact]
    exchanges: list[Exchange]


def add_exchange(state: StoryState, action: str, reply: str) -> None:
    turn = player_turn(state, action, "do")
    assert turn is not None
    state.turns += [turn, Turn(role="model", text=reply)]


def adventure(turns: int = PLANTED_TURNS, exchanges: int = EXCHANGES, seed: int = 4
              ) -> Adventure:
    """The scripted adventure described above: ``turns`` turns of story with the facts
    planted in its first 50, then ``exchanges`` probing exchanges."""
    maker = StoryMaker(seed)
    state = StoryState(mode="adventure", title="bench",
                       turns=[Turn(role="opening", text=" " + maker.sentence(20))])
    names = maker.names(FACTS)
    planted_at = sorted(maker.rng.sample(range(24), FACTS))  # which of the first 24 replies
    facts: list[Fact] = []
    for n in range(24):
        reply = maker.reply()
        if n in planted_at:
            i = len(facts)
            text = (f"{names[i]} {VERBS[i % len(VERBS)]} {OBJECTS[i]} {PLACES[i]}.")
            reply = f" {text}{reply}"
            facts.append(Fact(names[i], text, len(state.turns) + 1))
        add_exchange(state, maker.action(), reply)
    assert facts[-1].turn < 50
    while len(state.turns) < turns:
        add_exchange(state, maker.action(), maker.reply())
    probe_rng = random.Random(seed + 1)
    order = [fact for _ in range(math.ceil(exchanges / PROBE_EVERY / FACTS)) for fact in facts]
    probe_rng.shuffle(order)
    script = []
    for n in range(exchanges):
        if n % PROBE_EVERY == 0:
            fact = order.pop()
            action = probe_rng.choice(PROBES).format(fact.entity)
            script.append(Exchange(action, maker.reply(), fact))
        else:
            script.append(Exchange(maker.action(), maker.reply(), None))
    return Adventure(state, facts, script)


def long_adventure(turns: int) -> Adventure:
    """The adventure with its story grown to ``turns`` turns (the probes unused)."""
    return adventure(max(turns, 2 * APPENDS + 60), exchanges=0)


# -- recall in the prompt ----------------------------------------------------------------


@dataclass
class ProbeCount:
    """Probes, those whose prompt held the fact, passages recalled at them, those about
    the entity asked about, and why each miss missed."""

    probes: int = 0
    found: int = 0
    passages: int = 0
    about: int = 0
    misses: list[dict[str, Any]] | None = None

    def add(self, fact: Fact, prompt_text: str, new: Sequence[tuple[int, int, int, str]]
            ) -> bool:
        self.probes += 1
        held = fact.text in prompt_text
        self.found += held
        self.passages += len(new)
        self.about += sum(fact.entity in text for *_, text in new)
        return held

    def figures(self) -> dict[str, Any]:
        return {"probes": self.probes, "fact_in_prompt": self.found / max(1, self.probes),
                "precision": self.about / max(1, self.passages),
                "passages_at_probes": self.passages}


def why_missed(builder: Any, state: StoryState, fact: Fact, prompt: Any) -> dict[str, Any]:
    """What stood between a probe and its fact: was the fact found by the search (and where
    in its ranking), what the recall part held, and the window."""
    plan = builder.plan
    n = len(state.turns)
    newest = state.turns[-1]
    recent = [t.text for t in state.turns[max(plan.window_start, n - builder.scan_turns):n]
              if t is not newest]
    query = build_query(newest.raw or newest.text, recent)
    found = builder.recall.find(state, query, plan.window_start, limit=4 * 2 + 4)
    rank = next((i for i, p in enumerate(found) if fact.text in p.text), None)
    return {"entity": fact.entity, "turns_after": n - fact.turn, "query": list(query.strong),
            "found_rank": rank, "found": [p.text[:60] for p in found[:4]],
            "recall_tokens": prompt.parts.get("recall", 0),
            "placed": len(plan.recall), "window_start": plan.window_start}


def prompts(story: Adventure, recall_on: bool, tokenizer: Any) -> dict[str, Any]:
    """The probing exchanges through ``ContextBuilder`` with scripted replies."""
    from gpt2_adventure.story.context import ContextBuilder

    state = copy.deepcopy(story.state)
    recall = Recall()
    builder = ContextBuilder(tokenizer.tokenize, 1024, recall=recall)
    builder.recall_on = recall_on
    count = ProbeCount(misses=[])
    changed = typed = reply_tokens = 0
    previous: list[int] | None = None
    for exchange in story.exchanges:
        turn = player_turn(state, exchange.action, "do")
        assert turn is not None
        state.turns.append(turn)
        placed = set(builder.plan.recall)
        prompt = builder.build(state, 60)
        if exchange.probe is not None:
            new = [p for p in builder.plan.recall if p not in placed]
            text = tokenizer.detokenize(prompt.tokens)
            if not count.add(exchange.probe, text, new) and recall_on:
                assert count.misses is not None
                count.misses.append(why_missed(builder, state, exchange.probe, prompt))
        if previous is not None:
            changed += len(prompt.tokens) - common_prefix(previous, prompt.tokens)
            typed += len(tokenizer.tokenize(state.turns[-1].text)) + reply_tokens
        state.turns.append(Turn(role="model", text=exchange.reply))
        reply_tokens = len(tokenizer.tokenize(exchange.reply))
        previous = prompt.tokens + tokenizer.tokenize(exchange.reply)
    recall.close()
    return {**count.figures(), "evaluated_over_new_tokens": changed / max(1, typed),
            "misses": count.misses}


def prompt_figures(story: Adventure) -> dict[str, Any]:
    from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer

    with tempfile.TemporaryDirectory(prefix="gpt2adv-vocab-") as cache:
        tokenizer = LocalTokenizer(Path(cache))
        try:
            with_recall, without = prompts(story, True, tokenizer), prompts(story, False,
                                                                             tokenizer)
        finally:
            tokenizer.close()
    return {**with_recall,
            "evaluated_over_new_tokens_without": without["evaluated_over_new_tokens"],
            "fact_in_prompt_without": without["fact_in_prompt"]}


# -- on a model: time to the first token and tokens evaluated -------------------------------


def open_game(model: Path, story: Adventure, recall_on: bool, threads: int
              ) -> tuple[Any, list[int]]:
    """A game of the adventure on a backend loaded as the game loads it (the spare sequence
    included), one reply a turn (nothing written ahead: the turns cost alike), and the
    count of tokens its spare sequence evaluates (in a list, kept up to date)."""
    from gpt2_adventure.engine.llama.backend import LlamaBackend
    from gpt2_adventure.engine.loader import GAME_SEQUENCES
    from gpt2_adventure.game import Game
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.story.context import ContextBuilder
    from gpt2_adventure.story.saves.store import SaveStore

    backend = LlamaBackend(model, threads=threads, seed=1, sequences=GAME_SEQUENCES)
    builder = ContextBuilder(backend.tokenize, backend.n_ctx, recall=Recall())
    builder.recall_on = recall_on
    state = copy.deepcopy(story.state)
    state.id = f"{state.id}-{'recall' if recall_on else 'without'}"  # two games open at once
    session = new_session(backend, 1, builder, state)
    session.sampling = session.sampling.with_changes(candidates=1)
    spare = backend.prefill_spare
    evaluated = [0]

    def counted(tokens: Sequence[int], cancel: Any = None, chunk: int = 64) -> int:
        done = int(spare(tokens, cancel, chunk))
        evaluated[0] += done
        return done

    setattr(backend, "prefill_spare", counted)  # noqa: B010 - what the spare costs, counted
    return Game(session, SaveStore(AppPaths.from_env())).open(), evaluated


def model_figures(model: Path, story: Adventure, exchanges: int, threads: int,
                  log: Callable[[str], None]) -> dict[str, Any]:
    """The probing exchanges played with recall and without (see the module's doc)."""
    opened = {on: open_game(model, story, on, threads) for on in (True, False)}
    games = {on: game for on, (game, _) in opened.items()}
    played: dict[bool, list[TurnFigures]] = {True: [], False: []}
    probes: list[int] = []
    count = ProbeCount()
    recall_tokens: list[int] = []
    trims = {True: 0, False: 0}
    try:
        for n, exchange in enumerate(story.exchanges[:exchanges]):
            if exchange.probe is not None:
                probes.append(n)
            for on in ((True, False) if n % 2 == 0 else (False, True)):  # drift hits both
                session = games[on].session
                placed: set[Any] = set()

                def note(session: Any = session, placed: set[Any] = placed) -> None:
                    placed.update(session.builder.plan.recall)  # before the action

                last = played[on][-1].generated if played[on] else 0
                played[on].append(measure_game_turn(games[on], exchange.action, last, note))
                trims[on] += bool(session.last_prompt.trimmed)
                if on and exchange.probe is not None:
                    new = [p for p in session.builder.plan.recall if p not in placed]
                    prompt = session.backend.detokenize(list(played[on][-1].prompt))
                    count.add(exchange.probe, prompt, new)
                    recall_tokens.append(session.last_prompt.parts.get("recall", 0))
            if n % 10 == 9:
                log(f"model: {n + 1}/{exchanges} exchanges")
    finally:
        for game in games.values():
            game.close()
            game.session.backend.close()

    def median_ttft(on: bool, turns: Sequence[int]) -> float:
        return statistics.median(played[on][t].ttft for t in turns)

    def with_spare(on: bool) -> float:
        later = played[on][1:]
        spare = opened[on][1][0]
        return float(sum(f.evaluated + f.warmed for f in later) + spare) / max(
            1, sum(f.new for f in later))

    later = range(1, len(played[True]))
    at_probes = [t for t in probes if t > 0] or list(later)
    figures = count.figures()
    return {"exchanges": len(played[True]), "probes": figures["probes"], "threads": threads,
            "ttft_with_recall_median_s": median_ttft(True, later),
            "ttft_without_recall_median_s": median_ttft(False, later),
            "ttft_over_without_recall": median_ttft(True, later) / median_ttft(False, later),
            "ttft_over_without_recall_at_probes": median_ttft(True, at_probes)
            / median_ttft(False, at_probes),
            "ttft_with_recall_s": [round(f.ttft, 4) for f in played[True]],
            "ttft_without_recall_s": [round(f.ttft, 4) for f in played[False]],
            "probe_turns": probes,
            "evaluated_at_reply_median": statistics.median(
                played[True][t].evaluated for t in later),
            "evaluated_at_reply_median_without_recall": statistics.median(
                played[False][t].evaluated for t in later),
            "evaluated_at_probes_median": statistics.median(
                played[True][t].evaluated for t in at_probes),
            "evaluated_at_probes_median_without_recall": statistics.median(
                played[False][t].evaluated for t in at_probes),
            "evaluated_over_new_tokens": evaluated_over_new(played[True]),
            "evaluated_over_new_tokens_without_recall": evaluated_over_new(played[False]),
            "evaluated_with_spare_over_new_tokens": with_spare(True),
            "evaluated_with_spare_over_new_tokens_without_recall": with_spare(False),
            "trims_with_recall": trims[True], "trims_without_recall": trims[False],
            "recall_tokens_at_probes_mean": statistics.fmean(recall_tokens or [0]),
            "fact_in_prompt": figures["fact_in_prompt"], "precision": figures["precision"]}


# -- the search engine on a long story ------------------------------------------------------


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

    def add_rows(self, rows: Sequence[tuple[int, str]]) -> int:
        for key, text in rows:
            self.add(key, text)
        return len(rows)

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


def rows_of(texts: Sequence[str]) -> list[tuple[int, str]]:
    """(turn * 1024 + sentence, sentence) for every sentence, as the index stores them."""
    return [(i * 1024 + j, s) for i, text in enumerate(texts)
            for j, s in enumerate(sentences(text))]


def probe_queries(facts: list[Fact], rng: random.Random) -> list[tuple[Query, str]]:
    out = []
    for _ in range(QUERIES):
        fact = rng.choice(facts)
        out.append((build_query(f"You ask about {fact.entity}", []), fact.text))
    return out


def timed_cpu(action: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) milliseconds ``action`` took: where they part, the process waited (for
    the disk, or for a core on a busy machine) rather than worked."""
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def fts5(story: Adventure, folder: Path) -> dict[str, Any]:
    state, facts = story.state, story.facts
    texts = [t.text for t in state.turns]
    grow = len(texts) - 2 * APPENDS
    path = folder / "bench.recall.sqlite"
    index = RecallIndex(state.id, path)
    build, _ = timed(lambda: index.sync(texts[:grow]))
    appends, appends_cpu = [], []
    for end in range(grow + 2, len(texts) + 1, 2):
        wall, cpu = timed_cpu(partial(index.sync, texts[:end]))
        appends.append(wall)
        appends_cpu.append(cpu)
    rng = random.Random(2)
    queries, hits = [], 0
    for query, fact in probe_queries(facts, rng):
        seconds, found = timed(partial(index.search, query, len(texts), 3))
        queries.append(seconds * 1000)
        hits += any(fact in p.text for p in found)
    index.close()
    reopen, _ = timed(lambda: RecallIndex(state.id, path).sync(texts))
    recall = Recall(folder)
    recall.find(state, Query(), 0)  # opened and checked once, as when the game opens
    finds, finds_cpu = [], []
    for query, _ in probe_queries(facts, rng)[:50]:
        add_exchange(state, "wait", " Nothing happens.")
        wall, cpu = timed_cpu(partial(recall.find, state, query, len(state.turns) - 40))
        finds.append(wall)
        finds_cpu.append(cpu)
    del state.turns[len(texts):]
    recall.close()
    return {"build_s": build, "append_ms_p50": statistics.median(appends),
            "append_ms_p95": p95(appends), "query_ms_p50": statistics.median(queries),
            "query_ms_p95": p95(queries), "hit_rate": hits / QUERIES, "reopen_s": reopen,
            "file_mb": path.stat().st_size / 1e6,
            "recall_find_ms_p50": statistics.median(finds), "recall_find_ms_p95": p95(finds),
            "append_cpu_ms_p50": statistics.median(appends_cpu),
            "append_cpu_ms_p95": p95(appends_cpu),
            "recall_find_cpu_ms_p50": statistics.median(finds_cpu),
            "recall_find_cpu_ms_p95": p95(finds_cpu)}


def plain(story: Adventure) -> dict[str, Any]:
    texts = [t.text for t in story.state.turns]
    rows = rows_of(texts)
    grow = len(texts) - 2 * APPENDS
    index = PlainBM25()
    build, _ = timed(partial(index.add_rows, [(k, s) for k, s in rows if k < grow * 1024]))
    appends = []
    for end in range(grow, len(texts), 2):
        new = rows_of(texts[end:end + 2])
        seconds, _ = timed(partial(index.add_rows, [(k + end * 1024, s) for k, s in new]))
        appends.append(seconds * 1000)
    queries, hits = [], 0
    for query, fact in probe_queries(story.facts, random.Random(2)):
        terms = [*query.strong, *query.weak]
        seconds, found = timed(partial(index.search, terms, len(texts) * 1024, 3))
        queries.append(seconds * 1000)
        hits += any(fact in text for _, text in found)
    return {"build_s": build, "append_ms_p50": statistics.median(appends),
            "append_ms_p95": p95(appends), "query_ms_p50": statistics.median(queries),
            "query_ms_p95": p95(queries), "hit_rate": hits / QUERIES}


def bm25s_engine(story: Adventure) -> dict[str, Any] | None:
    try:
        import bm25s  # type: ignore[import-not-found]  # optional: measured when installed
    except ImportError:
        return None
    texts = [t.text for t in story.state.turns]
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
    for query, fact in probe_queries(story.facts, random.Random(2)):
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


# -- all of it -------------------------------------------------------------------------------


def measure(model: Path, *, quick: bool = False, turns: int | None = None,
            exchanges: int | None = None, engines: bool = True,
            autosave_rounds: int | None = None, threads: int = THREADS,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every figure (see the module's doc). ``quick``: a smoke run (a 1,000-turn long story,
    6 exchanges on the model, 5 autosave rounds)."""
    turns = turns or (1_000 if quick else 10_000)
    exchanges = exchanges or (6 if quick else 60)
    story = adventure()
    result: dict[str, Any] = {"quick": quick, "index_turns": turns,
                              "story_turns": len(story.state.turns),
                              "facts": len(story.facts),
                              "last_fact_turn": max(f.turn for f in story.facts)}
    log(f"prompts: {len(story.exchanges)} exchanges after {len(story.state.turns)} turns")
    result["prompts"] = prompt_figures(story)
    log(f"model: {exchanges} exchanges with recall and without on {model.name}")
    result["model"] = model_figures(model, story, exchanges, threads, log)
    long = long_adventure(turns)
    log(f"index: a story of {len(long.state.turns)} turns")
    with tempfile.TemporaryDirectory(prefix="gpt2adv-recall-") as folder:
        result["fts5"] = fts5(long, Path(folder))
    if engines:
        result["plain"] = plain(long)
        result["bm25s"] = bm25s_engine(long)
    lengths = [SHORTEST, turns]
    log(f"autosave: {lengths[0]} and {lengths[1]} turns")
    result["autosave"] = measure_autosave(lengths, autosave_rounds or (5 if quick else 200))
    short, long_ = (row["autosave_ms"]["median"] for row in result["autosave"]["rows"])
    prompts_, model_, fts = result["prompts"], result["model"], result["fts5"]
    result.update({
        "fact_recall_in_prompt": prompts_["fact_in_prompt"],
        "recall_precision": prompts_["precision"],
        "ttft_over_without_recall": model_["ttft_over_without_recall"],
        "evaluated_over_new_tokens": model_["evaluated_with_spare_over_new_tokens"],
        "index_ms_per_turn_p95": fts["append_ms_p95"],
        "recall_query_ms_at_10k_turns": fts["recall_find_ms_p50"],
        "recall_query_ms_at_10k_turns_p95": fts["recall_find_ms_p95"],
        "autosave_ms_10k_over_10_turns": long_ / short,
    })
    return result


HEADLINES = ("fact_recall_in_prompt", "recall_precision", "ttft_over_without_recall",
             "evaluated_over_new_tokens", "index_ms_per_turn_p95",
             "recall_query_ms_at_10k_turns", "autosave_ms_10k_over_10_turns")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--model", type=Path, help="a GGUF file (default: random 124M shape)")
    parser.add_argument("--turns", type=int, help="the long story's turns (default 10000)")
    parser.add_argument("--exchanges", type=int,
                        help="exchanges played on the model (default 60, --quick 6)")
    parser.add_argument("--autosave-rounds", type=int, help="default 200, --quick 5")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"llama.cpp threads (default {THREADS}; 1 on a busy machine)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    isolate()
    model = args.model or shaped_gguf("gpt2", "q8_0")
    result = {"model": str(model), "threads": args.threads,
              **measure(model, quick=args.quick, turns=args.turns, exchanges=args.exchanges,
                        autosave_rounds=args.autosave_rounds, threads=args.threads)}
    for key in HEADLINES:
        print(f"{key:34} {result[key]:.3f}")
    for miss in result["prompts"]["misses"]:
        print(f"missed: {miss}")
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
