"""Adding a lorebook's entries to a story: a seed file, a saved game, or a seed in memory (a
card's, for ``chat --lorebook`` and ``stories import-card --lorebook``).

Everything is read and checked before anything is written, and each file is replaced
atomically: a failure leaves it as it was. An entry already there (the same keys and
content) is not added again, so attaching a lorebook twice changes nothing. A bundled seed is
never changed: it gets a copy in the player's stories folder (which then wins over it). A
saved game is changed only under its game lock, so not while that game is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from gpt2_adventure.errors import UserError
from gpt2_adventure.fileio import FileRefused, atomic_create, atomic_write, read_regular_file
from gpt2_adventure.paths import AppPaths, looks_like_path
from gpt2_adventure.resources import stories_dir
from gpt2_adventure.story.importers.common import ImportProblem
from gpt2_adventure.story.lorebooks.common import Lorebook, escaped, identity
from gpt2_adventure.story.lorebooks.read import Names, read_lorebook
from gpt2_adventure.story.model import Seed, StoryState, WorldEntry
from gpt2_adventure.story.seeds.fill import escape
from gpt2_adventure.story.seeds.library import (
    MAX_SEED_BYTES,
    find_seed,
    load_seed,
    parse_seed,
    seed_files,
)
from gpt2_adventure.story.seeds.to_toml import world_table
from gpt2_adventure.units import size_text

TargetKind = Literal["seed", "save"]
# Stand-ins for the names while the text is escaped (private-use characters).
_CHARACTER_MARK, _PLAYER_MARK = "\ue000char\ue001", "\ue000user\ue001"
_NAME_MARK = "\ue000name\ue001"


@dataclass
class Attached:
    """What adding one lorebook did."""

    book: Lorebook
    kind: TargetKind
    name: str  # the seed's id or the save's name
    path: Path  # the file written
    added: int = 0
    skipped: int = 0  # entries it already had
    copied: bool = False  # a bundled seed copied into the player's folder
    notes: list[str] = field(default_factory=list)


def fresh(existing: Iterable[WorldEntry], entries: Iterable[WorldEntry]
          ) -> tuple[list[WorldEntry], int]:
    """The entries not already present (same keys and content, ``common.identity``), and
    how many were."""
    seen = set(map(identity, existing))
    out, skipped = [], 0
    for entry in entries:
        if identity(entry) in seen:
            skipped += 1
            continue
        seen.add(identity(entry))
        out.append(entry)
    return out, skipped


def read_for_seed(seed: Seed, path: Path) -> tuple[Lorebook, list[WorldEntry]]:
    """A lorebook read for a seed: its entries as seed text (templates). In a chat seed,
    {{char}} and {{user}} become the seed's character and player as the seed writes them, so
    a ``{name}`` player is filled in when the game starts; a "You" player is "you", or
    ``{name}`` where "you" does not fit when the seed asks for a name (as a card does that
    calls the player by name)."""
    chat = seed.chat
    if chat is None:
        book = read_lorebook(path)
        return book, [escaped(e) for e in book.entries]
    names: Names = (_CHARACTER_MARK, _PLAYER_MARK)
    if chat.player == "You":  # said as prose; by name where "you" does not fit, when the
        # seed asks for one (a card that calls the player by name)
        asks = any(p.name == "name" for p in seed.placeholders)
        names = (_CHARACTER_MARK, "You", _NAME_MARK) if asks else (_CHARACTER_MARK, "You")
    book = read_lorebook(path, names)

    def template(text: str) -> str:
        return (escape(text).replace(_CHARACTER_MARK, chat.character)
                .replace(_PLAYER_MARK, chat.player).replace(_NAME_MARK, "{name}"))

    return book, [replace(e, keys=tuple(map(template, e.keys)), content=template(e.content),
                          secondary_keys=tuple(map(template, e.secondary_keys)))
                  for e in book.entries]


def state_names(state: StoryState) -> Names | None:
    chat = state.chat if state.mode == "chat" else None
    return (chat.character, chat.player) if chat is not None else None


def seed_with_lorebook(seed: Seed, path: Path) -> tuple[Seed, Attached]:
    """A seed in memory with a lorebook's entries added (macros with the seed's names)."""
    book, entries = read_for_seed(seed, path)
    new, skipped = fresh(seed.world, entries)
    attached = Attached(book, "seed", seed.id, seed.source or path, len(new), skipped)
    return replace(seed, world=(*seed.world, *new)), attached


# -- files --------------------------------------------------------------------------------

def attach_file(path: Path, into: str, paths: AppPaths) -> Attached:
    """Add the lorebook at ``path`` to the seed or save named by ``into``."""
    kind, found = _target(into, paths)
    if kind == "seed":
        assert isinstance(found, Seed)
        return _into_seed(path, found, paths)
    assert isinstance(found, Path)
    return _into_save(path, found, paths)


def _target(into: str, paths: AppPaths) -> tuple[TargetKind, Seed | Path]:
    from gpt2_adventure.story.saves.store import SaveStore

    spec = into.strip()
    if not spec:
        raise UserError("--into needs a story seed or a saved game", "--into")
    if looks_like_path(spec, ".toml") and spec.endswith(".toml"):
        return "seed", load_seed(Path(spec).expanduser())
    store = SaveStore(paths)
    if looks_like_path(spec, ".json"):
        return "save", store.locate(spec)
    ids = {f.stem.casefold() for f in seed_files(paths)}
    try:
        save: Path | None = store.locate(spec)
    except UserError:
        save = None
    if spec.casefold() in ids:
        if save is not None:
            raise UserError(f"{spec!r} is both a story seed and a saved game", "--into",
                            hint=f"name the file instead: {save} for the save")
        return "seed", find_seed(paths, spec)
    if save is not None:
        return "save", save
    raise UserError(f"no story seed or saved game named {spec!r}", "--into",
                    hint="see them with: gpt2-adventure stories list / gpt2-adventure saves "
                         "list")


def _into_seed(path: Path, seed: Seed, paths: AppPaths) -> Attached:
    if seed.source is None:  # pragma: no cover - seeds from files always have one
        raise UserError("this seed has no file to add to", seed.id)
    book, entries = read_for_seed(seed, path)
    new, skipped = fresh(seed.world, entries)
    bundled = seed.source.resolve().parent == stories_dir().resolve()
    target = paths.stories_dir / f"{seed.id}.toml" if bundled else seed.source
    if not new:  # nothing to write: a bundled seed is not copied
        return Attached(book, "seed", seed.id, seed.source, 0, skipped)
    attached = Attached(book, "seed", seed.id, target, len(new), skipped, copied=bundled)
    text = _read_seed_text(seed.source) + "".join(world_block(e) for e in new)
    _check_seed(text, seed, len(new), target)
    data = text.encode("utf-8", "surrogatepass")
    try:
        if bundled:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not atomic_create(target, data, mode=0o644, temp_prefix=".lorebook-"):
                raise UserError("a seed file of that name appeared in your stories folder; "
                                "run the import again", target)
        else:
            atomic_write(target, data, mode=0o644, temp_prefix=".lorebook-")
    except OSError as error:
        raise UserError(f"cannot write the seed: {error.strerror or error}", target) from None
    return attached


def _read_seed_text(source: Path) -> str:
    try:
        raw = read_regular_file(source, MAX_SEED_BYTES, "seed file")
        text = raw.decode("utf-8-sig")
    except (FileRefused, UnicodeDecodeError) as error:
        raise UserError(f"cannot read the seed again: {error}", source) from None
    return text if text.endswith("\n") or not text else text + "\n"


def world_block(entry: WorldEntry) -> str:
    """One ``[[world]]`` table, as ``stories/README.md`` describes it, after a blank line."""
    return "\n" + "\n".join(world_table(entry)) + "\n"


def _check_seed(text: str, seed: Seed, added: int, where: Path) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_SEED_BYTES:
        raise ImportProblem(f"the seed would be larger than a seed may be "
                            f"({size_text(MAX_SEED_BYTES)}) with these entries", where)
    try:
        again = parse_seed(text, seed.id, where)
    except UserError as error:
        raise ImportProblem(f"cannot add world entries to this seed file: {error.message}",
                            where) from None
    if len(again.world) != len(seed.world) + added:
        raise ImportProblem("cannot add world entries to this seed file (its world info is "
                            "not written as [[world]] tables)", where)


def _into_save(path: Path, save: Path, paths: AppPaths) -> Attached:
    from gpt2_adventure.story.saves.format import decode, encode
    from gpt2_adventure.story.saves.store import SaveStore

    store = SaveStore(paths)
    first = store.load_document(save)
    with store.hold(first.state.id):  # refused while the game is open
        doc = store.load_document(save)
        state = doc.state
        book = read_lorebook(path, state_names(state))
        new, skipped = fresh(state.world, book.entries)
        name = doc.name or save.stem
        attached = Attached(book, "save", name, save, len(new), skipped)
        if not new:
            return attached
        state.world = [*state.world, *new]
        if save.parent.resolve() == store.saves_dir.resolve():
            store.save(state, save.stem)  # keeps a copy of an older-version file
            return attached
        data = encode(state, name)
        decode(data, str(save))  # never write a file we could not load back
        try:
            atomic_write(save, data, temp_prefix=".save-")
        except OSError as error:
            raise UserError(f"cannot write the save: {error.strerror or error}",
                            save) from None
    return attached
