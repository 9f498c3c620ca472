"""The KoboldAI backend against a fake KoboldCpp / KoboldAI server on loopback."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gpt2_adventure.engine.backend import Backend, CancelToken
from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer
from gpt2_adventure.engine.remote.http import RemoteError
from gpt2_adventure.engine.remote.kobold import KoboldBackend
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import ContextOverflowError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done, Piece
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.servers import FakeServer, cancel_when

WORDS = ["lantern", "river", "stone", "whisper", "castle", "shadow", "merchant", "garden",
         "storm", "silver", "bridge", "raven", "forest", "crown", "ember", "harbor", "market",
         "tower", "valley", "mirror"]


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def varied(n: int) -> str:
    """A different two-sentence reply for every request."""
    rng = random.Random(n)
    return (f"The {rng.choice(WORDS)} and the {rng.choice(WORDS)} wait by the "
            f"{rng.choice(WORDS)}. A {rng.choice(WORDS)} {rng.choice(WORDS)} turns {n} times. ")


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTokenizer]:
    t = LocalTokenizer(tmp_path_factory.mktemp("fake-tok"))
    yield t
    t.close()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def paths(tmp_path: Path, cache: Path) -> AppPaths:
    return AppPaths(tmp_path / "config", tmp_path / "data", cache)


@pytest.fixture
def server(tok: LocalTokenizer) -> Iterator[FakeServer]:
    with FakeServer(tok, "kobold", reply=varied) as s:
        yield s


def connect(server: FakeServer, paths: AppPaths, **settings: object) -> KoboldBackend:
    options = {"read_timeout": 5.0, "retries": 0, **settings}
    return KoboldBackend(BackendSettings(kind="kobold", url=server.url, **options),  # type: ignore[arg-type]
                         paths)


def test_connect_reads_what_koboldcpp_reports(server: FakeServer, paths: AppPaths) -> None:
    server.n_ctx = 768
    backend = connect(server, paths)
    assert isinstance(backend, Backend)
    assert (backend.name, backend.server) == ("tiny-gpt2", "KoboldCpp 1.99-fake")
    assert backend.n_ctx == 768
    assert backend.n_ctx_source == "server (/api/extra/true_max_context_length)"
    assert backend.tokenizer_source == "server (KoboldCpp)"
    assert backend.tokenize("Hello world") == [15496, 995]
    assert backend.detokenize([15496, 995]) == "Hello world"
    backend.close()


def test_gpt2_models_never_get_more_than_1024(server: FakeServer, paths: AppPaths) -> None:
    server.n_ctx, server.model = 4096, "koboldcpp/gpt2-xl"
    assert connect(server, paths).n_ctx == 1024
    server.model = "koboldcpp/mistral-7b"
    assert connect(server, paths).n_ctx == 4096
    assert connect(server, paths, n_ctx=512).n_ctx == 512


def test_streams_with_stats_and_maps_sampling(server: FakeServer, paths: AppPaths) -> None:
    backend = connect(server, paths)
    sampling = Sampling(temperature=0.7, top_k=30, top_p=0.8, min_p=0.05, typical_p=0.9,
                        repeat_penalty=1.2, repeat_last_n=64, max_tokens=5, ignore_eos=True,
                        banned_strings=("dragon",), logit_bias={11: 2.0, 13: float("-inf")})
    reply = backend.stream("Once upon a time", sampling, stop=["\n>"])
    pieces = list(reply)
    assert "".join(pieces) == "".join(server.pieces(5))
    stats = reply.stats
    assert stats.finish_reason == "length"
    assert stats.prompt_tokens == 4 and stats.generated_tokens == len(
        backend.tokenize("".join(pieces)))
    assert stats.time_to_first_token > 0
    body = server.bodies("/api/extra/generate/stream")[0]
    assert body["prompt"] == "Once upon a time" and body["max_length"] == 5
    assert body["max_context_length"] == 1024 and body["stop_sequence"] == ["\n>"]
    assert (body["temperature"], body["top_k"], body["top_p"], body["min_p"],
            body["typical"], body["rep_pen"], body["rep_pen_range"]) == (
        0.7, 30, 0.8, 0.05, 0.9, 1.2, 64)
    assert body["ban_eos_token"] is True and body["banned_strings"] == ["dragon"]
    dragons = [str(backend.tokenize(w)[0]) for w in ("dragon", " dragon")]
    assert body["logit_bias"] == {"11": 2.0, "13": -100.0, dragons[0]: -100.0,
                                  dragons[1]: -100.0, "50256": -100.0}


def test_dry_xtc_and_nsigma_are_sent_when_on(server: FakeServer, paths: AppPaths) -> None:
    backend = connect(server, paths)
    assert backend.samplers_lost == ()  # KoboldCpp takes them all
    plain = Sampling(max_tokens=3)
    "".join(backend.stream("Hi", plain))
    sampling = plain.with_changes(dry_multiplier=0.8, dry_base=2.0, dry_allowed_length=4,
                                  dry_penalty_last_n=300, dry_sequence_breakers=("\n", ">"),
                                  xtc_probability=0.5, xtc_threshold=0.2, top_n_sigma=1.0)
    "".join(backend.stream("Hi", sampling))
    off, on = server.bodies("/api/extra/generate/stream")
    names = ("dry_multiplier", "dry_base", "dry_allowed_length", "dry_penalty_last_n",
             "dry_sequence_breakers", "xtc_probability", "xtc_threshold", "nsigma")
    assert not set(names) & set(off)
    assert {k: on[k] for k in names} == {
        "dry_multiplier": 0.8, "dry_base": 2.0, "dry_allowed_length": 4,
        "dry_penalty_last_n": 300, "dry_sequence_breakers": ["\n", ">"],
        "xtc_probability": 0.5, "xtc_threshold": 0.2, "nsigma": 1.0}
    "".join(backend.stream("Hi", sampling.with_changes(dry_penalty_last_n=0)))
    whole = server.bodies("/api/extra/generate/stream")[-1]["dry_penalty_last_n"]
    assert whole == backend.n_ctx == 1024  # 0: the whole context


def test_token_prompts_and_context_budget(server: FakeServer, paths: AppPaths) -> None:
    server.n_ctx = 64
    backend = connect(server, paths)
    tokens = backend.tokenize("word" + " word" * 59)
    assert len(tokens) == 60
    reply = backend.stream(tokens, Sampling(max_tokens=20))
    out = "".join(reply)
    stats = reply.stats
    assert stats.prompt_tokens == 60
    # The 4 tokens left, less context.OVERRUN (2) kept free:
    assert stats.generated_tokens <= 2 and stats.finish_reason == "context"
    assert server.bodies("/api/extra/generate/stream")[-1]["max_length"] == 2 and out
    with pytest.raises(ContextOverflowError, match="64 tokens"):
        backend.stream(backend.tokenize("word" + " word" * 63), Sampling())


def test_stop_strings_are_cut_here(server: FakeServer, paths: AppPaths) -> None:
    server.reply = "You open the door. A bell rings twice and stops."
    backend = connect(server, paths)
    reply = backend.stream("x", Sampling(max_tokens=40), stop=["bell"])
    assert "".join(reply) == "You open the door. A "
    assert reply.stats.finish_reason == "stop"


def test_cancel_stops_the_stream_and_aborts(server: FakeServer, paths: AppPaths) -> None:
    server.delay = 0.05
    backend = connect(server, paths)
    cancel = CancelToken()
    got = []
    start = time.monotonic()
    reply = backend.stream("x", Sampling(max_tokens=200), cancel=cancel)
    for piece in reply:
        got.append(piece)
        if len(got) == 2:
            cancel.cancel()
    assert len(got) == 2 and time.monotonic() - start < 5  # the whole reply takes 10 s
    assert reply.stats.finish_reason == "cancelled"
    assert wait_for(lambda: "/api/extra/abort" in server.paths())
    genkey = server.bodies("/api/extra/generate/stream")[-1]["genkey"]
    assert server.bodies("/api/extra/abort")[-1] == {"genkey": genkey}
    assert "".join(backend.stream("x", Sampling(max_tokens=3)))  # the backend is free again


def test_cancel_is_noticed_between_events(server: FakeServer, paths: AppPaths) -> None:
    server.delay = 30  # after the first piece, the next one is far away
    backend = connect(server, paths, read_timeout=60)
    cancel = CancelToken()
    cancel_when(cancel, lambda: server.generations > 0)  # the reply has begun
    start = time.monotonic()
    assert list(backend.stream("x", Sampling(max_tokens=50), cancel=cancel)) in ([], ["You"],
                                                                                  ["The"])
    assert time.monotonic() - start < 15  # no waiting for the next event
    assert wait_for(server.aborted.is_set)


def test_plain_koboldai_answers_whole(tok: LocalTokenizer, paths: AppPaths) -> None:
    with FakeServer(tok, "kobold", koboldcpp=False, server_tokenizer=False, n_ctx=2048,
                    model="KoboldAI/gpt2-large") as server:
        backend = connect(server, paths)
        assert backend.server == "KoboldAI" and not backend.koboldcpp
        assert backend.samplers_lost == ("DRY", "XTC", "top-n-sigma")  # United has none
        assert backend.tokenizer_source == "local GPT-2 tokenizer"
        assert (backend.n_ctx, backend.n_ctx_source) == (
            1024, "server (/api/v1/config/max_context_length)")
        reply = backend.stream("x", Sampling(max_tokens=6))
        assert "".join(reply) == "".join(server.pieces(6))
        assert "/api/v1/generate" in server.paths()
        assert reply.stats.finish_reason == "length"


# -- faults -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fault, words", [
    ("500", "(HTTP 500): CUDA out of memory"),
    ("garbage", "garbage in the event stream"),
    ("cut", "ended the stream in the middle"),
    ("hang", "did not answer within 0.5 s"),
    ("401", "HTTP 401"),
    ("down", "could not connect"),
])
def test_faults_mid_game_leave_the_story_intact(server: FakeServer, paths: AppPaths,
                                                fault: str, words: str) -> None:
    backend = connect(server, paths, read_timeout=0.5, api_key="sesame")
    server.api_key = "sesame"
    store = SaveStore(paths)
    state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
    session = Session(state, backend, Sampling(max_tokens=30), on_change=store.autosave)
    for turn in range(2):
        list(session.act(f"I look around {turn}", "do"))
    before = copy.deepcopy(session.state)
    if fault == "down":
        server.stop()
    elif fault == "401":
        server.api_key = "changed"
    else:
        server.fault = fault
    start = time.monotonic()
    with pytest.raises(RemoteError) as info:
        for _ in session.act("I open the door", "do"):
            pass
    assert time.monotonic() - start < 3
    assert words in str(info.value) and info.value.where == server.url
    if fault in ("cut", "garbage"):
        assert info.value.partial  # what came before the break, for a UI that keeps it
    if fault == "401":
        assert "api_key" in (info.value.hint or "")
    assert session.state == before  # no half reply, no orphan action
    assert store.load(f"autosave/{state.id}") == before
    # the server comes back: the next turn works and is saved
    server.fault, server.api_key = None, "sesame"
    if fault == "down":
        server.start()
    done = [e for e in session.act("I open the door", "do") if isinstance(e, Done)]
    assert done and not done[0].cancelled
    assert len(session.state.turns) == len(before.turns) + 2
    assert store.load(f"autosave/{state.id}") == session.state


@pytest.mark.parametrize("story, kind", [("knight", "do"), ("tavern-keeper", "say"),
                                         ("noir", "story")])
def test_ten_turns_through_kobold(server: FakeServer, paths: AppPaths, story: str,
                                  kind: str) -> None:
    backend = connect(server, paths)
    store = SaveStore(paths)
    state = new_state(find_seed(paths, story), {"name": "Anna"}, random.Random(3))
    session = Session(state, backend, Sampling(max_tokens=24), on_change=store.autosave)
    for turn in range(10):
        events = list(session.act(f"I look at the thing number {turn}", kind))  # type: ignore[arg-type]
        assert isinstance(events[-1], Done) and not events[-1].cancelled
        assert any(isinstance(e, Piece) for e in events)
        stats = events[-1].stats
        assert stats is not None and stats.prompt_tokens + stats.generated_tokens <= 1024
    assert len([t for t in session.state.turns if t.role == "player"]) == 10
    assert store.load(f"autosave/{session.state.id}") == session.state
