"""load_backend opens a local model with the player's speed settings, else the stored tuning,
else the built-in defaults (a real llama.cpp backend on the tiny model)."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from gpt2_adventure.engine.llama.backend import LlamaBackend
from gpt2_adventure.engine.llama.hardware import physical_cores
from gpt2_adventure.engine.loader import load_backend, speed_in_use
from gpt2_adventure.engine.remote.settings import BackendSettings
from gpt2_adventure.engine.settings import ModelSettings
from gpt2_adventure.engine.tuning import Tuning, save_tuning
from gpt2_adventure.paths import AppPaths

# Every value differs from the default, so each one shows where it came from.
TUNED = Tuning(flash_attn=True, n_batch=64, threads=physical_cores() + 1, batched=True)


def opened(paths: AppPaths, model: ModelSettings, threads: int | None = None) -> tuple:
    backend = load_backend(paths, model, BackendSettings(), threads=threads, seed=1)
    try:
        assert isinstance(backend, LlamaBackend)
        return backend.threads, backend.n_batch, backend.flash_attn, backend.batched
    finally:
        backend.close()


def test_without_a_tuning_the_defaults(tiny_gguf: Path) -> None:
    paths = AppPaths.from_env()
    assert opened(paths, ModelSettings(name=str(tiny_gguf))) == (
        physical_cores(), 512, False, False)


def test_a_stored_tuning_is_used(tiny_gguf: Path) -> None:
    paths = AppPaths.from_env()
    save_tuning(paths.tuning_file, tiny_gguf, TUNED)
    assert opened(paths, ModelSettings(name=str(tiny_gguf))) == (
        TUNED.threads, 64, True, True)


def test_the_players_values_beat_the_tuning(tiny_gguf: Path) -> None:
    paths = AppPaths.from_env()
    save_tuning(paths.tuning_file, tiny_gguf, TUNED)
    mine = ModelSettings(name=str(tiny_gguf), threads=1, n_batch=32, flash_attn=False)
    assert opened(paths, mine) == (1, 32, False, True)  # batched has no setting: tuned
    assert opened(paths, mine, threads=2)[0] == 2  # --threads beats [model].threads
    speed = speed_in_use(paths, mine, tiny_gguf)
    assert dict(speed.sources) == {"threads": "player", "n_batch": "player",
                                   "flash_attn": "player", "batched": "tuned"}


def test_a_tuning_from_another_llama_cpp_is_not_used(tiny_gguf: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    paths = AppPaths.from_env()
    save_tuning(paths.tuning_file, tiny_gguf, TUNED)
    monkeypatch.setattr(llama_cpp, "__version__", "0.0.1")
    assert opened(paths, ModelSettings(name=str(tiny_gguf))) == (
        physical_cores(), 512, False, False)


def test_a_damaged_tuning_file_is_not_used(tiny_gguf: Path) -> None:
    paths = AppPaths.from_env()
    paths.tuning_file.parent.mkdir(parents=True)
    paths.tuning_file.write_text('{"format": 1, "tunings": {"x": ')
    assert opened(paths, ModelSettings(name=str(tiny_gguf))) == (
        physical_cores(), 512, False, False)


# -- the server the flags name (choose_server: one merge for playing and `backend check`) -------

def test_a_url_flag_is_checked_before_any_request_and_named() -> None:
    from gpt2_adventure.engine.loader import choose_server
    from gpt2_adventure.errors import UserError

    # Before: the server was asked first ("unsupported protocol" from the HTTP client), or,
    # with a kind, the error named [backend].url, which the player never set.
    for kind in (None, "openai"):
        with pytest.raises(UserError) as info:
            choose_server(BackendSettings(), "localhost:5001", kind)  # type: ignore[arg-type]
        assert info.value.message == ("--backend-url must start with http:// or https://, got "
                                      "'localhost:5001'")
    configured = BackendSettings(url="localhost:5001")  # kind "local": never checked on load
    with pytest.raises(UserError, match=r"^\[backend\]\.url must start"):
        choose_server(configured, kind="kobold")


def test_a_server_kind_without_a_url_says_which_flag_is_missing() -> None:
    from gpt2_adventure.engine.loader import choose_server
    from gpt2_adventure.errors import UserError

    with pytest.raises(UserError) as info:
        choose_server(BackendSettings(), kind="openai")
    assert info.value.message == "--backend-kind openai needs a server URL"
    assert info.value.hint is not None and "--backend-url" in info.value.hint
    with pytest.raises(UserError) as info:
        choose_server(BackendSettings(), flags=("--url", "--kind"), need_server=True)
    assert info.value.hint is not None and "--url" in info.value.hint


def test_local_stays_local_unless_a_server_is_needed() -> None:
    from gpt2_adventure.engine.loader import choose_server

    configured = BackendSettings(url="http://127.0.0.1:1", connect_timeout=0.2, retries=0)
    assert choose_server(configured) == configured  # play: kind "local" plays here
    assert choose_server(configured, kind="kobold").kind == "kobold"  # no request made
