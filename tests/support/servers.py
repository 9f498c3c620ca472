"""Servers on 127.0.0.1 for the remote backends' tests.

* ``LlamaServer``: llama-cpp-python's own OpenAI-compatible server in a subprocess, with a
  readiness wait, ``kill()`` (to die mid-stream) and a restart on the same port.
* ``FakeServer``: a small scripted KoboldAI/KoboldCpp or OpenAI-compatible server in a
  thread, with faults on demand: 401, 500, garbage in the stream, a cut stream, a server
  that never answers, a web page instead of an API.

Both stop on ``stop()``, at the end of a ``with`` block, and at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer

STORY = ("You walk into the dark hall. A candle flickers on the old table. The door creaks "
         "shut behind you, and somewhere below a bell rings twice. ")


def cancel_when(cancel: CancelToken, condition: Callable[[], bool],
                seconds: float = 30) -> threading.Thread:
    """Cancel from another thread once ``condition`` holds (polled): at a moment the test
    names, not after a timer that a slow or fast machine would race."""

    def watch() -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.005)
        cancel.cancel()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """``python -m llama_cpp.server`` serving ``model``; use as a context manager."""

    def __init__(self, model: Path, log: Path, *, port: int | None = None, n_ctx: int = 1024,
                 api_key: str | None = None, threads: int = 2) -> None:
        self.model, self.log, self.n_ctx, self.api_key = model, log, n_ctx, api_key
        self.threads = threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    def start(self, timeout: float = 90.0) -> LlamaServer:
        args = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
                "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads)]
        if self.api_key:
            args += ["--api_key", self.api_key]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx2.get(self.url + "/v1/models", timeout=1.0).status_code in (200, 401):
                    return self
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not start in {timeout} s")

    def kill(self) -> None:
        """Die at once, as a crash would (no goodbye to open streams)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LlamaServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeServer:
    """A scripted KoboldAI (``kind="kobold"``) or OpenAI-compatible (``"openai"``) server.

    Replies are word pieces of ``reply`` (one per event, about one token each). ``fault``
    makes generation misbehave: "401", "500", "garbage", "cut", "hang"; "html" answers
    every request with a web page. ``requests`` records (method, path, JSON body).
    """

    def __init__(self, tokenizer: LocalTokenizer, kind: str = "kobold", *,
                 koboldcpp: bool = True, n_ctx: int | None = 1024, model: str = "",
                 server_tokenizer: bool = True, reply: str | Callable[[int], str] = STORY,
                 delay: float = 0.002, api_key: str | None = None) -> None:
        self.tok, self.kind, self.koboldcpp = tokenizer, kind, koboldcpp
        self.n_ctx, self.server_tokenizer, self.reply = n_ctx, server_tokenizer, reply
        self.model = model or ("koboldcpp/tiny-gpt2" if kind == "kobold" else "tiny-gpt2")
        self.delay, self.api_key = delay, api_key
        self.fault: str | None = None
        self.requests: list[tuple[str, str, Any]] = []
        self.generations = 0
        self.aborted = threading.Event()
        self._release = threading.Event()  # ends "hang" at stop()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._httpd: ThreadingHTTPServer | None = None
        self.connections: set[socket.socket] = set()
        atexit.register(self.stop)

    def start(self) -> FakeServer:
        """Listen (again, on the same port after ``stop``)."""
        self._release.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for conn in list(self.connections):  # a stopped server keeps no connection alive
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.connections.clear()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    def bodies(self, path: str) -> list[Any]:
        return [body for _, p, body in self.requests if p == path]

    def pieces(self, max_tokens: int) -> list[str]:
        text = self.reply(self.generations) if callable(self.reply) else self.reply
        words = text.split(" ")
        return [(" " if i else "") + w for i, w in enumerate(words) if w or i][:max_tokens]


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, delayed ACKs cost 40 ms.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server.connections.add(self.request)

        def finish(self) -> None:
            server.connections.discard(self.request)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _json(self, data: Any, code: int = 200) -> None:
            body = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            return not server.api_key or \
                self.headers.get("Authorization") == f"Bearer {server.api_key}"

        def do_GET(self) -> None:  # noqa: N802
            server.requests.append(("GET", self.path, None))
            if server.fault == "html":
                return self._html()
            kobold = server.kind == "kobold"
            if kobold and self.path == "/api/v1/model":
                name = server.model if self._authorized() else "koboldcpp/protected-model"
                return self._json({"result": name})
            if kobold and self.path == "/api/extra/version" and server.koboldcpp:
                return self._json({"result": "KoboldCpp", "version": "1.99-fake"})
            if kobold and self.path == "/api/extra/true_max_context_length" \
                    and server.koboldcpp and server.n_ctx:
                return self._json({"value": server.n_ctx})
            if kobold and self.path == "/api/v1/config/max_context_length" and server.n_ctx:
                return self._json({"value": server.n_ctx})
            if not kobold and self.path == "/v1/models":
                if not self._authorized():
                    return self._json({"error": {"message": "Invalid API key"}}, 401)
                entry: dict[str, Any] = {"id": server.model, "object": "model"}
                if server.n_ctx:
                    entry["max_model_len"] = server.n_ctx
                return self._json({"object": "list", "data": [entry]})
            self._json({"detail": "Not Found"}, 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            server.requests.append(("POST", self.path, body))
            if server.fault == "html":
                return self._html()
            kobold = server.kind == "kobold"
            if not self._authorized():
                return self._json({"detail": {"msg": "unauthorized"}}, 401)
            if server.server_tokenizer and kobold and self.path == "/api/extra/tokencount":
                ids = server.tok.tokenize(body["prompt"])
                return self._json({"value": len(ids), "ids": ids})
            if server.server_tokenizer and kobold and self.path == "/api/extra/detokenize":
                return self._json({"result": server.tok.detokenize(body["ids"]),
                                   "success": True})
            if server.server_tokenizer and not kobold and self.path == "/tokenize":
                return self._json({"tokens": server.tok.tokenize(body["content"])})
            if server.server_tokenizer and not kobold and self.path == "/detokenize":
                return self._json({"content": server.tok.detokenize(body["tokens"])})
            if kobold and self.path == "/api/extra/abort":
                server.aborted.set()
                return self._json({"success": "true", "done": "true"})
            if kobold and self.path == "/api/extra/generate/stream" and server.koboldcpp:
                return self._generate(body, stream=True)
            if kobold and self.path == "/api/v1/generate":
                return self._generate(body, stream=False)
            if not kobold and self.path == "/v1/completions":
                return self._generate(body, stream=bool(body.get("stream")))
            self._json({"detail": "Not Found"}, 404)

        def _html(self) -> None:
            body = b"<html><body>It works!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _generate(self, body: dict[str, Any], stream: bool) -> None:
            server.aborted.clear()
            server.generations += 1
            generation = server.generations
            fault = server.fault
            if fault == "hang":
                server._release.wait(60)
                return
            if fault == "500":
                return self._json({"detail": {"msg": "CUDA out of memory",
                                              "type": "service_unavailable"}}, 500)
            kobold = server.kind == "kobold"
            limit = int(body.get("max_length" if kobold else "max_tokens") or 16)
            stops = body.get("stop_sequence" if kobold else "stop") or []
            pieces, finish = [], "length"
            for piece in server.pieces(limit):
                pieces.append(piece)
                if any(s in "".join(pieces) for s in stops):  # kept, as KoboldCpp does
                    finish = "stop"
                    break
            else:
                finish = "length" if len(pieces) >= limit else "stop"
            if not stream:
                text = "".join(pieces)
                result = {"results": [{"text": text}]} if kobold else \
                    {"choices": [{"text": text, "finish_reason": finish}]}
                return self._json(result)
            self._stream(pieces, finish, kobold, fault, generation)

        def _stream(self, pieces: list[str], finish: str, kobold: bool, fault: str | None,
                    generation: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            if kobold:  # KoboldCpp ends its streams by closing the connection
                self.send_header("Connection", "close")
            else:  # uvicorn sends chunks
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.close_connection = True

            def send(text: str) -> None:
                data = text.encode()
                self.wfile.write(data if kobold else b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            try:
                for i, piece in enumerate(pieces):
                    if fault == "cut" and i == 3:
                        return  # the connection closes with the reply half sent
                    if fault == "garbage" and i == 2:
                        send("data: <html>Bad Gateway</html>\n\n")
                    if server.aborted.is_set():
                        finish = "length"
                        break
                    event = {"token": piece, "finish_reason": "null"} if kobold else \
                        {"choices": [{"text": piece, "finish_reason": None}]}
                    send(("event: message\n" if kobold else "") + f"data: {json.dumps(event)}\n\n")
                    server.aborted.wait(server.delay)  # an abort ends the pause
                last = {"token": "", "finish_reason": finish} if kobold else \
                    {"choices": [{"text": "", "finish_reason": finish}]}
                send(("event: message\n" if kobold else "") + f"data: {json.dumps(last)}\n\n")
                if not kobold:
                    send("data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                # The client went away, as KoboldCpp notices; a pipe found broken only after
                # the next request began (a slow machine) must not abort that one.
                if server.generations == generation:
                    server.aborted.set()

    return Handler
