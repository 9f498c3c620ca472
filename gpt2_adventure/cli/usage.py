"""Typer's usage errors (a bad option value, a missing argument, an unknown command or option)
told as the CLI tells every other error: one ``error:`` line, at most one ``hint:`` line.

Typer would print its usage line, a "Try --help" line and a boxed message instead; ``main``
runs the command without Typer's own error handling and hands such errors to ``describe``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

# typer carries its own copy of click from 0.26 (pinned in pyproject.toml); its errors are these.
from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)

__all__ = ["NoArgsIsHelpError", "UsageError", "describe", "nearest"]

# Words a player may reach for, and the commands that do it (the first one a group has wins).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "check": ("validate",), "verify": ("validate",), "lint": ("validate",),
    "test": ("validate",),
    "ls": ("list",), "dir": ("list",), "all": ("list",),
    "rm": ("delete", "remove"), "del": ("delete", "remove"), "erase": ("delete", "remove"),
    "uninstall": ("remove",), "delete": ("remove",), "remove": ("delete",),
    "create": ("new",), "add": ("new",), "make": ("new",), "template": ("new",),
    "cat": ("show",), "view": ("show",), "print": ("show",), "read": ("show",),
    "download": ("pull",), "get": ("pull",), "install": ("pull",), "fetch": ("pull",),
    "start": ("play",), "run": ("play",), "talk": ("chat",),
    "benchmark": ("bench",), "tune": ("bench",), "settings": ("config",), "model": ("models",),
    "seeds": ("stories",), "card": ("import-card",), "info": ("show",),
}
_INPUT_SHOULD = re.compile(r"^Input should be ", re.IGNORECASE)


def nearest(word: str, choices: Sequence[str]) -> str | None:
    """The choice a mistyped or mis-remembered ``word`` most likely meant, if any: a choice
    spelt nearly so, or one a word spelt nearly so stands for (``chek`` → ``validate``)."""
    meaning = {choice: choice for choice in choices}
    for synonym, meant in SYNONYMS.items():
        usable = [m for m in meant if m in choices]
        if usable and synonym not in meaning:
            meaning[synonym] = usable[0]
    close = difflib.get_close_matches(word.lower(), list(meaning), n=1, cutoff=0.6)
    return meaning[close[0]] if close else None


def describe(error: Any, args: Sequence[str], root: Any, prog: str) -> tuple[str, str]:
    """The ``error:`` text and the ``hint:`` text for a usage error; ``args`` are the command
    line's arguments (to quote a value back), ``root`` the command they ran under ``prog``."""
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else _command_path(root, args, prog)
    see = f"see: {where} --help"
    if isinstance(error, NoSuchOption):
        options = _options(ctx)
        guess = nearest(error.option_name.lstrip("-"), [o.lstrip("-") for o in options])
        meant = next((o for o in options if o.lstrip("-") == guess), None) if guess else None
        text = f"{where} has no option {error.option_name}"
        return (text + (f"; did you mean {meant}?" if meant else ""), see)
    if isinstance(error, MissingParameter):
        name = _param_name(error.param) if error.param is not None else "a value"
        kind = "option" if name.startswith("-") else "argument"
        return f"{where} needs the {kind} {name}", see
    if isinstance(error, BadParameter) and error.param is not None:
        name = _param_name(error.param)
        value = _given(args, list(getattr(error.param, "opts", ())))
        got = f" (got {value!r})" if value is not None else ""
        return f"{name} {_lower_first(_should(error.message))}{got}", see
    message = error.format_message()
    if isinstance(error, BadOptionUsage) and "requires an argument" in message:
        return f"{error.option_name} needs a value ({where})", see
    extra = re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", message)
    if extra:
        return (f"{where} got an extra argument: {extra.group(1)}",
                f"put text with spaces in quotes; {see}")
    unknown = re.match(r"No such command '(.*?)'\.", message)
    if unknown and ctx is not None:
        word = unknown.group(1)
        choices = list(ctx.command.list_commands(ctx)) if hasattr(ctx.command, "list_commands") \
            else []
        meant = nearest(word, choices)
        text = f"{where} has no command {word!r}"
        if meant:
            return f"{text}; did you mean '{where} {meant}'?", see
        return text, f"choose one of: {', '.join(choices)}" if choices else see
    return f"{_lower_first(message.rstrip('.'))} ({where})", see


def _command_path(root: Any, args: Sequence[str], prog: str) -> str:
    """The command the arguments name, e.g. ``gpt2-adventure saves export`` (for an error
    that carries no context)."""
    path, command = [prog], root
    for arg in args:
        sub = getattr(command, "commands", {}).get(arg)
        if sub is None:
            if arg.startswith("-"):
                continue  # an option of the group, e.g. --debug
            break
        path.append(arg)
        command = sub
    return " ".join(path)


def _options(ctx: Any) -> list[str]:
    if ctx is None:
        return []
    names: list[str] = []
    for param in ctx.command.get_params(ctx):
        names += [o for o in [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
                  if o.startswith("--")]
    return names


def _param_name(param: Any) -> str:
    """``--threads`` for an option, ``NAME`` for an argument."""
    opts = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
    if getattr(param, "param_type_name", "") == "option" and opts:
        return str(opts[0])
    return str(getattr(param, "metavar", None) or (param.name or "value").upper())


def _given(args: Sequence[str], opts: Sequence[str]) -> str | None:
    """The value given on the command line to an option called one of ``opts`` (the last)."""
    value = None
    for index, arg in enumerate(args):
        for opt in opts:
            if arg == opt and index + 1 < len(args):
                value = args[index + 1]
            elif opt.startswith("--") and arg.startswith(opt + "="):
                value = arg[len(opt) + 1:]
    return value


def _should(message: str) -> str:
    """Typer's "Input should be greater than or equal to 1" as "should be at least 1"."""
    text = _INPUT_SHOULD.sub("should be ", message.strip().rstrip("."))
    text = re.sub(r"valid (integer|number), unable to parse .*$",
                  lambda m: "whole number" if m.group(1) == "integer" else "number", text)
    text = text.replace("greater than or equal to", "at least")
    return text.replace("less than or equal to", "at most")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
