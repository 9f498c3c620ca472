"""Downloads through a fake Hub on 127.0.0.1: pull, resume, errors, checkpoints."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from gpt2_adventure.engine.models import download, store
from gpt2_adventure.errors import DownloadError, UserError
from gpt2_adventure.paths import AppPaths
from tests.support.fake_hub import FakeHub, closed_port_url

REPO = "mradermacher/gpt2-GGUF"
FILE = "gpt2.Q8_0.gguf"
# A few MiB so the download spans several 1 MiB chunks.
DATA = random.Random(1234).randbytes(3 * 1024 * 1024 + 12345)


class Cancelled(Exception):
    pass


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    for var, sub in (("CONFIG", "config"), ("DATA", "data"), ("CACHE", "cache")):
        monkeypatch.setenv(f"GPT2_ADVENTURE_{var}_DIR", str(tmp_path / sub))
    for var in ("HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    # huggingface_hub fixes its offline flag at import; these tests talk to a local fake hub.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(download, "_RETRY_WAIT", 0.0)
    return AppPaths.from_env()


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as fake:
        fake.add_repo(REPO, {FILE: DATA, "gpt2.Q4_K_M.gguf": DATA[:1000]})
        yield fake


def pull(paths: AppPaths, hub: FakeHub, **kwargs: object) -> Path:
    kwargs.setdefault("token", "hf_test")
    return download.pull(paths, "gpt2", endpoint=hub.url, **kwargs)  # type: ignore[arg-type]


def partials(paths: AppPaths) -> list[Path]:
    return sorted(paths.models_dir.rglob("*.part"))


def test_pull_downloads_the_catalog_file(paths: AppPaths, hub: FakeHub) -> None:
    seen: list[tuple[int, int]] = []
    path = pull(paths, hub, progress=lambda done, total: seen.append((done, total)))

    assert path == paths.models_dir / "gpt2" / FILE
    assert path.read_bytes() == DATA
    assert store.model_path(paths, "gpt2") == path
    assert partials(paths) == []
    assert {total for _, total in seen} == {len(DATA)}
    assert seen[-1] == (len(DATA), len(DATA))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= 4  # chunked, not one call at the end


def test_pull_another_quant_case_insensitively(paths: AppPaths, hub: FakeHub) -> None:
    path = pull(paths, hub, quant="q4_k_m")
    assert path.name == "gpt2.Q4_K_M.gguf"
    assert path.read_bytes() == DATA[:1000]


def test_an_installed_model_needs_no_network(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = pull(paths, hub)
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert pull(paths, hub) == first
    assert hub.requests == []


def test_env_vars_are_read_at_call_time(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")

    download.pull(paths, "gpt2")

    head = next(r for r in hub.requests if r.method == "HEAD")
    assert head.headers["authorization"] == "Bearer hf_from_env"
    cdn_gets = [r for r in hub.requests if r.server == "cdn"]
    assert cdn_gets and all("authorization" not in r.headers for r in cdn_gets)


def test_a_dropped_connection_is_resumed_with_a_range_request(
    paths: AppPaths, hub: FakeHub
) -> None:
    hub.cut_first_get(REPO, FILE, after_bytes=1_500_000)

    path = pull(paths, hub)

    assert path.read_bytes() == DATA
    gets = hub.gets("/cdn/")
    assert len(gets) == 2
    assert "range" not in gets[0].headers
    start = int(gets[1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= 1_500_000


def test_an_interrupted_pull_resumes_on_the_next_call(paths: AppPaths, hub: FakeHub) -> None:
    def cancel_midway(done: int, total: int) -> None:
        if done > 2_000_000:
            raise Cancelled

    with pytest.raises(Cancelled):
        pull(paths, hub, progress=cancel_midway)
    [partial] = partials(paths)
    kept = partial.stat().st_size
    assert 2_000_000 < kept < len(DATA)
    assert store.installed(paths) == []
    with pytest.raises(UserError, match="not installed"):
        store.resolve_model(paths, "gpt2")

    hub.requests.clear()
    seen: list[tuple[int, int]] = []
    path = pull(paths, hub, progress=lambda done, total: seen.append((done, total)))

    assert path.read_bytes() == DATA
    [get] = hub.gets("/cdn/")
    assert get.headers["range"] == f"bytes={kept}-"
    assert seen[0] == (kept, len(DATA))  # progress starts where the last run stopped
    assert partials(paths) == []


def test_resume_survives_a_server_that_ignores_range(paths: AppPaths, hub: FakeHub) -> None:
    def cancel_midway(done: int, total: int) -> None:
        if done > 1_000_000:
            raise Cancelled

    with pytest.raises(Cancelled):
        pull(paths, hub, progress=cancel_midway)
    hub.honor_range = False

    assert pull(paths, hub).read_bytes() == DATA


def test_a_partial_of_another_file_version_is_dropped(paths: AppPaths, hub: FakeHub) -> None:
    folder = paths.models_dir / "gpt2"
    folder.mkdir(parents=True)
    stale = folder / f"{FILE}.0000000000000000.part"
    stale.write_bytes(b"old bytes")

    assert pull(paths, hub).read_bytes() == DATA
    assert not stale.exists()


def test_a_corrupt_partial_fails_the_checksum_and_is_not_installed(
    paths: AppPaths, hub: FakeHub
) -> None:
    def cancel_after_first_chunk(done: int, total: int) -> None:
        if done:
            raise Cancelled

    with pytest.raises(Cancelled):
        pull(paths, hub, progress=cancel_after_first_chunk)
    [partial] = partials(paths)
    partial.write_bytes(b"\0" * len(DATA))  # right size, wrong bytes

    with pytest.raises(DownloadError, match="checksum"):
        pull(paths, hub)
    assert store.installed(paths) == []
    assert partials(paths) == []
    assert pull(paths, hub).read_bytes() == DATA  # and the next try starts afresh


@pytest.mark.parametrize("status", [401, 403])
def test_refused_access_mentions_hf_token(paths: AppPaths, hub: FakeHub, status: int) -> None:
    hub.add_repo(REPO, {FILE: DATA}, status=status)
    with pytest.raises(DownloadError) as caught:
        pull(paths, hub)
    assert f"HTTP {status}" in caught.value.message
    assert caught.value.hint is not None and "HF_TOKEN" in caught.value.hint
    assert store.installed(paths) == []


def test_a_missing_repo_is_not_found(paths: AppPaths, hub: FakeHub) -> None:
    hub.repos.pop(REPO)
    with pytest.raises(DownloadError, match="not found") as caught:
        pull(paths, hub)
    assert REPO in caught.value.message
    assert store.installed(paths) == []


def test_a_missing_file_is_not_found(paths: AppPaths, hub: FakeHub) -> None:
    with pytest.raises(DownloadError, match="not found") as caught:
        pull(paths, hub, quant="Q6_K")
    assert "gpt2.Q6_K.gguf" in caught.value.message
    assert store.installed(paths) == []
    assert not any(paths.models_dir.rglob("*.gguf"))


def test_offline_mode_fails_before_any_connection(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError) as caught:
        pull(paths, hub)
    error = caught.value
    assert "no network" in error.message
    assert "\n" not in error.message
    assert error.hint is not None
    assert "--model PATH" in error.hint and "models convert" in error.hint
    assert hub.requests == []


def test_offline_since_huggingface_hub_import_is_reported_the_same(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)  # as if set at import time
    with pytest.raises(DownloadError, match="no network"):
        pull(paths, hub)
    assert hub.requests == []
    assert store.installed(paths) == []


def test_connection_refused_is_no_network(paths: AppPaths) -> None:
    with pytest.raises(DownloadError) as caught:
        download.pull(paths, "gpt2", endpoint=closed_port_url(), token="hf_test")
    assert "no network" in caught.value.message
    assert caught.value.hint is not None and "--model PATH" in caught.value.hint
    assert store.installed(paths) == []


def test_not_enough_disk_space_is_refused_before_downloading(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Usage:
        total = used = 0
        free = 1000

    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: Usage())
    with pytest.raises(DownloadError, match="disk space"):
        pull(paths, hub)
    assert hub.gets("/cdn/") == []
    assert store.installed(paths) == []


def test_unknown_model_or_quant_is_a_user_error(paths: AppPaths, hub: FakeHub) -> None:
    with pytest.raises(UserError, match="valid names"):
        download.pull(paths, "gpt5", endpoint=hub.url)
    with pytest.raises(UserError, match="Q8_0"):
        pull(paths, hub, quant="Q3_K_S")
    assert hub.requests == []


CHECKPOINT = {
    "config.json": b'{"model_type": "gpt2"}',
    "model.safetensors": b"S" * 5000,
    "vocab.json": b"{}",
    "merges.txt": b"#version: 0.2\n",
    "tokenizer.json": b"{}",
    "pytorch_model.bin": b"P" * 5000,
    "tf_model.h5": b"T",
    "flax_model.msgpack": b"F",
    "rust_model.ot": b"R",
    "onnx/config.json": b"{}",
    "onnx/decoder_model.onnx": b"O",
    "README.md": b"# gpt2",
}


def test_fetch_checkpoint_takes_safetensors_and_tokenizer_only(
    paths: AppPaths, hub: FakeHub
) -> None:
    hub.add_repo("openai-community/gpt2", CHECKPOINT)

    folder = download.fetch_checkpoint(paths, "openai-community/gpt2", endpoint=hub.url)

    assert folder == paths.cache_dir / "checkpoints" / "openai-community--gpt2"
    files = {p.name for p in folder.iterdir() if p.is_file()}
    wanted = {"config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json"}
    assert files == wanted
    assert (folder / "model.safetensors").read_bytes() == CHECKPOINT["model.safetensors"]
    assert not (folder / "onnx").exists()
    fetched = [r.path for r in hub.requests]
    assert not any(p.endswith((".bin", ".h5", ".msgpack", ".ot", ".onnx")) for p in fetched)


def test_fetch_checkpoint_offline_returns_a_complete_copy_or_fails(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_repo("openai-community/gpt2", CHECKPOINT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="no network"):
        download.fetch_checkpoint(paths, "openai-community/gpt2", endpoint=hub.url)
    assert hub.requests == []

    monkeypatch.delenv("HF_HUB_OFFLINE")
    folder = download.fetch_checkpoint(paths, "openai-community/gpt2", endpoint=hub.url)
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert download.fetch_checkpoint(paths, "openai-community/gpt2", endpoint=hub.url) == folder
    assert hub.requests == []


def test_fetch_checkpoint_without_safetensors_is_an_error(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo("someone/old-gpt2", {"config.json": b"{}", "pytorch_model.bin": b"P"})
    with pytest.raises(DownloadError, match="safetensors"):
        download.fetch_checkpoint(paths, "someone/old-gpt2", endpoint=hub.url)


@pytest.mark.parametrize(("status", "words"), [(401, "HF_TOKEN"), (404, "not found")])
def test_fetch_checkpoint_maps_http_errors(
    paths: AppPaths, hub: FakeHub, status: int, words: str
) -> None:
    hub.add_repo("openai-community/gpt2-xl", CHECKPOINT, status=status)
    with pytest.raises(DownloadError) as caught:
        download.fetch_checkpoint(paths, "openai-community/gpt2-xl", endpoint=hub.url)
    error = caught.value
    assert words in f"{error.message} {error.hint}"
