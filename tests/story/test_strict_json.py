"""JSON read strictly: each failure kind told with its place."""

import pytest

from gpt2_adventure.story import strict_json
from gpt2_adventure.story.strict_json import JsonProblem

WORDS: dict[strict_json.Failure, str] = {"syntax": "bad: {}", "nested": "too deep",
                                         "value": "refused: {}"}


def test_reads_json() -> None:
    assert strict_json.loads('{"a": [1, 2.5, "x", null, true]}') == {
        "a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_refuses_nan_and_infinity(text: str) -> None:
    with pytest.raises(JsonProblem) as caught:
        strict_json.loads(text)
    assert caught.value.failure == "value"
    assert caught.value.say(WORDS).startswith("refused: ")
    assert "is not allowed" in caught.value.say(WORDS)
    assert caught.value.place("f.json") == "f.json"


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(JsonProblem) as caught:
        strict_json.loads('{\n  "a": 1,\n  oops\n}')
    assert caught.value.failure == "syntax"
    assert caught.value.place("f.json") == "f.json:3:3"
    assert caught.value.say(WORDS).startswith("bad: Expecting property name")


def test_too_deep_is_one_problem() -> None:
    with pytest.raises(JsonProblem) as caught:
        strict_json.loads("[" * 200_000 + "]" * 200_000)
    assert caught.value.failure == "nested"
    assert caught.value.say(WORDS) == "too deep"
