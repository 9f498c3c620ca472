"""Replies written ahead on a server: one request for several (``n``) where the API has it,
one at a time where it does not, against servers on loopback (the project's fake ones taught
to answer ``n`` the ways real servers do, and llama-cpp-python's real server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gpt2_adventure.engine.backend import AheadRequest, CancelToken, Written
from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer
from gpt2_adventure.engine.remote.base import RemoteBackend
from gpt2_adventure.engine.remote.http import RemoteError
from gpt2_adventure.engine.remote.kobold import KoboldBackend
from gpt2_adventure.engine.remote.openai import OpenAIBackend
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths
from tests.support.servers import FakeServer, LlamaServer, _handler, cancel_when

COMPLETIONS, GENERATE = "/v1/completions", "/api/v1/generate"
KOBOLDCPP_STREAM = "/api/extra/generate/stream"


def choice_text(generation: int, index: int) -> str:
    return f"Choice {index} of request {generation} opens the door and looks around. "


def single_text(generation: int) -> str:
    return f"Single reply {generation} climbs the stairs. "


class ChoicesServer(FakeServer):
    """The fake server, answering a request for ``n`` > 1 replies as ``answer`` says: "all"
    (every choice, streamed side by side and told apart by ``index``, as vLLM and llama-server
    with n_cmpl do; KoboldAI United's ``results``), a number (no more than that many),
    "refuse" (HTTP 500 "Only one completion choice is allowed", as llama-server before
    n_cmpl) or None (``n`` ignored: one reply, as llama-cpp-python's server and KoboldCpp)."""

    def __init__(self, tokenizer: LocalTokenizer, kind: str = "openai", *,
                 answer: str | int | None = "all",
                 text: Callable[[int, int], str] = choice_text, **options: Any) -> None:
        options.setdefault("reply", single_text)
        super().__init__(tokenizer, kind, **options)
        self.answer, self.text = answer, text
        self.streamed = threading.Event()  # a stream of several replies was sent to its end
        self.gone = threading.Event()  # the client went away in the middle of one

    def start(self) -> ChoicesServer:
        self._release.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _choices_handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __enter__(self) -> ChoicesServer:
        return self.start()

    def asked(self, path: str) -> list[int]:
        """The ``n`` of every generation request to ``path``, in order (1 when not sent)."""
        return [int(body.get("n") or 1) for body in self.bodies(path)]

    def choice_pieces(self, generation: int, index: int, limit: int) -> list[str]:
        words = self.text(generation, index).split(" ")
        return [(" " if i else "") + w for i, w in enumerate(words) if w or i][:limit]


def _choices_handler(server: ChoicesServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_handler(server)):  # type: ignore[misc]
        def _generate(self, body: dict[str, Any], stream: bool) -> None:
            n = int(body.get("n") or 1)
            if n == 1 or server.answer is None or server.fault:
                return super()._generate(body, stream)
            server.generations += 1
            if server.answer == "refuse":
                return self._json({"error": {"code": 500, "type": "server_error",
                                             "message": "Only one completion choice is allowed"}},
                                  500)
            kobold = server.kind == "kobold"
            limit = int(body.get("max_length" if kobold else "max_tokens") or 16)
            count = n if server.answer == "all" else min(n, int(server.answer))
            replies = [server.choice_pieces(server.generations, i, limit) for i in range(count)]
            if kobold or not stream:
                texts = ["".join(pieces) for pieces in replies]
                return self._json({"results": [{"text": t} for t in texts]} if kobold else
                                  {"choices": [{"text": t, "index": i, "finish_reason": "length"}
                                               for i, t in enumerate(texts)]})
            self._stream_choices(replies, limit)

        def _stream_choices(self, replies: list[list[str]], limit: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.close_connection = True

            def send(data: Any) -> None:
                text = f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(text), text.encode()))
                self.wfile.flush()

            try:
                for step in range(max(len(pieces) for pieces in replies) + 1):
                    for index, pieces in enumerate(replies):
                        if step < len(pieces):
                            choice = {"text": pieces[step], "index": index, "finish_reason": None}
                        elif step == len(pieces):
                            finish = "length" if len(pieces) >= limit else "stop"
                            choice = {"text": "", "index": index, "finish_reason": finish}
                        else:
                            continue
                        send({"object": "text_completion", "choices": [choice]})
                    time.sleep(server.delay)
                send({"choices": [], "usage": {"completion_tokens": sum(map(len, replies))}})
                send("[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                server.streamed.set()
            except (BrokenPipeError, ConnectionResetError):
                server.gone.set()

    return Handler


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


def connect(server: FakeServer | LlamaServer, paths: AppPaths, kind: str = "openai"
            ) -> RemoteBackend:
    settings = BackendSettings(kind=kind, url=server.url, read_timeout=10.0,  # type: ignore[arg-type]
                               retries=0)
    return OpenAIBackend(settings, paths) if kind == "openai" else KoboldBackend(settings, paths)


def write(backend: RemoteBackend, count: int, sampling: Sampling | None = None,
          cancel: CancelToken | None = None, **options: Any) -> list[Written]:
    samplings = [sampling or Sampling(max_tokens=12)] * count
    request = AheadRequest(backend.tokenize("You enter the hall."), samplings, **options)
    return list(backend.write_ahead(request, cancel))


# -- OpenAI-compatible ------------------------------------------------------------------------

def test_n_is_one_request_whose_replies_come_as_each_ends(tok: LocalTokenizer,
                                                         paths: AppPaths) -> None:
    # The first reply is short; the others take a while longer to stream.
    def text(generation: int, index: int) -> str:
        return "Short one. " if index == 0 else choice_text(generation, index) * 4

    with ChoicesServer(tok, text=text, delay=0.02) as server:
        backend = connect(server, paths)
        got = backend.write_ahead(AheadRequest(backend.tokenize("You enter the hall."),
                                               [Sampling(max_tokens=40)] * 3, stop=["\n"]))
        first = next(got)
        assert first.text == "Short one. " and not server.streamed.is_set()  # not held back
        rest = list(got)
        assert server.asked(COMPLETIONS) == [3]  # one request for all three
        texts = [w.text for w in rest]
        assert texts == ["".join(server.choice_pieces(1, i, 40)) for i in (1, 2)]
        for written in [first, *rest]:
            assert (written.handle, written.rerolls) == (None, 0)
            assert written.stats.finish_reason in ("length", "stop")
            assert written.stats.prompt_tokens == len(backend.tokenize("You enter the hall."))
            assert written.stats.generated_tokens == backend.count_tokens(written.text)
        assert rest[0].stats.finish_reason == "length"  # 40 pieces of 40
        assert backend.choices == 128  # still asks for several
        backend.close()


def test_a_server_that_refuses_n_is_asked_once_per_reply_from_then_on(
        tok: LocalTokenizer, paths: AppPaths) -> None:
    with ChoicesServer(tok, answer="refuse") as server:
        backend = connect(server, paths)
        first = write(backend, 3)
        assert server.asked(COMPLETIONS) == [3, 1, 1, 1]
        assert [w.text for w in first] == [single_text(g) for g in (2, 3, 4)]
        assert backend.choices == 1
        assert len(write(backend, 3)) == 3
        assert server.asked(COMPLETIONS)[4:] == [1, 1, 1]  # remembered: no n again
        backend.close()


def test_a_failing_server_is_not_taken_for_one_without_n(tok: LocalTokenizer,
                                                         paths: AppPaths) -> None:
    with ChoicesServer(tok) as server:
        backend = connect(server, paths)
        server.fault = "500"  # every generation fails, with n or without
        with pytest.raises(RemoteError, match="HTTP 500"):
            write(backend, 3)
        assert server.asked(COMPLETIONS) == [3, 1]
        assert backend.choices == 128  # n was not to blame
        server.fault = None
        assert len(write(backend, 3)) == 3
        assert server.asked(COMPLETIONS)[2:] == [3]
        backend.close()


@pytest.mark.parametrize("gives", [None, 2])
def test_fewer_choices_than_asked_the_rest_one_at_a_time(tok: LocalTokenizer, paths: AppPaths,
                                                         gives: int | None) -> None:
    with ChoicesServer(tok, answer=gives) as server:
        backend = connect(server, paths)
        written = write(backend, 3)
        given = gives or 1
        assert server.asked(COMPLETIONS) == [3] + [1] * (3 - given)
        assert len(written) == 3 and len({w.text for w in written}) == 3
        assert backend.choices == given  # never asks for more than it gave
        write(backend, 3)
        assert server.asked(COMPLETIONS)[4 - given:] == ([2, 1] if gives else [1, 1, 1])
        backend.close()


def test_a_looping_reply_is_written_again_alone_with_the_stronger_sampling(
        tok: LocalTokenizer, paths: AppPaths) -> None:
    def text(generation: int, index: int) -> str:
        return "loop loop loop loop. " if index == 1 else choice_text(generation, index)

    judged: list[tuple[str, int]] = []
    stronger = Sampling(max_tokens=12, temperature=1.1, repeat_penalty=1.3)

    def judge(reply: str, rerolls: int) -> Sampling | None:
        judged.append((reply, rerolls))
        return stronger if "loop" in reply else None

    with ChoicesServer(tok, text=text) as server:
        backend = connect(server, paths)
        written = write(backend, 3, judge=judge)
        assert [w.rerolls for w in written] == [0, 0, 1]
        assert [w.text for w in written] == [choice_text(1, 0), choice_text(1, 2),
                                             single_text(2)]
        assert not any("loop" in w.text for w in written)
        assert server.asked(COMPLETIONS) == [3, 1]
        again = server.bodies(COMPLETIONS)[1]
        assert (again["temperature"], again["repeat_penalty"]) == (1.1, 1.3)
        assert sorted(r for _, r in judged) == [0, 0, 0, 1]
        backend.close()


def test_cancel_in_the_middle_of_the_stream_stops_at_once(tok: LocalTokenizer,
                                                         paths: AppPaths) -> None:
    def text(generation: int, index: int) -> str:
        return "Short one. " if index == 0 else "and on " * 200

    with ChoicesServer(tok, text=text, delay=0.02) as server:
        backend = connect(server, paths)
        cancel = CancelToken()
        got = backend.write_ahead(AheadRequest(backend.tokenize("You enter the hall."),
                                               [Sampling(max_tokens=400)] * 3), cancel)
        assert next(got).text == "Short one. "
        cancel.cancel()
        start = time.monotonic()
        assert list(got) == []  # nothing more, not even the replies half written
        assert time.monotonic() - start < 2  # 400 steps of 20 ms were left
        assert server.gone.wait(5) and not server.streamed.is_set()  # the stream was closed
        assert "".join(backend.stream("Hi", Sampling(max_tokens=3)))  # usable at once
        assert len(write(backend, 2, Sampling(max_tokens=4))) == 2
        assert backend.choices == 128
        backend.close()


def test_cancel_before_any_reply_yields_nothing(tok: LocalTokenizer, paths: AppPaths) -> None:
    with ChoicesServer(tok, text=lambda g, i: "and on " * 200, delay=0.02) as server:
        backend = connect(server, paths)
        cancel = CancelToken()
        cancel_when(cancel, lambda: server.generations > 0)
        start = time.monotonic()
        assert write(backend, 3, Sampling(max_tokens=400), cancel=cancel) == []
        assert time.monotonic() - start < 4
        assert server.asked(COMPLETIONS) == [3]  # nothing written again one by one either
        backend.close()


def test_samplings_that_differ_are_written_one_at_a_time(tok: LocalTokenizer,
                                                         paths: AppPaths) -> None:
    with ChoicesServer(tok) as server:
        backend = connect(server, paths)
        samplings = [Sampling(max_tokens=5), Sampling(max_tokens=5, temperature=0.9)]
        written = list(backend.write_ahead(AheadRequest(backend.tokenize("Hi"), samplings)))
        assert len(written) == 2 and server.asked(COMPLETIONS) == [1, 1]
        backend.close()


def test_llama_cpp_python_server_ignores_n(tiny_gguf: Path, tmp_path: Path,
                                           paths: AppPaths) -> None:
    with LlamaServer(tiny_gguf, tmp_path / "server.log") as server:
        backend = connect(server, paths)
        written = write(backend, 3, Sampling(max_tokens=8, ignore_eos=True, temperature=1.0))
        assert len(written) == 3 and all(w.text for w in written)
        assert all(w.stats.generated_tokens > 0 for w in written)
        assert backend.choices == 1  # it gave one choice when asked for three
        backend.close()


# -- KoboldAI ---------------------------------------------------------------------------------

def test_koboldai_united_gives_all_in_one_answer(tok: LocalTokenizer, paths: AppPaths) -> None:
    with ChoicesServer(tok, "kobold", koboldcpp=False) as server:
        backend = connect(server, paths, "kobold")
        written = write(backend, 3, Sampling(max_tokens=6))
        assert server.asked(GENERATE) == [3]
        assert [w.text for w in written] == ["".join(server.choice_pieces(1, i, 6))
                                             for i in range(3)]
        assert all(w.stats.finish_reason == "length" for w in written)
        backend.close()


def test_koboldai_that_ignores_n_is_asked_once_per_reply(tok: LocalTokenizer,
                                                         paths: AppPaths) -> None:
    with ChoicesServer(tok, "kobold", koboldcpp=False, answer=None) as server:
        backend = connect(server, paths, "kobold")
        assert len(write(backend, 3)) == 3
        assert server.asked(GENERATE) == [3, 1, 1] and backend.choices == 1
        backend.close()


def test_koboldcpp_streams_each_reply_and_never_asks_for_n(tok: LocalTokenizer,
                                                           paths: AppPaths) -> None:
    with ChoicesServer(tok, "kobold") as server:
        backend = connect(server, paths, "kobold")
        assert backend.choices == 1
        assert len(write(backend, 3)) == 3
        assert server.asked(KOBOLDCPP_STREAM) == [1, 1, 1] and not server.bodies(GENERATE)
        backend.close()


def test_cancel_while_koboldai_writes(tok: LocalTokenizer, paths: AppPaths) -> None:
    with ChoicesServer(tok, "kobold", koboldcpp=False) as server:
        backend = connect(server, paths, "kobold")
        server.fault = "hang"  # it never answers
        cancel = CancelToken()
        cancel_when(cancel, lambda: server.generations > 0)
        start = time.monotonic()
        assert write(backend, 3, cancel=cancel) == []
        assert time.monotonic() - start < 5  # not the 10 s read timeout
        server.fault = None
        assert len(write(backend, 2)) == 2
        backend.close()
