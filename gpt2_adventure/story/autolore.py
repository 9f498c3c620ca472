"""Automatic lore: the names a story introduces, as world entries that keep up with it.

A name is a capitalised word the story writes at least twice, at least once not at the start
of a sentence ("Suddenly" is not one), that is not a stop word (``recall/query.py``) or a
common word (``COMMON``: titles, greetings, days), and that the story does not write in lower
case as often as capitalised ("the Guard" in a story full of guards). Its entry is keyed by
the name and holds the sentence that introduced it and the latest one about it, so that a
player back after forty turns finds the blacksmith still known. No entry is made for a name
an entry of the game already has as a key (the player's, a seed's, a lorebook's; case does
not matter), for a chat's speakers, or for a name the player dropped (``/world remove N``).

Derived, not saved. The entries live in ``StoryState.lore`` (which ``to_dict`` leaves out);
the save keeps only the names the player dropped (``StoryState.dropped_lore``) and, once
kept (``/world keep N``), the entry as an ordinary one in ``StoryState.world``. Why: an
entry's latest sentence changes whenever its name is written, and the autosave's journal
rewrites the world list from the first changed entry on, so saved entries would make every
autosave grow with the number of names. The story, which the save holds, is the truth:
loading rebuilds the entries from it (once, at open).

Places: an entry keeps its place in ``state.lore`` for as long as the game is open, because
the prompt layout refers to it by place (``ContextBuilder`` holds automatic entry ``i`` as
``~i``, apart from the player's entries, which a new one of theirs cannot shift). A name that
stops being one (an undo, an entry of the player's for it, dropped) leaves an empty entry in
its place, which is never shown or triggered.

Cost: turns older than the last ``TAIL`` are counted once, as they settle; the last ``TAIL``
(which a retry, an alternative, more of the last reply or an undo change) are counted afresh
at each update. An edit of an older turn (``changed_at``) or a story shrunk below the
settled part counts again from the start.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from gpt2_adventure.story.model import StoryState, Turn, WorldEntry
from gpt2_adventure.story.recall.passages import sentences
from gpt2_adventure.story.recall.query import WORD, salient, words

TAIL = 8  # the last turns counted afresh at each update
TELLING = 2  # salient words besides the name that make a sentence tell something of it
MAX_SENTENCE = 200  # characters of a sentence an entry holds (a longer one is cut at a word)
EMPTY = WorldEntry(keys=(), content="")  # the place of a name that is no longer one

# Capitalised words that are not names of anything the story introduces.
_COMMON_TEXT = """
mr mrs ms miss dr sir madam lord lady king queen prince princess duke duchess captain
master mistress father mother brother sister uncle aunt doctor professor general sergeant
god gods heaven hell earth
monday tuesday wednesday thursday friday saturday sunday january february march april june
july august september october november december
hello hey hi goodbye bye yes yeah nope okay sorry thanks thank please welcome wow ah oh ooh
huh hmm uh um well alright fine sure great good nice
chapter part book volume page act scene end the
"""
COMMON = frozenset(_COMMON_TEXT.split())


def _possessive(word: str) -> str:
    return word.removesuffix("'s").removesuffix("’s")


def could_be_name(word: str) -> bool:
    """A capitalised word that may name someone or something: not a stop word or a common
    word, not in capitals throughout ("OK", "THE END")."""
    low = word.lower()
    return (word[:1].isupper() and salient(low) and low not in COMMON
            and not (len(word) > 1 and word.isupper()))


def _cut(sentence: str) -> str:
    if len(sentence) <= MAX_SENTENCE:
        return sentence
    return sentence[:MAX_SENTENCE].rsplit(" ", 1)[0].rstrip(",;:") + "…"


@dataclass
class Seen:
    """What a run of turns tells of one name. A sentence *tells* when it has at least
    ``TELLING`` salient words besides the name: "You talk to Brannoc." names him, "Brannoc
    the smith hid the key." tells of him; the sentences kept are the first and the latest
    that tell, or the first and latest at all until one does."""

    name: str  # as first written (not at a sentence start, once it has been so written)
    first: str  # the sentence that introduced it
    latest: str  # the latest sentence about it
    count: int = 0  # times written capitalised
    inside: bool = False  # written at least once not at the start of a sentence
    first_tells: bool = False
    latest_tells: bool = False

    def saw(self, sentence: str, tells: bool, inside: bool) -> None:
        self.count += 1
        self.inside = self.inside or inside
        if tells and not self.first_tells:
            self.first, self.first_tells = sentence, True
        if tells or not self.latest_tells:
            self.latest, self.latest_tells = sentence, tells


@dataclass
class Tally:
    """Names and lower-case words counted over a run of turns."""

    names: dict[str, Seen] = field(default_factory=dict)  # by the name in lower case
    # every word as written, so written[name] counts the name's lower-case uses
    written: Counter[str] = field(default_factory=Counter)

    def add(self, text: str) -> set[str]:
        """Count a turn's ``text``; returns the names (in lower case) whose count it changed,
        capitalised or not."""
        touched: set[str] = set()
        every = WORD.findall(text)
        self.written.update(every)
        for sentence in sentences(text):
            if not any(w[0].isupper() and could_be_name(_possessive(w))
                       for w in WORD.findall(sentence)):
                continue  # most sentences: nothing but "You" or "The" capitalised
            found = [(_possessive(word), inside) for word, inside in words(sentence)]
            tells = sum(1 for word, _ in found if salient(word.lower())) > TELLING
            kept = _cut(sentence)
            for word, inside in found:
                if not could_be_name(word):
                    continue
                key = word.lower()
                seen = self.names.get(key)
                if seen is None:
                    seen = self.names[key] = Seen(word, kept, kept)
                elif inside and not seen.inside:
                    seen.name = word  # spelled as it is written inside a sentence
                seen.saw(kept, tells, inside)
                touched.add(key)
        return touched | (self.names.keys() & set(every))


def _merged(old: Seen | None, new: Seen | None) -> Seen:
    """One name over the settled turns (``old``) and the last ones (``new``)."""
    if old is None or new is None:
        only = old or new
        assert only is not None
        return only
    first = old if old.first_tells or not new.first_tells else new
    latest = new if new.latest_tells or not old.latest_tells else old
    return Seen(old.name if old.inside or not new.inside else new.name, first.first,
                latest.latest, old.count + new.count, old.inside or new.inside,
                first.first_tells, latest.latest_tells)


def qualifies(seen: Seen, lower: int) -> bool:
    """Is ``seen`` a name, written ``lower`` times in lower case?"""
    return seen.count >= 2 and seen.inside and lower < seen.count


def entry_for(seen: Seen) -> WorldEntry:
    first, latest = seen.first, seen.latest
    return WorldEntry(keys=(seen.name,), content=first if latest == first else
                      f"{first} {latest}")


def shown(state: StoryState) -> list[tuple[int, WorldEntry]]:
    """The automatic entries there are, with their places in ``state.lore``."""
    return [(i, entry) for i, entry in enumerate(state.lore) if entry.content]


def numbered(state: StoryState) -> list[tuple[WorldEntry, int | None]]:
    """Every world entry as ``/world`` numbers it (from 1): the game's own first, then the
    automatic ones; each with its place in ``state.lore`` (None: one of the game's own)."""
    own: list[tuple[WorldEntry, int | None]] = [(entry, None) for entry in state.world]
    return own + [(entry, i) for i, entry in shown(state)]


def taken_names(state: StoryState) -> set[str]:
    """Names (in lower case) no automatic entry may have: keys of the game's own entries, the
    names the player dropped, a chat's speakers."""
    taken = {key.strip().lower() for entry in state.world for key in entry.keys}
    taken |= {name.lower() for name in state.dropped_lore}
    if state.chat is not None:
        taken |= {name.lower() for name in (*state.chat.speakers, state.chat.player)}
    return taken


class AutoLore:
    """The automatic entries of one game, kept up to date by ``update`` after each change."""

    def __init__(self) -> None:
        self._state: StoryState | None = None
        self._settled = Tally()
        self._turns: list[Turn] = []  # the settled turns, as counted
        self._qualified: dict[str, Seen] = {}  # names of the settled turns alone
        self._places: dict[str, int] = {}  # name (lower case) -> its place in state.lore

    def changed_at(self, index: int) -> None:
        """Turn ``index`` is changed in place (an edit): count again if it was settled."""
        if index < len(self._turns):
            self._recount()

    def _recount(self) -> None:
        self._settled, self._turns, self._qualified = Tally(), [], {}

    def update(self, state: StoryState, on: bool = True) -> bool:
        """Bring ``state.lore`` in line with the story (``on`` False: no entries); returns
        whether it changed."""
        if state is not self._state:  # another story (a load): its own places
            self._state, self._places = state, {}
            state.lore = []
            self._recount()
        if not on:
            return self._place(state, {})
        turns = state.turns
        settle = max(0, len(turns) - TAIL)
        known = len(self._turns)
        # An undo took settled turns back (each change updates, so it is seen here), or
        # other turns came in their place: count again.
        if known > settle or (known and turns[known - 1] is not self._turns[-1]):
            self._recount()
            known = 0
        for turn in turns[known:settle]:
            for key in self._settled.add(turn.text):
                self._requalify(key)
            self._turns.append(turn)
        tail = Tally()
        for turn in turns[settle:]:
            tail.add(turn.text)
        names = dict(self._qualified)
        for key in tail.names.keys() | (self._settled.names.keys() & tail.written.keys()):
            seen = _merged(self._settled.names.get(key), tail.names.get(key))
            if qualifies(seen, self._settled.written[key] + tail.written[key]):
                names[key] = seen
            else:
                names.pop(key, None)
        taken = taken_names(state)
        return self._place(state, {key: entry_for(seen) for key, seen in names.items()
                                   if key not in taken})

    def _requalify(self, key: str) -> None:
        seen = self._settled.names[key]
        if qualifies(seen, self._settled.written[key]):
            self._qualified[key] = seen
        else:
            self._qualified.pop(key, None)

    def _place(self, state: StoryState, entries: dict[str, WorldEntry]) -> bool:
        lore, changed = state.lore, False
        for key, place in self._places.items():
            if key not in entries and lore[place] != EMPTY:
                lore[place] = EMPTY
                changed = True
        for key, entry in entries.items():
            at = self._places.get(key)
            if at is None:
                self._places[key] = len(lore)
                lore.append(entry)
                changed = True
            elif lore[at] != entry:
                lore[at] = entry
                changed = True
        return changed
