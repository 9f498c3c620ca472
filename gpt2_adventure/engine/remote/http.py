"""What the remote backends share: the HTTP client, error messages and SSE.

Every failure a player can meet on the network becomes one ``RemoteError`` line naming the
server's URL: the server is down, the URL or the kind is wrong, the key is missing, the
server failed, the stream was cut or held garbage, or nothing came back in time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2

from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.errors import UserError

KIND_HINT = "check the URL and [backend].kind / --backend-kind (openai or kobold)"
CUT_HINT = "the server may have stopped or crashed; try again (the story is unchanged)"


class RemoteError(UserError):
    """A server could not be reached or answered wrongly. ``partial`` is the reply text
    received before a stream broke (for a UI that offers to keep it)."""

    def __init__(self, message: str, where: str | None = None, hint: str | None = None,
                 partial: str = "") -> None:
        super().__init__(message, where, hint)
        self.partial = partial


def make_client(settings: BackendSettings) -> httpx2.Client:
    headers = {"User-Agent": "gpt2-adventure"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    timeout = httpx2.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                             write=settings.read_timeout, pool=settings.read_timeout)
    # Transport retries repeat only failed connection attempts: a request the server
    # received (a generation) is never sent twice.
    transport = httpx2.HTTPTransport(retries=settings.retries, verify=settings.verify_tls)
    return httpx2.Client(base_url=settings.base_url, headers=headers, timeout=timeout,
                         transport=transport)


def _server_message(body: str) -> str:
    """The server's own words from an error body (OpenAI, FastAPI, KoboldCpp or plain text)."""
    with contextlib.suppress(ValueError):
        data = json.loads(body)
        if isinstance(data, dict):
            for key in ("error", "detail", "message", "msg"):
                value = data.get(key)
                if isinstance(value, dict):
                    value = value.get("message") or value.get("msg") or value
                if value:
                    return " ".join(str(value).split())[:200]
    return " ".join(body.split())[:200]


def check_status(response: httpx2.Response, url: str, api: str) -> None:
    """Raise a RemoteError for any answer but 2xx (reading the body of a streamed one)."""
    if response.is_success:
        return
    code, path = response.status_code, response.request.url.path
    with contextlib.suppress(httpx2.HTTPError):
        response.read()
    said = _server_message(response.text) if response.content else ""
    said = f": {said}" if said else ""
    if code in (401, 403):
        raise RemoteError(f"the server refused the request (HTTP {code}){said}", url,
                          hint="set [backend].api_key to the server's key (KoboldCpp: its "
                               "--password; llama-server: its --api-key)")
    if code in (404, 405):
        raise RemoteError(f"the server has no {path} (HTTP {code}); it does not look like "
                          f"{api} server", url, hint=KIND_HINT)
    if code >= 500:
        raise RemoteError(f"the server failed (HTTP {code}){said}", url,
                          hint="see the server's own log; try again")
    raise RemoteError(f"the server rejected the request (HTTP {code}){said}", url)


class ChoicesRefused(RemoteError):
    """The server turned down a request for several replies before writing any: it may not
    take ``n`` (or take that many), or it failed; asking for one reply tells which."""


def check_choices_status(response: httpx2.Response, url: str, api: str) -> None:
    """``check_status`` for a request that asks for several replies. An answer that can mean
    "not that parameter" raises ChoicesRefused: 400 and 422 (llama-server past its
    ``--parallel``, vLLM, FastAPI validation) and server errors (llama-server before n_cmpl
    answers n > 1 with "Only one completion choice is allowed", HTTP 500 in some builds)."""
    code = response.status_code
    if code not in (400, 422) and code < 500:
        check_status(response, url, api)
        return
    with contextlib.suppress(httpx2.HTTPError):
        response.read()
    said = _server_message(response.text) if response.content else ""
    said = f": {said}" if said else ""
    raise ChoicesRefused(f"the server refused several replies in one request (HTTP {code}){said}",
                         url)


@contextlib.contextmanager
def network_errors(url: str, settings: BackendSettings, partial: Callable[[], str] = str
                   ) -> Iterator[None]:
    """Turn httpx's exceptions into RemoteErrors that say what happened in words."""
    try:
        yield
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
        raise RemoteError("could not connect to the server", url,
                          hint="is it running? check [backend].url / --backend-url") from exc
    except httpx2.ReadTimeout as exc:
        raise RemoteError(f"the server did not answer within {settings.read_timeout:g} s", url,
                          hint="it may be busy or stuck; try again, or raise "
                               "[backend].read_timeout", partial=partial()) from exc
    except (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError) as exc:
        raise RemoteError("the connection to the server broke in the middle of a reply", url,
                          hint=CUT_HINT, partial=partial()) from exc
    except httpx2.HTTPError as exc:
        raise RemoteError(f"talking to the server failed: {exc}", url) from exc


def request_json(client: httpx2.Client, settings: BackendSettings, method: str, path: str,
                 api: str, body: Any = None) -> Any:
    """One JSON request; any failure raises RemoteError."""
    url = settings.base_url
    with network_errors(url, settings):
        response = client.request(method, path, json=body)
    check_status(response, url, api)
    try:
        return response.json()
    except ValueError:
        raise RemoteError(f"the server's answer to {path} is not JSON; it does not look like "
                          f"{api} server", url, hint=KIND_HINT) from None


def try_json(client: httpx2.Client, settings: BackendSettings, method: str, path: str,
             body: Any = None) -> Any:
    """An optional probe: the JSON answer, or None for any failure."""
    try:
        return request_json(client, settings, method, path, "a", body)
    except RemoteError:
        return None


# -- server-sent events ---------------------------------------------------------------------

@dataclass
class SSEvent:
    data: str
    event: str = "message"


def iter_sse(lines: Iterable[str]) -> Iterator[SSEvent]:
    """Parse an event stream (lines without their endings) into events.

    Follows the SSE format (``data:`` lines joined by newlines, comments and unknown fields
    ignored, a blank line ends an event) and also yields a last event that lacks its blank
    line, as KoboldCpp ends its OpenAI streams with a bare ``data: [DONE]``.
    """
    data: list[str] = []
    event = ""
    for line in lines:
        if not line:
            if data:
                yield SSEvent("\n".join(data), event or "message")
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue  # a comment (servers send them as keep-alive pings)
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield SSEvent("\n".join(data), event or "message")


def event_json(event: SSEvent, url: str, partial: str = "") -> dict[str, Any]:
    """An event's data as a JSON object; anything else is garbage in the stream."""
    try:
        value = json.loads(event.data)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise RemoteError(f"the server sent garbage in the event stream: "
                          f"{event.data[:60]!r}", url, hint=KIND_HINT, partial=partial)
    return value


def is_event_stream(response: httpx2.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")
