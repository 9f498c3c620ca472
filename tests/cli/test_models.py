"""`models pull/list/path/remove/convert` end to end: a fake Hub on 127.0.0.1, real llama.cpp."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpt2_adventure.units import size_text
from tests.cli.test_app import assert_clean_error, run
from tests.support.fake_hub import FakeHub


@pytest.fixture
def online_hub(tiny_gguf_q8: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub() as hub:
        hub.add_repo("mradermacher/gpt2-GGUF", {"gpt2.Q8_0.gguf": tiny_gguf_q8.read_bytes()})
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield hub


def test_pull_then_play_the_default_then_remove(online_hub: FakeHub) -> None:
    pulled = run("models", "pull", "gpt2")
    assert pulled.returncode == 0, pulled.stderr
    path = Path(run("models", "path", "gpt2").stdout.strip())
    assert path.is_file() and path.is_relative_to(os.environ["GPT2_ADVENTURE_CACHE_DIR"])

    listing = json.loads(run("models", "list", "--json").stdout)
    gpt2 = next(row for row in listing if row["name"] == "gpt2")
    assert gpt2["default"] and gpt2["installed"][0]["quant"] == "Q8_0"

    generated = run("generate", "Hello", "--max-tokens", "5", "--ignore-eos")
    assert generated.returncode == 0, generated.stderr

    removed = run("models", "remove", "gpt2", "--yes")
    assert removed.returncode == 0 and not path.exists()
    assert_clean_error(run("models", "remove", "gpt2"), "not installed")


def test_pull_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert_clean_error(run("models", "pull", "gpt2"), "no network", "--model PATH")


def test_unknown_model_name(online_hub: FakeHub) -> None:
    assert_clean_error(run("models", "pull", "gpt5"), "unknown model 'gpt5'")


def test_convert_a_checkpoint_folder_and_inspect_it(tiny_checkpoint: Path, tmp_path: Path
                                                    ) -> None:
    out = tmp_path / "mine.gguf"
    converted = run("models", "convert", str(tiny_checkpoint), "--out", str(out), "--quant",
                    "f16")
    assert converted.returncode == 0, converted.stderr
    info = json.loads(run("models", "info", str(out), "--json").stdout)
    assert info["quantization"] == "F16" and info["n_layer"] == 2
    assert_clean_error(run("models", "convert", str(tiny_checkpoint), "--out", str(out)),
                       "exists", "--force")


def test_requantize_a_gguf_then_play_it(tiny_checkpoint: Path, tmp_path: Path) -> None:
    f16 = tmp_path / "mine.f16.gguf"
    assert run("models", "convert", str(tiny_checkpoint), "--out", str(f16), "--quant",
               "f16").returncode == 0
    q8 = tmp_path / "mine.Q8_0.gguf"
    done = run("models", "convert", str(f16), "--out", str(q8), "--quant", "Q8_0")
    assert done.returncode == 0, done.stderr
    assert "llama_model_quantize" not in done.stderr and "llama_model_loader" not in done.stderr
    assert json.loads(run("models", "info", str(q8), "--json").stdout)["quantization"] == "Q8_0"
    played = run("generate", "Hello", "--model", str(q8), "--max-tokens", "3", "--ignore-eos")
    assert played.returncode == 0, played.stderr
    assert_clean_error(run("models", "convert", str(f16), "--out", str(tmp_path / "x.gguf"),
                           "--quant", "f32"), "unknown quantization 'f32'", "q8_0")


def test_convert_a_missing_folder(tmp_path: Path) -> None:
    assert_clean_error(run("models", "convert", str(tmp_path / "nothing"), "--out",
                           str(tmp_path / "x.gguf")), "not found")


def test_convert_a_broken_checkpoint_names_the_file(tiny_checkpoint: Path, tmp_path: Path
                                                    ) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in tiny_checkpoint.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    (broken / "config.json").write_text("{not json")
    assert_clean_error(run("models", "convert", str(broken), "--out", str(tmp_path / "x.gguf")),
                       "config.json")
    assert not (tmp_path / "x.gguf").exists()


def test_pull_a_repository_then_list_play_and_remove_it(online_hub: FakeHub,
                                                        tiny_gguf_q8: Path) -> None:
    repo = "someone/tiny-gpt2-GGUF"
    online_hub.add_repo(repo, {"tiny.Q8_0.gguf": tiny_gguf_q8.read_bytes(), "README.md": b"#"})
    size = size_text(tiny_gguf_q8.stat().st_size)

    pulled = run("models", "pull", f"{repo}:q8_0")

    assert pulled.returncode == 0, pulled.stderr
    assert f"listing {repo}" in pulled.stdout
    assert f"downloading {repo}/tiny.Q8_0.gguf ({size})" in pulled.stdout
    path = Path(run("models", "path", repo).stdout.strip())
    assert path.name == "tiny.Q8_0.gguf" and path.parent.name == "someone--tiny-gpt2-GGUF"
    assert pulled.stdout.strip().endswith(f"installed {repo}: {path}")
    listing = json.loads(run("models", "list", "--json").stdout)
    [row] = [row for row in listing if row["name"] == repo]
    assert row["kind"] == "repo"
    assert row["installed"] == [{"quant": "Q8_0", "path": str(path), "size": path.stat().st_size}]
    lines = run("models", "list").stdout.splitlines()  # piped: one model a line, name first
    assert f"{repo}\t-\tQ8_0 ({size})\t{path}" in lines

    played = run("generate", "Hello", "--model", f"{repo}:Q8_0", "--max-tokens", "3",
                 "--ignore-eos")
    assert played.returncode == 0, played.stderr

    assert run("models", "remove", repo, "--yes").returncode == 0 and not path.exists()
    assert_clean_error(run("models", "remove", repo), "not installed")
    assert_clean_error(run("generate", "Hello", "--model", repo),
                       f"model {repo} is not installed", f"models pull {repo}`")


def test_pull_the_ai_dungeon_2_model_then_play_it(online_hub: FakeHub, tiny_gguf_f16: Path
                                                  ) -> None:
    online_hub.add_repo("lukasstraub2/gpt2-aidungeon2-gguf",
                        {"aid2-f16.gguf": tiny_gguf_f16.read_bytes()})
    pulled = run("models", "pull", "aidungeon2")
    assert pulled.returncode == 0, pulled.stderr
    assert "requantizing F16 \u2192 Q8_0" in pulled.stdout
    listing = json.loads(run("models", "list", "--json").stdout)
    [row] = [row for row in listing if row["name"] == "aidungeon2"]
    assert row["preset"] == "aidungeon2" and row["installed"][0]["quant"] == "Q8_0"
    assert row["source"] == {"repo": "lukasstraub2/gpt2-aidungeon2-gguf", "quant": "F16",
                             "size": 3_200_000_000}
    played = run("generate", "You are in a cave.", "--model", "aidungeon2", "--max-tokens", "3",
                 "--ignore-eos")
    assert played.returncode == 0, played.stderr


def test_ai_dungeon_2_classic_plays_its_own_and_the_bundled_stories_with_its_preset(
        online_hub: FakeHub, tiny_gguf_f16: Path, tmp_path: Path) -> None:
    online_hub.add_repo("lukasstraub2/gpt2-aidungeon2-gguf",
                        {"aid2-f16.gguf": tiny_gguf_f16.read_bytes()})
    assert run("models", "pull", "aidungeon2").returncode == 0
    story_data = tmp_path / "story_data.yaml"
    story_data.write_text('settings:\n  fantasy:\n    description: "in Larion. "\n'
                          '    characters:\n      knight: {prompts: ["You ride."], '
                          'item1: sword, item2: shield}\n', encoding="utf-8")
    imported = run("import", str(story_data))
    assert imported.returncode == 0 and "aid2-fantasy-knight" in imported.stdout, imported
    for story in ("aid2-fantasy-knight", "knight"):  # knight's seed suggests temperature 0.65
        played = run("play", "--model", "aidungeon2", "--story", story, "--plain", "--name",
                     "Anna", "--seed", "1", stdin="/settings\nlook around\n/quit\n")
        assert played.returncode == 0, played.stderr
        assert "temperature = 0.4" in played.stdout and "top_k = 40" in played.stdout
        assert "look around" in played.stdout


def test_pull_a_checkpoint_repository_with_convert(online_hub: FakeHub, tiny_checkpoint: Path
                                                   ) -> None:
    repo = "someone/tiny-gpt2"
    online_hub.add_repo(repo, {p.name: p.read_bytes() for p in tiny_checkpoint.iterdir()})
    assert_clean_error(run("models", "pull", repo),
                       "has no GGUF, only a checkpoint (model.safetensors); pull it with --convert")
    converted = run("models", "pull", repo, "--convert", "--quant", "f16")
    assert converted.returncode == 0, converted.stderr
    assert "deleted the downloaded checkpoint" in converted.stdout
    path = Path(run("models", "path", f"{repo}:F16").stdout.strip())
    assert path.name == "tiny-gpt2.F16.gguf"


@pytest.mark.parametrize(("args", "words"), [
    (("../evil",), "not a Hugging Face repository id: '../evil'"),
    (("a/b/c",), "not a Hugging Face repository id"),
    (("owner/repo:best",), "not a quantization: 'best'"),
    (("owner/repo:Q8_0", "--quant", "F16"), "two quantizations asked for"),
    (("gpt2", "--convert", "--quant", "IQ4_XS"), "cannot be converted to 'IQ4_XS'"),
])
def test_pull_refuses_bad_specs_before_any_request(online_hub: FakeHub, args: tuple[str, ...],
                                                   words: str) -> None:
    assert_clean_error(run("models", "pull", *args), words)
    assert online_hub.requests == []
