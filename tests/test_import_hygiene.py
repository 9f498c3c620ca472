"""The layers: nothing below the front ends pulls in Textual; importing creates no files."""

import subprocess
import sys
from pathlib import Path


def _loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script],
                         capture_output=True, text=True, check=True, env=env)
    return set(out.stdout.split())


PACKAGE = Path(__file__).resolve().parent.parent / "gpt2_adventure"
BELOW_THE_UI = ("engine", "story", "config", "game", "launch")  # the layers under tui/plain


def modules_below_the_ui() -> list[str]:
    """Every module of the layers below the front ends (found on disk: a new one counts)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[0] in BELOW_THE_UI or parts[0] in (f"{n}.py" for n in BELOW_THE_UI):
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(["gpt2_adventure", *parts]))
    return names


def _first_to_load_textual(modules: list[str]) -> str | None:
    """Import ``modules`` in order in a fresh interpreter; the first after which Textual is
    loaded, or None."""
    script = ("import importlib, sys\n"
              f"for name in {modules!r}:\n"
              "    importlib.import_module(name)\n"
              "    if 'textual' in sys.modules:\n"
              "        print(name)\n"
              "        break\n")
    out = subprocess.run([sys.executable, "-c", script],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip() or None


def test_no_textual_below_the_ui() -> None:
    modules = modules_below_the_ui()
    assert "gpt2_adventure.story.session" in modules and "gpt2_adventure.game" in modules
    assert len(modules) > 100  # the whole of engine/ and story/, not their empty packages
    assert _first_to_load_textual(modules) is None


def test_the_textual_check_can_fail() -> None:
    assert _first_to_load_textual(["gpt2_adventure.story.model",
                                   "gpt2_adventure.tui.widgets.meter"]) \
        == "gpt2_adventure.tui.widgets.meter"


def test_cli_import_is_light() -> None:
    loaded = _loaded_after("import gpt2_adventure.cli")
    for heavy in ("llama_cpp", "numpy", "huggingface_hub", "gguf", "textual"):
        assert heavy not in loaded, heavy


def test_importing_everything_creates_no_files(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "HOME": str(tmp_path / "home"),
           "GPT2_ADVENTURE_CONFIG_DIR": str(tmp_path / "c"),
           "GPT2_ADVENTURE_DATA_DIR": str(tmp_path / "d"),
           "GPT2_ADVENTURE_CACHE_DIR": str(tmp_path / "k")}
    _loaded_after("import gpt2_adventure.cli\n"
                  + "\n".join(f"import {m}" for m in modules_below_the_ui()), env=env)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
