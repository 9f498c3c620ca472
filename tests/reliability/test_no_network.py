"""No surprise network: only an explicit download (or a configured remote backend) connects.

A ``sitecustomize.py`` on the child's PYTHONPATH replaces ``socket.socket.connect``,
``connect_ex``, ``socket.create_connection`` and ``socket.getaddrinfo`` with functions that
record the attempt and fail. A whole session runs under it (play several turns, save, export,
continue, chat, stories, saves, models, config, generate), with ``HF_HUB_OFFLINE`` unset so a
stray Hub call would show. Local (AF_UNIX) connections are let through and reported. The TUI
is checked in-process with the same guard. A positive control (``models pull``) proves the
guard sees connections.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.support.reliability_figures import record
from tests.support.reliability_proc import child_env, run, write_config

SITECUSTOMIZE = '''
import errno, json, os, socket, sys, traceback

_LOG = os.environ["NO_NETWORK_LOG"]
_UNIX = getattr(socket, "AF_UNIX", None)


def _record(what, address, allowed=False):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"what": what, "address": repr(address), "allowed": allowed,
                              "argv": sys.argv[1:], "stack": traceback.format_stack(limit=12)})
                  + "\\n")


def _blocked(what, address):
    _record(what, address)
    return OSError(errno.ENETUNREACH, f"network blocked by the test ({what} {address!r})")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def connect(self, address):
    if self.family == _UNIX:
        _record("connect", address, allowed=True)
        return _connect(self, address)
    raise _blocked("connect", address)


def connect_ex(self, address):
    if self.family == _UNIX:
        _record("connect_ex", address, allowed=True)
        return _connect_ex(self, address)
    _record("connect_ex", address)
    return errno.ENETUNREACH


def create_connection(address, *args, **kwargs):
    raise _blocked("create_connection", address)


def getaddrinfo(host, port, *args, **kwargs):
    _record("getaddrinfo", (host, port))
    raise socket.gaierror(socket.EAI_NONAME, "name resolution blocked by the test")


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.create_connection = create_connection
socket.getaddrinfo = getaddrinfo
'''


@pytest.fixture
def guarded(tmp_path: Path) -> tuple[dict[str, str], Path]:
    folder = tmp_path / "guard"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "connections.jsonl"
    env = child_env({"NO_NETWORK_LOG": str(log)})
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env["PYTHONPATH"]])
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        env.pop(name, None)  # a stray Hub call must try the network, and be seen
    env["HF_ENDPOINT"] = "https://hub.invalid"
    return env, log


def attempts(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_a_full_session_opens_no_connection(guarded: tuple[dict[str, str], Path],
                                            tmp_path: Path, tiny_gguf: Path) -> None:
    env, log = guarded
    write_config()
    model = ("--model", str(tiny_gguf))
    out = tmp_path / "export"
    play_lines = ["look around", "open the door", "/say hello", "/retry", "/undo", "/redo",
                  "/continue", "/remember The dragon fears silver.", "/save netsave",
                  f"/export md {out}.md", f"/export txt {out}.txt",
                  f"/export kobold {out}.json", "/load netsave", "/settings", "/quit"]
    runs = [
        (("play", "--plain", "--story", "knight", "--name", "Anna", *model), play_lines),
        (("play", "--plain", "--continue", *model), ["go north", "/save netsave2"]),
        (("chat", "--plain", "--story", "tavern-keeper", "--name", "Anna", *model), ["hello"]),
        (("write", "--plain", *model), ["", "The end."]),
        (("stories", "list"), []), (("stories", "show", "knight"), []),
        (("stories", "validate"), []),
        (("saves", "list", "--json"), []), (("saves", "show", "netsave"), []),
        (("saves", "export", "netsave", "--format", "md"), []),
        (("models", "list"), []), (("models", "list", "--json"), []),
        (("models", "info", str(tiny_gguf)), []), (("models", "path", "gpt2"), []),
        (("config", "show"), []), (("config", "path"), []),
        (("generate", "Once upon a time", *model, "--max-tokens", "8"), []),
        (("--version",), []),
    ]
    for args, lines in runs:
        result = run(*args, stdin="".join(line + "\n" for line in lines), env=env)
        assert result.returncode in (0, 2), (args, result.stderr[-1500:])
        assert "Traceback" not in result.stderr, (args, result.stderr[-1500:])
    assert Path(f"{out}.md").is_file() and Path(f"{out}.json").is_file()
    found = attempts(log)
    network = [a for a in found if not a["allowed"]]
    assert not network, json.dumps(network[:3], indent=1)
    record("no_network.commands_run", len(runs))
    record("no_network.local_unix_connections", sorted({f"{a['argv'][:2]} {a['address']}"
                                                        for a in found if a["allowed"]}))


def test_the_guard_sees_an_explicit_download(guarded: tuple[dict[str, str], Path]) -> None:
    """The positive control: ``models pull`` is asked to download, so it tries, is seen, and
    fails with a clean error."""
    env, log = guarded
    result = run("models", "pull", "distilgpt2", env=env, timeout=120)
    assert result.returncode == 2, result.stderr[-1500:]
    assert "Traceback" not in result.stderr
    assert [a for a in attempts(log) if not a["allowed"]], "the guard saw nothing"


class Guard:
    """The same guard in this process, for the TUI."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, str]] = []
        unix = getattr(socket, "AF_UNIX", None)
        connect = socket.socket.connect

        def guarded_connect(sock: socket.socket, address: object) -> None:
            if sock.family == unix:
                return connect(sock, address)
            self.seen.append(("connect", repr(address)))
            raise OSError(101, "network blocked by the test")

        def refuse(what: str) -> object:
            def blocked(*args: object, **kwargs: object) -> object:
                self.seen.append((what, repr(args[:2])))
                raise OSError(101, "network blocked by the test")
            return blocked

        monkeypatch.setattr(socket.socket, "connect", guarded_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
        monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
        monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))


async def test_the_tui_opens_no_connection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           tiny_gguf: Path) -> None:
    from textual.widgets import Input

    from gpt2_adventure.config import Settings, UISettings
    from gpt2_adventure.engine.settings import ModelSettings
    from gpt2_adventure.launch import Launch
    from gpt2_adventure.paths import AppPaths
    from gpt2_adventure.tui.app import AdventureApp

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    guard = Guard(monkeypatch)
    # auto_tune off: measuring speed needs no network, and takes longer than this test waits.
    settings = Settings(ui=UISettings(), model=ModelSettings(auto_tune=False))
    launch = Launch(paths=AppPaths.from_env(), settings=settings,
                    mode="title", name="Anna", model=str(tiny_gguf), rng_seed=1, threads=1)
    app = AdventureApp(launch)  # the real model loader
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(10):
            await pilot.pause()
        launch.mode, launch.story = "play", "knight"
        app.start_from_launch()
        screen = app.screen
        for _ in range(600):  # the model loads on a worker thread
            await pilot.pause(0.02)
            if getattr(screen, "game", None) is not None:
                break
        assert getattr(screen, "game", None) is not None, "the model did not load"
        for line in ("look around", "/save tui-net", f"/export md {tmp_path / 'tui.md'}"):
            box = screen.query_one("#line", Input)
            box.value = line
            box.focus()
            await pilot.press("enter")
            for _ in range(600):
                await pilot.pause(0.02)
                if screen.stream is None:  # type: ignore[attr-defined]
                    break
        for opener in ("open_load", "open_settings", "open_models"):
            getattr(app, opener)()
            for _ in range(20):
                await pilot.pause(0.02)
            app.pop_screen()
            await pilot.pause()
    assert not guard.seen, guard.seen
    assert (tmp_path / "tui.md").is_file()
