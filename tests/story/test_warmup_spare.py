"""The warm-up and the spare sequence (story/warmup.py): the window after the next trim is
evaluated a share at a time before the replies written ahead (what it lacks over the
exchanges left before the trim: writing ahead can take all of the player's reading time on
a big model), the rest after them; when the trim is near, all of it before them, so the idle
moments left before it are not spent on alternatives."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.session import Session
from gpt2_adventure.story.warmup import Warmup
from tests.story.test_session import make
from tests.support.fake_backend import FakeBackend

REPLY = " The road goes on past the hill and the river and the old mill by the ford."


class WithSpare(FakeBackend):
    """The fake backend with a spare sequence; it records what the warm-up does, in order."""

    def __init__(self) -> None:
        super().__init__(lambda prompt: REPLY, n_ctx=512)
        self.prefilled = []
        self.ahead = True
        self.done: list[str] = []
        self.held: list[int] = []  # what the spare sequence holds

    @property
    def supports_spare(self) -> bool:
        return True

    def prefill_spare(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        self.done.append(f"spare {len(tokens)}")
        kept = self.spare_holds(tokens)
        if kept == len(tokens):
            self.held = list(tokens)
            return 0  # (as LlamaBackend: all there; what followed it is dropped)
        self.held = list(tokens)
        return len(tokens) - kept

    def spare_holds(self, tokens: Sequence[int]) -> int:
        common = 0
        for a, b in zip(self.held, tokens):
            if a != b:
                break
            common += 1
        return common

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        self.done.append("prompt")
        return super().prefill(tokens, cancel)


def playing() -> tuple[Session, WithSpare]:
    backend = WithSpare()
    session, _ = make()
    session = Session(session.state, backend, Sampling(max_tokens=30, candidates=2))
    # Trims down to half of this small context: the next window's first turn is then fixed
    # with a few exchanges still to go (at 0.4, about one and a half), so both the share
    # spread over them and the whole of it near the trim are seen.
    session.builder.low_water = 0.5
    return session, backend


def order(session: Session, backend: WithSpare) -> tuple[float, list[str], int]:
    """How many exchanges fit before the trim (as the warm-up laid the prompt out), what the
    warm-up did, in order, and how much of the window after the trim the spare lacked."""
    warmup = Warmup.plan(session)
    assert warmup is not None
    left = session.builder.exchanges_to_trim(session.state, 30 + 48)
    spare = warmup.spare or []
    lacked = len(spare) - backend.spare_holds(spare)
    backend.done = []
    warmup.run(session, on_ready=lambda: backend.done.append("ahead"))
    return left, backend.done, lacked


def test_the_spare_takes_its_share_before_writing_ahead_and_all_of_it_near_the_trim() -> None:
    session, backend = playing()
    seen: list[tuple[float, int, list[str]]] = []
    for i in range(40):
        list(session.act(f"walk to place {i}"))
        seen.append(order(session, backend))
    far = [(left, done, lacked) for left, done, lacked in seen if left > 2 and lacked]
    near = [done for left, done, _ in seen if left <= 2 and any(
        step.startswith("spare") for step in done)]
    assert far and near  # both were seen: the checks below can fail either way
    shared = 0
    for left, done, lacked in far:
        share = math.ceil(lacked / max(1, left - 2))  # over the exchanges until it is near
        if share >= lacked:
            assert [step.split()[0] for step in done] == ["prompt", "spare", "ahead"]
            continue
        shared += 1
        assert [step.split()[0] for step in done] == ["prompt", "spare", "ahead", "spare"]
        first, whole = (int(step.split()[1]) for step in done if step.startswith("spare"))
        assert first - (whole - lacked) == share
    assert shared  # (seen: the check above can fail)
    assert all([step.split()[0] for step in done] == ["prompt", "spare", "ahead"]
               for done in near)
