"""Import seeds and saved games from AI Dungeon (2 and later), Clover Edition, KoboldAI,
KoboldAI United, NovelAI and SillyTavern, and characters (cards, RisuAI .charx,
text-generation-webui) as chat seeds; every format is told by content (``detect.py``).

Two steps, so nothing is ever half-written: ``convert_*`` reads and converts a file in memory
and validates every seed it would create (raising ``UserError`` on a file it cannot use);
``write_conversion`` then writes them, each atomically (a file makes at most one save, which
``SaveStore.save`` checks loads back before writing it). Seeds go to the player's stories
folder and are never overwritten (an existing one is reported as skipped, so importing the
same file twice changes nothing); saves get a name made from the file name, numbered when
taken (``castle 2``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Literal

from gpt2_adventure.errors import UserError
from gpt2_adventure.paths import AppPaths
from gpt2_adventure.story.importers import aidungeon, clover, kobold, kobold_united
from gpt2_adventure.story.importers.common import (
    ImportProblem,
    decode_text,
    kind,
    numbered,
    read_bytes,
    save_name,
    seed_id,
    unique,
    write_new,
)
from gpt2_adventure.story.importers.detect import (
    FORMATS,
    Detected,
    Format,
    detect,
    detect_binary,
)
from gpt2_adventure.story.importers.imported import (
    Conversion,
    ImportedStory,
    ImportResult,
    Item,
)
from gpt2_adventure.story.importers.kobold import export_kobold, to_kobold
from gpt2_adventure.story.importers.summary import what_found
from gpt2_adventure.story.model import Seed
from gpt2_adventure.story.seeds.library import MAX_SEED_BYTES, parse_seed, to_toml
from gpt2_adventure.units import size_text

AsKind = Literal["seed", "save"]
AS_KINDS: tuple[str, ...] = ("seed", "save")
_LABELS: dict[str, str] = {"aid2-seeds": aidungeon.SEEDS_FORMAT,
                           "aid2-save": aidungeon.SAVE_FORMAT,
                           "clover-save": clover.SAVE_FORMAT,
                           "clover-prompt": clover.PROMPT_FORMAT, "kobold": kobold.FORMAT,
                           "kobold-united": kobold_united.FORMAT,
                           "lorebook": "a lorebook (world info)",
                           "card": "a character card (SillyTavern, TavernAI)",
                           "novelai-story": "a NovelAI story",
                           "aid-scenarios": "AI Dungeon scenarios",
                           "textgen-character": "a text-generation-webui character",
                           "charx": "a RisuAI character (.charx)",
                           "st-chat": "a SillyTavern chat",
                           "novelai-scenario": "a NovelAI scenario"}
_SEED_PREFIX = {"aid2-save": "aid2", "clover-save": "clover", "clover-prompt": "clover",
                "kobold": "kobold", "kobold-united": "kobold", "novelai-story": "novelai",
                "st-chat": "sillytavern"}

__all__ = ["AS_KINDS", "FORMATS", "AsKind", "Conversion", "ImportProblem", "ImportResult",
           "Item", "convert_bytes", "convert_document", "convert_file", "export_kobold",
           "import_file", "to_kobold", "write_conversion"]


def convert_file(path: Path, as_: AsKind | None = None,
                 character: Path | None = None) -> Conversion:
    """Read and convert one file (nothing is written). ``character``: the card of a
    SillyTavern chat (else one named like its character is looked for beside it)."""
    return convert_bytes(read_bytes(path), str(path), as_, character, path.parent)


def convert_bytes(data: bytes, name: str, as_: AsKind | None = None,
                  character: Path | None = None, beside: Path | None = None) -> Conversion:
    """Convert a file's bytes; ``name`` is its path or name (shown in messages; its stem names
    what is created, its extension breaks ties in detection); ``beside`` is its folder."""
    detected = detect_binary(data, name)
    notes: list[str] = []
    if detected is None:
        text, notes = decode_text(data, name)
        detected = detect(text, name, PurePath(name).suffix)
    if as_ is not None and as_ not in AS_KINDS:
        raise UserError(f"--as should be seed or save, not {as_!r}")
    if character is not None and detected.format != "st-chat":
        raise ImportProblem("--character goes with a SillyTavern chat, and this is not one",
                            name)
    conversion = _convert(detected, name, as_, character, beside)
    conversion.notes[:0] = notes
    return conversion


def convert_document(doc: object, fmt: Format, name: str,
                     as_: AsKind | None = None) -> Conversion:
    """Convert parsed content (JSON/YAML value, or a prompt file's text) of a known format."""
    if as_ is not None and as_ not in AS_KINDS:
        raise UserError(f"--as should be seed or save, not {as_!r}")
    return _convert(Detected(fmt, doc), name, as_)


def lorebook_label(doc: object) -> str:
    """Which lorebook a document is, as messages name it."""
    # The lorebook and card readers use this package's helpers: imported when needed.
    from gpt2_adventure.story.lorebooks import agnai, aidungeon, novelai, sillytavern
    from gpt2_adventure.story.lorebooks import kobold as lorebook_kobold
    from gpt2_adventure.story.lorebooks.read import lorebook_kind

    found = lorebook_kind(doc)
    labels = {"sillytavern": sillytavern.FORMAT, "kobold": lorebook_kobold.FORMAT,
              "novelai": novelai.FORMAT, "character-book": "a character book",
              "agnai": agnai.FORMAT,
              "aidungeon": aidungeon.CARDS_FORMAT if _has_cards(doc)
              else aidungeon.WORLD_INFO_FORMAT}
    return labels.get(found or "", "world info")


def _check_spec(card: object, where: str) -> None:
    spec = card.get("spec") if isinstance(card, dict) else None
    if spec is not None and not isinstance(spec, str):  # card_to_seed needs it hashable
        raise ImportProblem(f"spec should be text, not {kind(spec)}", where)


def _has_cards(doc: object) -> bool:
    return isinstance(doc, list) and any(isinstance(d, dict) and "value" in d for d in doc)


def _title(stem: str) -> str:
    return " ".join(re.split(r"[_\s]+", stem)).strip()[:80] or "Imported story"


def _convert(detected: Detected, where: str, as_: AsKind | None,
             character: Path | None = None, beside: Path | None = None) -> Conversion:
    fmt, doc = detected.format, detected.doc
    label = detected.label or _LABELS[fmt]
    stem = PurePath(where).stem
    out = Conversion(source=where, format=label)
    if fmt == "lorebook":
        what = detected.label or lorebook_label(doc)
        raise ImportProblem(f"this is a lorebook ({what}): world info to add to a story, not "
                            "a story",
                            where, hint="add it to a story seed or a saved game: "
                                        "gpt2-adventure import FILE --into SEED_OR_SAVE")
    if fmt in ("card", "textgen-character", "charx") and as_ == "save":
        raise ImportProblem("a character makes a chat seed, not a saved game; import it "
                            "without --as save", where)
    if fmt in ("card", "textgen-character", "charx"):
        seed, out.dropped = _character_seed(fmt, doc, where)
        out.seeds.append(seed)
    elif fmt == "aid-scenarios":
        from gpt2_adventure.story.importers import scenarios

        if as_ == "save":
            raise ImportProblem("a scenario makes story seeds (how a game starts), not a "
                                "saved game; import it without --as save", where)
        out.seeds, out.dropped, more = scenarios.seeds_from_scenarios(doc, where)
        out.notes += more
    elif fmt == "novelai-scenario":
        from gpt2_adventure.story.importers.novelai_scenario import seed_from_scenario

        if as_ == "save":
            raise ImportProblem("a scenario makes a story seed (how a game starts), not a "
                                "saved game; import it without --as save", where)
        seed, out.dropped, more = seed_from_scenario(doc, where, _title(stem))
        out.seeds.append(seed)
        out.notes += more
    elif fmt == "aid2-seeds":
        if as_ == "save":
            raise ImportProblem("this file holds story seeds (one per setting and character), "
                                "not a saved game; import it without --as save", where)
        out.seeds, out.dropped = aidungeon.seeds_from_story_data(doc, where)
    else:
        if fmt == "st-chat":
            from gpt2_adventure.story.importers.chat_import import chat_story

            story, out.dropped, more, out.format = chat_story(doc, where, _title(stem),
                                                              character, beside)
            out.notes += more
            if stem.isdigit() and story.chat is not None:  # SillyTavern's timestamp names
                stem = story.title = f"{story.chat.character} chat"
        else:
            story, out.dropped = _story(fmt, doc, where, stem, out.notes)
        if fmt == "kobold-united" and stem.lower() == "story":
            stem = story.title  # United keeps each story as <its name>/story.json
        if as_ == "seed" or (as_ is None and fmt == "clover-prompt"):
            description = f"Imported from {label} ({PurePath(where).name})"
            seed, dropped = story.to_seed(seed_id(_SEED_PREFIX[fmt], stem), description[:200])
            out.seeds.append(seed)
            out.dropped += dropped
        else:
            out.saves.append((save_name(stem), story.to_state()))
    for seed in out.seeds:  # all checked before any is written
        seed_text(seed, where)
    # A file makes at most one save, and SaveStore.save() checks that it loads back before
    # writing it; checking here too would double the time a large save takes.
    return out


def _character_seed(fmt: Format, doc: object, where: str) -> tuple[Seed, list[str]]:
    """A chat seed from a card, a .charx or a text-generation-webui character."""
    from gpt2_adventure.story.cards.reader import card_to_seed

    if fmt == "textgen-character":
        from gpt2_adventure.story.cards.textgen import seed_from_character

        return seed_from_character(doc, where)
    assets: list[str] = []
    if fmt == "charx":
        from gpt2_adventure.story.cards.charx import card_from_charx

        if not isinstance(doc, bytes):
            raise ImportProblem("a .charx card is a zip archive, read from the file", where)
        doc, assets = card_from_charx(doc, where)
    _check_spec(doc, where)
    seed, dropped = card_to_seed(doc, where)
    return seed, dropped + assets


def _story(fmt: Format, doc: object, where: str, stem: str,
           notes: list[str]) -> tuple[ImportedStory, list[str]]:
    if fmt == "aid2-save":
        return aidungeon.story_from_save(doc, where)
    if fmt == "clover-save":
        return clover.story_from_save(doc, where, _title(stem))
    if fmt == "clover-prompt":
        if not isinstance(doc, str):
            raise ImportProblem("a prompt file should be text", where)
        return clover.story_from_prompt(doc, where, _title(stem))
    if fmt == "novelai-story":
        from gpt2_adventure.story.importers import novelai_story

        story, dropped, more = novelai_story.story_from_novelai(doc, where, _title(stem))
    elif fmt == "kobold-united":
        story, dropped, more = kobold_united.story_from_united(doc, where, _title(stem))
    else:
        story, dropped, more = kobold.story_from_kobold(doc, where, _title(stem))
    notes += more
    return story, dropped


def seed_text(seed: Seed, where: str) -> str:
    """The seed's TOML, checked to load back as a valid seed."""
    text = to_toml(seed)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SEED_BYTES:
        raise ImportProblem(f"seed {seed.id!r} would be larger than a seed may be "
                            f"({size_text(MAX_SEED_BYTES)})", where)
    try:
        parse_seed(text, seed.id, where)
    except UserError as error:
        raise ImportProblem(f"cannot make a valid seed {seed.id!r}: {error.message}",
                            where) from None
    return text


def write_conversion(conversion: Conversion, paths: AppPaths) -> ImportResult:
    """Write what a conversion made: seeds (skipping existing ones) and saves."""
    from gpt2_adventure.story.saves.store import SaveStore

    result = ImportResult(source=conversion.source,
                          format=what_found(conversion.format, conversion),
                          dropped=list(conversion.dropped), notes=list(conversion.notes))
    if conversion.seeds:
        folder = paths.stories_dir
        for seed in conversion.seeds:
            target = folder / f"{seed.id}.toml"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                created = write_new(target, seed_text(seed, conversion.source).encode())
            except OSError as error:
                raise ImportProblem(f"cannot write the seed: {error.strerror or error}",
                                    target) from None
            (result.created if created else result.skipped).append(
                Item("seed", seed.id, target))
    if conversion.saves:
        store = SaveStore(paths)
        folder = store.saves_dir
        taken = ({p.stem.casefold() for p in folder.glob("*.json")} if folder.is_dir()
                 else set())
        for wanted, state in conversion.saves:
            name = unique(numbered(wanted), taken)
            taken.add(name.casefold())
            result.created.append(Item("save", name, store.save(state, name)))
    return result


def import_file(path: Path, paths: AppPaths, as_: AsKind | None = None,
                character: Path | None = None) -> ImportResult:
    """Convert one file and write what it makes."""
    return write_conversion(convert_file(path, as_, character), paths)
