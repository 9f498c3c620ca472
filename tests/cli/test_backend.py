"""`gpt2-adventure backend check` against fake servers on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from gpt2_adventure.cli.backend import backend_app
from gpt2_adventure.engine.models.local_tokenizer import LocalTokenizer
from gpt2_adventure.engine.remote.http import RemoteError
from gpt2_adventure.errors import ConfigError, UserError
from gpt2_adventure.paths import AppPaths
from tests.support.cli_runner import run_cli
from tests.support.servers import FakeServer, free_port


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTokenizer]:
    t = LocalTokenizer(tmp_path_factory.mktemp("fake-tok"))
    yield t
    t.close()


@pytest.fixture
def kobold(tok: LocalTokenizer) -> Iterator[FakeServer]:
    with FakeServer(tok, "kobold", n_ctx=2048, model="koboldcpp/mistral") as s:
        yield s


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(backend_app, ["check", *args])


def test_check_json_reports_the_server(kobold: FakeServer) -> None:
    result = run("--url", kobold.url, "--kind", "kobold", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["kind"] == "kobold" and report["url"] == kobold.url
    assert report["server"] == "KoboldCpp 1.99-fake" and report["model"] == "mistral"
    assert (report["n_ctx"], report["tokenizer"]) == (2048, "server (KoboldCpp)")
    assert report["samplers_lost"] == []
    for key in ("model_info_ms", "completion_ms", "first_token_ms", "connect_ms"):
        assert isinstance(report[key], float) and report[key] >= 0
    assert len(kobold.bodies("/api/extra/generate/stream")) == 3  # timed three times
    assert kobold.bodies("/api/extra/generate/stream")[0]["max_length"] == 1


def test_check_detects_the_kind_and_prints_lines(tok: LocalTokenizer) -> None:
    with FakeServer(tok, "openai", n_ctx=None, server_tokenizer=False) as openai:
        result = run("--url", openai.url + "/v1")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["server"].startswith(f"{openai.url} (openai:")
    assert lines["model"] == "tiny-gpt2"
    assert lines["context"] == "1024 tokens (default)"
    assert lines["tokenizer"] == "local GPT-2 tokenizer"
    assert lines["samplers"] == "DRY, XTC and top-n-sigma are sent when on"
    assert "1-token completion" in lines["latency"] and "ms" in lines["latency"]


def test_check_uses_the_config_file(kobold: FakeServer) -> None:
    paths = AppPaths.from_env()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(f'[backend]\nkind = "kobold"\nurl = "{kobold.url}"\n')
    result = run("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == "mistral"


def test_check_takes_the_environment_over_the_file(kobold: FakeServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    paths = AppPaths.from_env()
    paths.config_dir.mkdir(parents=True)
    down = f"http://127.0.0.1:{free_port()}"
    paths.config_file.write_text(f'[backend]\nkind = "openai"\nurl = "{down}"\n')
    monkeypatch.setenv("GPT2_ADVENTURE_BACKEND_URL", kobold.url)
    monkeypatch.setenv("GPT2_ADVENTURE_BACKEND_KIND", "kobold")
    result = run("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["url"] == kobold.url
    monkeypatch.setenv("GPT2_ADVENTURE_BACKEND_KIND", "ollama")
    result = run("--json")
    assert isinstance(result.exception, ConfigError)
    assert "GPT2_ADVENTURE_BACKEND_KIND must be one of" in str(result.exception)


def test_check_errors_are_user_errors(kobold: FakeServer) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    result = run("--url", down, "--kind", "openai")
    assert isinstance(result.exception, RemoteError)
    assert "could not connect" in str(result.exception) and down in str(result.exception)
    result = run("--url", kobold.url, "--kind", "openai")  # KoboldCpp here has no /v1/models
    assert isinstance(result.exception, RemoteError) and "kind" in result.exception.hint
    result = run()
    assert isinstance(result.exception, UserError) and "--url" in result.exception.hint
    result = run("--url", "localhost:5001")
    assert isinstance(result.exception, UserError) and "http://" in str(result.exception)
    result = run("--url", kobold.url, "--kind", "ollama")
    assert isinstance(result.exception, UserError) and "--kind" in str(result.exception)
    paths = AppPaths.from_env()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('[backend]\nkind = "kobold"\ntimeout = 3\n')
    result = run("--url", kobold.url)
    assert isinstance(result.exception, ConfigError)
    assert "[backend].timeout" in str(result.exception)


def test_check_says_which_samplers_the_server_lacks(tok: LocalTokenizer) -> None:
    with FakeServer(tok, "kobold", koboldcpp=False, server_tokenizer=False) as united:
        result = run("--url", united.url, "--kind", "kobold")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["samplers"] == ("no DRY, XTC, top-n-sigma on this server: set, they do "
                                 "nothing")


@pytest.mark.parametrize("url, kind", [("localhost:5001", None), ("localhost:5001", "openai"),
                                       (None, "kobold")])
def test_check_and_play_merge_the_url_and_kind_alike(url: str | None, kind: str | None) -> None:
    """`backend check` and the commands that play take the flags through one merge, so the
    same wrong flags meet the same error (before: check refused 'localhost:5001' at once
    while generate sent it to the HTTP client; a kind without a URL was "no server to
    check" there and "[backend].url must be set" here)."""
    from gpt2_adventure.cli import app

    def flags(url_flag: str, kind_flag: str) -> list[str]:
        return [*([url_flag, url] if url else []), *([kind_flag, kind] if kind else [])]

    check = run_cli(backend_app, "check", *flags("--url", "--kind"))
    play = run_cli(app, "generate", "Hi", *flags("--backend-url", "--backend-kind"))
    assert check[0] == play[0] == 2
    said = check[2].replace("--url", "--backend-url").replace("--kind", "--backend-kind")
    assert said == play[2] and said.startswith("error: ")
