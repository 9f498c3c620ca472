"""`generate --dry-multiplier/--xtc-probability/--top-n-sigma`: the flags reach the sampler
chain, and a bad value is one clear line."""

from __future__ import annotations

import zlib
from pathlib import Path

from tests.cli.test_app import assert_clean_error, run

GREEDY = ("--threads", "1", "--temperature", "0", "--repeat-penalty", "1", "--max-tokens", "40",
          "--ignore-eos")


def test_dry_breaks_the_greedy_loop_of_a_random_model(tiny_gguf: Path) -> None:
    plain = run("generate", "The cave is dark.", "--model", str(tiny_gguf), *GREEDY)
    dry = run("generate", "The cave is dark.", "--model", str(tiny_gguf), *GREEDY,
              "--dry-multiplier", "1")
    assert plain.returncode == 0 and dry.returncode == 0, plain.stderr + dry.stderr
    # The random weights write one token over and over; DRY makes each repeat costlier, so
    # the text holds more that is new: it compresses less.
    assert len(zlib.compress(dry.stdout.encode())) > 2 * len(zlib.compress(
        plain.stdout.encode()))
    others = run("generate", "The cave is dark.", "--model", str(tiny_gguf), "--threads", "1",
                 "--max-tokens", "4", "--xtc-probability", "0.5", "--top-n-sigma", "1.5")
    assert others.returncode == 0, others.stderr


def test_bad_values_are_refused_by_name(tiny_gguf: Path) -> None:
    assert_clean_error(run("generate", "Hi", "--model", str(tiny_gguf), "--dry-multiplier",
                           "-1"), "dry_multiplier")
    assert_clean_error(run("generate", "Hi", "--model", str(tiny_gguf), "--xtc-probability",
                           "2"), "xtc_probability")
