"""AI Dungeon: Clover Edition saves (``saves/<name>.json``) and prompts (``prompts/**/*.txt``).

A save holds ``context`` (kept in view all game), ``memory`` (a list of facts the player
added, also kept in view), and parallel lists ``actions``/``results``; ``actions[0]`` is the
prompt the game started from. Clover stored every piece trimmed and joined them with blank
lines, so the separators are put back here: an action (``You go north.``) becomes a player
turn written as ours are (``"\\n> You go north.\\n"``), a story insert a ``story`` turn on a
new line, and a result follows on the same line when it continues a sentence (as Clover
printed it), else after a blank line.

A prompt file's first line is the context kept in view (memory); the rest is the opening.
"""

from __future__ import annotations

import re

from gpt2_adventure.story.fields import Fields
from gpt2_adventure.story.importers.common import ImportProblem, import_fields, need_object
from gpt2_adventure.story.importers.imported import ImportedStory
from gpt2_adventure.story.model import ActionKind, Turn

SAVE_FORMAT = "a Clover Edition save"
PROMPT_FORMAT = "a Clover Edition prompt"
SAMPLING_KEYS = ("temp", "top-p", "top-keks", "rep-pen", "rep-pen-range", "rep-pen-slope")
_YOU = re.compile(r"you\b", re.IGNORECASE)
_SAY = re.compile(r"you say\b", re.IGNORECASE)
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*\s*$")
_CONTINUES = re.compile(r"[a-z.!?,;:'\")\]]")  # Clover's test for "this goes on the line"


def _memory(fields: Fields) -> list[str]:
    """Clover's memory: a list of texts (early versions: one text)."""
    value = fields.data.get("memory")
    if isinstance(value, str):
        return [fields.text("memory")]
    return fields.texts("memory")


def _separator(before: str, text: str) -> str:
    if not before or before[-1].isspace() or text[:1].isspace():
        return ""
    if _CONTINUES.match(text) and not _ENDS_SENTENCE.search(before):
        return " "
    return "\n\n"


def _action(action: str) -> Turn:
    if _YOU.match(action):
        kind_: ActionKind = "say" if _SAY.match(action) else "do"
        return Turn(role="player", text=f"\n> {action}\n", kind=kind_, raw=action)
    return Turn(role="player", text="\n" + action, kind="story", raw=action)


def story_from_save(doc: object, where: str, title: str) -> tuple[ImportedStory, list[str]]:
    fields = import_fields(need_object(doc, where, "a Clover Edition save"), where)
    context = fields.text("context")
    memory = _memory(fields)
    actions = fields.texts("actions")
    results = fields.texts("results")
    dropped: list[str] = []
    if len(actions) != len(results):
        extra = abs(len(actions) - len(results))
        dropped.append(f"{extra} {'actions' if len(actions) > len(results) else 'results'} "
                       "without a partner (actions and results should pair up)")
        actions, results = actions[:len(results)], results[:len(actions)]
    if actions and actions[0].strip():
        opening = actions[0]
    elif context.strip():
        opening = context  # a game started from the context alone
    else:
        raise ImportProblem("the save has no context and no prompt: there is no story to "
                            "import", where)
    turns: list[Turn] = []
    text = opening
    for index, (action, result) in enumerate(zip(actions, results)):
        if index > 0 and action.strip():  # actions[0] is the opening; "" was "continue"
            turn = _action(action)
            turns.append(turn)
            text = turn.text
        if result.strip():
            reply = _separator(text, result) + result
            turns.append(Turn(role="model", text=reply, alternatives=[reply]))
            text = reply
    pinned = "\n".join(part for part in (context, *memory) if part.strip())
    settings = [key for key in SAMPLING_KEYS if key in fields.data]
    if settings:
        dropped.append(f"Clover's generation settings ({', '.join(settings)}); your "
                       "gpt2-adventure settings apply")
    story = ImportedStory(title=title, mode="adventure", opening=opening, memory=pinned,
                         turns=turns)
    return story, dropped


def story_from_prompt(text: str, where: str, title: str) -> tuple[ImportedStory, list[str]]:
    """A prompt file: line one is the context (memory), the rest the opening."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ImportProblem("the prompt file is empty", where)
    first, _, rest = text.partition("\n")
    rest = rest.strip()
    if not rest:
        return ImportedStory(title=title, mode="adventure", opening=first.strip()), [
            "the prompt file has one line: it is the opening (there is no separate context "
            "to keep in view)"]
    return ImportedStory(title=title, mode="adventure", opening=rest,
                         memory=first.strip()), []
