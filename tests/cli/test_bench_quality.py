"""`bench --quality` as a player runs it (a subprocess, the tiny model): every figure per
preset, as a table or JSON, and one clear line for a bad flag."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.cli.test_app import assert_clean_error, run

KEYS = {"preset", "games", "turns", "distinct_1", "distinct_2", "distinct_3", "seq_rep_4",
        "sentence_loop_rate", "self_bleu_4", "action_uptake", "mean_reply_words",
        "rerolls_per_turn"}
# One thread: two on a 2-core machine that is busy with other work write many times slower.
ONE_THREAD = ("--threads", "1", "--model")
SHARES = KEYS - {"preset", "games", "turns", "mean_reply_words", "rerolls_per_turn"}


def test_quality_json_has_every_figure_per_preset(tiny_gguf: Path) -> None:
    result = run("bench", "--quality", *ONE_THREAD, str(tiny_gguf), "--presets", "default,dry",
                 "--stories", "knight,socrates", "--turns", "1", "--json", timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["stories"], report["turns"], report["candidates"]) == (
        ["knight", "socrates"], 1, 3)
    assert [row["preset"] for row in report["presets"]] == ["default", "dry"]
    for row in report["presets"]:
        assert set(row) == KEYS
        assert (row["games"], row["turns"]) == (2, 2)
        for key in SHARES:  # None only where a reply gave nothing to measure
            assert row[key] is None or 0.0 <= row[key] <= 1.0, key
        assert row["mean_reply_words"] >= 0 and math.isfinite(row["mean_reply_words"])
        assert 0 <= row["rerolls_per_turn"] <= 2  # the story engine re-rolls at most twice
        assert row["distinct_1"] is not None and row["sentence_loop_rate"] is not None
    assert "default: knight (1/2), 1 turn" in result.stderr  # progress on stderr


def test_quality_table(tiny_gguf: Path) -> None:
    result = run("bench", "--quality", *ONE_THREAD, str(tiny_gguf), "--presets", "greedy",
                 "--stories", "knight", "--turns", "1", timeout=600)
    assert result.returncode == 0, result.stderr
    for text in ("greedy", "distinct-1", "seq-rep-4", "sentence loops", "self-BLEU-4",
                 "action uptake", "words per reply", "re-rolls per turn", "mean nothing"):
        assert text in result.stdout, text


def test_bad_quality_flags_are_one_clear_line(tiny_gguf: Path) -> None:
    model = ("--model", str(tiny_gguf))
    assert_clean_error(run("bench", "--quality", *model, "--presets", "default,wild"),
                       "--presets", "wild", "aidungeon2")
    assert_clean_error(run("bench", "--quality", *model, "--presets", " , "), "--presets")
    assert_clean_error(run("bench", "--quality", *model, "--stories", "nowhere"), "nowhere")
    assert_clean_error(run("bench", "--quality", "--tune", *model), "--quality", "--tune")
    assert_clean_error(run("bench", "--quality", *model, "--turns", "0"), "--turns")
