"""Slash commands typed in the game (TUI and plain mode): parsing and help."""

from __future__ import annotations

from dataclasses import dataclass

# name -> (argument synopsis, one-line help). Order is the order /help shows.
COMMANDS: dict[str, tuple[str, str]] = {
    "do": ("TEXT", "act: 'open the door' becomes '> You open the door.'"),
    "say": ("TEXT", "speak: 'hello' becomes '> You say \"Hello.\"'"),
    "story": ("TEXT", "write narration into the story yourself"),
    "retry": ("", "a new reply to the last action (the old one stays as an alternative)"),
    "alt": ("[next|prev]", "flip the last reply between its alternatives (best first), with "
                           "its score and how many more are ready"),
    "pick": ("N", "show reply N of the last turn: 1.. the ones shown, then the ones written "
                  "ahead"),
    "undo": ("", "take back the last action and its reply"),
    "redo": ("", "bring back what undo took"),
    "continue": ("", "ask the model to write more"),
    "edit": ("[N] TEXT", "replace turn N (default: the last reply) with TEXT"),
    "remember": ("TEXT", "pin a fact into memory (always in the model's view)"),
    "forget": ("N", "remove memory line N"),
    "pin": ("N", "copy turn N into memory"),
    "memory": ("", "show the memory lines"),
    "note": ("[TEXT|-]", "show, set or clear (-) the author's note"),
    "world": ("[add KEYS = TEXT | remove N | keep N | import FILE]",
              "list, add or remove world info (automatic lore, marked (auto), stays removed; "
              "keep N makes it your own); import a lorebook (SillyTavern, KoboldAI, "
              "character book)"),
    "save": ("[--replace] [NAME]", "save the game (default: the name it was saved as, else "
                                   "its title); --replace: over another game's save"),
    "load": ("NAME", "load a saved game"),
    "export": ("md|txt|kobold|lorebook|sillytavern FILE",
               "write the story to a file (lorebook: its world info as SillyTavern World "
               "Info; sillytavern: a chat as a SillyTavern chat log)"),
    "context": ("[ACTION]", "what GPT-2 sees: the next reply's prompt, part by part (for "
                            "ACTION, without sending it; /say or /story before it for those)"),
    "settings": ("[NAME VALUE]", "show or change sampling, recall and auto_lore settings"),
    "help": ("[COMMAND]", "list the commands, or explain one"),
    "quit": ("", "leave (the game is autosaved)"),
}
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help", "r": "retry",
           "u": "undo", "c": "continue", "e": "edit", "mem": "memory"}


@dataclass(frozen=True)
class Command:
    name: str
    arg: str = ""


class CommandError(ValueError):
    """An unknown command, or one used wrongly; the message says how to use it."""


def parse(line: str) -> Command | None:
    """``"/note grim"`` -> Command("note", "grim"); a line without a leading slash -> None."""
    stripped = line.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None  # "//x" is an escape for text that starts with a slash
    word, _, arg = stripped[1:].partition(" ")
    name = ALIASES.get(word.lower(), word.lower())
    if name not in COMMANDS:
        close = [c for c in COMMANDS if c.startswith(name[:2])] if name else []
        hint = f"; did you mean {', '.join('/' + c for c in close)}?" if close else ""
        raise CommandError(f"unknown command /{word}{hint} (/help lists them)")
    return Command(name, arg.strip())


def completions(prefix: str) -> list[str]:
    """Commands starting with ``prefix`` (which includes the slash)."""
    if not prefix.startswith("/") or " " in prefix:
        return []
    return ["/" + name for name in COMMANDS if name.startswith(prefix[1:].lower())]


def usage(name: str) -> str:
    synopsis, text = COMMANDS[name]
    return f"/{name}{' ' + synopsis if synopsis else ''} — {text}"


def help_text(name: str = "") -> list[str]:
    if name:
        key = ALIASES.get(name.lstrip("/").lower(), name.lstrip("/").lower())
        if key not in COMMANDS:
            raise CommandError(f"no command /{name.lstrip('/')}")
        return [usage(key)]
    return [usage(n) for n in COMMANDS]
