"""The warm-up's lifetime (story/warmup.py): planned on the owner's thread, run on a worker
through its stages, stopped (before it began: never begins), taken over by a retry."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.engine.sampling import Sampling
from gpt2_adventure.story.session import Session
from gpt2_adventure.story.warmup import Stage, Warmup
from tests.story.test_session import make

REPLIES = [" The door creaks open.", " A bat flies out.", " A voice calls.", " It is dark."]


def warm_session() -> Session:
    session, backend = make(replies=list(REPLIES))
    session.sampling = Sampling(max_tokens=60, candidates=3)
    backend.prefilled, backend.ahead = [], True
    list(session.act("open the door"))
    return session


def test_it_goes_through_its_stages_in_order_and_ends_done() -> None:
    session = warm_session()
    warmup = Warmup.plan(session)
    assert warmup is not None and warmup.stage is Stage.WAITING
    seen: list[Stage] = []
    backend = session.backend
    prefill = backend.prefill

    def watched(tokens: Sequence[int], cancel: CancelToken | None = None) -> int:
        seen.append(warmup.stage)
        return prefill(tokens, cancel)

    backend.prefill = watched  # type: ignore[method-assign]
    assert warmup.run(session, on_ready=lambda: seen.append(warmup.stage)) > 0
    assert seen == [Stage.PROMPT, Stage.AHEAD, Stage.AHEAD] and warmup.done
    assert session.collect_ahead() == 2


def test_stopped_before_it_began_it_never_begins() -> None:
    session = warm_session()
    warmup = Warmup.plan(session)
    assert warmup is not None
    asked = len(session.backend.prompts)  # type: ignore[attr-defined]
    warmup.stop()
    assert warmup.done and warmup.wait_stopped(0)
    assert warmup.run(session) == 0
    assert len(session.backend.prompts) == asked and session.backend.prefilled == []  # type: ignore[attr-defined]


def test_nothing_is_planned_while_a_reply_is_written() -> None:
    session = warm_session()
    events = session.act("go in")
    next(events)
    assert Warmup.plan(session) is None
    list(events)
    assert Warmup.plan(session) is not None


def test_a_retry_takes_over_the_reply_being_written_and_it_stops_after_it() -> None:
    session = warm_session()
    backend = session.backend
    warmup = Warmup.plan(session)
    assert warmup is not None and not warmup.take_over()  # nothing written yet
    backend.hold_after = 1  # type: ignore[attr-defined]
    worker = threading.Thread(target=warmup.run, args=(session,))
    worker.start()
    assert backend.holding.wait(10)  # type: ignore[attr-defined]
    assert warmup.stage is Stage.AHEAD and warmup.take_over() and warmup.taken_over
    backend.hold_after = None  # type: ignore[attr-defined]
    backend.release.set()  # type: ignore[attr-defined]
    warmup.wait_written(CancelToken())
    worker.join(10)
    assert warmup.done and warmup.cancel.cancelled
    assert session.collect_ahead() == 1  # one written; the second never began


def test_stopping_the_retry_stops_the_reply_it_waits_for() -> None:
    session = warm_session()
    backend = session.backend
    warmup = Warmup.plan(session)
    assert warmup is not None
    backend.hold_after = 1  # type: ignore[attr-defined]
    worker = threading.Thread(target=warmup.run, args=(session,))
    worker.start()
    assert backend.holding.wait(10)  # type: ignore[attr-defined]
    assert warmup.take_over()
    retry = CancelToken()
    retry.cancel()  # Esc
    warmup.wait_written(retry)
    worker.join(10)
    assert warmup.done and warmup.cancel.cancelled and session.collect_ahead() == 0
