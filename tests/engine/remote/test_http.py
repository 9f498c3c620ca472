"""Shared pieces of the remote backends: SSE parsing, error messages, settings, tokenizer."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from gpt2_adventure.engine.models.local_tokenizer import VOCAB_FILE, LocalTokenizer
from gpt2_adventure.engine.remote import detect_kind, open_remote
from gpt2_adventure.engine.remote.http import (
    RemoteError,
    SSEvent,
    check_status,
    event_json,
    iter_sse,
)
from gpt2_adventure.engine.remote.settings import BackendSettings, parse_backend_table
from gpt2_adventure.errors import ConfigError
from gpt2_adventure.paths import AppPaths
from tests.support.servers import FakeServer, free_port

URL = "http://127.0.0.1:9"


# -- server-sent events -----------------------------------------------------------------------

def test_sse_events_comments_and_multiline_data() -> None:
    lines = [": ping", "event: message", 'data: {"token": "a"}', "", "data: one", "data:two",
             "", "", "id: 7", "retry: 10", "data: [DONE]"]  # no blank line after the last
    assert list(iter_sse(lines)) == [SSEvent('{"token": "a"}', "message"),
                                     SSEvent("one\ntwo"), SSEvent("[DONE]")]


def test_sse_without_data_yields_nothing() -> None:
    assert list(iter_sse([": keep-alive", "", "event: ping", ""])) == []


def test_garbage_event_is_a_remote_error() -> None:
    with pytest.raises(RemoteError, match="garbage") as info:
        event_json(SSEvent("<html>Bad Gateway</html>"), URL, partial="half a")
    assert info.value.where == URL and info.value.partial == "half a"
    with pytest.raises(RemoteError, match="garbage"):
        event_json(SSEvent("[1, 2]"), URL)
    assert event_json(SSEvent('{"a": 1}'), URL) == {"a": 1}


# -- HTTP status -> one clear line ------------------------------------------------------------

def _response(code: int, body: str = "", path: str = "/v1/completions") -> httpx2.Response:
    return httpx2.Response(code, text=body, request=httpx2.Request("POST", URL + path))


@pytest.mark.parametrize("code, body, words", [
    (401, '{"detail": "Invalid API key"}', ["HTTP 401", "Invalid API key"]),
    (403, "", ["HTTP 403"]),
    (404, '{"detail": "Not Found"}', ["no /v1/completions", "HTTP 404", "OpenAI"]),
    (500, '{"error": {"message": "CUDA out of memory", "code": 500}}',
     ["failed", "HTTP 500", "CUDA out of memory"]),
    (503, '{"detail": {"msg": "Server is busy", "type": "x"}}', ["HTTP 503", "Server is busy"]),
    (422, "prompt must not be empty", ["rejected", "HTTP 422", "prompt must not be empty"]),
])
def test_status_errors_say_what_happened(code: int, body: str, words: list[str]) -> None:
    with pytest.raises(RemoteError) as info:
        check_status(_response(code, body), URL, "an OpenAI-compatible")
    error = info.value
    assert error.where == URL
    for word in words:
        assert word in error.message
    assert "\n" not in str(error)
    if code in (401, 403):
        assert "api_key" in (error.hint or "")
    if code == 404:
        assert "kind" in (error.hint or "")


def test_success_passes() -> None:
    check_status(_response(200, "{}"), URL, "a KoboldAI")


# -- settings ---------------------------------------------------------------------------------

def test_backend_table_parses_and_strips_api_suffixes() -> None:
    settings = parse_backend_table({"kind": "kobold", "url": "http://box:5001/api/",
                                    "api_key": "k", "connect_timeout": 2, "read_timeout": 9.5,
                                    "retries": 0, "verify_tls": False}, "config.toml")
    assert settings == BackendSettings(kind="kobold", url="http://box:5001/api/", api_key="k",
                                       connect_timeout=2.0, read_timeout=9.5, retries=0,
                                       verify_tls=False)
    assert settings.base_url == "http://box:5001"
    assert BackendSettings(url="http://h:8080/v1").base_url == "http://h:8080"
    assert parse_backend_table({}, "c") == BackendSettings()


@pytest.mark.parametrize("table, key", [
    ({"kind": "ollama", "url": "http://h"}, "[backend].kind"),
    ({"kind": "openai"}, "[backend].url"),
    ({"kind": "openai", "url": "h:8080"}, "[backend].url"),
    ({"urll": "http://h"}, "[backend].urll"),
    ({"read_timeout": "60"}, "[backend].read_timeout"),
    ({"read_timeout": 0}, "[backend].read_timeout"),
    ({"retries": True}, "[backend].retries"),
    ({"retries": -1}, "[backend].retries"),
    ({"verify_tls": "no"}, "[backend].verify_tls"),
    ({"n_ctx": 8}, "[backend].n_ctx"),
])
def test_bad_backend_tables_name_the_key(table: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_backend_table(table, "config.toml")
    assert key in info.value.message and info.value.where == "config.toml"


def test_open_remote_refuses_local(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="local"):
        open_remote(BackendSettings(), AppPaths.from_env())


def test_server_down_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for kind in ("openai", "kobold"):
        with pytest.raises(RemoteError) as info:
            open_remote(BackendSettings(kind=kind, url=url, retries=0),  # type: ignore[arg-type]
                        AppPaths.from_env())
        assert info.value.message == "could not connect to the server"
        assert info.value.where == url and "running" in (info.value.hint or "")
    with pytest.raises(RemoteError, match="could not connect"):
        detect_kind(BackendSettings(url=url, retries=0))


def test_detect_kind(local_tok: LocalTokenizer) -> None:
    with FakeServer(local_tok, "kobold") as kobold, FakeServer(local_tok, "openai") as openai:
        assert detect_kind(BackendSettings(url=kobold.url)) == "kobold"
        assert detect_kind(BackendSettings(url=openai.url + "/v1")) == "openai"
        openai.fault = "html"
        with pytest.raises(RemoteError, match="not JSON"):
            detect_kind(BackendSettings(url=openai.url))


# -- the local tokenizer ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_tok(tmp_path_factory: pytest.TempPathFactory) -> LocalTokenizer:
    tok = LocalTokenizer(tmp_path_factory.mktemp("cache"))
    yield tok
    tok.close()


def test_local_tokenizer_is_gpt2(local_tok: LocalTokenizer) -> None:
    assert local_tok.tokenize("Hello world") == [15496, 995]
    assert local_tok.tokenize(" Hello world") == [18435, 995]
    assert local_tok.tokenize("It's") == [1026, 338]
    assert local_tok.tokenize("<|endoftext|>") != [50256]  # typed text is never a control token
    text = "Zoë met a 🐉 — \"ok\"\n\n  done"
    assert local_tok.detokenize(local_tok.tokenize(text)) == text
    assert local_tok.eos == 50256


def test_local_tokenizer_file_is_written_once(tmp_path: Path) -> None:
    LocalTokenizer(tmp_path).close()
    path = tmp_path / "tokenizers" / VOCAB_FILE
    stamp = path.stat().st_mtime_ns
    LocalTokenizer(tmp_path).close()
    assert path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in path.parent.iterdir()) == [VOCAB_FILE]  # no temp files left
