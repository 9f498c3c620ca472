"""Repositories as `models pull OWNER/REPO` sees them: ids, folders, quants in file names, which
GGUF is picked, which files make a checkpoint. No network."""

from __future__ import annotations

import pytest

from gpt2_adventure.engine.models import hub_files
from gpt2_adventure.engine.models.hub_files import QUANT_ORDER, RepoFile, pick_gguf
from gpt2_adventure.errors import UserError

REPO = "someone/gpt2-GGUF"


def listing(*names: str, size: int = 1_000_000) -> list[RepoFile]:
    return [RepoFile(name, size) for name in names]


@pytest.mark.parametrize(("name", "quant"), [
    ("gpt2.Q8_0.gguf", "Q8_0"),
    ("model-q8_0.gguf", "Q8_0"),
    ("ggml-model-f16.gguf", "F16"),
    ("x.f16.gguf", "F16"),
    ("X-F16.gguf", "F16"),
    ("gpt2-xl-FP16.gguf", "F16"),
    ("gpt2.fp32.gguf", "F32"),
    ("gpt2.BF16.gguf", "BF16"),
    ("gpt2.q4_k_m.gguf", "Q4_K_M"),
    ("gpt2_Q5_K_S.gguf", "Q5_K_S"),
    ("gpt2.IQ4_XS.gguf", "IQ4_XS"),
    ("gpt2-iq4_nl.gguf", "IQ4_NL"),
    ("gpt2.Q4_0.gguf", "Q4_0"),
    ("gpt2.Q4_K_M-imat.gguf", "Q4_K_M"),
    ("sub/folder/gpt2.Q6_K.gguf", "Q6_K"),
    ("gpt2-Q8_0-00001-of-00002.gguf", "Q8_0"),
    ("gpt2.gguf", None),
    ("qwen2-0.5b.gguf", None),
    ("gpt2-medium.gguf", None),
])
def test_the_quant_a_file_name_states(name: str, quant: str | None) -> None:
    assert hub_files.quant_of(name) == quant


@pytest.mark.parametrize("repo_id", [
    "openai-community/gpt2", "lukasstraub2/gpt2-aidungeon2-gguf", "a/b", "A_1/b.c-d",
    "x/" + "r" * 96,
])
def test_valid_repo_ids_map_to_one_folder_and_back(repo_id: str) -> None:
    assert hub_files.is_repo_id(repo_id)
    folder = hub_files.repo_folder(repo_id)
    assert "/" not in folder and folder.count("--") == 1
    assert hub_files.repo_of_folder(folder) == repo_id


@pytest.mark.parametrize("text", [
    "gpt2", "", "/", "a/", "/b", "a//b", "a/b/c", "../b", "a/..", "a/../b", "..\\b", "a\\b",
    "/abs/path", "-a/b", "a/b-", "a./b", "a/.b", "a--b/c", "a/b--c", "a/b..c", "a/b.git",
    "a/" + "r" * 97, "a b/c", "a/b:c", "ä/b", "a/b\0", "~/b", "a/b\n",
])
def test_anything_else_is_not_a_repo_id(text: str) -> None:
    assert not hub_files.is_repo_id(text)
    with pytest.raises(UserError) as caught:
        hub_files.check_repo_id(text)
    assert "not a Hugging Face repository id" in caught.value.message
    assert caught.value.hint is not None and "OWNER/REPO" in caught.value.hint


def test_folders_that_are_not_repositories() -> None:
    for folder in ("gpt2", "aidungeon2", "my-finetune", "a--", "--b", "a--b--c", "a--.b"):
        assert hub_files.repo_of_folder(folder) is None


def test_split_repo_spec() -> None:
    assert hub_files.split_repo_spec("a/b") == ("a/b", None)
    assert hub_files.split_repo_spec(" a/b:q4_k_m ") == ("a/b", "Q4_K_M")
    assert hub_files.split_repo_spec("a/b:My.Q8_0.GGUF") == ("a/b", "My.Q8_0.GGUF")
    for not_a_repo in ("gpt2", "gpt2:Q8_0", "models/x.gguf", "./a/b", "a/b/c", "~/a"):
        assert hub_files.split_repo_spec(not_a_repo) is None
    with pytest.raises(UserError, match="not a quantization: 'best'"):
        hub_files.split_repo_spec("a/b:best")
    with pytest.raises(UserError, match="nothing after ':'"):
        hub_files.split_repo_spec("a/b:")


def test_unsafe_listed_paths() -> None:
    for bad in ("../x.gguf", "a/../../x.gguf", "/x.gguf", "a//x.gguf", "a\\x.gguf", "./x.gguf",
                ".hidden.gguf", "a/.x.gguf", "x\n.gguf", "c:x.gguf", ""):
        assert not hub_files.safe_path(bad), bad
    for good in ("x.gguf", "Q8_0/x.Q8_0.gguf", "a b.gguf"):
        assert hub_files.safe_path(good)


def test_the_default_is_the_first_quant_of_the_order() -> None:
    files = listing("gpt2.F16.gguf", "gpt2.Q4_K_M.gguf", "gpt2.Q8_0.gguf", "README.md")
    assert pick_gguf(REPO, files).path == "gpt2.Q8_0.gguf"
    assert QUANT_ORDER[:6] == ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "F16", "BF16")
    for present in range(len(QUANT_ORDER)):
        names = [f"m.{q}.gguf" for q in QUANT_ORDER[present:]] + ["m.Q5_K_S.gguf", "m.Q2_K.gguf"]
        assert pick_gguf(REPO, listing(*reversed(names))).path == f"m.{QUANT_ORDER[present]}.gguf"


def test_an_asked_quant_any_spelling_or_none_of_it() -> None:
    files = listing("gpt2.Q8_0.gguf", "gpt2-q5_k_s.gguf", "gpt2.IQ4_XS.gguf", "gpt2.f16.gguf")
    assert pick_gguf(REPO, files, "q5_k_s").path == "gpt2-q5_k_s.gguf"
    assert pick_gguf(REPO, files, "IQ4_XS").path == "gpt2.IQ4_XS.gguf"
    assert pick_gguf(REPO, files, "fp16").path == "gpt2.f16.gguf"
    with pytest.raises(UserError) as caught:
        pick_gguf(REPO, files, "Q6_K")
    message = caught.value.message
    assert message.startswith(f"{REPO} has no Q6_K GGUF; it has Q8_0 (gpt2.Q8_0.gguf (1 MB))")
    assert "IQ4_XS" in message and "Q5_K_S" in message and "F16" in message


def test_a_single_gguf_of_another_kind_is_the_default() -> None:
    assert pick_gguf(REPO, listing("gpt2.gguf", "config.json")).path == "gpt2.gguf"
    assert pick_gguf(REPO, listing("gpt2.Q4_0.gguf")).path == "gpt2.Q4_0.gguf"
    with pytest.raises(UserError, match="several GGUFs, none of them Q8_0") as caught:
        pick_gguf(REPO, listing("a.gguf", "b.Q4_0.gguf"))
    assert caught.value.hint is not None and f"{REPO}:FILE.gguf" in caught.value.hint


def test_several_ggufs_of_one_quant_ask_which() -> None:
    files = listing("gpt2.Q8_0.gguf", "gpt2-chat.Q8_0.gguf", "old/gpt2.Q8_0.gguf")
    with pytest.raises(UserError) as caught:
        pick_gguf(REPO, files)
    error = caught.value
    assert error.message.startswith(f"{REPO} has 3 Q8_0 GGUFs: gpt2-chat.Q8_0.gguf (1 MB), ")
    assert error.hint is not None and f"models pull {REPO}:FILE.gguf" in error.hint
    assert pick_gguf(REPO, files, "gpt2-chat.Q8_0.gguf").path == "gpt2-chat.Q8_0.gguf"
    assert pick_gguf(REPO, files, "old/gpt2.Q8_0.gguf").path == "old/gpt2.Q8_0.gguf"
    assert pick_gguf(REPO, files, "GPT2-CHAT.q8_0.gguf").path == "gpt2-chat.Q8_0.gguf"
    with pytest.raises(UserError, match="2 files called gpt2.Q8_0.gguf") as caught:
        pick_gguf(REPO, files, "gpt2.Q8_0.gguf")
    with pytest.raises(UserError, match="has no file other.gguf; its GGUFs: "):
        pick_gguf(REPO, files, "other.gguf")


def test_split_ggufs_are_refused() -> None:
    files = listing("gpt2-Q8_0-00001-of-00002.gguf", "gpt2-Q8_0-00002-of-00002.gguf")
    with pytest.raises(UserError) as caught:
        pick_gguf(REPO, files)
    assert caught.value.message == (
        f"{REPO}/gpt2-Q8_0-00001-of-00002.gguf is split into 2 files; gpt2-adventure loads "
        "single-file GGUFs only (a GPT-2 never needs more than one)")
    with pytest.raises(UserError, match="split"):
        pick_gguf(REPO, files, "gpt2-Q8_0-00001-of-00002.gguf")
    # A whole file of the same quant is taken instead of the parts.
    assert pick_gguf(REPO, [*files, *listing("gpt2.Q8_0.gguf")]).path == "gpt2.Q8_0.gguf"


def test_no_gguf_says_what_is_there() -> None:
    with pytest.raises(UserError) as caught:
        pick_gguf(REPO, listing("config.json", "model.safetensors", "vocab.json"))
    assert caught.value.message == (f"{REPO} has no GGUF, only a checkpoint (model.safetensors); "
                                    "pull it with --convert")
    assert caught.value.hint == f"gpt2-adventure models pull {REPO} --convert"
    with pytest.raises(UserError, match=r"only a checkpoint \(pytorch_model.bin\)"):
        pick_gguf(REPO, listing("config.json", "pytorch_model.bin"))
    with pytest.raises(UserError, match="has no GGUF file; it holds README.md, notes.txt"):
        pick_gguf(REPO, listing("README.md", "notes.txt"))
    with pytest.raises(UserError, match=f"{REPO} has no files"):
        pick_gguf(REPO, [])
    with pytest.raises(UserError, match="no GGUF file"):  # a vision projector is no model
        pick_gguf(REPO, listing("mmproj-model-f16.gguf"))


def test_checkpoint_files() -> None:
    def names(*files: str) -> list[str]:
        return [f.path for f in hub_files.checkpoint_files(REPO, listing(*files))]

    full = ("config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5",
            "vocab.json", "merges.txt", "tokenizer.json", "README.md", "onnx/config.json",
            "onnx/model.onnx", "generation_config.json")
    assert names(*full) == ["config.json", "model.safetensors", "tokenizer.json", "vocab.json",
                            "merges.txt"]
    assert names("config.json", "pytorch_model.bin", "vocab.json") == [
        "config.json", "pytorch_model.bin", "vocab.json"]
    assert names("config.json", "model.safetensors.index.json", "model-00002-of-00002.safetensors",
                 "model-00001-of-00002.safetensors", "pytorch_model.bin") == [
        "config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors"]
    assert names("config.json", "pytorch_model.bin.index.json",
                 "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin") == [
        "config.json", "pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin",
        "pytorch_model-00002-of-00002.bin"]
    with pytest.raises(UserError, match="no config.json"):
        names("model.safetensors")
    with pytest.raises(UserError, match="no checkpoint weights"):
        names("config.json", "tf_model.h5", "flax_model.msgpack")
    assert hub_files.has_tokenizer(["tokenizer.json"])
    assert hub_files.has_tokenizer(["vocab.json", "merges.txt"])
    assert not hub_files.has_tokenizer(["vocab.json"])
