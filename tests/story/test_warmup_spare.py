"""The warm-up and the spare sequence (story/warmup.py): the window after the next trim is
evaluated after the replies written ahead, except when the trim is near: then before them,
so the idle moments left before it are not spent on alternatives."""

from __future__ import annotations

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

    @property
    def supports_spare(self) -> bool:
        return True

    def prefill_spare(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        self.done.append("spare")
        return len(tokens)

    def prefill(self, tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        self.done.append("prompt")
        return super().prefill(tokens, cancel)


def playing() -> tuple[Session, WithSpare]:
    backend = WithSpare()
    session, _ = make()
    session = Session(session.state, backend, Sampling(max_tokens=30, candidates=2))
    return session, backend


def order(session: Session, backend: WithSpare) -> tuple[float, list[str]]:
    """How many exchanges fit before the trim (as the warm-up laid the prompt out), and
    what the warm-up did, in order."""
    warmup = Warmup.plan(session)
    assert warmup is not None
    left = session.builder.exchanges_to_trim(session.state, 30 + 48)
    backend.done = []
    warmup.run(session, on_ready=lambda: backend.done.append("ahead"))
    return left, backend.done


def test_the_spare_goes_after_the_replies_written_ahead_until_the_trim_is_near() -> None:
    session, backend = playing()
    seen: list[tuple[float, list[str]]] = []
    for i in range(40):
        list(session.act(f"walk to place {i}"))
        seen.append(order(session, backend))
    far = [done for left, done in seen if left > 2 and "spare" in done]
    near = [done for left, done in seen if left <= 2 and "spare" in done]
    assert far and near  # both were seen: the check below can fail either way
    assert all(done == ["prompt", "ahead", "spare"] for done in far)
    assert all(done == ["prompt", "spare", "ahead"] for done in near)
