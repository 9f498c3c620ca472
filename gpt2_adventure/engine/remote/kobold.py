"""The KoboldAI API: KoboldCpp (streaming) and KoboldAI United (one answer per request).

KoboldCpp streams from ``POST /api/extra/generate/stream`` (events ``{"token": ...,
"finish_reason": ...}``) and stops early on ``POST /api/extra/abort``; plain KoboldAI
answers ``POST /api/v1/generate`` once, with the whole reply. How ``Sampling`` travels:

=================  ====================================================================
temperature        ``temperature``
top_k / top_p      ``top_k`` / ``top_p``
min_p              ``min_p`` (KoboldCpp)
typical_p          ``typical``
repeat_penalty     ``rep_pen``, over the last ``rep_pen_range`` = repeat_last_n tokens
presence_penalty   ``presence_penalty`` (KoboldCpp)
frequency_penalty  not offered by the KoboldAI API: ignored
mirostat_*         ``mirostat``, ``mirostat_tau``, ``mirostat_eta`` (KoboldCpp)
dry_*              only when dry_multiplier is above 0: ``dry_multiplier``, ``dry_base``,
                   ``dry_allowed_length``, ``dry_penalty_last_n`` (0 sent as n_ctx, the whole
                   window), ``dry_sequence_breakers`` (KoboldCpp)
xtc_*              only when xtc_probability is above 0: ``xtc_probability``,
                   ``xtc_threshold`` (KoboldCpp)
top_n_sigma        only when above 0: ``nsigma`` (KoboldCpp)
                   KoboldAI United has none of the three: there they are lost
max_tokens         ``max_length`` (cut to the room left, ``context.reply_budget``);
                   ``max_context_length`` = n_ctx
ignore_eos         ``ban_eos_token`` (KoboldCpp), ``use_default_badwordsids`` (KoboldAI)
banned_strings     ``banned_strings`` (KoboldCpp bans whole strings), plus a -100
                   ``logit_bias`` on those that are one token
logit_bias         ``logit_bias`` {"id": bias} (KoboldCpp), clamped to -100..100
=================  ====================================================================
Stop strings go as ``stop_sequence`` and are cut here (KoboldCpp streams them).

Replies written ahead: KoboldAI United's ``/api/v1/generate`` takes ``n`` (1 to 5 outputs,
answered together in ``results``), so one request asks for them all; KoboldCpp reads no ``n``
and answers one result, so it is asked once per reply, each streamed.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx2

from gpt2_adventure.engine.remote import http
from gpt2_adventure.engine.remote.base import GPT2_EOS, RemoteBackend
from gpt2_adventure.engine.remote.replies import Chunk
from gpt2_adventure.engine.remote.tokenizers import KOBOLDCPP, probe_tokenizer
from gpt2_adventure.engine.sampling import Sampling

API = "a KoboldAI"
STREAM_PATH = "/api/extra/generate/stream"
GENERATE_PATH = "/api/v1/generate"


def _value(answer: Any) -> int | None:
    value = answer.get("value") if isinstance(answer, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class KoboldBackend(RemoteBackend):
    """A model behind the KoboldAI API."""

    api = API
    info_path = "/api/v1/model"
    most_choices = 5  # KoboldAI United's limit for n

    def _connect(self) -> None:
        answer = http.request_json(self._client, self.settings, "GET", "/api/v1/model", API)
        name = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(name, str):
            raise http.RemoteError("the server's /api/v1/model answer names no model; it does not "
                              f"look like {API} server", self.url, hint=http.KIND_HINT)
        self.model_id = name
        self.name = name.removeprefix("koboldcpp/")
        version = http.try_json(self._client, self.settings, "GET", "/api/extra/version")
        self.koboldcpp = isinstance(version, dict) and version.get("result") == "KoboldCpp"
        self.server = (f"KoboldCpp {version.get('version', '')}".strip()
                       if isinstance(version, dict) and self.koboldcpp else "KoboldAI")
        self._genkey = ""
        if self.koboldcpp:
            self.choices = 1  # it answers one result whatever n says; stream them one by one
        self._probe_context()
        self.tokenizer = probe_tokenizer(self._client, self.settings, [KOBOLDCPP]) \
            or self._local_tokenizer()
        self._eos = GPT2_EOS if self.gpt2_vocab else None

    @property
    def samplers_lost(self) -> tuple[str, ...]:
        """KoboldCpp takes all three; KoboldAI United none."""
        return () if self.koboldcpp else self.EXTRA_SAMPLERS

    def _probe_context(self) -> None:
        if self.settings.n_ctx:
            self._set_context(None, "config")
            return
        for path in ("/api/extra/true_max_context_length", "/api/v1/config/max_context_length"):
            found = _value(http.try_json(self._client, self.settings, "GET", path))
            if found:
                self._set_context(found, f"server ({path})")
                return
        self._set_context(None, "default")

    def request_body(self, text: str, sampling: Sampling, stop: Sequence[str],
                     max_tokens: int) -> dict[str, Any]:
        s = sampling
        body: dict[str, Any] = {
            "prompt": text, "max_length": max_tokens, "max_context_length": self.n_ctx,
            "temperature": s.temperature, "top_k": s.top_k, "top_p": s.top_p,
            "min_p": s.min_p, "typical": s.typical_p, "rep_pen": s.repeat_penalty,
            "rep_pen_range": s.repeat_last_n, "presence_penalty": s.presence_penalty,
            "stop_sequence": list(stop), "genkey": self._genkey,
        }
        if s.mirostat:
            body.update(mirostat=s.mirostat, mirostat_tau=s.mirostat_tau,
                        mirostat_eta=s.mirostat_eta)
        if s.dry_multiplier > 0:
            body.update(dry_multiplier=s.dry_multiplier, dry_base=s.dry_base,
                        dry_allowed_length=s.dry_allowed_length,
                        dry_penalty_last_n=s.dry_penalty_last_n or self.n_ctx,
                        dry_sequence_breakers=list(s.dry_sequence_breakers))
        if s.xtc_probability > 0:
            body.update(xtc_probability=s.xtc_probability, xtc_threshold=s.xtc_threshold)
        if s.top_n_sigma > 0:
            body["nsigma"] = s.top_n_sigma
        if s.ignore_eos:
            body.update(ban_eos_token=True, use_default_badwordsids=True)
        if s.banned_strings:
            body["banned_strings"] = list(s.banned_strings)
        bias = self._bias(sampling)
        if bias:
            body["logit_bias"] = {str(k): v for k, v in bias.items()}
        return body

    def _chunks(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int
                ) -> Iterator[Chunk]:
        # A key per request: KoboldCpp's abort stops only the job with that key, so a late
        # abort of this reply cannot stop the next one.
        self._genkey = "GPT2ADV" + secrets.token_hex(6)
        body = self.request_body(text, sampling, stop, max_tokens)
        path = STREAM_PATH if self.koboldcpp else GENERATE_PATH
        got: list[str] = []
        ended = False
        with http.network_errors(self.url, self.settings, lambda: "".join(got)), \
                self._client.stream("POST", path, json=body) as response:
            http.check_status(response, self.url, API)
            if not http.is_event_stream(response):
                yield self._whole(response, path)
                return
            for event in http.iter_sse(response.iter_lines()):
                data = http.event_json(event, self.url, "".join(got))
                token = data.get("token")
                if not isinstance(token, str):
                    raise http.RemoteError("the server's stream holds events that are not "
                                      "KoboldCpp tokens", self.url, hint=http.KIND_HINT,
                                      partial="".join(got))
                finish = data.get("finish_reason")
                ended = finish not in (None, "", "null")
                got.append(token)
                yield Chunk(token, str(finish) if ended else None)
                if ended:
                    return
        if not ended:
            raise http.RemoteError("the server ended the stream in the middle of a reply", self.url,
                              hint=http.CUT_HINT, partial="".join(got))

    def _many(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int, n: int
              ) -> Iterator[Chunk]:
        body = {**self.request_body(text, sampling, stop, max_tokens), "n": n}
        with http.network_errors(self.url, self.settings), \
                self._client.stream("POST", GENERATE_PATH, json=body) as response:
            http.check_choices_status(response, self.url, API)
            response.read()
            results = self._results(response, GENERATE_PATH)
        yield from (self._result(result, index) for index, result in enumerate(results))

    def _whole(self, response: httpx2.Response, path: str) -> Chunk:
        response.read()
        return self._result(self._results(response, path)[0])

    def _results(self, response: httpx2.Response, path: str) -> list[dict[str, Any]]:
        try:
            data = response.json()
        except ValueError:
            data = None
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or not results or not all(
                isinstance(r, dict) and isinstance(r.get("text"), str) for r in results):
            raise http.RemoteError(f"the server's answer to {path} is not a KoboldAI result",
                              self.url, hint=http.KIND_HINT)
        return results

    @staticmethod
    def _result(result: dict[str, Any], index: int = 0) -> Chunk:
        finish = result.get("finish_reason")
        return Chunk(result["text"], finish if isinstance(finish, str) else None, index=index)

    def _abort(self) -> None:
        if not self.koboldcpp:
            return
        key, timeout = self._genkey, min(5.0, self.settings.read_timeout)

        def post() -> None:  # best effort, off the player's thread: the reply is dropped anyway
            # RuntimeError: the backend was closed meanwhile (httpx refuses a closed client).
            with contextlib.suppress(httpx2.HTTPError, RuntimeError):
                self._client.post("/api/extra/abort", json={"genkey": key}, timeout=timeout)

        threading.Thread(target=post, name="kobold-abort", daemon=True).start()
