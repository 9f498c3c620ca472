"""OpenAI-compatible text completions: ``POST /v1/completions`` with ``stream: true``.

Spoken by llama.cpp's llama-server, llama-cpp-python's server, vLLM, KoboldCpp and
text-generation-webui. How each ``Sampling`` field travels (servers ignore names they do
not know, so the aliases below are sent side by side):

=================  ====================================================================
temperature        ``temperature`` (all)
top_k, min_p       ``top_k``, ``min_p`` (all five; not in OpenAI's own API)
top_p              ``top_p`` (all)
typical_p          ``typical_p`` (llama-server, text-generation-webui; others ignore it)
repeat_penalty     ``repeat_penalty`` (llama.cpp servers), ``repetition_penalty`` (vLLM,
                   text-generation-webui, KoboldCpp)
repeat_last_n      ``repeat_last_n`` (llama-server), ``repetition_penalty_range``
                   (text-generation-webui); llama-cpp-python's server always uses 64,
                   vLLM the whole text
presence/frequency ``presence_penalty``, ``frequency_penalty`` (all)
mirostat_*         ``mirostat`` (llama-server), ``mirostat_mode`` (llama-cpp-python,
                   text-generation-webui), ``mirostat_tau``/``mirostat_eta``; not vLLM
dry_*              only when dry_multiplier is above 0: ``dry_multiplier``, ``dry_base``,
                   ``dry_allowed_length``, ``dry_penalty_last_n`` (0 sent as the context
                   size), ``dry_sequence_breakers`` (a list; text-generation-webui wants it
                   as one text, so it gets that); llama-server, text-generation-webui
xtc_*              only when xtc_probability is above 0: ``xtc_probability``,
                   ``xtc_threshold`` (llama-server, text-generation-webui)
top_n_sigma        only when above 0: ``top_n_sigma`` (llama-server)
                   DRY, XTC and top-n-sigma are lost on llama-cpp-python's server and vLLM,
                   whose completion APIs have no such fields
max_tokens         ``max_tokens``, cut to the room left (``context.reply_budget``)
ignore_eos         ``ignore_eos`` (llama-server, vLLM), ``ban_eos_token`` (webui,
                   KoboldCpp), and a -100 bias on GPT-2's <|endoftext|> for the rest
banned_strings     a -100 ``logit_bias`` on strings that are one token (as the local
                   backend does); longer strings cannot be banned through this API
logit_bias         ``logit_bias`` {"id": bias}, clamped to OpenAI's -100..100
=================  ====================================================================
Stop strings are sent as ``stop`` and also applied here, for servers that ignore them.

Replies written ahead are asked for in one request with ``n`` (their choices streamed side by
side, told apart by ``index``). vLLM takes it; llama-server takes it since n_cmpl (llama.cpp
PR #17775; ``n`` is its alias, at most its ``--parallel``) and refused anything but 1 before
("Only one completion choice is allowed"); llama-cpp-python's server and KoboldCpp ignore it
and write one. A server that refuses ``n`` or gives fewer choices is asked for one at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from typing import Any

import httpx2

from gpt2_adventure.engine.remote.base import GPT2_EOS, RemoteBackend
from gpt2_adventure.engine.remote.http import (
    CUT_HINT,
    KIND_HINT,
    RemoteError,
    check_choices_status,
    check_status,
    event_json,
    is_event_stream,
    iter_sse,
    network_errors,
    request_json,
    try_json,
)
from gpt2_adventure.engine.remote.replies import Chunk
from gpt2_adventure.engine.remote.tokenizers import (
    OPENAI_COMPATIBLE,
    ServerTokenizer,
    probe_tokenizer,
)
from gpt2_adventure.engine.sampling import Sampling

API = "an OpenAI-compatible"
WEBUI = "OpenAI-compatible (text-generation-webui)"  # ``server`` when its tokenizer API answers

def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object, else an empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _timings(data: dict[str, Any]) -> int | None:
    """The prompt tokens llama-server actually evaluated (the rest came from its cache)."""
    timings = _table(data, "timings")
    return _number(timings.get("prompt_n"))


class OpenAIBackend(RemoteBackend):
    """A model behind an OpenAI-compatible ``/v1/completions`` endpoint."""

    api = API
    info_path = "/v1/models"
    most_choices = 128  # OpenAI's own limit for n

    def _connect(self) -> None:
        listing = request_json(self._client, self.settings, "GET", "/v1/models", API)
        models = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(models, list) or not all(
                isinstance(m, dict) and isinstance(m.get("id"), str) for m in models):
            raise RemoteError("the server's /v1/models answer is not a model list; it does "
                              f"not look like {API} server", self.url, hint=KIND_HINT)
        ids = [m["id"] for m in models]
        wanted = self.settings.model
        if wanted and ids and wanted not in ids:
            raise RemoteError(f"the server has no model {wanted!r}; it offers: "
                              f"{', '.join(ids)[:200]}", self.url,
                              hint="set [backend].model to one of them, or leave it empty")
        if not wanted and not ids:
            raise RemoteError("the server lists no models", self.url,
                              hint="load a model on the server first")
        self.model_id = wanted or ids[0]
        self.name = PurePath(self.model_id).name or self.model_id
        entry: dict[str, Any] = next((m for m in models if m["id"] == self.model_id), {})
        self._probe_context(entry)
        self.tokenizer = probe_tokenizer(self._client, self.settings, OPENAI_COMPATIBLE,
                                         self.model_id) or self._local_tokenizer()
        self._eos = GPT2_EOS if self.gpt2_vocab else None
        if isinstance(self.tokenizer, ServerTokenizer):  # its API names the server
            self.server = f"OpenAI-compatible ({self.tokenizer.api.name})"

    @property
    def samplers_lost(self) -> tuple[str, ...]:
        """llama-cpp-python's server and vLLM have none of them (known by their tokenizer
        APIs); llama-server and text-generation-webui take them."""
        known = isinstance(self.tokenizer, ServerTokenizer) and self.tokenizer.api.name in (
            "llama-cpp-python server", "vLLM")
        return self.EXTRA_SAMPLERS if known else ()

    def _probe_context(self, entry: dict[str, Any]) -> None:
        meta = _table(entry, "meta")
        train = _number(meta.get("n_ctx_train"))  # llama-server lists the model's own limit
        if self.settings.n_ctx:
            self._set_context(None, "config", train)
            return
        found = _number(entry.get("max_model_len"))  # vLLM
        if found:
            self._set_context(found, "server (/v1/models)", train)
            return
        props = try_json(self._client, self.settings, "GET", "/props")  # llama-server
        if isinstance(props, dict):
            settings = props.get("default_generation_settings")
            found = _number(settings.get("n_ctx")) if isinstance(settings, dict) else None
            found = found or _number(props.get("n_ctx"))
            if found:
                self._set_context(found, "server (/props)", train)
                return
        kobold = try_json(self._client, self.settings, "GET", "/api/extra/true_max_context_length")
        found = _number(kobold.get("value")) if isinstance(kobold, dict) else None
        self._set_context(found, "server (/api/extra/true_max_context_length)", train)

    def request_body(self, text: str, sampling: Sampling, stop: Sequence[str],
                     max_tokens: int) -> dict[str, Any]:
        s = sampling
        body: dict[str, Any] = {
            "model": self.model_id, "prompt": text, "max_tokens": max_tokens,
            "stream": True, "stream_options": {"include_usage": True},
            "temperature": s.temperature, "top_k": s.top_k, "top_p": s.top_p,
            "min_p": s.min_p, "typical_p": s.typical_p,
            "repeat_penalty": s.repeat_penalty, "repetition_penalty": s.repeat_penalty,
            "repeat_last_n": s.repeat_last_n, "repetition_penalty_range": s.repeat_last_n,
            "presence_penalty": s.presence_penalty, "frequency_penalty": s.frequency_penalty,
            "cache_prompt": True,  # llama-server: reuse the common prefix of the last prompt
        }
        if s.mirostat:
            body.update(mirostat=s.mirostat, mirostat_mode=s.mirostat,
                        mirostat_tau=s.mirostat_tau, mirostat_eta=s.mirostat_eta)
        if s.dry_multiplier > 0:
            breakers: list[str] | str = list(s.dry_sequence_breakers)
            if self.server == WEBUI:  # its API takes them as one text of quoted strings
                breakers = ", ".join(json.dumps(b) for b in breakers)
            body.update(dry_multiplier=s.dry_multiplier, dry_base=s.dry_base,
                        dry_allowed_length=s.dry_allowed_length,
                        dry_penalty_last_n=s.dry_penalty_last_n or self.n_ctx,
                        dry_sequence_breakers=breakers)
        if s.xtc_probability > 0:
            body.update(xtc_probability=s.xtc_probability, xtc_threshold=s.xtc_threshold)
        if s.top_n_sigma > 0:
            body["top_n_sigma"] = s.top_n_sigma
        if stop:
            body["stop"] = list(stop)
        bias = self._bias(sampling)
        if s.ignore_eos:
            body.update(ignore_eos=True, ban_eos_token=True)
        if bias:
            body["logit_bias"] = {str(k): v for k, v in bias.items()}
        return body

    def _chunks(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int
                ) -> Iterator[Chunk]:
        body = self.request_body(text, sampling, stop, max_tokens)
        got: list[str] = []
        ended = False  # a finish_reason or [DONE] came: the reply is whole
        with network_errors(self.url, self.settings, lambda: "".join(got)), \
                self._client.stream("POST", "/v1/completions", json=body) as response:
            check_status(response, self.url, API)
            if not is_event_stream(response):
                yield self._whole(response)  # a server that does not stream
                return
            try:
                for event in iter_sse(response.iter_lines()):
                    if event.data.strip() == "[DONE]":
                        return
                    chunk = self._chunk(event_json(event, self.url, "".join(got)))
                    got.append(chunk.text)
                    ended = ended or chunk.finish is not None
                    yield chunk
            except httpx2.TransportError:
                if ended:  # the server went away after its last word: keep the reply
                    return
                raise
        if not ended:
            raise RemoteError("the server ended the stream in the middle of a reply", self.url,
                              hint=CUT_HINT, partial="".join(got))

    def _many(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int, n: int
              ) -> Iterator[Chunk]:
        body = {**self.request_body(text, sampling, stop, max_tokens), "n": n}
        seen: set[int] = set()
        ended: set[int] = set()  # the choices whose finish_reason came
        with network_errors(self.url, self.settings), \
                self._client.stream("POST", "/v1/completions", json=body) as response:
            check_choices_status(response, self.url, API)
            if not is_event_stream(response):
                response.read()
                yield from self._choices(self._json(response))
                return
            try:
                for event in iter_sse(response.iter_lines()):
                    if event.data.strip() == "[DONE]":
                        return
                    for chunk in self._choices(event_json(event, self.url)):
                        seen.add(chunk.index)
                        if chunk.finish is not None:
                            ended.add(chunk.index)
                        yield chunk
            except httpx2.TransportError:
                if seen and seen <= ended:  # gone after the last word of every reply
                    return
                raise
        if not seen or not seen <= ended:
            raise RemoteError("the server ended the stream in the middle of a reply", self.url,
                              hint=CUT_HINT)

    def _abort(self) -> None:
        """Nothing to send: the OpenAI API has no abort; closing the stream (which the
        reader does) is what stops a server that notices it."""

    def _chunk(self, data: dict[str, Any]) -> Chunk:
        """The event's first choice, with the server's token count."""
        chunks = self._choices(data)
        chunk = chunks[0] if chunks else Chunk(evaluated_tokens=_timings(data))
        usage = _table(data, "usage")
        chunk.completion_tokens = _number(usage.get("completion_tokens"))
        return chunk

    def _choices(self, data: dict[str, Any]) -> list[Chunk]:
        """Every choice in an event (or an answer), marked with its index."""
        if "error" in data:  # llama-server reports errors inside the stream
            error = data["error"]
            said = error.get("message") if isinstance(error, dict) else error
            raise RemoteError(f"the server failed: {str(said)[:200]}", self.url)
        choices = data.get("choices")
        if not isinstance(choices, list):
            raise RemoteError("the server's stream holds events that are not completions",
                              self.url, hint=KIND_HINT)
        evaluated = _timings(data)
        chunks = []
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict):
                continue
            text = choice.get("text")
            if text is None and isinstance(choice.get("delta"), dict):  # a chat-style chunk
                text = choice["delta"].get("content")
            if text is not None and not isinstance(text, str):
                raise RemoteError("the server's stream holds events that are not completions",
                                  self.url, hint=KIND_HINT)
            finish = choice.get("finish_reason")
            finish = finish if isinstance(finish, str) and finish not in ("", "null") else None
            index = _number(choice.get("index"))
            chunks.append(Chunk(text or "", finish, None, evaluated,
                                position if index is None else index))
        return chunks

    def _whole(self, response: Any) -> Chunk:
        response.read()
        return self._chunk(self._json(response))

    def _json(self, response: Any) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise RemoteError("the server's answer to /v1/completions is neither an event "
                              f"stream nor JSON; it does not look like {API} server",
                              self.url, hint=KIND_HINT) from None
        if not isinstance(data, dict):
            raise RemoteError("the server's answer to /v1/completions is not a completion",
                              self.url, hint=KIND_HINT)
        return data
