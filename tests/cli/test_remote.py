"""The real command, playing on a real llama-cpp-python server given with --backend-url."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_app import assert_clean_error, run
from tests.support.servers import LlamaServer


@pytest.fixture(scope="module")
def server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    with LlamaServer(tiny_gguf, tmp_path_factory.mktemp("server") / "server.log") as live:
        yield live


def test_play_plain_on_a_server(server: LlamaServer) -> None:
    result = run("play", "--plain", "--story", "knight", "--name", "Anna", "--backend-url",
                 server.url, stdin="look around\nopen the door\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "> You open the door." in result.stdout


def test_generate_on_a_server_with_an_explicit_kind(server: LlamaServer) -> None:
    result = run("generate", "Once upon a time", "--max-tokens", "8", "--backend-url",
                 server.url, "--backend-kind", "openai")
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_server_that_is_not_there_is_one_clean_line() -> None:
    from tests.support.servers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert_clean_error(run("generate", "Hi", "--backend-url", url, "--backend-kind", "openai"),
                       url)
    assert_clean_error(run("generate", "Hi", "--backend-kind", "nonsense"), "--backend-kind")
