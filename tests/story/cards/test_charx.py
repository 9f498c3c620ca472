"""RisuAI .charx cards: the V3 card.json inside a zip as a chat seed; archive tricks refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.cards.charx import MAX_MEMBERS
from gpt2_adventure.story.importers import convert_bytes
from tests.support.peer_formats import charx, v3_card


def refused(data: bytes) -> str:
    with pytest.raises(UserError) as info:
        convert_bytes(data, "risa.charx")
    assert info.value.where == "risa.charx" and "\n" not in info.value.message
    return info.value.message


def test_a_charx_becomes_a_chat_seed() -> None:
    conversion = convert_bytes(charx(v3_card("Risa")), "risa.charx")
    assert conversion.format == "a RisuAI character (.charx)"
    [seed] = conversion.seeds
    assert seed.chat is not None and seed.chat.character == "Risa"
    assert seed.chat.greeting == "Hello!" and seed.chat.alternate_greetings == ("Hi again.",)
    assert "1 asset file(s) in the archive (images, sounds…) not imported" in conversion.dropped


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "assets/../../x",
                                  "C:\\Windows\\x", "\\\\server\\share\\x"])
def test_archive_tricks_are_refused(name: str) -> None:
    assert "unsafe path" in refused(charx(v3_card(), {name: b"x"}))


def test_a_zip_bomb_is_refused() -> None:
    bomb = zipped({"card.json": b"{" + b" " * 30_000_000 + b"}"})
    assert len(bomb) < 100_000
    assert "too large" in refused(bomb)
    bomb = zipped({"card.json": b"{" + b" " * 5_000_000 + b"}"})  # within size, not ratio
    assert "zip bomb" in refused(bomb)


def test_other_bad_archives() -> None:
    assert "no card.json" in refused(zipped({"readme.txt": b"hi"}))
    assert "not a readable zip archive" in refused(b"PK\x03\x04 broken")
    assert "not valid JSON" in refused(zipped({"card.json": b"{oops"}))
    many = zipped({f"f{i}": b"" for i in range(MAX_MEMBERS + 1)})
    assert "too many files" in refused(many)
