"""The API-independent part of remote backends: a subclass must supply its three hooks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from gpt2_adventure.engine.remote.base import RemoteBackend
from gpt2_adventure.engine.remote.kobold import KoboldBackend
from gpt2_adventure.engine.remote.openai import OpenAIBackend
from gpt2_adventure.engine.remote.replies import Chunk
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.paths import AppPaths

HOOKS = {"_connect", "_chunks", "_abort"}


class Offline(RemoteBackend):
    """Every hook, and a connection that never leaves the process."""

    def _connect(self) -> None:
        self.name = "offline"

    def _chunks(self, text: str, sampling: Sampling, stop: Sequence[str], max_tokens: int
                ) -> Iterator[Chunk]:
        yield Chunk("", "stop")

    def _abort(self) -> None:
        pass


def test_the_hooks_are_abstract() -> None:
    assert RemoteBackend.__abstractmethods__ == HOOKS
    assert not OpenAIBackend.__abstractmethods__ and not KoboldBackend.__abstractmethods__


@pytest.mark.parametrize("missing", sorted(HOOKS))
def test_a_subclass_lacking_a_hook_fails_before_connecting(missing: str) -> None:
    members = {name: value for name, value in vars(Offline).items()
               if name != missing and not name.startswith(("__", "_abc"))}
    partial = type("Partial", (RemoteBackend,), members)
    with pytest.raises(TypeError, match=missing):
        partial(BackendSettings(kind="openai", url="http://127.0.0.1:9"), AppPaths.from_env())


def test_a_complete_subclass_is_made() -> None:
    backend = Offline(BackendSettings(kind="openai", url="http://127.0.0.1:9"),
                      AppPaths.from_env())
    try:
        assert backend.name == "offline" and not backend.supports_state
    finally:
        backend.close()
