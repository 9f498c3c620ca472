"""The server tokenizer client: each server's tokenizer API written once."""

from __future__ import annotations

from pathlib import Path

import gpt2_adventure
from gpt2_adventure.engine.remote import tokenizers

PACKAGE = Path(gpt2_adventure.__file__).parent


def test_the_koboldcpp_tokenizer_api_is_written_once() -> None:
    # KoboldCpp speaks both APIs: the KoboldAI backend and the OpenAI-compatible one reach
    # its tokenizer through one definition (before: two copies, in kobold.py and openai.py).
    found = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
             for _ in range(path.read_text(encoding="utf-8").count('"/api/extra/tokencount"'))]
    assert found == ["engine/remote/tokenizers.py"]
    assert tokenizers.KOBOLDCPP in tokenizers.OPENAI_COMPATIBLE
    assert tokenizers.KOBOLDCPP.tokenize_body("Hi", "") == {"prompt": "Hi", "special": False}
