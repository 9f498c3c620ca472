"""`generate --ban WORD`: a word no bias can ban (more than one GPT-2 token) is refused by
name with its token count, instead of being accepted and doing nothing."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_app import assert_clean_error, run


def test_a_ban_of_several_tokens_is_refused(tiny_gguf: Path) -> None:
    result = run("generate", "The cave is dark.", "--model", str(tiny_gguf), "--max-tokens",
                 "2", "--ban", "dragon", "--ban", "Gandalfington")
    assert_clean_error(result, "--ban 'Gandalfington' is", "GPT-2 tokens", "one token")
    assert "'dragon'" not in result.stderr and result.stdout == ""


def test_a_ban_of_one_token_is_taken(tiny_gguf: Path) -> None:
    result = run("generate", "The cave is dark.", "--model", str(tiny_gguf), "--max-tokens",
                 "2", "--ban", "dragon", "--ban", "the")
    assert result.returncode == 0, result.stderr
