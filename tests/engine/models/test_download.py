"""Downloads through a fake Hub on 127.0.0.1: pull, resume, errors, checkpoints."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import constants as hf_constants

from gpt2_adventure.engine.models import download, hub_transfer, store
from gpt2_adventure.errors import DownloadError, UserError
from gpt2_adventure.paths import AppPaths
from tests.support.fake_hub import FakeHub, closed_port_url
from tests.support.gguf_files import write_gguf

REPO = "mradermacher/gpt2-GGUF"
FILE = "gpt2.Q8_0.gguf"


@functools.cache
def gguf(seed: int = 0, **kwargs: Any) -> bytes:
    """A small GPT-2-shaped GGUF (every download's header is checked): a few MiB, so the
    download spans several 1 MiB chunks."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_gguf(Path(folder) / "m.gguf", n_embd=8, seed=seed, **kwargs)
        return path.read_bytes()


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
    monkeypatch.setattr(hub_transfer, "_RETRY_WAIT", 0.0)
    return AppPaths.from_env()


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as fake:
        fake.add_repo(REPO, {FILE: gguf(), "gpt2.Q4_K_M.gguf": gguf(seed=1)})
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
    assert path.read_bytes() == gguf()
    assert store.model_path(paths, "gpt2") == path
    assert partials(paths) == []
    assert {total for _, total in seen} == {len(gguf())}
    assert seen[-1] == (len(gguf()), len(gguf()))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= 4  # chunked, not one call at the end


def test_pull_another_quant_case_insensitively(paths: AppPaths, hub: FakeHub) -> None:
    path = pull(paths, hub, quant="q4_k_m")
    assert path.name == "gpt2.Q4_K_M.gguf"
    assert path.read_bytes() == gguf(seed=1)


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

    assert path.read_bytes() == gguf()
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
    assert 2_000_000 < kept < len(gguf())
    assert store.installed(paths) == []
    with pytest.raises(UserError, match="not installed"):
        store.resolve_model(paths, "gpt2")

    hub.requests.clear()
    seen: list[tuple[int, int]] = []
    path = pull(paths, hub, progress=lambda done, total: seen.append((done, total)))

    assert path.read_bytes() == gguf()
    [get] = hub.gets("/cdn/")
    assert get.headers["range"] == f"bytes={kept}-"
    assert seen[0] == (kept, len(gguf()))  # progress starts where the last run stopped
    assert partials(paths) == []


def test_resume_survives_a_server_that_ignores_range(paths: AppPaths, hub: FakeHub) -> None:
    def cancel_midway(done: int, total: int) -> None:
        if done > 1_000_000:
            raise Cancelled

    with pytest.raises(Cancelled):
        pull(paths, hub, progress=cancel_midway)
    hub.honor_range = False

    assert pull(paths, hub).read_bytes() == gguf()


def test_a_partial_of_another_file_version_is_dropped(paths: AppPaths, hub: FakeHub) -> None:
    folder = paths.models_dir / "gpt2"
    folder.mkdir(parents=True)
    stale = folder / f"{FILE}.0000000000000000.part"
    stale.write_bytes(b"old bytes")

    assert pull(paths, hub).read_bytes() == gguf()
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
    partial.write_bytes(b"\0" * len(gguf()))  # right size, wrong bytes

    with pytest.raises(DownloadError, match="checksum"):
        pull(paths, hub)
    assert store.installed(paths) == []
    assert partials(paths) == []
    assert pull(paths, hub).read_bytes() == gguf()  # and the next try starts afresh


@pytest.mark.parametrize("status", [401, 403])
def test_refused_access_mentions_hf_token(paths: AppPaths, hub: FakeHub, status: int) -> None:
    hub.add_repo(REPO, {FILE: gguf()}, status=status)
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

    monkeypatch.setattr(hub_transfer.shutil, "disk_usage", lambda path: Usage())
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
    files = {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
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


def test_fetch_checkpoint_takes_pytorch_weights_when_there_are_no_safetensors(
    paths: AppPaths, hub: FakeHub
) -> None:
    shards = {"pytorch_model.bin.index.json": b"{}", "pytorch_model-00001-of-00002.bin": b"P1",
              "pytorch_model-00002-of-00002.bin": b"P2"}
    hub.add_repo("someone/old-gpt2", {"config.json": b"{}", "vocab.json": b"{}",
                                      "merges.txt": b"", "tf_model.h5": b"T", **shards})
    folder = download.fetch_checkpoint(paths, "someone/old-gpt2", endpoint=hub.url)
    files = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert files == {"config.json", "vocab.json", "merges.txt", *shards}


def test_fetch_checkpoint_without_weights_is_an_error(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo("someone/tf-gpt2", {"config.json": b"{}", "tf_model.h5": b"T"})
    with pytest.raises(UserError, match="someone/tf-gpt2 has no checkpoint weights"):
        download.fetch_checkpoint(paths, "someone/tf-gpt2", endpoint=hub.url)
    assert hub.gets("/resolve/") == []


def test_a_checkpoint_without_tokenizer_files_gets_gpt2s_own(paths: AppPaths, hub: FakeHub
                                                              ) -> None:
    from gpt2_adventure.resources import gpt2_tokenizer_dir

    hub.add_repo("someone/finetune", {"config.json": b"{}", "model.safetensors": b"S" * 100})
    said: list[str] = []
    folder = download.fetch_checkpoint(paths, "someone/finetune", endpoint=hub.url,
                                       report=said.append)
    vocab = gpt2_tokenizer_dir() / "vocab.json"
    assert (folder / "vocab.json").read_bytes() == vocab.read_bytes()
    assert (folder / "merges.txt").is_file()
    assert "someone/finetune has no tokenizer files: using GPT-2's own vocabulary" in said


def test_fetch_checkpoint_resumes_and_keeps_finished_files(paths: AppPaths, hub: FakeHub
                                                           ) -> None:
    weights = gguf(seed=2)  # a blob of this repo only: the CDN cuts it by repo and name
    hub.add_repo("openai-community/gpt2", {**CHECKPOINT, "model.safetensors": weights})
    hub.cut_first_get("openai-community/gpt2", "model.safetensors", after_bytes=1_500_000)
    seen: list[tuple[int, int]] = []
    folder = download.fetch_checkpoint(paths, "openai-community/gpt2", endpoint=hub.url,
                                       progress=lambda done, total: seen.append((done, total)))
    assert (folder / "model.safetensors").read_bytes() == weights
    total = len(weights) + sum(len(CHECKPOINT[n]) for n in
                              ("config.json", "vocab.json", "merges.txt", "tokenizer.json"))
    assert seen[-1] == (total, total) and {t for _, t in seen} == {total}
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    ranges = [r.headers.get("range") for r in hub.gets("/cdn/")]
    assert ranges[0] is None and ranges[1] is not None  # the cut one was resumed

    hub.requests.clear()
    assert download.fetch_checkpoint(paths, "openai-community/gpt2", endpoint=hub.url) == folder
    assert hub.gets("/cdn/") == [] and hub.gets("/resolve/") == []  # listing only


@pytest.mark.parametrize(("status", "words"), [(401, "HF_TOKEN"), (404, "not found")])
def test_fetch_checkpoint_maps_http_errors(
    paths: AppPaths, hub: FakeHub, status: int, words: str
) -> None:
    hub.add_repo("openai-community/gpt2-xl", CHECKPOINT, status=status)
    with pytest.raises(DownloadError) as caught:
        download.fetch_checkpoint(paths, "openai-community/gpt2-xl", endpoint=hub.url)
    error = caught.value
    assert words in f"{error.message} {error.hint}"


# -- any repository: models pull OWNER/REPO[:QUANT] ---------------------------------------

OWNER_REPO = "someone/gpt2-finetune-GGUF"


def pull_repo(paths: AppPaths, hub: FakeHub, spec: str = OWNER_REPO, **kwargs: Any) -> Path:
    kwargs.setdefault("token", "hf_test")
    return download.pull(paths, spec, endpoint=hub.url, **kwargs)


def test_parse_spec_checks_names_ids_and_quants_offline() -> None:
    parse = download.parse_spec
    assert parse("GPT2-Medium") == ("gpt2-medium", None)
    assert parse("gpt2:q4_k_m") == ("gpt2", "Q4_K_M")
    assert parse("gpt2", "q6_k") == parse("gpt2:Q6_K", "Q6_K") == ("gpt2", "Q6_K")
    spec = parse(" owner/repo:fp16 ")
    assert spec == ("owner/repo", "F16") and spec.is_repo and spec.file is None
    assert str(spec) == "owner/repo:F16"
    spec = parse("owner/repo:Model.Q8_0.gguf")
    assert spec.file == "Model.Q8_0.gguf" and str(spec) == "owner/repo:Model.Q8_0.gguf"
    assert parse("owner/repo", "IQ4_XS").quant == "IQ4_XS"
    assert parse("aidungeon2", convert=True) == ("aidungeon2", None)
    assert parse("owner/repo:f32", convert=True) == ("owner/repo", "F32")

    for bad, words in [
        ("", "no model named"), ("gpt5", "unknown model 'gpt5'"),
        ("gpt2:Q5_K_S", "gpt2 has no Q5_K_S file"), ("owner/repo:", "nothing after ':'"),
        ("owner/repo:best", "not a quantization: 'best'"), ("../etc", "repository id"),
        ("/abs/repo", "repository id"), ("a\\b", "repository id"), ("a/b/c", "repository id"),
        ("a//b", "repository id"), ("a/", "repository id"), ("a--b/c", "repository id"),
        ("a/" + "x" * 97, "repository id"),
        ("owner/repo:x.gguf", "cannot be converted to 'x.gguf'"),
        ("owner/repo:Q5_K_M", "cannot be converted to 'Q5_K_M'"),
    ]:
        with pytest.raises(UserError, match=words):
            parse(bad, convert=bad.endswith((".gguf", "Q5_K_M")))
    with pytest.raises(UserError, match="two quantizations asked for: Q8_0"):
        parse("owner/repo:Q8_0", "F16")


def test_pull_a_repository_takes_its_q8_0_and_names_it_owner_repo(
    paths: AppPaths, hub: FakeHub
) -> None:
    hub.add_repo(OWNER_REPO, {"finetune.Q4_K_M.gguf": gguf(seed=1), "finetune.Q8_0.gguf": gguf(),
                              "finetune.f16.gguf": gguf(seed=2), "README.md": b"# hi"})
    said: list[str] = []
    seen: list[tuple[int, int]] = []

    path = pull_repo(paths, hub, report=said.append,
                     progress=lambda done, total: seen.append((done, total)))

    assert path == paths.models_dir / "someone--gpt2-finetune-GGUF" / "finetune.Q8_0.gguf"
    assert path.read_bytes() == gguf()
    assert said == [f"listing {OWNER_REPO}",
                    f"downloading {OWNER_REPO}/finetune.Q8_0.gguf (5 MB)"]
    assert seen[-1] == (len(gguf()), len(gguf()))
    [model] = store.installed(paths)
    assert (model.name, model.quant, model.path, model.repo) == (OWNER_REPO, "Q8_0", path,
                                                                 OWNER_REPO)
    assert store.resolve_model(paths, OWNER_REPO) == path
    assert store.resolve_model(paths, f"{OWNER_REPO}:q8_0") == path
    # Downloads use the listed commit, so the file is the one the listing described.
    [listed] = hub.gets("/api/models/")
    assert f"/resolve/{hub.repos[OWNER_REPO].commit}/" in hub.requests[1].path
    assert listed.headers["authorization"] == "Bearer hf_test"
    assert partials(paths) == []

    hub.requests.clear()  # installed: no network needed, even offline
    assert pull_repo(paths, hub) == path
    assert pull_repo(paths, hub, spec=f"{OWNER_REPO}:Q8_0") == path
    assert hub.requests == []


def test_pull_a_repository_with_a_quant(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo(OWNER_REPO, {"finetune.Q4_K_M.gguf": gguf(seed=1), "finetune.Q8_0.gguf": gguf()})
    q4 = pull_repo(paths, hub, spec=f"{OWNER_REPO}:q4_k_m")
    assert q4.name == "finetune.Q4_K_M.gguf" and q4.read_bytes() == gguf(seed=1)
    q8 = pull_repo(paths, hub, quant="Q8_0")
    assert q8.name == "finetune.Q8_0.gguf"
    assert [m.quant for m in store.installed(paths)] == ["Q8_0", "Q4_K_M"]
    assert store.resolve_model(paths, f"{OWNER_REPO}:Q4_K_M") == q4
    assert store.resolve_model(paths, f"{OWNER_REPO}:finetune.Q4_K_M.gguf") == q4


def test_without_q8_0_the_next_quant_of_the_order_is_taken(paths: AppPaths, hub: FakeHub
                                                             ) -> None:
    hub.add_repo(OWNER_REPO, {"m-f16.gguf": gguf(seed=2), "m-q4_k_m.gguf": gguf(seed=1),
                              "m-Q5_K_S.gguf": gguf(seed=3)})
    said: list[str] = []
    assert pull_repo(paths, hub, report=said.append).name == "m-q4_k_m.gguf"
    assert said[-1].startswith(f"downloading {OWNER_REPO}/m-q4_k_m.gguf (")


def test_an_asked_quant_the_repository_lacks_lists_what_it_has(paths: AppPaths, hub: FakeHub
                                                                 ) -> None:
    hub.add_repo(OWNER_REPO, {"m.Q8_0.gguf": gguf(), "m.f16.gguf": gguf(seed=2)})
    with pytest.raises(UserError) as caught:
        pull_repo(paths, hub, quant="Q6_K")
    assert caught.value.message == (f"{OWNER_REPO} has no Q6_K GGUF; it has Q8_0 (m.Q8_0.gguf "
                                    "(5 MB)), F16 (m.f16.gguf (5 MB))")
    assert hub.gets("/resolve/") == [] and store.installed(paths) == []


def test_a_gguf_that_is_not_gpt2_is_refused_and_deleted(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo("lukas/x-GGUF", {"x.Q8_0.gguf": gguf(architecture="llama")})
    with pytest.raises(UserError) as caught:
        pull_repo(paths, hub, spec="lukas/x-GGUF")
    assert caught.value.message == "lukas/x-GGUF/x.Q8_0.gguf is a 'llama' model, not GPT-2"
    assert caught.value.hint is not None and "deleted" in caught.value.hint
    assert partials(paths) == [] and store.installed(paths) == []
    assert not any(paths.models_dir.rglob("*.gguf*"))


def test_a_gguf_without_a_tokenizer_is_refused(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo(OWNER_REPO, {"m.Q8_0.gguf": gguf(tokenizer=False)})
    with pytest.raises(UserError) as caught:
        pull_repo(paths, hub)
    assert caught.value.message == (
        f"{OWNER_REPO}/m.Q8_0.gguf is not a GPT-2 model the game can load: GGUF file has no "
        "tokenizer (tokenizer.ggml.tokens missing)")
    assert partials(paths) == [] and store.installed(paths) == []


def test_a_catalog_file_is_checked_too(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo(REPO, {FILE: gguf(architecture="llama")})
    with pytest.raises(UserError, match=f"{REPO}/{FILE} is a 'llama' model, not GPT-2"):
        pull(paths, hub)
    assert partials(paths) == [] and store.installed(paths) == []


def test_several_ggufs_of_one_quant_ask_for_a_file_name(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo(OWNER_REPO, {"story.Q8_0.gguf": gguf(), "chat.Q8_0.gguf": gguf(seed=1)})
    with pytest.raises(UserError) as caught:
        pull_repo(paths, hub)
    assert caught.value.message == (f"{OWNER_REPO} has 2 Q8_0 GGUFs: chat.Q8_0.gguf (5 MB), "
                                    "story.Q8_0.gguf (5 MB)")
    assert caught.value.hint is not None and f"{OWNER_REPO}:FILE.gguf" in caught.value.hint
    assert hub.gets("/resolve/") == []
    path = pull_repo(paths, hub, spec=f"{OWNER_REPO}:story.Q8_0.gguf")
    assert path.name == "story.Q8_0.gguf" and path.read_bytes() == gguf()


@pytest.mark.parametrize(("files", "words"), [
    ({"README.md": b"#", "notes.txt": b"n"}, "has no GGUF file; it holds README.md, notes.txt"),
    ({"config.json": b"{}", "model.safetensors": b"S"},
     "has no GGUF, only a checkpoint (model.safetensors); pull it with --convert"),
    ({"m-Q8_0-00001-of-00002.gguf": b"a", "m-Q8_0-00002-of-00002.gguf": b"b"},
     "is split into 2 files"),
])
def test_repositories_without_a_usable_gguf(paths: AppPaths, hub: FakeHub,
                                            files: dict[str, bytes], words: str) -> None:
    hub.add_repo(OWNER_REPO, files)
    with pytest.raises(UserError) as caught:
        pull_repo(paths, hub)
    assert words in caught.value.message and OWNER_REPO in caught.value.message
    assert hub.gets("/resolve/") == [] and not paths.models_dir.exists()


def test_listed_names_that_would_leave_the_folder_are_ignored(paths: AppPaths, hub: FakeHub
                                                               ) -> None:
    hub.add_repo(OWNER_REPO, {"../../escape.Q8_0.gguf": gguf(), "a\\b.Q8_0.gguf": gguf(),
                              ".hidden.Q8_0.gguf": gguf(), "sub/../x.Q8_0.gguf": gguf()})
    with pytest.raises(UserError, match=f"{OWNER_REPO} has no files"):
        pull_repo(paths, hub)
    assert hub.gets("/resolve/") == [] and not paths.models_dir.exists()


def test_a_dropped_repository_download_is_resumed(paths: AppPaths, hub: FakeHub) -> None:
    data = gguf(seed=4)
    hub.add_repo(OWNER_REPO, {"m.Q8_0.gguf": data})
    hub.cut_first_get(OWNER_REPO, "m.Q8_0.gguf", after_bytes=1_500_000)
    assert pull_repo(paths, hub).read_bytes() == data
    ranges = [r.headers.get("range") for r in hub.gets("/cdn/")]
    assert len(ranges) == 2 and ranges[0] is None and ranges[1].startswith("bytes=")


def test_a_cancelled_repository_pull_resumes(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo(OWNER_REPO, {"m.Q8_0.gguf": gguf()})

    def cancel(done: int, total: int) -> None:
        if done > 2_000_000:
            raise Cancelled

    with pytest.raises(Cancelled):
        pull_repo(paths, hub, progress=cancel)
    [partial] = partials(paths)
    assert partial.parent.name == "someone--gpt2-finetune-GGUF"
    with pytest.raises(UserError, match=f"model {OWNER_REPO} is not installed"):
        store.resolve_model(paths, OWNER_REPO)
    said: list[str] = []
    assert pull_repo(paths, hub, report=said.append).read_bytes() == gguf()
    assert said[-1].startswith(f"resuming {OWNER_REPO}/m.Q8_0.gguf (")


def test_repository_errors(paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
                           ) -> None:
    with pytest.raises(DownloadError) as caught:
        pull_repo(paths, hub, spec="nobody/nothing")
    assert caught.value.message == "nobody/nothing was not found on the Hub (HTTP 404)"
    assert caught.value.hint == f"check the name: its page would be {hub.url}/nobody/nothing"

    hub.add_repo("someone/private", {}, status=401)
    with pytest.raises(DownloadError, match=r"private \(HTTP 401\)") as caught:
        pull_repo(paths, hub, spec="someone/private")
    assert caught.value.hint is not None and "HF_TOKEN" in caught.value.hint

    with pytest.raises(DownloadError, match="no network: cannot reach"):
        download.pull(paths, OWNER_REPO, endpoint=closed_port_url())

    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="no network: HF_HUB_OFFLINE"):
        pull_repo(paths, hub)
    assert hub.requests == [] and not paths.models_dir.exists()


def test_offline_a_repository_gives_what_is_installed(
    paths: AppPaths, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_repo(OWNER_REPO, {"m.Q6_K.gguf": gguf()})
    path = pull_repo(paths, hub)
    hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert pull_repo(paths, hub) == path
    with pytest.raises(DownloadError, match="no network"):
        pull_repo(paths, hub, quant="Q8_0")
    assert hub.requests == []


def test_convert_a_checkpoint_only_repository(
    paths: AppPaths, hub: FakeHub, tiny_checkpoint: Path
) -> None:
    files = {p.name: p.read_bytes() for p in tiny_checkpoint.iterdir() if p.is_file()}
    hub.add_repo("someone/tiny-gpt2", {**files, "README.md": b"# tiny"})
    with pytest.raises(UserError, match="only a checkpoint"):
        pull_repo(paths, hub, spec="someone/tiny-gpt2")
    said: list[str] = []

    path = pull_repo(paths, hub, spec="someone/tiny-gpt2", convert=True, report=said.append)

    assert path == paths.models_dir / "someone--tiny-gpt2" / "tiny-gpt2.Q8_0.gguf"
    from gpt2_adventure.engine.models.gguf_info import read_model_info

    assert read_model_info(path).quantization == "Q8_0"
    assert [m.name for m in store.installed(paths)] == ["someone/tiny-gpt2"]
    assert not download.checkpoint_dir(paths, "someone/tiny-gpt2").exists()  # deleted
    assert said[0] == "listing someone/tiny-gpt2"
    assert said[1].startswith("downloading the checkpoint someone/tiny-gpt2 (")
    assert "converting someone/tiny-gpt2 to Q8_0" in said
    assert said[-1].startswith("deleted the downloaded checkpoint (")
    assert not any(paths.models_dir.rglob("*.part"))


# -- the AI Dungeon 2 model: a catalog entry made here from its repository's F16 GGUF --------

AID_REPO = "lukasstraub2/gpt2-aidungeon2-gguf"


def test_aidungeon2_is_listed_downloaded_as_f16_and_requantized_to_q8_0(
    paths: AppPaths, hub: FakeHub, tiny_gguf_f16: Path
) -> None:
    from gpt2_adventure.engine.models.gguf_info import read_model_info

    hub.add_repo(AID_REPO, {"ggml-model-f16.gguf": tiny_gguf_f16.read_bytes(),
                            "README.md": b"# AI Dungeon 2"})
    said: list[str] = []

    path = download.pull(paths, "aidungeon2", endpoint=hub.url, report=said.append)

    assert path == paths.models_dir / "aidungeon2" / "aidungeon2.Q8_0.gguf"
    assert read_model_info(path).quantization == "Q8_0"
    assert said[0] == f"listing {AID_REPO}"
    assert said[1].startswith(f"downloading {AID_REPO}/ggml-model-f16.gguf (")
    assert said[2] == "requantizing F16 \u2192 Q8_0"
    assert [p.name for p in path.parent.iterdir() if not p.name.startswith(".")] == [path.name]
    [model] = store.installed(paths)
    assert (model.name, model.quant) == ("aidungeon2", "Q8_0")
    assert store.resolve_model(paths, "aidungeon2") == path

    hub.requests.clear()  # installed: nothing to fetch
    assert download.pull(paths, "aidungeon2", endpoint=hub.url) == path
    assert hub.requests == []


def test_aidungeon2_f16_is_kept_when_asked_and_then_needs_no_download(
    paths: AppPaths, hub: FakeHub, tiny_gguf_f16: Path
) -> None:
    hub.add_repo(AID_REPO, {"gpt2-aidungeon2.fp16.gguf": tiny_gguf_f16.read_bytes()})
    f16 = download.pull(paths, "aidungeon2", "F16", endpoint=hub.url)
    assert f16 == paths.models_dir / "aidungeon2" / "aidungeon2.F16.gguf"
    assert f16.read_bytes() == tiny_gguf_f16.read_bytes()

    hub.requests.clear()
    q8 = download.pull(paths, "aidungeon2", endpoint=hub.url)  # made from the kept F16
    assert hub.requests == []
    assert [m.quant for m in store.installed(paths)] == ["Q8_0", "F16"]
    assert store.resolve_model(paths, "aidungeon2") == q8


def test_aidungeon2_refuses_a_repository_without_its_f16(paths: AppPaths, hub: FakeHub) -> None:
    hub.add_repo(AID_REPO, {"gpt2-aidungeon2.Q8_0.gguf": gguf()})
    with pytest.raises(UserError, match=f"{AID_REPO} has no F16 GGUF; it has Q8_0"):
        download.pull(paths, "aidungeon2", endpoint=hub.url)
