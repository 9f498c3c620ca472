import os
from pathlib import Path

import pytest

from gpt2_adventure.engine.models.gguf_info import read_model_info
from gpt2_adventure.errors import ModelFileError
from tests.support.gguf_files import write_gguf


@pytest.fixture(scope="module")
def small_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gguf(tmp_path_factory.mktemp("gguf") / "small.gguf")


def refused(path: Path, words: str) -> ModelFileError:
    with pytest.raises(ModelFileError) as caught:
        read_model_info(path)
    assert words in str(caught.value)
    assert caught.value.where == str(path)
    return caught.value


def test_describes_a_good_file(small_gguf: Path) -> None:
    info = read_model_info(small_gguf)
    assert (info.architecture, info.vocab_size, info.training_context) == ("gpt2", 50257, 1024)
    assert (info.n_embd, info.n_layer, info.n_head) == (32, 1, 2)
    assert info.quantization == "F32" and info.tokenizer_pre == "gpt-2"
    # wte + wpe + 2 norms + one block (4 matrices, 4 biases, 2 norms); the tied head copy
    # is not counted twice.
    e = 32
    expected = 50257 * e + 1024 * e + 2 * e + (3 * e * e + 3 * e) + (e * e + e) \
        + (4 * e * e + 4 * e) + (4 * e * e + e) + 4 * e
    assert info.parameters == expected
    assert info.file_size == small_gguf.stat().st_size


def test_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nope.gguf", "not found")


def test_directory(tmp_path: Path) -> None:
    refused(tmp_path, "directory")


def test_zero_bytes(tmp_path: Path) -> None:
    path = tmp_path / "empty.gguf"
    path.touch()
    refused(path, "empty")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.gguf"
    path.write_bytes(os.urandom(4096))
    refused(path, "not a GGUF file")


def test_safetensors_file_gets_a_convert_hint(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{}}")
    assert "models convert" in (refused(path, "not a GGUF file").hint or "")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable(small_gguf: Path, tmp_path: Path) -> None:
    path = tmp_path / "locked.gguf"
    path.write_bytes(small_gguf.read_bytes())
    path.chmod(0)
    refused(path, "not readable")


def test_truncated_at_many_offsets(small_gguf: Path, tmp_path: Path) -> None:
    data = small_gguf.read_bytes()
    offsets = sorted({5, 8, 12, 24, 100, 1000, 10_000, 300_000, 2_000_000,
                      len(data) // 2, len(data) - 1000, len(data) - 1})
    for n in offsets:
        path = tmp_path / f"cut{n}.gguf"
        path.write_bytes(data[:n])
        with pytest.raises(ModelFileError, match="truncated") as caught:
            read_model_info(path)
        assert caught.value.where == str(path)


def test_other_architecture(tmp_path: Path) -> None:
    refused(write_gguf(tmp_path / "llama.gguf", architecture="llama"),
            "unsupported architecture 'llama'")


def test_vocab_only(tmp_path: Path) -> None:
    refused(write_gguf(tmp_path / "vocab.gguf", weights=False), "only a vocabulary")


def test_no_tokenizer(tmp_path: Path) -> None:
    refused(write_gguf(tmp_path / "notok.gguf", tokenizer=False), "no tokenizer")


def test_context_claim_beyond_position_table_is_refused(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "liar.gguf", context_length=4096, n_positions=256)
    refused(path, "claims a 4096-token context but its position table has 256 rows")


def test_short_position_table_gives_a_short_context(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "short.gguf", context_length=256, n_positions=256)
    assert read_model_info(path).training_context == 256
