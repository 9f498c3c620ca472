"""The OpenAI-compatible backend: through llama-cpp-python's real server, and a fake one for
faults and request shapes."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpt2_adventure.engine.backend import Backend, CancelToken
from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer
from gpt2_adventure.engine.remote.http import RemoteError
from gpt2_adventure.engine.remote.openai import OpenAIBackend
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.errors import ContextOverflowError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.events import Done, Piece
from gpt2_adventure.story.new_game import new_state
from gpt2_adventure.story.saves.store import SaveStore
from gpt2_adventure.story.seeds.library import find_seed
from gpt2_adventure.story.session import Session
from tests.support.servers import FakeServer, LlamaServer, cancel_when


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def paths(tmp_path: Path, cache: Path) -> AppPaths:
    return AppPaths(tmp_path / "config", tmp_path / "data", cache)


@pytest.fixture(scope="module")
def llama(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    with LlamaServer(tiny_gguf, tmp_path_factory.mktemp("server") / "server.log") as server:
        yield server


def connect(url: str, paths: AppPaths, **settings: object) -> OpenAIBackend:
    options = {"read_timeout": 10.0, "retries": 0, **settings}
    return OpenAIBackend(BackendSettings(kind="openai", url=url, **options),  # type: ignore[arg-type]
                         paths)


@pytest.fixture
def backend(llama: LlamaServer, paths: AppPaths) -> Iterator[OpenAIBackend]:
    b = connect(llama.url + "/v1", paths)
    yield b
    b.close()


# -- the real llama-cpp-python server ---------------------------------------------------------

def test_connect_reads_the_server(backend: OpenAIBackend, tiny_gguf: Path) -> None:
    assert isinstance(backend, Backend)
    assert backend.model_id == str(tiny_gguf) and backend.name == tiny_gguf.name
    assert (backend.n_ctx, backend.n_ctx_source) == (1024, "default")  # it does not say
    assert backend.tokenizer_source == "server (llama-cpp-python server)"
    assert backend.server == "OpenAI-compatible (llama-cpp-python server)"
    assert backend.tokenize("Hello world") == [15496, 995]
    assert backend.detokenize([18435, 995]) == " Hello world"


def test_llama_cpp_python_server_is_known_to_lack_dry_xtc_and_top_n_sigma(
        backend: OpenAIBackend) -> None:
    assert backend.server == "OpenAI-compatible (llama-cpp-python server)"
    assert backend.samplers_lost == ("DRY", "XTC", "top-n-sigma")


def test_stream_fills_stats(backend: OpenAIBackend) -> None:
    sampling = Sampling(max_tokens=12, ignore_eos=True, temperature=0.9)
    reply = backend.stream("Once upon a time", sampling)
    text = "".join(reply)
    stats = reply.stats
    assert text
    assert (stats.prompt_tokens, stats.finish_reason) == (4, "length")
    # Recounted from the text (this server sends no usage while streaming): merges may differ,
    # and a reply cut inside a UTF-8 character recounts its U+FFFD as three bytes' tokens.
    assert 10 <= stats.generated_tokens <= 13 or stats.generated_tokens == len(
        backend.tokenize(text))
    assert 0 < stats.time_to_first_token < 5 and stats.tokens_per_second > 0


def test_each_reply_carries_its_own_statistics(backend: OpenAIBackend) -> None:
    first = backend.stream("Once upon a time", Sampling(max_tokens=6, ignore_eos=True))
    assert first.stats.prompt_tokens == 4  # known before the first piece
    "".join(first)
    second = backend.stream("Once", Sampling(max_tokens=2, ignore_eos=True))
    "".join(second)
    assert (first.stats.prompt_tokens, first.stats.finish_reason) == (4, "length")
    assert (second.stats.prompt_tokens, second.stats.finish_reason) == (1, "length")
    assert first.stats.generated_tokens > second.stats.generated_tokens
    assert not hasattr(backend, "last_stats")


def test_stop_strings_never_reach_the_player(backend: OpenAIBackend) -> None:
    for seed in range(3):
        reply = backend.stream(f"Story {seed}:", Sampling(max_tokens=40, temperature=1.5),
                               stop=[" "])
        assert " " not in "".join(reply)
        assert reply.stats.finish_reason in ("stop", "length")


def test_cancel_within_one_event(backend: OpenAIBackend) -> None:
    cancel = CancelToken()
    got = []
    reply = backend.stream("Once", Sampling(max_tokens=500, ignore_eos=True), cancel=cancel)
    for piece in reply:
        got.append(piece)
        if len(got) == 3:
            cancel.cancel()
    assert len(got) == 3
    assert reply.stats.finish_reason == "cancelled"
    # The server lets go of the request when it next writes to the closed connection.
    assert "".join(backend.stream("Twice", Sampling(max_tokens=4, ignore_eos=True)))


# U+10348 GOTHIC LETTER HWAIR: four UTF-8 bytes, and no GPT-2 token holds two of them, so a
# grammar of nothing but this letter makes the model write it one byte (one token) at a time.
HWAIR = "\U00010348"


def _grammar(backend: OpenAIBackend, monkeypatch: pytest.MonkeyPatch, grammar: str) -> None:
    """Every request ``backend`` sends holds the model to ``grammar`` (llama-cpp-python's
    GBNF), so what it writes does not hang on the requests the server served before."""
    body = backend.request_body
    monkeypatch.setattr(backend, "request_body",
                        lambda *args: {**body(*args), "grammar": grammar})


def test_context_budget(backend: OpenAIBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    # Plain letters, so the reply does not hang on the server's seed (each request without one
    # draws it from the one before): bytes that never make a character can overrun any
    # budget (context.OVERRUN). Characters are the next test's.
    _grammar(backend, monkeypatch, "root ::= [a-z ]+")
    long = backend.tokenize("word" + " word" * 1009)
    assert len(long) == 1010
    reply = backend.stream(long, Sampling(max_tokens=60, ignore_eos=True))
    text = "".join(reply)
    stats = reply.stats
    assert stats.prompt_tokens == 1010
    # The server wrote the 12 tokens left (OVERRUN, 2, kept free), or recounted:
    assert stats.finish_reason == "context" and text
    assert stats.generated_tokens <= 12 or stats.generated_tokens == len(backend.tokenize(text))
    with pytest.raises(ContextOverflowError):
        backend.stream(backend.tokenize("word" + " word" * 1023), Sampling())


def test_a_character_unfinished_at_the_end_of_the_context(backend: OpenAIBackend,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """llama-cpp-python writes past max_tokens while a character is unfinished (its length
    check waits for the whole character): a four-byte one written byte by byte takes two
    positions more. With the budget up to the last position that failed (llama_decode: no
    memory slot) and the stream ended with no finish. Here the budget's last token falls on
    each of the letter's four bytes in turn."""
    _grammar(backend, monkeypatch, f'root ::= "{HWAIR}"+')
    for n in range(1007, 1011):
        reply = backend.stream(backend.tokenize("word" + " word" * (n - 1)),
                               Sampling(max_tokens=60, ignore_eos=True))
        text = "".join(reply)
        assert reply.stats.prompt_tokens == n and reply.stats.finish_reason == "context"
        assert text and set(text) == {HWAIR}


@pytest.mark.parametrize("story, kind", [("knight", "do"), ("tavern-keeper", "say"),
                                         ("noir", "story")])
def test_ten_turns_of_each_mode(backend: OpenAIBackend, paths: AppPaths, story: str,
                                kind: str) -> None:
    store = SaveStore(paths)
    state = new_state(find_seed(paths, story), {"name": "Anna"}, random.Random(3))
    session = Session(state, backend, Sampling(max_tokens=24, temperature=0.9),
                      on_change=store.autosave)
    for turn in range(10):
        events = list(session.act(f"I look at the thing number {turn}", kind))  # type: ignore[arg-type]
        assert isinstance(events[-1], Done) and not events[-1].cancelled
        stats = events[-1].stats
        assert stats is not None and stats.prompt_tokens + stats.generated_tokens <= 1024
    assert len([t for t in session.state.turns if t.role == "player"]) == 10
    assert store.load(f"autosave/{session.state.id}") == session.state


def test_server_killed_mid_stream_then_back(tiny_gguf: Path, tmp_path: Path,
                                           paths: AppPaths) -> None:
    with LlamaServer(tiny_gguf, tmp_path / "server.log") as server:
        backend = connect(server.url, paths, retries=0, connect_timeout=2.0)
        store = SaveStore(paths)
        state = new_state(find_seed(paths, "knight"), {"name": "Anna"}, random.Random(1))
        short, long = Sampling(max_tokens=24), Sampling(max_tokens=500, ignore_eos=True)
        session = Session(state, backend, short, on_change=store.autosave)
        list(session.act("I draw my sword", "do"))
        before = copy.deepcopy(session.state)
        session.sampling = long  # still streaming when the server dies
        pieces = 0
        with pytest.raises(RemoteError) as info:
            for event in session.act("I charge the dragon", "do"):
                if isinstance(event, Piece):
                    pieces += 1
                    if pieces == 1:
                        server.kill()
        assert "broke in the middle" in info.value.message and info.value.where == server.url
        assert session.state == before and store.load(f"autosave/{state.id}") == before
        with pytest.raises(RemoteError, match="could not connect"):  # still down
            list(session.act("I charge the dragon", "do"))
        assert session.state == before
        server.start()  # back, same port
        session.sampling = short
        done = [e for e in session.act("I charge the dragon", "do") if isinstance(e, Done)]
        assert done and not done[0].cancelled
        assert len(session.state.turns) == len(before.turns) + 2
        assert store.load(f"autosave/{state.id}") == session.state
        backend.close()


# -- a fake server: request shape and faults --------------------------------------------------

@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTokenizer]:
    t = LocalTokenizer(tmp_path_factory.mktemp("fake-tok"))
    yield t
    t.close()


@pytest.fixture
def fake(tok: LocalTokenizer) -> Iterator[FakeServer]:
    with FakeServer(tok, "openai", n_ctx=2048, model="my-gpt2-medium") as s:
        yield s


def test_request_maps_sampling(fake: FakeServer, paths: AppPaths) -> None:
    backend = connect(fake.url, paths)
    assert (backend.n_ctx, backend.n_ctx_source) == (1024, "server (/v1/models)")  # GPT-2 cap
    assert backend.tokenizer_source == "server (llama.cpp server)"
    sampling = Sampling(temperature=0.5, top_k=0, top_p=0.95, min_p=0.1, typical_p=0.8,
                        repeat_penalty=1.1, repeat_last_n=256, presence_penalty=0.3,
                        frequency_penalty=0.2, mirostat=2, max_tokens=7, ignore_eos=True,
                        banned_strings=("You",))
    assert "".join(backend.stream("Hi", sampling, stop=["\n"])) == "".join(fake.pieces(7))
    body = fake.bodies("/v1/completions")[0]
    expected = {"model": "my-gpt2-medium", "prompt": "Hi", "max_tokens": 7, "stream": True,
                "temperature": 0.5, "top_k": 0, "top_p": 0.95, "min_p": 0.1, "typical_p": 0.8,
                "repeat_penalty": 1.1, "repetition_penalty": 1.1, "repeat_last_n": 256,
                "presence_penalty": 0.3, "frequency_penalty": 0.2, "mirostat": 2,
                "mirostat_mode": 2, "stop": ["\n"], "ignore_eos": True, "ban_eos_token": True}
    assert {k: body[k] for k in expected} == expected
    you = {str(backend.tokenize(w)[0]) for w in ("You", " You")}
    assert body["logit_bias"] == {"50256": -100.0, **{t: -100.0 for t in you}}


def test_dry_xtc_and_top_n_sigma_are_sent_when_on(fake: FakeServer, paths: AppPaths) -> None:
    backend = connect(fake.url, paths)
    assert backend.samplers_lost == ()  # a llama-server (by its tokenizer API) takes them
    plain = Sampling(max_tokens=3)
    "".join(backend.stream("Hi", plain))
    sampling = plain.with_changes(dry_multiplier=0.8, dry_base=1.5, dry_allowed_length=3,
                                  xtc_probability=0.5, xtc_threshold=0.15, top_n_sigma=1.5)
    "".join(backend.stream("Hi", sampling))
    off, on = fake.bodies("/v1/completions")
    names = ("dry_multiplier", "dry_base", "dry_allowed_length", "dry_penalty_last_n",
             "dry_sequence_breakers", "xtc_probability", "xtc_threshold", "top_n_sigma")
    assert not set(names) & set(off)  # off: the server's own defaults (all off) stand
    assert {k: on[k] for k in names} == {
        "dry_multiplier": 0.8, "dry_base": 1.5, "dry_allowed_length": 3,
        "dry_penalty_last_n": 1024,  # 0, the whole context, as a number every server reads
        "dry_sequence_breakers": ["\n", ":", "\"", "*"], "xtc_probability": 0.5,
        "xtc_threshold": 0.15, "top_n_sigma": 1.5}
    "".join(backend.stream("Hi", sampling.with_changes(dry_penalty_last_n=200)))
    assert fake.bodies("/v1/completions")[-1]["dry_penalty_last_n"] == 200


def test_text_generation_webui_gets_the_breakers_as_one_text(fake: FakeServer,
                                                             paths: AppPaths) -> None:
    from gpt2_adventure.engine.remote.openai import WEBUI

    backend = connect(fake.url, paths)
    backend.server = WEBUI  # what its tokenizer API makes it
    body = backend.request_body("Hi", Sampling(dry_multiplier=0.8), (), 3)
    assert body["dry_sequence_breakers"] == '"\\n", ":", "\\"", "*"'


def test_local_tokenizer_when_the_server_has_none(tok: LocalTokenizer, paths: AppPaths) -> None:
    with FakeServer(tok, "openai", server_tokenizer=False, n_ctx=None) as fake:
        backend = connect(fake.url, paths)
        assert backend.tokenizer_source == "local GPT-2 tokenizer"
        assert (backend.n_ctx, backend.n_ctx_source) == (1024, "default")
        assert backend.tokenize("Hello world") == [15496, 995]
        assert "".join(backend.stream(backend.tokenize("Hi"), Sampling(max_tokens=3)))


@pytest.mark.parametrize("fault, words", [
    ("500", "(HTTP 500): CUDA out of memory"),
    ("garbage", "garbage in the event stream"),
    ("cut", "broke in the middle"),  # a chunked stream that stops short
    ("hang", "did not answer within 0.5 s"),
])
def test_faults(fake: FakeServer, paths: AppPaths, fault: str, words: str) -> None:
    backend = connect(fake.url, paths, read_timeout=0.5)
    fake.fault = fault
    start = time.monotonic()
    reply = backend.stream("Hi", Sampling(max_tokens=20))
    with pytest.raises(RemoteError) as info:
        "".join(reply)
    assert time.monotonic() - start < 3
    assert words in info.value.message and info.value.where == fake.url
    assert reply.stats.finish_reason == "error"
    fake.fault = None
    assert "".join(backend.stream("Hi", Sampling(max_tokens=3)))


def test_cancel_while_the_server_is_silent(fake: FakeServer, paths: AppPaths) -> None:
    backend = connect(fake.url, paths, read_timeout=30)
    fake.fault = "hang"
    cancel = CancelToken()
    before = fake.generations
    cancel_when(cancel, lambda: fake.generations > before)  # the server has the request
    start = time.monotonic()
    reply = backend.stream("Hi", Sampling(max_tokens=5), cancel=cancel)
    assert list(reply) == []
    assert time.monotonic() - start < 10  # not the 30 s read timeout
    assert reply.stats.finish_reason == "cancelled"
    fake.fault = None
    start = time.monotonic()
    assert "".join(backend.stream("Hi", Sampling(max_tokens=3)))  # not held by the lock
    assert time.monotonic() - start < 10


def test_wrong_kind_and_key(fake: FakeServer, tok: LocalTokenizer, paths: AppPaths) -> None:
    with FakeServer(tok, "kobold") as kobold, pytest.raises(RemoteError) as info:
        connect(kobold.url, paths)
    assert "no /v1/models (HTTP 404)" in info.value.message and "kind" in (info.value.hint or "")
    fake.fault = "html"
    with pytest.raises(RemoteError, match="not JSON"):
        connect(fake.url, paths)
    fake.fault, fake.api_key = None, "sesame"
    with pytest.raises(RemoteError, match="HTTP 401") as info:
        connect(fake.url, paths)
    assert "api_key" in (info.value.hint or "")
    assert connect(fake.url, paths, api_key="sesame").name == "my-gpt2-medium"
    with pytest.raises(RemoteError, match="no model 'gpt3'"):
        connect(fake.url, paths, api_key="sesame", model="gpt3")
