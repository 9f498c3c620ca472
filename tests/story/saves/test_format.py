"""The save format's checks: errors name the field in one line."""

from __future__ import annotations

import json

import pytest

from gpt2_adventure.errors import UserError
from gpt2_adventure.story.model import StoryState
from gpt2_adventure.story.saves import format as save_format


def _document(**state_fields: object) -> bytes:
    state = StoryState(id="g1", title="T", mode="adventure").to_dict()
    state.update(state_fields)
    doc = json.loads(save_format.encode(StoryState.from_dict(state), "x").decode("utf-8"))
    doc["state"].update(state_fields)
    return json.dumps(doc).encode("utf-8")


@pytest.mark.parametrize(("fields", "named"), [
    ({"values": {"name": 3}}, "state.values.name"),
    ({"values": {"a\nb": 3}}, "state.values['a\\nb']"),
    ({"sampling": {"odd key\n": "x", "temperature": [{}]}}, "state.sampling.temperature[0]"),
    ({"sampling": {"logit_bias": {"1\n2": {}}}}, "state.sampling.logit_bias['1\\n2']"),
])
def test_a_bad_value_is_named_on_one_line(fields: dict[str, object], named: str) -> None:
    with pytest.raises(UserError) as caught:
        save_format.decode(_document(**fields), "game.json")
    message = str(caught.value)
    assert named in message and "\n" not in message
