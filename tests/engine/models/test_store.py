"""Installed models: listing, picking, resolving --model, removing."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpt2_adventure.engine.models import store
from gpt2_adventure.errors import ModelFileError, UserError
from gpt2_adventure.paths import AppPaths


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    for var, sub in (("CONFIG", "config"), ("DATA", "data"), ("CACHE", "cache")):
        monkeypatch.setenv(f"GPT2_ADVENTURE_{var}_DIR", str(tmp_path / sub))
    return AppPaths.from_env()


def put(paths: AppPaths, relative: str, data: bytes = b"GGUF") -> Path:
    path = paths.models_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_nothing_installed_when_the_models_dir_does_not_exist(paths: AppPaths) -> None:
    assert store.installed(paths) == []
    assert store.model_path(paths, "gpt2") is None
    assert not paths.models_dir.exists()  # looking creates nothing


def test_installed_lists_complete_gguf_files_only(paths: AppPaths) -> None:
    q8 = put(paths, "gpt2/gpt2.Q8_0.gguf", b"x" * 10)
    f16 = put(paths, "gpt2/gpt2.f16.gguf")
    custom = put(paths, "my-finetune/my-finetune-Q4_K_M.gguf")
    put(paths, "gpt2/gpt2.Q6_K.gguf.0123abcd.part")  # our partial download
    put(paths, "gpt2/.cache/huggingface/download/x.incomplete")
    put(paths, "gpt2/.hidden.gguf")
    put(paths, "gpt2/README.md")
    (paths.models_dir / "gpt2" / "folder.gguf").mkdir()

    found = store.installed(paths)

    assert [(m.name, m.quant, m.path) for m in found] == [
        ("gpt2", "Q8_0", q8),
        ("gpt2", "F16", f16),
        ("my-finetune", "Q4_K_M", custom),
    ]
    assert found[0].size == 10


def test_model_path_prefers_q8_0_and_honours_a_quant(paths: AppPaths) -> None:
    q4 = put(paths, "gpt2/gpt2.Q4_K_M.gguf")
    assert store.model_path(paths, "gpt2") == q4
    q8 = put(paths, "gpt2/gpt2.Q8_0.gguf")
    assert store.model_path(paths, "gpt2") == q8
    assert store.model_path(paths, "GPT2", "q4_k_m") == q4
    assert store.model_path(paths, "gpt2", "F16") is None


def test_resolve_an_installed_name(paths: AppPaths) -> None:
    q8 = put(paths, "gpt2-medium/gpt2-medium.Q8_0.gguf")
    q4 = put(paths, "gpt2-medium/gpt2-medium.Q4_K_M.gguf")
    assert store.resolve_model(paths, "gpt2-medium") == q8
    assert store.resolve_model(paths, "gpt2-medium:q4_k_m") == q4


def test_resolve_a_name_that_is_not_installed_says_how_to_pull_it(paths: AppPaths) -> None:
    with pytest.raises(UserError) as caught:
        store.resolve_model(paths, "gpt2-large")
    error = caught.value
    assert not isinstance(error, ModelFileError)
    assert "not installed" in error.message
    assert error.hint is not None
    assert "`gpt2-adventure models pull gpt2-large`" in error.hint
    assert "--model PATH" in error.hint


def test_a_partial_download_is_not_installed(paths: AppPaths) -> None:
    put(paths, "gpt2/gpt2.Q8_0.gguf.abcdef0123456789.part")
    assert store.installed(paths) == []
    with pytest.raises(UserError, match="not installed"):
        store.resolve_model(paths, "gpt2")


def test_resolve_none_is_the_default_model_whatever_the_environment(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GPT2_ADVENTURE_MODEL reaches the engine through ModelSettings.name (config reads it).
    default = put(paths, "gpt2/gpt2.Q8_0.gguf")
    put(paths, "distilgpt2/distilgpt2.Q8_0.gguf")
    monkeypatch.setenv("GPT2_ADVENTURE_MODEL", "distilgpt2")
    assert store.resolve_model(paths, None) == default
    assert store.resolve_model(paths, "  ") == default


def test_errors_name_where_the_spec_was_set(paths: AppPaths) -> None:
    with pytest.raises(UserError) as caught:
        store.resolve_model(paths, "gpt2-xl", where="GPT2_ADVENTURE_MODEL")
    assert caught.value.where == "GPT2_ADVENTURE_MODEL"
    assert "not installed" in caught.value.message
    with pytest.raises(UserError) as caught:
        store.resolve_model(paths, "gpt-j", where="config.toml")
    assert caught.value.where == "config.toml"


def test_resolve_a_path(paths: AppPaths, tmp_path: Path) -> None:
    model = tmp_path / "my model.gguf"
    model.write_bytes(b"GGUF")
    assert store.resolve_model(paths, str(model)) == model


def test_resolve_a_missing_path_names_it(paths: AppPaths, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(ModelFileError) as caught:
        store.resolve_model(paths, str(missing))
    assert str(missing) in str(caught.value)


def test_resolve_a_directory_is_a_clear_error(paths: AppPaths, tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "inside.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelFileError, match="folder") as caught:
        store.resolve_model(paths, str(folder))
    assert caught.value.where == str(folder)
    assert caught.value.hint is not None and "inside.gguf" in caught.value.hint


def test_resolve_an_unknown_name_lists_the_catalog(paths: AppPaths) -> None:
    with pytest.raises(UserError, match="gpt2-medium") as caught:
        store.resolve_model(paths, "gpt-j")
    assert "gpt-j" in caught.value.message


def test_an_installed_model_outside_the_catalog_resolves(paths: AppPaths) -> None:
    custom = put(paths, "my-finetune/my-finetune.F16.gguf")
    assert store.resolve_model(paths, "my-finetune") == custom


def test_remove_deletes_that_model_only(paths: AppPaths) -> None:
    q8 = put(paths, "gpt2/gpt2.Q8_0.gguf")
    partial = put(paths, "gpt2/gpt2.Q6_K.gguf.0123.part")
    meta = put(paths, "gpt2/.cache/huggingface/download/x.metadata")
    other = put(paths, "gpt2-medium/gpt2-medium.Q8_0.gguf")

    removed = store.remove(paths, "GPT2")

    assert set(removed) == {q8, partial, meta}
    assert not (paths.models_dir / "gpt2").exists()
    assert other.exists()
    assert store.remove(paths, "gpt2") == []  # already gone


def test_remove_never_follows_symlinks_out(paths: AppPaths, tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    keep_file = outside / "keep.gguf"
    keep_file.write_bytes(b"GGUF")
    folder = paths.models_dir / "gpt2"
    folder.mkdir(parents=True)
    (folder / "link.gguf").symlink_to(keep_file)
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)

    removed = store.remove(paths, "gpt2")

    assert {p.name for p in removed} == {"link.gguf", "linked-dir"}
    assert keep_file.read_bytes() == b"GGUF"
    assert not folder.exists()


def test_remove_a_symlinked_model_folder_removes_the_link_only(
    paths: AppPaths, tmp_path: Path
) -> None:
    outside = tmp_path / "shared-models"
    outside.mkdir()
    (outside / "gpt2.Q8_0.gguf").write_bytes(b"GGUF")
    paths.models_dir.mkdir(parents=True)
    (paths.models_dir / "gpt2").symlink_to(outside, target_is_directory=True)

    assert store.remove(paths, "gpt2") == [paths.models_dir / "gpt2"]
    assert (outside / "gpt2.Q8_0.gguf").exists()


@pytest.mark.parametrize("name", ["..", ".", "", "../data", "gpt2/../..", "a\\b"])
def test_remove_refuses_names_that_are_not_one_folder(
    paths: AppPaths, tmp_path: Path, name: str
) -> None:
    sibling = put(paths, "gpt2/gpt2.Q8_0.gguf")
    with pytest.raises(UserError):
        store.remove(paths, name)
    assert sibling.exists()
    assert paths.cache_dir.exists()


# -- models pulled from a Hub repository: named owner/repo, in models_dir/owner--repo ------


def test_repository_models_are_named_by_their_repo_id(paths: AppPaths) -> None:
    q8 = put(paths, "someone--gpt2-story-GGUF/story.Q8_0.gguf")
    q4 = put(paths, "someone--gpt2-story-GGUF/story-q4_k_m.gguf")
    odd = put(paths, "my--model--x/x.gguf")  # not a repo id ("--" inside): a plain folder

    found = store.installed(paths)

    assert [(m.name, m.quant, m.path, m.repo) for m in found] == [
        ("my--model--x", None, odd, None),
        ("someone/gpt2-story-GGUF", "Q8_0", q8, "someone/gpt2-story-GGUF"),
        ("someone/gpt2-story-GGUF", "Q4_K_M", q4, "someone/gpt2-story-GGUF"),
    ]
    assert store.model_dir(paths, "someone/gpt2-story-GGUF") == q8.parent
    assert store.model_path(paths, "someone/gpt2-story-GGUF", "Q4_K_M") == q4


def test_resolve_a_repository_model(paths: AppPaths) -> None:
    q8 = put(paths, "someone--gpt2-story-GGUF/story.Q8_0.gguf")
    q4 = put(paths, "someone--gpt2-story-GGUF/story.Q4_K_M.gguf")
    assert store.resolve_model(paths, "someone/gpt2-story-GGUF") == q8
    assert store.resolve_model(paths, " someone/gpt2-story-GGUF:q4_k_m ") == q4
    assert store.resolve_model(paths, "someone/gpt2-story-GGUF:story.Q4_K_M.gguf") == q4
    assert store.resolve_model(paths, "SomeOne/GPT2-Story-gguf") == q8  # ids ignore case
    with pytest.raises(UserError, match="not a quantization: 'best'") as caught:
        store.resolve_model(paths, "someone/gpt2-story-GGUF:best", where="config.toml")
    assert caught.value.where == "config.toml"


def test_an_uninstalled_repository_says_how_to_pull_it(paths: AppPaths) -> None:
    put(paths, "someone--gpt2-story-GGUF/story.Q8_0.gguf")
    for spec, label in [("other/repo", "other/repo"), ("other/repo:Q6_K", "other/repo:Q6_K"),
                        ("someone/gpt2-story-GGUF:F16", "someone/gpt2-story-GGUF:F16")]:
        with pytest.raises(UserError) as caught:
            store.resolve_model(paths, spec, where="GPT2_ADVENTURE_MODEL")
        error = caught.value
        assert not isinstance(error, ModelFileError)
        assert error.message == f"model {label} is not installed"
        assert error.where == "GPT2_ADVENTURE_MODEL"
        assert error.hint is not None
        assert f"pull it with `gpt2-adventure models pull {label}`" in error.hint


def test_an_existing_file_wins_over_a_repository_id(
    paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(paths, "someone--model/model.Q8_0.gguf")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "someone").mkdir()
    local = tmp_path / "someone" / "model"
    local.write_bytes(b"GGUF")
    assert store.resolve_model(paths, "someone/model") == Path("someone/model")
    # A path ending in .gguf is never a repository, installed or not.
    with pytest.raises(ModelFileError, match="not found"):
        store.resolve_model(paths, "models/x.gguf")


def test_remove_a_repository_model(paths: AppPaths) -> None:
    q8 = put(paths, "someone--gpt2-story-GGUF/story.Q8_0.gguf")
    other = put(paths, "someone--gpt2-other-GGUF/other.Q8_0.gguf")
    assert store.remove(paths, "someone/GPT2-STORY-gguf") == [q8]
    assert not q8.parent.exists() and other.exists()
    assert store.remove(paths, "someone/gpt2-story-GGUF") == []


@pytest.mark.parametrize("name", ["../x", "a/..", "a/../..", "a/b/c", "/abs", "a\\b", "a--b/c",
                                  "a/", "/", "..\\..", "a/.b"])
def test_repository_ids_never_leave_the_models_dir(paths: AppPaths, name: str) -> None:
    sibling = put(paths, "gpt2/gpt2.Q8_0.gguf")
    with pytest.raises(UserError):
        store.model_dir(paths, name)
    with pytest.raises(UserError):
        store.remove(paths, name)
    assert sibling.exists() and paths.cache_dir.exists()
