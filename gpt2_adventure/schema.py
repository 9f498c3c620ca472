"""Settings declared once, on their dataclass fields.

A setting is a dataclass field made with ``setting(...)``: its type comes from the annotation,
its default from the field, and its bounds or choices, environment variable and one-line help
from the field's metadata. From the dataclass alone this module checks and converts a raw
value (a TOML value, an environment variable's text, a text box, ``/settings NAME VALUE``, a
seed's suggestion) with one wording, and lists the settings for display.

Dataclass metadata rather than pydantic-settings: the engine gains no dependency, its
dataclasses stay plain and frozen, and the command line starts fast (stdlib only; a class's
settings are read from it once, on first use).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

KEY = "gpt2_adventure.setting"  # the field-metadata key that makes a field a setting

Kind = Literal["bool", "int", "float", "text", "texts", "bias"]
TEXT_KINDS: tuple[Kind, ...] = ("bool", "int", "float", "text")  # settable from one line

_WANT: dict[Kind, str] = {
    "bool": "true or false", "int": "an integer (a whole number)", "float": "a number",
    "text": "text", "texts": "a list of texts",
    "bias": 'a table of token id = bias, e.g. { "50256" = -100.0 }',
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_TOKEN_ID = re.compile(r"-?[0-9]+")
_BAD = object()


@dataclass(frozen=True)
class Spec:
    """One setting, as declared (see ``setting``) and read from its field's annotation."""

    name: str
    kind: Kind
    default: Any
    help: str
    optional: bool = False  # None is a value: "not set" (see ``unset``)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is refused (> rather than >=)
    choices: tuple[Any, ...] = ()
    special: tuple[tuple[Any, str], ...] = ()  # allowed outside the bounds: (value, meaning)
    env: str | None = None  # the environment variable that overrides it
    secret: bool = False  # left out of listings while empty (a key is never shown blank)
    label: str = ""  # a shorter or friendlier name for screens ("" = the name)
    unset: str = ""  # what None means, shown where the value is empty
    screen: bool = False  # one of the few on the Settings screen

    @property
    def rule(self) -> str:
        """What a value must be, after "must be": ">= 0", "1..512", "one of a, b"."""
        return _rule(self)


def setting(default: Any = dataclasses.MISSING, *, help: str,
            factory: Any = dataclasses.MISSING, env: str | None = None,
            low: float | None = None, above: float | None = None, high: float | None = None,
            choices: tuple[Any, ...] = (), special: Mapping[Any, str] | None = None,
            secret: bool = False, label: str = "", unset: str = "",
            screen: bool = False) -> Any:
    """A dataclass field that is a setting. ``low``/``high`` are inclusive, ``above`` an
    exclusive lower bound; ``special`` values are allowed besides the bounds."""
    declared = {"help": help, "env": env, "low": above if above is not None else low,
                "low_open": above is not None, "high": high, "choices": tuple(choices),
                "special": tuple((special or {}).items()), "secret": secret, "label": label,
                "unset": unset, "screen": screen}
    return dataclasses.field(default=default, default_factory=factory,
                             metadata={KEY: declared})


def _class(obj: object) -> type:
    return type(obj)


@functools.cache
def specs(cls: type) -> tuple[Spec, ...]:
    """The settings declared on dataclass ``cls``, in field order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        declared = f.metadata.get(KEY)
        if declared is None:
            continue
        kind, optional, choices = _kind_of(hints[f.name], f"{cls.__name__}.{f.name}")
        default = (f.default_factory() if f.default_factory is not dataclasses.MISSING
                   else f.default)
        out.append(Spec(name=f.name, kind=kind, default=default, optional=optional,
                        **{**declared, "choices": declared["choices"] or choices}))
    return tuple(out)


def find(cls: type, name: str) -> Spec | None:
    return next((s for s in specs(cls) if s.name == name), None)


class SettingError(ValueError):
    """A value a setting cannot take. ``str()`` is the one-line message, e.g.
    ``[model].threads must be 1..512, got 0``; ``problem`` is the part after the name."""

    def __init__(self, key: str, problem: str, label: str | None = None,
                 hint: str | None = None):
        self.key, self.problem, self.hint = key, problem, hint
        super().__init__(f"{label or shown(key)} {problem}")


class UnknownSetting(SettingError):
    def __init__(self, key: str, label: str | None = None, hint: str | None = None):
        super().__init__(key, "is not a setting", label, hint)
        self.args = (f"unknown setting {label or shown(key)}",)


def shown(key: object) -> str:
    """A key as it can be shown in a one-line message."""
    text = str(key)
    return text if text.isprintable() else repr(text)[1:-1]


def check(spec: Spec, value: Any, label: str | None = None) -> Any:
    """``value`` as the setting holds it (ints become floats for numbers, lists tuples, token
    ids ints), or SettingError naming ``label`` (default: the setting's name)."""
    converted = _typed(spec, value)
    if converted is _BAD:
        raise SettingError(spec.name, f"must be {_WANT[spec.kind]}, got {_got(value)}", label)
    problem = bounds_problem(spec, converted)
    if problem:
        raise SettingError(spec.name, problem, label)
    return converted


def from_text(spec: Spec, text: str, label: str | None = None) -> Any:
    """A typed line (an environment variable, a text box, ``/settings``) as the setting's
    value; blank is None where None is allowed. Lists and tables cannot be typed."""
    raw = text.strip()
    if spec.optional and not raw:
        return None
    value: Any = text
    if spec.kind == "bool":
        low = raw.lower()
        value = True if low in _TRUE else False if low in _FALSE else text
    elif spec.kind in ("int", "float"):
        with contextlib.suppress(ValueError):  # the text itself is then what is "got"
            value = int(raw) if spec.kind == "int" else float(raw)
    elif spec.kind != "text":
        raise SettingError(spec.name, "cannot be set from one line of text", label)
    return check(spec, value, label)


def checked(cls: type, name: str, value: Any, label: str | None = None) -> Any:
    """``check`` for setting ``name`` of ``cls``; UnknownSetting if there is none."""
    spec = find(cls, name)
    if spec is None:
        known = ", ".join(s.name for s in specs(cls))
        raise UnknownSetting(name, label, hint=f"known settings: {known}")
    return check(spec, value, label)


def update(obj: Any, values: Mapping[str, Any], table: str | None = None) -> Any:
    """A copy of dataclass ``obj`` with ``values`` checked and set; ``table`` names the TOML
    table in messages (``[table].key``)."""
    changes = {key: checked(type(obj), key, value,
                            f"[{table}].{shown(key)}" if table else shown(key))
               for key, value in values.items()}
    return dataclasses.replace(obj, **changes)


def problems(obj: Any) -> list[tuple[str, str]]:
    """(name, problem) for each setting of ``obj`` outside its bounds or choices."""
    out = []
    for spec in specs(_class(obj)):
        problem = bounds_problem(spec, getattr(obj, spec.name))
        if problem:
            out.append((spec.name, problem))
    return out


def bounds_problem(spec: Spec, value: Any) -> str | None:
    if value is None or any(value == v for v, _ in spec.special):
        return None
    ok = not spec.choices or value in spec.choices
    if ok and spec.low is not None:
        ok = value > spec.low if spec.low_open else value >= spec.low
    if ok and spec.high is not None:
        ok = value <= spec.high
    return None if ok else f"must be {spec.rule}, got {_got(value)}"


def rows(obj: Any) -> list[tuple[Spec, Any]]:
    """Every setting of ``obj`` with its value, for display."""
    return [(spec, getattr(obj, spec.name)) for spec in specs(_class(obj))]


def plain(spec: Spec, value: Any) -> Any:
    """The value as TOML and JSON write it (lists, text keys)."""
    if spec.kind == "texts":
        return list(value)
    if spec.kind == "bias":
        return {str(k): v for k, v in value.items()}
    return value


def _typed(spec: Spec, value: Any) -> Any:
    if value is None:
        return None if spec.optional else _BAD
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    kind = spec.kind
    if kind == "bool":
        return value if isinstance(value, bool) else _BAD
    if kind == "int":
        return value if number and isinstance(value, int) else _BAD
    if kind == "float":
        return float(value) if number and math.isfinite(value) else _BAD
    if kind == "text":
        return value if isinstance(value, str) else _BAD
    if kind == "texts":
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        return tuple(value) if ok else _BAD
    if not isinstance(value, Mapping):  # bias: token id -> added logit (-inf bans it)
        return _BAD
    out = {}
    for k, v in value.items():
        good_key = (isinstance(k, str) and _TOKEN_ID.fullmatch(k)) or (
            isinstance(k, int) and not isinstance(k, bool))
        if not good_key or isinstance(v, bool) or not isinstance(v, (int, float)) \
                or math.isnan(v):
            return _BAD
        out[int(k)] = float(v)
    return out


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _rule(spec: Spec) -> str:
    if spec.choices:
        names = [str(c) for c in spec.choices]
        if spec.kind == "text":
            rule = f"one of {', '.join(names)}"
        else:
            rule = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    elif spec.low is not None and spec.high is not None:
        low, high = _number(spec.low), _number(spec.high)
        rule = f"{low}..{high}" if spec.kind == "int" else f"between {low} and {high}"
    elif spec.low is not None:
        rule = f"{'>' if spec.low_open else '>='} {_number(spec.low)}"
    elif spec.high is not None:
        rule = f"<= {_number(spec.high)}"
    else:
        rule = _WANT[spec.kind]
    extra = [f"{v} ({meaning})" if meaning else str(v) for v, meaning in spec.special]
    return " or ".join([*extra, rule])


def _kind_of(hint: Any, where: str) -> tuple[Kind, bool, tuple[Any, ...]]:
    """(kind, None allowed, choices) from a field's annotation."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            raise TypeError(f"{where}: a setting holds one type, not {hint}")
        hint = args[0]
    choices: tuple[Any, ...] = ()
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        hint = type(choices[0])
    origin = typing.get_origin(hint) or hint
    kinds: dict[Any, Kind] = {bool: "bool", int: "int", float: "float", str: "text",
                              tuple: "texts", dict: "bias"}
    if origin not in kinds:
        raise TypeError(f"{where}: no setting kind for {hint}")
    return kinds[origin], optional, choices
