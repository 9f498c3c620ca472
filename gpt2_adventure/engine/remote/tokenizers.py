"""Tokenizing through a server's own endpoints (exact for any model it runs): one client,
``ServerTokenizer``, and each server's way once (``TokenizerApi``); the KoboldCpp one serves
both the KoboldAI backend and the OpenAI-compatible one (KoboldCpp speaks both)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from gpt2_adventure.engine.remote.http import RemoteError, request_json
from gpt2_adventure.engine.remote.settings import BackendSettings


@dataclass(frozen=True)
class TokenizerApi:
    """One server's way to tokenize: paths, request bodies and the answers' keys."""

    name: str
    tokenize_path: str
    tokenize_body: Callable[[str, str], dict[str, Any]]  # (text, model) -> body
    tokens_key: str
    detokenize_path: str
    detokenize_body: Callable[[list[int], str], dict[str, Any]]
    text_key: str


class ServerTokenizer:
    """Tokenize and detokenize through the server's own endpoints (exact for any model)."""

    def __init__(self, client: httpx2.Client, settings: BackendSettings, api: TokenizerApi,
                 model: str = "") -> None:
        self._client, self._settings, self.api, self._model = client, settings, api, model
        self.source = f"server ({api.name})"
        self._prefix: list[int] = []

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return request_json(self._client, self._settings, "POST", path, "a tokenizing", body)

    def tokenize(self, text: str) -> list[int]:
        answer = self._post(self.api.tokenize_path, self.api.tokenize_body(text, self._model))
        tokens = answer.get(self.api.tokens_key) if isinstance(answer, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            raise RemoteError(f"the server's {self.api.tokenize_path} answer has no token list",
                              self._settings.base_url)
        if self._prefix and tokens[: len(self._prefix)] == self._prefix:
            tokens = tokens[len(self._prefix):]  # a BOS the server adds to every text
        return tokens

    def detokenize(self, tokens: Sequence[int]) -> str:
        if not tokens:
            return ""
        answer = self._post(self.api.detokenize_path,
                            self.api.detokenize_body([int(t) for t in tokens], self._model))
        text = answer.get(self.api.text_key) if isinstance(answer, dict) else None
        if not isinstance(text, str):
            raise RemoteError(f"the server's {self.api.detokenize_path} answer has no text",
                              self._settings.base_url)
        return text

    def works(self) -> bool:
        """Probe: does this server speak this tokenizer API, both ways?"""
        try:
            self._prefix = self.tokenize("")
            tokens = self.tokenize("Hello world")
            return bool(tokens) and self.detokenize(tokens).strip() == "Hello world"
        except RemoteError:
            return False

    def close(self) -> None:
        """Nothing to free: the HTTP client is the backend's, closed with it."""


def probe_tokenizer(client: httpx2.Client, settings: BackendSettings,
                    apis: Sequence[TokenizerApi], model: str = "") -> ServerTokenizer | None:
    for api in apis:
        tokenizer = ServerTokenizer(client, settings, api, model)
        if tokenizer.works():
            return tokenizer
    return None


KOBOLDCPP = TokenizerApi(
    "KoboldCpp", "/api/extra/tokencount",
    lambda text, model: {"prompt": text, "special": False}, "ids",
    "/api/extra/detokenize", lambda ids, model: {"ids": ids}, "result")

# What an OpenAI-compatible server may offer, tried in this order; the first that tokenizes
# and detokenizes "Hello world" is used.
OPENAI_COMPATIBLE = (
    TokenizerApi("llama.cpp server", "/tokenize",
                 lambda text, model: {"content": text, "add_special": False}, "tokens",
                 "/detokenize", lambda ids, model: {"tokens": ids}, "content"),
    TokenizerApi("llama-cpp-python server", "/extras/tokenize",
                 lambda text, model: {"input": text, "model": model}, "tokens",
                 "/extras/detokenize", lambda ids, model: {"tokens": ids, "model": model},
                 "text"),
    TokenizerApi("vLLM", "/tokenize",
                 lambda text, model: {"model": model, "prompt": text,
                                      "add_special_tokens": False}, "tokens",
                 "/detokenize", lambda ids, model: {"model": model, "tokens": ids}, "prompt"),
    TokenizerApi("text-generation-webui", "/v1/internal/encode",
                 lambda text, model: {"text": text}, "tokens",
                 "/v1/internal/decode", lambda ids, model: {"tokens": ids}, "text"),
    KOBOLDCPP,
)
