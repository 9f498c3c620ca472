"""A fake Hugging Face Hub on 127.0.0.1 for download tests (no network needed).

It answers what huggingface_hub 2.x calls for ``hf_hub_download``/``snapshot_download``
and what ``engine.download`` calls directly:

- ``HEAD|GET /{repo}/resolve/{revision}/{path}``: small files are served directly
  (``ETag`` = a git-like sha1, ``X-Repo-Commit``); large ("LFS") files answer
  ``302`` to a second server, the "CDN", with ``X-Linked-Etag`` (sha256) and
  ``X-Linked-Size`` -- like the real Hub, whose CDN is another origin, so the
  client stops its HEAD at the 302 and drops the Authorization header for the GET.
- ``GET /cdn/{sha256}`` on the CDN server: the bytes, with ``Range`` -> ``206``.
- ``GET /api/models/{repo}[/revision/{revision}]``: repo info (``id``, ``sha``, siblings);
  with ``?blobs=true`` (``model_info(files_metadata=True)``) each sibling has its ``size``,
  ``blobId`` and, for LFS files, ``lfs`` (``sha256``, ``size``, ``pointerSize``).
- ``GET /api/models/{repo}/tree/{revision}``: the file listing (one page, recursive).

Errors carry the Hub's ``X-Error-Code`` header so huggingface_hub raises its usual
exception classes. Every request is recorded in ``FakeHub.requests``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".gguf", ".safetensors", ".bin", ".h5", ".msgpack", ".ot", ".onnx")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass(frozen=True)
class Request:
    """One request as the fake hub saw it (headers with lower-case names)."""

    server: str  # "hub" or "cdn"
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    # Answer every request about this repo with this HTTP status (401, 403, 404, 500...).
    status: int | None = None
    commit: str = ""

    def __post_init__(self) -> None:
        if not self.commit:
            digest = hashlib.sha1(repr(sorted(self.files)).encode(), usedforsecurity=False)
            self.commit = digest.hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _is_lfs(filename: str) -> bool:
    return filename.endswith(LFS_SUFFIXES)


@dataclass
class FakeHub:
    """Threaded fake Hub (two servers: hub and CDN); use ``with FakeHub() as hub:``."""

    repos: dict[str, FakeRepo] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    # (repo_id, filename) -> cut the connection after this many body bytes, on the first GET only.
    cuts: dict[tuple[str, str], int] = field(default_factory=dict)
    # False: answer Range requests with the whole file (200), as some proxies do.
    honor_range: bool = True
    _servers: dict[str, ThreadingHTTPServer] = field(default_factory=dict)
    _connections: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- configuration -------------------------------------------------------------------

    def add_repo(
        self, repo_id: str, files: dict[str, bytes], status: int | None = None
    ) -> FakeRepo:
        repo = FakeRepo(files=dict(files), status=status)
        self.repos[repo_id] = repo
        return repo

    def cut_first_get(self, repo_id: str, filename: str, after_bytes: int) -> None:
        """Drop the connection after ``after_bytes`` body bytes of the next GET of that file."""
        self.cuts[(repo_id, filename)] = after_bytes

    # -- inspection ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._url("hub")

    @property
    def cdn_url(self) -> str:
        return self._url("cdn")

    def gets(self, path_part: str = "") -> list[Request]:
        """Recorded GET requests whose path contains ``path_part``."""
        return [r for r in self.requests if r.method == "GET" and path_part in r.path]

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        for name in ("hub", "cdn"):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, name))
            server.daemon_threads = True
            self._servers[name] = server
            # A short poll interval makes stop() quick (shutdown waits for the next poll).
            serve = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            serve.start()

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()
        # Hang up kept-alive connections too, so no client pool reuses one after this test.
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def __enter__(self) -> FakeHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _url(self, name: str) -> str:
        host, port = self._servers[name].server_address[:2]
        return f"http://{host}:{port}"

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.append(conn)

    def _take_cut(self, repo_id: str, filename: str) -> int | None:
        with self._lock:
            return self.cuts.pop((repo_id, filename), None)

    def _find_blob(self, digest: str) -> tuple[str, str, bytes] | None:
        for repo_id, repo in self.repos.items():
            for filename, data in repo.files.items():
                if sha256(data) == digest:
                    return repo_id, filename, data
        return None


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _make_handler(hub: FakeHub, server_name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.hub = hub
    Handler.server_name = server_name
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Hub; every answer has a length
    hub: FakeHub
    server_name: str

    def setup(self) -> None:
        super().setup()
        self.hub._track(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean

    def do_HEAD(self) -> None:
        self._dispatch(body=False)

    def do_GET(self) -> None:
        self._dispatch(body=True)

    # -- routing -------------------------------------------------------------------------

    def _dispatch(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.hub._record(Request(self.server_name, self.command, path, headers))
        if self.server_name == "cdn":
            match = re.fullmatch(r"/cdn/([0-9a-f]{64})", path)
            blob = self.hub._find_blob(match.group(1)) if match else None
            if blob is None:
                return self._error(404, "EntryNotFound", body)
            repo_id, filename, data = blob
            return self._send_bytes(repo_id, filename, data, {"ETag": f'"{sha256(data)}"'}, body)
        if path.startswith("/api/models/"):
            query = parse_qs(urlsplit(self.path).query)
            blobs = query.get("blobs", ["false"])[-1].lower() in ("1", "true")
            return self._api(path[len("/api/models/") :], body, blobs)
        if "/resolve/" in path:
            repo_id, _, rest = path.lstrip("/").partition("/resolve/")
            revision, _, filename = rest.partition("/")
            return self._resolve(repo_id, revision, filename, body)
        self._error(404, None, body)

    def _repo(self, repo_id: str, body: bool) -> FakeRepo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", body)
            return None
        if repo.status is not None:
            code = {401: "RepoNotFound", 403: "GatedRepo", 404: "RepoNotFound"}.get(repo.status)
            self._error(repo.status, code, body)
            return None
        return repo

    def _resolve(self, repo_id: str, revision: str, filename: str, body: bool) -> None:
        repo = self._repo(repo_id, body)
        if repo is None:
            return
        if revision not in ("main", repo.commit):
            return self._error(404, "RevisionNotFound", body)
        data = repo.files.get(filename)
        if data is None:
            return self._error(404, "EntryNotFound", body, {"X-Repo-Commit": repo.commit})
        if _is_lfs(filename):
            self.send_response(302)
            self.send_header("Location", f"{self.hub.cdn_url}/cdn/{sha256(data)}")
            self.send_header("X-Repo-Commit", repo.commit)
            self.send_header("X-Linked-Etag", f'"{sha256(data)}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("ETag", f'"{_git_sha1(data)}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        extra = {"ETag": f'"{_git_sha1(data)}"', "X-Repo-Commit": repo.commit}
        self._send_bytes(repo_id, filename, data, extra, body)

    def _api(self, rest: str, body: bool, blobs: bool = False) -> None:
        if "/tree/" in rest:
            repo_id, _, _revision = rest.partition("/tree/")
            repo = self._repo(repo_id, body)
            if repo is not None:
                self._json([_tree_entry(name, data) for name, data in repo.files.items()], body)
            return
        repo_id = rest.partition("/revision/")[0]
        repo = self._repo(repo_id, body)
        if repo is not None:
            siblings = [_sibling(name, data, blobs) for name, data in repo.files.items()]
            self._json({"id": repo_id, "sha": repo.commit, "siblings": siblings}, body)

    # -- answers -------------------------------------------------------------------------

    def _send_bytes(
        self, repo_id: str, filename: str, data: bytes, extra: dict[str, str], body: bool
    ) -> None:
        start, end, status = 0, len(data), 200
        range_header = self.headers.get("Range") if self.hub.honor_range else None
        if range_header:
            match = _RANGE.match(range_header)
            if match is None or int(match.group(1)) >= len(data):
                return self._error(416, None, body, {"Content-Range": f"bytes */{len(data)}"})
            start = int(match.group(1))
            end = int(match.group(2)) + 1 if match.group(2) else len(data)
            status = 206
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        if not body:
            return
        cut = self.hub._take_cut(repo_id, filename)
        if cut is not None:
            # Promise the whole length, send part of it, then hang up: a dropped connection.
            self.wfile.write(data[start : start + cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data[start:end])

    def _json(self, payload: object, body: bool) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if body:
            self.wfile.write(raw)

    def _error(
        self, status: int, code: str | None, body: bool, extra: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps({"error": code or "error"}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if body:
            self.wfile.write(raw)


def _sibling(name: str, data: bytes, blobs: bool) -> dict[str, object]:
    sibling: dict[str, object] = {"rfilename": name}
    if blobs:
        sibling.update(size=len(data), blobId=_git_sha1(data))
        if _is_lfs(name):
            sibling["lfs"] = {"sha256": sha256(data), "size": len(data), "pointerSize": 134}
    return sibling


def _tree_entry(name: str, data: bytes) -> dict[str, object]:
    entry: dict[str, object] = {
        "type": "file", "path": name, "size": len(data), "oid": _git_sha1(data)
    }
    if _is_lfs(name):
        entry["lfs"] = {"oid": sha256(data), "size": len(data), "pointerSize": 134}
    return entry
