"""Model files that are broken, hostile or odd: a clear error, never a C-level abort; and no
session, whatever its settings, evaluates past the model's context.

Every bad file goes through the real ``generate`` command in a subprocess: exit code 2, one
``error:`` line (and at most one ``hint:``), never a signal (a negative return code is
llama.cpp/ggml aborting the process).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt2_adventure.engine.models.gguf_info import read_model_info
from gpt2_adventure.engine.sampling import PRESETS
from gpt2_adventure.errors import ModelFileError
from tests.support.gguf_files import write_gguf
from tests.support.reliability_figures import add, record
from tests.support.reliability_proc import ROOT, assert_clean_error, child_env, run


def generate(model: Path | str, *extra: str) -> subprocess.CompletedProcess:
    result = run("generate", "Hello there, traveller.", "--model", str(model),
                 "--max-tokens", "4", "--threads", "1", *extra)
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr[-800:]}"
    add("model_files.generate_runs")
    return result


def refused(model: Path | str, *words: str) -> None:
    result = generate(model)
    assert_clean_error(result, *words)
    assert result.stdout == ""


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("odd-models")
    files = {
        "llama": write_gguf(folder / "llama.gguf", architecture="llama"),
        "vocab-only": write_gguf(folder / "vocab.gguf", weights=False),
        "no-tokenizer": write_gguf(folder / "notok.gguf", tokenizer=False),
        "claims-2048": write_gguf(folder / "claims.gguf", context_length=2048, n_positions=1024),
        "table-of-8": write_gguf(folder / "eight.gguf", context_length=8, n_positions=8),
    }
    random_bytes = folder / "random.gguf"
    random_bytes.write_bytes(random.Random(1).randbytes(65536))
    files["random bytes"] = random_bytes
    magic = folder / "magic-then-noise.gguf"
    magic.write_bytes(b"GGUF" + struct.pack("<I", 3) + random.Random(2).randbytes(65536))
    files["GGUF magic, then noise"] = magic
    empty = folder / "empty.gguf"
    empty.touch()
    files["zero bytes"] = empty
    (folder / "a-folder.gguf").mkdir()
    files["a directory"] = folder / "a-folder.gguf"
    return files


EXPECTED = {
    "llama": "unsupported architecture 'llama'",
    "vocab-only": "only a vocabulary",
    "no-tokenizer": "no tokenizer",
    "claims-2048": "claims a 2048-token context but its position table has 1024 rows",
    "table-of-8": "position table has only 8 rows",
    "random bytes": "not a GGUF file",
    "GGUF magic, then noise": "GGUF file",
    "zero bytes": "empty",
    "a directory": "folder",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_an_odd_model_file_is_a_clean_error(kind: str, odd_files: dict[str, Path]) -> None:
    refused(odd_files[kind], EXPECTED[kind])


def test_a_model_without_read_permission(tmp_path: Path, tiny_gguf: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    locked = tmp_path / "locked.gguf"
    shutil.copyfile(tiny_gguf, locked)
    locked.chmod(0)
    try:
        refused(locked, "permission denied")
    finally:
        locked.chmod(0o600)


def test_header_lies_that_only_llama_cpp_sees_are_clean_errors(tmp_path: Path) -> None:
    """Numbers in the header that disagree with the tensors: llama.cpp refuses to load them
    (an exception, turned into our error), it must not abort."""
    raw = write_gguf(tmp_path / "base.gguf").read_bytes()

    def patched(key: bytes, old: int, new: int) -> Path:
        head = struct.pack("<Q", len(key)) + key + struct.pack("<I", 4)
        assert raw.count(head + struct.pack("<I", old)) == 1
        path = tmp_path / f"{key.decode()}-{new}.gguf"
        path.write_bytes(raw.replace(head + struct.pack("<I", old), head + struct.pack("<I", new)))
        return path

    for key, old, new in ((b"gpt2.embedding_length", 32, 48), (b"gpt2.block_count", 1, 2),
                          (b"gpt2.attention.head_count", 2, 3),
                          (b"gpt2.attention.head_count", 2, 0),
                          (b"gpt2.feed_forward_length", 128, 0)):
        refused(patched(key, old, new), "llama.cpp could not load the model")


def _cut_points(size: int, header_end: int, n: int, rng: random.Random) -> list[int]:
    fixed = {0, 1, 3, 4, 5, 7, 8, 12, 16, 23, 24, 25, 31, 32, 40, 64, 100, 1000,
             header_end - 1, header_end, header_end + 1, size - 1, size // 2}
    while len(fixed) < n:
        fixed.add(rng.randrange(size) if rng.random() < 0.5 else rng.randrange(header_end + 64))
    return sorted(p for p in fixed if 0 <= p < size)


def _header_end(path: Path) -> int:
    from gpt2_adventure.engine.models.gguf_header import read_header

    return min(t.offset for t in read_header(path).tensors)


@pytest.mark.parametrize("points", [pytest.param((60, 6), id="fast"),
                                    pytest.param((600, 40), id="slow",
                                                 marks=pytest.mark.slow)])
def test_a_model_cut_short_anywhere(points: tuple[int, int], tiny_gguf: Path,
                                    tmp_path: Path) -> None:
    """Cut at many offsets: read in-process at every one (quick), and through ``generate``
    at a sample of them (each a process)."""
    many, through_cli = points
    size = tiny_gguf.stat().st_size
    cuts = _cut_points(size, _header_end(tiny_gguf), many, random.Random(many))
    cut = tmp_path / "cut.gguf"
    shutil.copyfile(tiny_gguf, cut)
    sampled = set(random.Random(3).sample(cuts, through_cli)) | {0, 8, size - 1}
    with cut.open("r+b") as fh:
        for offset in reversed(cuts):  # shrink the one copy step by step
            fh.truncate(offset)
            fh.flush()
            with pytest.raises(ModelFileError) as caught:
                read_model_info(cut)
            assert "\n" not in caught.value.message
            if offset in sampled:
                result = generate(cut)
                assert_clean_error(result)
                assert any(w in result.stderr for w in ("truncated", "empty", "cut short",
                                                        "not a GGUF")), result.stderr
    add("model_files.cut_offsets", len(cuts))


def test_a_flag_asking_for_more_context_than_the_model_has_is_clamped(tiny_gguf: Path) -> None:
    """n_ctx 4096 in the settings: clamped to the model's 1024 positions; a prompt longer
    than that keeps its end and the reply still fits."""
    env = child_env({"GPT2_ADVENTURE_N_CTX": "4096"})
    long_prompt = "the dragon sleeps " * 600  # ~1,800 tokens
    result = subprocess.run(
        [sys.executable, "-m", "gpt2_adventure", "generate", "-", "--model", str(tiny_gguf),
         "--max-tokens", "40", "--ignore-eos", "--threads", "1"],
        input=long_prompt, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-800:]
    assert "keeping the last" in result.stderr and "1024-token context" in result.stderr


# -- never past the context: random sessions and settings, in a subprocess ----------------

CASES = st.fixed_dictionaries({
    "seed": st.integers(0, 2**31 - 1),
    "n_ctx": st.sampled_from([16, 17, 24, 48, 64, 100, 128, 200, 256, 257]),
    "max_tokens": st.integers(1, 120) | st.sampled_from([1, 2, 500, 2000]),
    "memory_words": st.integers(0, 40) | st.sampled_from([300, 1500]),
    "note_words": st.integers(0, 10) | st.just(200),
    "world": st.integers(0, 4),
    "mode": st.sampled_from(["adventure", "story", "chat"]),
    "preset": st.sampled_from(sorted(PRESETS)),
    "ignore_eos": st.booleans(),
    "actions": st.lists(st.integers(0, 12) | st.sampled_from([200, 900]), min_size=1,
                        max_size=4),
})
BIG_CASES = CASES.map(lambda c: {**c, "n_ctx": c["seed"] % 2 and 1024 or 4096,
                                 "actions": c["actions"][:2]})


def probe(model: Path, cases: list[dict]) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.reliability_context_probe", str(model)],
        input=json.dumps(cases), capture_output=True, text=True, env=child_env(), cwd=ROOT,
        timeout=900)
    assert result.returncode >= 0, \
        f"the process was killed by signal {-result.returncode} (an abort in llama.cpp?) " \
        f"on {cases}: {result.stderr[-1500:]}"
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def check_results(results: list[dict]) -> None:
    for found in results:
        assert not found["problems"], found
        assert found["worst"] <= found["n_ctx"] <= 1024, found
        # The builder always leaves room: no prompt the backend has to refuse.
        assert not [e for e in found["errors"] if not e.startswith("edge")], found
        assert "context" in found["finish"][:3], found  # the edge cases ran into the end
        add("context.sessions")
        add("context.generations", found["generations"])
        record("context.most_positions_evaluated",
               max(found["worst"], _figure("context.most_positions_evaluated")))


def _figure(key: str) -> int:
    from tests.support.reliability_figures import FIGURES

    return int(FIGURES.get(key, 0))


@pytest.mark.parametrize("n", [pytest.param(2, id="fast"),
                               pytest.param(40, id="slow", marks=pytest.mark.slow)])
def test_no_session_evaluates_past_the_context(n: int, tiny_gguf: Path) -> None:
    @settings(max_examples=n, deadline=None, database=None, derandomize=n < 10,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases=st.lists(CASES, min_size=2, max_size=3))
    def check(cases: list[dict]) -> None:
        check_results(probe(tiny_gguf, cases))

    check()


@pytest.mark.slow
def test_no_session_evaluates_past_the_full_1024_context(tiny_gguf: Path) -> None:
    @settings(max_examples=6, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases=st.lists(BIG_CASES, min_size=1, max_size=2))
    def check(cases: list[dict]) -> None:
        check_results(probe(tiny_gguf, cases))

    check()
