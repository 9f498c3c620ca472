from hypothesis import given
from hypothesis import strategies as st

from gpt2_adventure.engine.textstream import TextAssembler


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


@given(st.text(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_split_of_utf8_bytes_gives_back_whole_characters(text: str, cuts: list[int]) -> None:
    assembler = TextAssembler()
    pieces = [assembler.feed(chunk) for chunk in _chunks(text.encode("utf-8"), cuts)]
    pieces.append(assembler.finish())
    assert "".join(pieces) == text
    if "\ufffd" not in text:
        assert all("\ufffd" not in p for p in pieces)


def test_emoji_split_over_three_tokens_is_released_once_complete() -> None:
    data = "🐉".encode()
    assembler = TextAssembler()
    assert assembler.feed(data[:1]) == ""
    assert assembler.feed(data[1:3]) == ""
    assert assembler.feed(data[3:]) == "🐉"


def test_incomplete_character_at_the_end_becomes_a_replacement_char() -> None:
    assembler = TextAssembler()
    assert assembler.feed("é".encode()[:1]) == ""
    assert assembler.finish() == "\ufffd"


@given(st.text(max_size=60), st.text(min_size=1, max_size=6), st.text(max_size=30),
       st.lists(st.integers(min_value=0, max_value=500), max_size=20))
def test_output_ends_right_before_the_first_stop_string(
        before: str, stop: str, after: str, cuts: list[int]) -> None:
    text = before + stop + after
    assembler = TextAssembler([stop, "\n\n>"])
    out = []
    for chunk in _chunks(text.encode("utf-8"), cuts):
        out.append(assembler.feed(chunk))
        if assembler.stopped:
            break
    out.append(assembler.finish())
    first = min(i for i in (text.find(stop), text.find("\n\n>")) if i >= 0)
    assert "".join(out) == text[:first]
    assert assembler.stopped


def test_text_that_only_looks_like_a_stop_prefix_is_released_at_the_end() -> None:
    assembler = TextAssembler(["\n>"])
    assert assembler.feed(b"He waits.\n") == "He waits."
    assert assembler.finish() == "\n"
    assert not assembler.stopped
