"""The backend interface: what every backend must implement, and optional parts whose defaults
do nothing, so the story engine can ask a backend instead of probing it."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import pytest

from gpt2_adventure.engine.backend import Backend, CancelToken, GenerationStats, ReplyStream
from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.remote.base import RemoteBackend
from gpt2_adventure.engine.remote.kobold import KoboldBackend
from gpt2_adventure.engine.remote.openai import OpenAIBackend
from gpt2_adventure.engine.sampling import Sampling
from tests.support.fake_backend import FakeBackend

REQUIRED = {"n_ctx", "tokenize", "detokenize", "stream", "close"}


class Minimal(Backend):
    """Only what is required; it records every call, so a default that did work shows."""

    name = "minimal"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @property
    def n_ctx(self) -> int:
        return 64

    def tokenize(self, text: str) -> list[int]:
        self.calls.append("tokenize")
        return [len(word) for word in text.split()]

    def detokenize(self, tokens: Sequence[int]) -> str:
        self.calls.append("detokenize")
        return " ".join("x" * t for t in tokens)

    def stream(self, prompt: str | Sequence[int], sampling: Sampling, stop: Sequence[str] = (),
               cancel: CancelToken | None = None) -> ReplyStream:
        self.calls.append("stream")
        return ReplyStream(iter(()), GenerationStats())

    def close(self) -> None:
        self.calls.append("close")


def test_the_required_members_are_abstract() -> None:
    assert Backend.__abstractmethods__ == REQUIRED


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_backend_lacking_a_required_member_cannot_be_made(missing: str) -> None:
    members = {name: value for name, value in vars(Minimal).items()
               if name != missing and not name.startswith(("__", "_abc"))}
    partial = type("Partial", (Backend,), members)
    with pytest.raises(TypeError, match=missing):
        partial()


def test_the_optional_parts_default_to_not_offered_and_do_nothing() -> None:
    backend = Minimal()
    assert not backend.supports_prefill and not backend.supports_state
    assert backend.prefill([1, 2, 3], CancelToken()) == 0
    assert backend.tokens_for("a reply") is None
    assert backend.export_state() == ([], b"")
    assert backend.import_state([1, 2], b"state") is False
    assert backend.info is None and backend.gpu_offload is False
    assert backend.tokenizer_source == "model"
    assert backend.calls == []  # none of them evaluated, tokenized or generated anything
    assert backend.count_tokens("three small words") == 3


@pytest.mark.parametrize("cls", [LlamaBackend, OpenAIBackend, KoboldBackend, FakeBackend])
def test_every_backend_derives_from_the_interface(cls: type) -> None:
    assert issubclass(cls, Backend) and not inspect.isabstract(cls)


def test_a_backend_claiming_a_part_implements_it() -> None:
    # LlamaBackend says it can prefill and keep state: the methods behind that are its own.
    for name in ("prefill", "tokens_for", "export_state", "import_state", "gpu_offload"):
        assert getattr(LlamaBackend, name) is not getattr(Backend, name), name
    for name in ("supports_prefill", "supports_state"):
        assert getattr(RemoteBackend, name) is getattr(Backend, name), name


def test_a_prompt_that_leaves_no_room_to_reply_is_refused_in_one_message() -> None:
    from gpt2_adventure.errors import ContextOverflowError

    backend = Minimal()
    backend._check_room(63)  # noqa: SLF001 - one token left to reply in: fine
    with pytest.raises(ContextOverflowError, match="the prompt is 64 tokens; the model sees "
                                                   "at most 64 tokens") as caught:
        backend._check_room(64)  # noqa: SLF001
    assert caught.value.hint == "shorten the prompt"
