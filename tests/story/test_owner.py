"""The session's owner (issue 23): while a reply is written on one thread, a change to the
story from another fails at once with a clear error, and works again once the reply is done."""

from __future__ import annotations

import threading

import pytest

from gpt2_adventure.engine.backend import CancelToken
from gpt2_adventure.story.events import Done, SessionError
from gpt2_adventure.story.model import WorldEntry
from gpt2_adventure.story.owner import NotOwner, Owner
from gpt2_adventure.story.session import Session
from tests.story.test_session import make

CHANGES = {
    "undo": lambda s: s.undo(),
    "alternative": lambda s: s.alternative(1),
    "pick": lambda s: s.pick(1),
    "edit": lambda s: s.edit(0, "A new start."),
    "remember": lambda s: s.remember("The knight fears bats."),
    "set_note": lambda s: s.set_note("Keep it short."),
    "add_world": lambda s: s.add_world(WorldEntry(keys=("bat",), content="Bats bite.")),
    "keep_pending": lambda s: s.keep_pending(),
    "replace_state": lambda s: s.replace_state(s.state),
    "preview": lambda s: s.preview(),
    "configure": lambda s: s.configure(s.sampling, recall_share=0.1),
}


def writing_elsewhere(session: Session) -> tuple[threading.Thread, list[object]]:
    """A reply being written on another thread, held mid-way until it is released."""
    events: list[object] = []
    cancel = CancelToken()  # (a held reply waits for its cancel, or a release)
    thread = threading.Thread(target=lambda: events.extend(session.act("wait", "do", cancel)),
                              daemon=True)
    thread.start()
    backend = session.backend
    assert backend.holding.wait(10)  # type: ignore[attr-defined]
    return thread, events


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_from_another_thread_while_a_reply_is_written_fails(name: str) -> None:
    session, backend = make(replies=[" One two three four five six.", " Seven."])
    list(session.act("look"))  # a reply to pick from, flip, undo
    backend.hold_after = 1
    before = session.state.to_dict()
    thread, events = writing_elsewhere(session)
    with pytest.raises(NotOwner, match=rf"Session\.{name}: the story is held by a reply being "
                                       "written on another thread"):
        CHANGES[name](session)
    assert session.collect_ahead() == 0 and session.warm_prompt() is None  # not errors
    backend.release.set()
    thread.join(10)
    assert isinstance(events[-1], Done)
    assert session.state.to_dict() != before  # the reply went in, nothing else
    try:
        CHANGES[name](session)  # the session is free again
    except NotOwner:
        raise
    except SessionError:
        pass  # its own reason (this reply has no alternatives yet), not the owner's


def test_a_reply_cannot_start_while_another_thread_changes_the_story() -> None:
    session, _ = make(replies=[" Yes."])
    owner = session._owner  # noqa: SLF001
    owner.acquire("a change")
    try:
        failed: list[BaseException] = []

        def act() -> None:
            try:
                list(session.act("wait"))
            except NotOwner as error:
                failed.append(error)

        thread = threading.Thread(target=act)
        thread.start()
        thread.join(10)
        assert failed and "held by a change on another thread" in str(failed[0])
    finally:
        owner.release()
    assert isinstance(list(session.act("wait"))[-1], Done)


def test_the_owner_is_reentrant_for_its_thread_only() -> None:
    owner = Owner()
    with owner.hold("outer"), owner.hold("inner"):
        assert owner.holder == "outer" and owner.mine
        with pytest.raises(NotOwner, match="held by outer on this thread"):
            owner.acquire("a reply", again=False)
        seen: list[bool] = []
        thread = threading.Thread(target=lambda: seen.append(owner.try_hold("other")))
        thread.start()
        thread.join(10)
        assert seen == [False]
    assert owner.holder is None and owner.wait_free(0)
    with pytest.raises(RuntimeError, match="does not hold it"):
        owner.release()


def test_a_reply_dropped_on_another_thread_lets_the_story_go() -> None:
    session, _ = make(replies=[" One two three.", " Four."])
    events = session.act("wait")
    next(events)  # begun here...
    thread = threading.Thread(target=events.close)  # ...dropped there
    thread.start()
    thread.join(10)
    assert not session.writing
    session.remember("The knight fears bats.")  # free again


def test_configure_changes_only_what_the_layout_has() -> None:
    session, _backend = make(replies=[" One."])
    sampling = session.sampling
    with pytest.raises(AttributeError, match="no setting 'recal_share'"):
        session.configure(recal_share=0.2)  # a typo is refused, nothing changed
    assert session.sampling is sampling
    session.configure(recall_share=0.2)
    assert session.builder.recall_share == 0.2 and session.sampling is sampling
