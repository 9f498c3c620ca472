"""The layers: engine/ and story/ never pull in textual; importing creates no files."""

import subprocess
import sys
from pathlib import Path

import pytest

ENGINE_MODULES = [
    "gpt2_adventure.engine.backend", "gpt2_adventure.engine.sampling",
    "gpt2_adventure.engine.llama.backend", "gpt2_adventure.engine.models.gguf_info",
    "gpt2_adventure.engine.textstream", "gpt2_adventure.engine.llama.sampler_chain",
    "gpt2_adventure.engine.loader", "gpt2_adventure.engine.models.convert",
    "gpt2_adventure.engine.models.checkpoint", "gpt2_adventure.engine.models.catalog",
    "gpt2_adventure.engine.models.store", "gpt2_adventure.engine.models.download",
    "gpt2_adventure.engine.bench", "gpt2_adventure.engine.llama.state_cache",
    "gpt2_adventure.engine.remote.settings", "gpt2_adventure.engine.remote.http",
    "gpt2_adventure.engine.remote.base", "gpt2_adventure.engine.remote.openai",
    "gpt2_adventure.engine.remote.kobold", "gpt2_adventure.engine.models.local_tokenizer",
    "gpt2_adventure.engine.tune", "gpt2_adventure.engine.tuning",
]


def _loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script],
                         capture_output=True, text=True, check=True, env=env)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ENGINE_MODULES + ["gpt2_adventure.story"])
def test_no_textual_below_the_ui(module: str) -> None:
    loaded = _loaded_after(f"import {module}")
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded)


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
    _loaded_after("import gpt2_adventure.cli\n" + "\n".join(f"import {m}" for m in ENGINE_MODULES),
                  env=env)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
