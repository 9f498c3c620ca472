"""JSON read from files the game did not write this minute (saves, journals, imports): the
standard, but NaN and Infinity refused, and every way it can fail one ``JsonProblem`` that
says which it was and where, for the caller to word as its own error."""

from __future__ import annotations

import json
from typing import Any, Literal, NoReturn

Failure = Literal["syntax", "nested", "value"]


class JsonProblem(ValueError):
    """Why the text is not JSON we read: not JSON at all (``syntax``, with its line and
    column), nested past Python's recursion limit (``nested``), or a value refused
    (``value``: NaN/Infinity, an integer too long to convert)."""

    def __init__(self, failure: Failure, detail: str = "", line: int = 0, column: int = 0):
        super().__init__(detail or failure)
        self.failure = failure
        self.detail = detail
        self.line, self.column = line, column

    def say(self, words: dict[Failure, str]) -> str:
        """The caller's message for this failure, ``{}`` standing for the detail."""
        return words[self.failure].format(self.detail)

    def place(self, where: str) -> str:
        """``where``, with the line and column when the text is not JSON at all."""
        return f"{where}:{self.line}:{self.column}" if self.line else where


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed")


def loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise JsonProblem("syntax", error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise JsonProblem("nested") from None
    except ValueError as error:  # NaN/Infinity, or an integer too long to convert
        raise JsonProblem("value", str(error)) from None
