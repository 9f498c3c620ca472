"""gpt2_adventure.schema: a setting declared once on its field; checks and listings from it."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Literal

import pytest

from gpt2_adventure import schema
from gpt2_adventure.schema import SettingError, UnknownSetting, setting


@dataclass(frozen=True)
class Toy:
    """Every kind of setting, with each sort of bound."""

    name: str | None = setting(None, env="TOY_NAME", unset="the default", help="a name")
    count: int = setting(3, low=1, high=9, screen=True, help="how many")
    ratio: float = setting(0.5, low=0.0, high=1.0, help="a share")
    speed: float = setting(1.0, above=0.0, help="faster")
    width: int = setting(80, low=30, high=400, special={0: "all of it"}, help="columns")
    mode: Literal["a", "b"] = setting("a", help="which")
    level: int = setting(0, choices=(0, 1, 2), help="0 = off")
    loud: bool = setting(False, help="shout")
    words: tuple[str, ...] = setting((), help="texts")
    bias: dict[int, float] = setting(factory=dict, help="token id = bias")
    plain_field: int = 7  # not a setting


def spec(name: str) -> schema.Spec:
    found = schema.find(Toy, name)
    assert found is not None
    return found


def test_specs_come_from_the_fields_alone() -> None:
    names = [s.name for s in schema.specs(Toy)]
    assert names == ["name", "count", "ratio", "speed", "width", "mode", "level", "loud",
                     "words", "bias"]
    kinds = {s.name: (s.kind, s.optional) for s in schema.specs(Toy)}
    assert kinds["name"] == ("text", True) and kinds["count"] == ("int", False)
    assert kinds["words"] == ("texts", False) and kinds["bias"] == ("bias", False)
    assert spec("mode").choices == ("a", "b")  # from the Literal
    assert spec("name").env == "TOY_NAME" and spec("count").screen
    assert spec("bias").default == {} and Toy().bias == {}
    with pytest.raises(FrozenInstanceError):
        Toy().count = 4  # type: ignore[misc]


@pytest.mark.parametrize("name, rule", [
    ("count", "1..9"), ("ratio", "between 0 and 1"), ("speed", "> 0"),
    ("width", "0 (all of it) or 30..400"), ("mode", "one of a, b"), ("level", "0, 1 or 2"),
    ("loud", "true or false"),
])
def test_rules_are_worded_from_the_bounds(name: str, rule: str) -> None:
    assert spec(name).rule == rule


@pytest.mark.parametrize("name, value, message", [
    ("count", 0, "count must be 1..9, got 0"),
    ("count", "two", "count must be an integer (a whole number), got 'two'"),
    ("count", True, "count must be an integer (a whole number), got True"),
    ("count", 2.0, "count must be an integer (a whole number), got 2.0"),
    ("ratio", 1.5, "ratio must be between 0 and 1, got 1.5"),
    ("ratio", float("nan"), "ratio must be a number, got nan"),
    ("speed", 0, "speed must be > 0, got 0.0"),
    ("width", 10, "width must be 0 (all of it) or 30..400, got 10"),
    ("mode", "c", "mode must be one of a, b, got 'c'"),
    ("level", 3, "level must be 0, 1 or 2, got 3"),
    ("loud", 1, "loud must be true or false, got 1"),
    ("words", ["a", 1], "words must be a list of texts, got ['a', 1]"),
    ("bias", {"x": 1.0}, "bias must be a table of token id = bias, e.g. "
                         "{ \"50256\" = -100.0 }, got {'x': 1.0}"),
    ("count", None, "count must be an integer (a whole number), got None"),
])
def test_bad_values_get_one_wording(name: str, value: object, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        schema.check(spec(name), value)
    assert str(caught.value) == message
    assert message.endswith(caught.value.problem) and caught.value.key == name
    with pytest.raises(SettingError, match=r"^\[toy\]\." + name):
        schema.check(spec(name), value, label=f"[toy].{name}")


def test_good_values_are_converted_to_what_the_field_holds() -> None:
    assert schema.check(spec("ratio"), 1) == 1.0 and isinstance(schema.check(spec("ratio"), 1),
                                                                 float)
    assert schema.check(spec("width"), 0) == 0
    assert schema.check(spec("words"), ["a", "b"]) == ("a", "b")
    assert schema.check(spec("bias"), {"50256": -100, "-1": 2.5}) == {50256: -100.0, -1: 2.5}
    assert schema.check(spec("bias"), {7: float("-inf")}) == {7: float("-inf")}
    assert schema.check(spec("name"), None) is None


@pytest.mark.parametrize("name, text, value", [
    ("count", " 4 ", 4), ("ratio", "0.25", 0.25), ("loud", "yes", True), ("loud", "OFF", False),
    ("name", "", None), ("name", "  ", None), ("name", "gpt2", "gpt2"), ("mode", "b", "b"),
])
def test_typed_text(name: str, text: str, value: object) -> None:
    assert schema.from_text(spec(name), text) == value


@pytest.mark.parametrize("name, text, message", [
    ("count", "many", "count must be an integer (a whole number), got 'many'"),
    ("count", "0", "count must be 1..9, got 0"),
    ("ratio", "inf", "ratio must be a number, got inf"),  # as from TOML: finite numbers only
    ("loud", "banana", "loud must be true or false, got 'banana'"),
    ("words", "a", "words cannot be set from one line of text"),
])
def test_bad_typed_text(name: str, text: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        schema.from_text(spec(name), text)
    assert str(caught.value) == message


def test_update_checks_every_value_and_names_unknown_keys() -> None:
    toy = schema.update(Toy(), {"count": 5, "ratio": 1, "words": ["x"]}, "toy")
    assert (toy.count, toy.ratio, toy.words) == (5, 1.0, ("x",))
    with pytest.raises(UnknownSetting) as caught:
        schema.update(Toy(), {"colour": 1}, "toy")
    assert str(caught.value) == "unknown setting [toy].colour"
    assert caught.value.hint is not None and "count, ratio" in caught.value.hint
    assert "plain_field" not in caught.value.hint
    with pytest.raises(UnknownSetting, match=r"unknown setting \\x1b\[31m"):
        schema.update(Toy(), {"\x1b[31m": 1})  # shown, never obeyed


def test_problems_and_rows_and_plain_values() -> None:
    bad = Toy(count=0, mode="z")  # type: ignore[arg-type]
    assert schema.problems(bad) == [("count", "must be 1..9, got 0"),
                                    ("mode", "must be one of a, b, got 'z'")]
    assert schema.problems(Toy()) == []
    rows = dict((s.name, v) for s, v in schema.rows(Toy(words=("a",), bias={5: 1.0})))
    assert rows["count"] == 3 and "plain_field" not in rows
    assert schema.plain(spec("words"), ("a",)) == ["a"]
    assert schema.plain(spec("bias"), {5: 1.0}) == {"5": 1.0}


def test_a_setting_holds_one_type() -> None:
    @dataclass
    class Two:
        x: int | str = setting(1, help="either")

    with pytest.raises(TypeError, match="Two.x"):
        schema.specs(Two)
