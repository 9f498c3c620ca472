"""Story seeds: how a game starts, as TOML files (``format = 1``).

Bundled seeds ship in ``stories/``; the player's own live in ``AppPaths.stories_dir`` and win
over a bundled seed with the same id (file stem). The format is documented in
``stories/README.md``; the checks are in ``seed_check``, writing in ``seed_toml``.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

from gpt2_adventure.errors import UserError
from gpt2_adventure.fileio import FileRefused, read_regular_file
from gpt2_adventure.paths import AppPaths, looks_like_path
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.model import ChatSpec, Seed, WorldEntry
from gpt2_adventure.story.seeds.check import FORMAT, Problem, check_seed
from gpt2_adventure.story.seeds.fill import fill
from gpt2_adventure.story.seeds.lines import KeyLines
from gpt2_adventure.story.seeds.template import TEMPLATE, TEMPLATE_TITLE_LINE
from gpt2_adventure.story.seeds.to_toml import to_toml, toml_string
from gpt2_adventure.units import size_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_SEED_BYTES = 1_000_000
_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)\s*$")
_SIMPLE_NAME = re.compile(r"\w[\w.-]{0,63}")

__all__ = ["FORMAT", "MAX_SEED_BYTES", "TEMPLATE", "SeedError", "bundled_seed_named", "fill",
           "fill_seed", "find_seed", "list_seeds", "load_seed", "parse_seed", "seed_files",
           "seed_origin", "to_toml", "write_template"]


class SeedError(UserError):
    """A seed file that cannot be used; ``where`` is ``file:line`` (or just the file)."""

    def __init__(self, message: str, path: str | Path, line: int | None = None,
                 field: str = ""):
        super().__init__(message, f"{path}:{line}" if line else str(path))
        self.path = str(path)
        self.line = line
        self.field = field


def parse_seed(text: str, seed_id: str, where: str | Path = "<seed>",
               source: Path | None = None) -> Seed:
    """Parse and validate seed text. ``where`` names the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_POSITION.search(message)
        line = len(text.splitlines()) or 1
        if found:
            message = message[:found.start()]
            line = int(found.group(1)) if found.group(1) else line
        raise SeedError(f"invalid TOML: {message}", where, line) from None
    except RecursionError:
        raise SeedError("invalid TOML: nested too deeply", where) from None
    try:
        seed = check_seed(data, seed_id)
    except Problem as problem:
        lines = KeyLines(text)
        line = (lines.line_of_text(problem.needle, problem.line_at) if problem.needle
                else lines.line_of(problem.line_at))
        raise SeedError(f"{problem.label}: {problem.message}", where, line,
                        problem.label) from None
    return replace(seed, source=source)


def load_seed(path: Path | str) -> Seed:
    """Read and validate one seed file. Raises SeedError."""
    path = Path(path)
    try:
        raw = read_regular_file(path, MAX_SEED_BYTES, "seed file")
    except FileRefused as refused:
        if refused.reason == "too_large":
            raise SeedError(f"the file is too large; a seed may be at most "
                            f"{size_text(MAX_SEED_BYTES)}", path, 1) from None
        raise SeedError(str(refused), path) from None
    try:
        text = raw.decode("utf-8-sig")  # tolerate the byte-order mark some editors write
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SeedError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as "
                        "UTF-8", path, line) from None
    return parse_seed(text, path.stem, path, source=path)


def seed_files(paths: AppPaths) -> list[Path]:
    """Bundled seed files, then the player's own, each sorted by name."""
    out: list[Path] = []
    for folder in (stories_dir(), paths.stories_dir):
        if folder.is_dir():
            out += sorted(p for p in folder.glob("*.toml") if p.is_file())
    return out


def list_seeds(paths: AppPaths) -> tuple[list[Seed], list[SeedError]]:
    """Every usable seed (the player's own replacing a bundled one of the same id) and the
    errors of the broken ones, which do not hide the others."""
    by_id: dict[str, Seed] = {}
    errors: list[SeedError] = []
    for file in seed_files(paths):
        try:
            seed = load_seed(file)
        except SeedError as error:
            errors.append(error)
            continue
        by_id[seed.id] = seed  # own files come later and win
    return list(by_id.values()), errors


def seed_origin(seed: Seed, paths: AppPaths) -> Literal["bundled", "own", "file"]:
    """Where a seed came from: shipped with the game, the player's stories dir, or elsewhere."""
    if seed.source is None:
        return "file"
    folder = seed.source.resolve().parent
    if folder == stories_dir().resolve():
        return "bundled"
    if folder == paths.stories_dir.resolve():
        return "own"
    return "file"


def find_seed(paths: AppPaths, spec: str) -> Seed:
    """A seed by file path or by id (file stem); the player's own wins over a bundled one."""
    if not spec.strip():
        raise UserError("no story name given", hint="see them with: gpt2-adventure stories list")
    if looks_like_path(spec, ".toml"):
        return load_seed(Path(spec).expanduser())
    # Listing (rather than testing folder / f"{spec}.toml") keeps ids exact on
    # case-insensitive file systems; the player's files come last and win.
    ids = {file.stem: file for file in seed_files(paths)}
    if spec in ids:
        return load_seed(ids[spec])
    folded = {stem.casefold(): file for stem, file in ids.items()}
    if spec.casefold() in folded:
        return load_seed(folded[spec.casefold()])
    close = difflib.get_close_matches(spec, list(ids), n=3)
    guess = "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""
    raise UserError(f"unknown story {spec!r}{guess}",
                    hint="see them all with: gpt2-adventure stories list")


def fill_seed(seed: Seed, values: Mapping[str, str]) -> Seed:
    """The seed with its placeholders filled in (and ``{{``/``}}`` turned into braces).

    A placeholder missing from ``values`` gets its default. The filled seed has no
    placeholders left: its texts are plain text, ready for the model.
    """
    answers = {p.name: p.default for p in seed.placeholders} | dict(values)

    def f(text: str) -> str:
        return fill(text, answers)

    chat = seed.chat
    if chat is not None:
        chat = ChatSpec(character=f(chat.character), persona=f(chat.persona),
                        example_dialogue=f(chat.example_dialogue), greeting=f(chat.greeting),
                        player=f(chat.player), others=tuple(f(o) for o in chat.others),
                        alternate_greetings=tuple(map(f, chat.alternate_greetings)))
    world = tuple(WorldEntry(keys=tuple(f(k) for k in w.keys), content=f(w.content),
                             secondary_keys=tuple(f(k) for k in w.secondary_keys),
                             always=w.always, comment=w.comment) for w in seed.world)
    return replace(seed, openings=tuple(f(o) for o in seed.openings), memory=f(seed.memory),
                   authors_note=f(seed.authors_note), world=world, chat=chat,
                   placeholders=())


def bundled_seed_named(stem: str) -> Path | None:
    """The bundled seed file a seed of the player's called ``stem`` would replace (the ids
    compared without case: a case-insensitive file system would mix them up)."""
    folder = stories_dir()
    if not folder.is_dir():
        return None
    return next((p for p in sorted(folder.glob("*.toml"))
                 if p.stem.casefold() == stem.casefold()), None)


def write_template(paths: AppPaths, name: str, text: str | None = None, *,
                   shadow: bool = False) -> Path:
    """Write a new seed (the commented TEMPLATE, or ``text``) into the player's stories dir.

    ``name`` must be a plain file name (``.toml`` optional); an existing file is never
    overwritten. A name a bundled seed has is refused unless ``shadow``: the player's seed
    would replace the bundled one everywhere (``play`` would open it).
    """
    stem = name.removesuffix(".toml")
    if not _SIMPLE_NAME.fullmatch(stem) or ".." in stem:
        raise UserError(f"{name!r} is not a simple file name", hint="use letters, digits, "
                        "'-', '_' and '.' (at most 64), no folders, e.g. my-story")
    bundled = bundled_seed_named(stem)
    if bundled is not None and not shadow:
        raise UserError(f"{stem!r} is the name of a bundled story; yours would replace it",
                        hint="pick another name, or pass --force to replace the bundled "
                             "story with yours")
    if text is None:
        text = TEMPLATE.replace(TEMPLATE_TITLE_LINE, f"title = {toml_string(stem)}", 1)
    folder = paths.stories_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.toml"
    try:
        with target.open("x", encoding="utf-8", newline="\n") as file:
            file.write(text)
    except FileExistsError:
        raise UserError(f"a story named {stem!r} already exists", target,
                        hint="pick another name, or edit that file") from None
    return target
